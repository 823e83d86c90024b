import { Type } from 'typebox';
import { DateTime, Id, Nullable } from '../http/schemas.ts';

const FieldValue = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);

export const UserResponse = Type.Object({
  id: Id,
  url: Type.String(),
  name: Type.String(),
  email: Nullable(Type.String()),
  created_at: DateTime,
  updated_at: DateTime,
  time_zone: Type.String(),
  iana_time_zone: Type.String(),
  phone: Nullable(Type.String()),
  shared_phone_number: Nullable(Type.Boolean()),
  photo: Nullable(Type.Object({}, { additionalProperties: true })),
  locale_id: Type.Integer(),
  locale: Type.String(),
  organization_id: Nullable(Type.Integer()),
  role: Type.String({ enum: ['end-user', 'agent', 'admin'] }),
  verified: Type.Boolean(),
  external_id: Type.Optional(Nullable(Type.String())),
  tags: Type.Optional(Type.Array(Type.String())),
  alias: Type.Optional(Nullable(Type.String())),
  active: Type.Optional(Type.Boolean()),
  shared: Type.Optional(Type.Boolean()),
  shared_agent: Type.Optional(Type.Boolean()),
  last_login_at: Type.Optional(Nullable(DateTime)),
  two_factor_auth_enabled: Type.Optional(Nullable(Type.Boolean())),
  signature: Type.Optional(Nullable(Type.String())),
  details: Type.Optional(Nullable(Type.String())),
  notes: Type.Optional(Nullable(Type.String())),
  role_type: Type.Optional(Nullable(Type.Integer())),
  custom_role_id: Type.Optional(Nullable(Type.Integer())),
  moderator: Type.Optional(Type.Boolean()),
  ticket_restriction: Type.Optional(Nullable(Type.String())),
  only_private_comments: Type.Optional(Type.Boolean()),
  restricted_agent: Type.Optional(Type.Boolean()),
  suspended: Type.Optional(Type.Boolean()),
  default_group_id: Type.Optional(Nullable(Type.Integer())),
  report_csv: Type.Optional(Type.Boolean()),
  user_fields: Type.Optional(Type.Record(Type.String(), FieldValue)),
});

/** Request bodies stay open: Zendesk ignores fields it does not know, and so do we. */
const UserObject = Type.Object({}, { additionalProperties: true, description: 'A user, as in Zendesk\'s UserRequest' });

export const UserBody = Type.Object({ user: UserObject }, { additionalProperties: true });
export const UsersBody = Type.Object({ users: Type.Array(UserObject, { maxItems: 100 }) }, { additionalProperties: true });

export const UserEnvelope = Type.Object({ user: UserResponse });

export const ListUsersQuery = Type.Object(
  {
    role: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
    'role[]': Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
    permission_set: Type.Optional(Type.Integer({ minimum: 1 })),
    external_id: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

export const CountResponse = Type.Object({
  count: Type.Object({ value: Type.Integer(), refreshed_at: DateTime }),
});

export const RelatedResponse = Type.Object({
  user_related: Type.Object({
    assigned_tickets: Type.Integer(),
    ccd_tickets: Type.Integer(),
    organization_subscriptions: Type.Integer(),
    requested_tickets: Type.Integer(),
  }),
});

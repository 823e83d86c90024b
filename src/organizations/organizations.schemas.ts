import { Type } from 'typebox';
import { DateTime, Id, IdParams, Nullable, OffsetMeta } from '../http/schemas.ts';

const FieldValue = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);

/** Zendesk's OrganizationObject, fields in its order. */
export const OrganizationResponse = Type.Object({
  url: Type.String(),
  id: Id,
  name: Type.String(),
  shared_tickets: Type.Boolean(),
  shared_comments: Type.Boolean(),
  external_id: Nullable(Type.String()),
  created_at: DateTime,
  updated_at: DateTime,
  domain_names: Type.Array(Type.String()),
  details: Nullable(Type.String()),
  notes: Nullable(Type.String()),
  group_id: Nullable(Type.Integer()),
  tags: Type.Array(Type.String()),
  organization_fields: Type.Record(Type.String(), FieldValue),
});

export const OrganizationEnvelope = Type.Object({ organization: OrganizationResponse });
export const OrganizationsList = Type.Object({ organizations: Type.Array(OrganizationResponse), ...OffsetMeta });

/** Request bodies stay open: Zendesk ignores fields it does not know (url, created_at, …), and so do we. */
const OrganizationObject = Type.Object({}, { additionalProperties: true, description: "An organization, as in Zendesk's OrganizationObject" });
export const OrganizationBody = Type.Object({ organization: OrganizationObject }, { additionalProperties: true });
export const OrganizationsBody = Type.Object({ organizations: Type.Array(OrganizationObject, { maxItems: 100 }) }, { additionalProperties: true });

export const OrganizationParams = IdParams('organization_id');

export const IdsQuery = Type.Object(
  { ids: Type.Optional(Type.String()), external_ids: Type.Optional(Type.String()) },
  { additionalProperties: true },
);

export const CountResponse = Type.Object({ count: Type.Object({ value: Type.Integer(), refreshed_at: DateTime }) });

export const RelatedResponse = Type.Object({
  organization_related: Type.Object({ tickets_count: Type.Integer(), users_count: Type.Integer() }),
});

/** Zendesk's OrganizationMembershipObject; `default` is true or null, never false. */
export const MembershipResponse = Type.Object({
  url: Type.String(),
  id: Id,
  user_id: Id,
  organization_id: Id,
  default: Nullable(Type.Boolean()),
  organization_name: Type.String(),
  view_tickets: Type.Boolean(),
  created_at: DateTime,
  updated_at: DateTime,
});

export const MembershipEnvelope = Type.Object({ organization_membership: MembershipResponse });
export const MembershipsList = Type.Object({ organization_memberships: Type.Array(MembershipResponse), ...OffsetMeta });

const MembershipObject = Type.Object({}, { additionalProperties: true, description: 'An organization membership: user_id, organization_id, default' });
export const MembershipBody = Type.Object({ organization_membership: MembershipObject }, { additionalProperties: true });
export const MembershipsBody = Type.Object(
  { organization_memberships: Type.Array(MembershipObject, { maxItems: 100 }) },
  { additionalProperties: true },
);

export const MembershipParams = IdParams('organization_membership_id');
export const UserMembershipParams = Type.Object(
  {
    user_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    organization_membership_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  },
  { additionalProperties: false },
);
export const UserOrganizationParams = Type.Object(
  {
    user_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    organization_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  },
  { additionalProperties: false },
);

import { Type } from 'typebox';
import { DateTime, Id, Nullable } from '../http/schemas.ts';

const Configuration = Type.Record(Type.String(), Type.Union([Type.Boolean(), Type.String()]), {
  description: 'Permission keys (Zendesk\'s and Roster\'s own) to their values; see README "Roles and permissions"',
});

export const CustomRoleResponse = Type.Object({
  id: Id,
  url: Type.String(),
  name: Type.String(),
  description: Type.String(),
  role_type: Type.Integer({ description: '0: a custom agent role' }),
  configuration: Configuration,
  team_member_count: Type.Integer({ description: 'Agents holding this role' }),
  created_at: DateTime,
  updated_at: DateTime,
});

export const CustomRoleEnvelope = Type.Object({ custom_role: CustomRoleResponse });
export const CustomRolesEnvelope = Type.Object({ custom_roles: Type.Array(CustomRoleResponse) });

/** Bodies stay open; the domain validates every field and answers 422 naming it. */
export const CustomRoleBody = Type.Object(
  { custom_role: Type.Object({}, { additionalProperties: true, description: 'name, description, configuration' }) },
  { additionalProperties: true },
);

export const OwnerBody = Type.Object(
  { owner: Type.Object({ user_id: Type.Unknown({ description: 'The admin who becomes the account owner' }) }, { additionalProperties: true }) },
  { additionalProperties: true },
);
export const OwnerResponse = Type.Object({
  owner: Type.Object({ user_id: Id, previous_owner_id: Nullable(Id) }),
});

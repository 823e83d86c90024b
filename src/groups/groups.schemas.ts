import { Type } from 'typebox';
import { DateTime, Id, OffsetMeta } from '../http/schemas.ts';

export const GroupResponse = Type.Object({
  id: Id,
  url: Type.String(),
  name: Type.String(),
  description: Type.String(),
  default: Type.Boolean({ description: 'The account\'s default group' }),
  deleted: Type.Boolean(),
  is_public: Type.Boolean(),
  created_at: DateTime,
  updated_at: DateTime,
});

export const GroupMembershipResponse = Type.Object({
  id: Id,
  url: Type.String(),
  user_id: Id,
  group_id: Id,
  default: Type.Boolean({ description: 'The user\'s default group (their default_group_id)' }),
  created_at: DateTime,
  updated_at: DateTime,
});

export const GroupEnvelope = Type.Object({ group: GroupResponse });
export const GroupsEnvelope = Type.Object({ groups: Type.Array(GroupResponse), ...OffsetMeta });
export const GroupMembershipEnvelope = Type.Object({ group_membership: GroupMembershipResponse });
export const GroupMembershipsEnvelope = Type.Object({ group_memberships: Type.Array(GroupMembershipResponse), ...OffsetMeta });

/** Bodies stay open; the domain validates each field and answers 422 naming it. */
export const GroupBody = Type.Object(
  { group: Type.Object({}, { additionalProperties: true, description: 'name, description, is_public' }) },
  { additionalProperties: true },
);
export const GroupMembershipBody = Type.Object(
  { group_membership: Type.Object({}, { additionalProperties: true, description: 'user_id, group_id, default' }) },
  { additionalProperties: true },
);
export const GroupMembershipsBody = Type.Object(
  { group_memberships: Type.Array(Type.Object({}, { additionalProperties: true }), { maxItems: 100 }) },
  { additionalProperties: true },
);

export const GroupsQuery = Type.Object(
  { exclude_deleted: Type.Optional(Type.Boolean({ description: 'Default true; false also lists deleted groups' })) },
  { additionalProperties: true },
);

import type { Static } from 'typebox';
import type { GroupMembershipRow, GroupRow } from '../db/tables.ts';
import type { GroupMembershipResponse, GroupResponse } from './groups.schemas.ts';

export function presentGroup(group: GroupRow, baseUrl: string): Static<typeof GroupResponse> {
  return {
    id: group.id,
    url: `${baseUrl}/api/v2/groups/${group.id}.json`,
    name: group.name,
    description: group.description,
    default: group.is_default,
    deleted: group.deleted_at !== null,
    is_public: group.is_public,
    created_at: group.created_at.toISOString(),
    updated_at: group.updated_at.toISOString(),
  };
}

export function presentGroupMembership(membership: GroupMembershipRow, baseUrl: string): Static<typeof GroupMembershipResponse> {
  return {
    id: membership.id,
    url: `${baseUrl}/api/v2/group_memberships/${membership.id}.json`,
    user_id: membership.user_id,
    group_id: membership.group_id,
    default: membership.is_default,
    created_at: membership.created_at.toISOString(),
    updated_at: membership.updated_at.toISOString(),
  };
}

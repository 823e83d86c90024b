import type { Static } from 'typebox';
import type { CustomRoleView } from './roles.repository.ts';
import type { CustomRoleResponse } from './roles.schemas.ts';

export function presentCustomRole(role: CustomRoleView, baseUrl: string): Static<typeof CustomRoleResponse> {
  return {
    id: role.id,
    url: `${baseUrl}/api/v2/custom_roles/${role.id}.json`,
    name: role.name,
    description: role.description,
    role_type: role.role_type,
    configuration: role.configuration as Record<string, boolean | string>,
    team_member_count: role.team_member_count,
    created_at: role.created_at.toISOString(),
    updated_at: role.updated_at.toISOString(),
  };
}

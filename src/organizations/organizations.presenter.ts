import type { Static } from 'typebox';
import type { OrganizationRow } from '../db/tables.ts';
import type { MembershipView } from './organizations.repository.ts';
import type { MembershipResponse, OrganizationResponse } from './organizations.schemas.ts';

type FieldValue = string | number | boolean | null;

/**
 * Row → Zendesk organization JSON, in the reference's order. `fieldKeys` are the account's
 * active organization fields: each one appears, null when this organization has no value.
 */
export function presentOrganization(row: OrganizationRow, baseUrl: string, fieldKeys: readonly string[]): Static<typeof OrganizationResponse> {
  const stored = row.organization_fields as Record<string, FieldValue>;
  const organizationFields: Record<string, FieldValue> = {};
  for (const key of fieldKeys) organizationFields[key] = stored[key] ?? null;
  return {
    url: `${baseUrl}/api/v2/organizations/${row.id}.json`,
    id: row.id,
    name: row.name,
    shared_tickets: row.shared_tickets,
    shared_comments: row.shared_comments,
    external_id: row.external_id,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    domain_names: row.domain_names,
    details: row.details,
    notes: row.notes,
    group_id: row.group_id,
    tags: row.tags,
    organization_fields: organizationFields,
  };
}

export function presentMembership(row: MembershipView, baseUrl: string): Static<typeof MembershipResponse> {
  return {
    url: `${baseUrl}/api/v2/organization_memberships/${row.id}.json`,
    id: row.id,
    user_id: row.user_id,
    organization_id: row.organization_id,
    // Zendesk answers null, not false, for a membership that is not the default.
    default: row.is_default ? true : null,
    organization_name: row.organization_name,
    view_tickets: row.view_tickets,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

import type { AppError } from '../http/errors.ts';
import type { ItemJobDefinition } from '../jobs/jobs.ts';
import { createOrganization } from './create-organization.ts';
import { deleteOrganization } from './delete-organization.ts';
import { addMembership, removeMembership } from './organization-memberships.ts';
import { parseMembershipInput, parseOrganizationInput } from './organization-input.ts';
import { updateOrganization } from './update-organization.ts';

/** Per-item failures name the error and the fields, never the values (job results outlive requests). */
function failure(index: number, error: AppError, id?: number): Record<string, unknown> {
  return {
    index,
    ...(id !== undefined ? { id } : {}),
    success: false,
    status: 'Failed',
    error: error.code,
    details: error.details
      ? Object.entries(error.details).map(([field, list]) => `${field}: ${list.map((entry) => entry.description).join('; ')}`).join('. ')
      : error.description,
  };
}

export const createManyOrganizations: ItemJobDefinition<unknown> = {
  type: 'create_many_organizations',
  async run(tx, { account, actor }, item, index) {
    const row = await createOrganization(tx, account, actor, parseOrganizationInput(item, 'create'));
    return { index, id: row.id, action: 'create', status: 'Created', success: true };
  },
  failure: (_item, index, error) => failure(index, error),
};

export interface OrganizationUpdateItem {
  id: number;
  organization: unknown;
}

export const updateManyOrganizations: ItemJobDefinition<OrganizationUpdateItem> = {
  type: 'update_many_organizations',
  async run(tx, { account, actor }, item, index) {
    await updateOrganization(tx, account, actor, item.id, parseOrganizationInput(item.organization, 'update'));
    return { index, id: item.id, action: 'update', status: 'Updated', success: true };
  },
  failure: (item, index, error) => failure(index, error, item.id),
};

export const destroyManyOrganizations: ItemJobDefinition<number> = {
  type: 'destroy_many_organizations',
  async run(tx, { account, actor }, id, index) {
    await deleteOrganization(tx, account, actor, id);
    return { index, id, action: 'delete', status: 'Deleted', success: true };
  },
  failure: (id, index, error) => failure(index, error, id),
};

export const createManyMemberships: ItemJobDefinition<unknown> = {
  type: 'create_many_organization_memberships',
  async run(tx, { account, actor }, raw, index) {
    const item = parseMembershipInput(raw);
    const id = await addMembership(tx, account, actor, { userId: item.user_id, organizationId: item.organization_id, makeDefault: item.default });
    return { index, id, action: 'create', status: 'Created', success: true };
  },
  failure: (_item, index, error) => failure(index, error),
};

export const destroyManyMemberships: ItemJobDefinition<number> = {
  type: 'destroy_many_organization_memberships',
  async run(tx, { account, actor }, id, index) {
    await removeMembership(tx, account, actor, id);
    return { index, id, action: 'delete', status: 'Deleted', success: true };
  },
  failure: (id, index, error) => failure(index, error, id),
};

export const organizationJobs = [
  createManyOrganizations,
  updateManyOrganizations,
  destroyManyOrganizations,
  createManyMemberships,
  destroyManyMemberships,
] as const;

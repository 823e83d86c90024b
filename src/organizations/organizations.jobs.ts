import { itemFailure, type ItemJobDefinition } from '../jobs/jobs.ts';
import { createOrganization } from './create-organization.ts';
import { deleteOrganization } from './delete-organization.ts';
import { addMembership, removeMembership } from './organization-memberships.ts';
import { parseMembershipInput, parseOrganizationInput } from './organization-input.ts';
import { updateOrganization } from './update-organization.ts';

export const createManyOrganizations: ItemJobDefinition<unknown> = {
  type: 'create_many_organizations',
  async run(tx, { account, actor }, item, index) {
    const row = await createOrganization(tx, account, actor, parseOrganizationInput(item, 'create'));
    return { index, id: row.id, action: 'create', status: 'Created', success: true };
  },
  failure: (_item, index, error) => itemFailure(index, error),
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
  failure: (item, index, error) => itemFailure(index, error, item.id),
};

export const destroyManyOrganizations: ItemJobDefinition<number> = {
  type: 'destroy_many_organizations',
  async run(tx, { account, actor }, id, index) {
    await deleteOrganization(tx, account, actor, id);
    return { index, id, action: 'delete', status: 'Deleted', success: true };
  },
  failure: (id, index, error) => itemFailure(index, error, id),
};

export const createManyMemberships: ItemJobDefinition<unknown> = {
  type: 'create_many_organization_memberships',
  async run(tx, { account, actor }, raw, index) {
    const item = parseMembershipInput(raw);
    const id = await addMembership(tx, account, actor, { userId: item.user_id, organizationId: item.organization_id, makeDefault: item.default });
    return { index, id, action: 'create', status: 'Created', success: true };
  },
  failure: (_item, index, error) => itemFailure(index, error),
};

export const destroyManyMemberships: ItemJobDefinition<number> = {
  type: 'destroy_many_organization_memberships',
  async run(tx, { account, actor }, id, index) {
    await removeMembership(tx, account, actor, id);
    return { index, id, action: 'delete', status: 'Deleted', success: true };
  },
  failure: (id, index, error) => itemFailure(index, error, id),
};

export const organizationJobs = [
  createManyOrganizations,
  updateManyOrganizations,
  destroyManyOrganizations,
  createManyMemberships,
  destroyManyMemberships,
] as const;

import { errors, type AppError } from '../http/errors.ts';
import type { ItemJobDefinition } from '../jobs/jobs.ts';
import { authorize } from '../policy/policy.ts';
import { createMembership, deleteMembership } from './manage-groups.ts';

/** Per-item failures name the error and the fields, never values. */
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

export const createManyGroupMemberships: ItemJobDefinition<unknown> = {
  type: 'create_many_group_memberships',
  async run(tx, { account, actor }, item, index) {
    // Checked per item against the actor's permissions as loaded when the job started (or resumed).
    if (!actor) throw errors.forbidden();
    authorize.manageGroups(actor);
    const membership = await createMembership(tx, account, actor, item);
    return { index, id: membership.id, action: 'create', status: 'Created', success: true };
  },
  failure: (_item, index, error) => failure(index, error),
};

export const destroyManyGroupMemberships: ItemJobDefinition<number> = {
  type: 'destroy_many_group_memberships',
  async run(tx, { account, actor }, id, index) {
    if (!actor) throw errors.forbidden();
    authorize.manageGroups(actor);
    await deleteMembership(tx, account, actor, id);
    return { index, id, action: 'delete', status: 'Deleted', success: true };
  },
  failure: (id, index, error) => failure(index, error, id),
};

export const groupJobs = [createManyGroupMemberships, destroyManyGroupMemberships] as const;

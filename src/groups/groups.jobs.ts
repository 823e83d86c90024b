import { errors } from '../http/errors.ts';
import { itemFailure, type ItemJobDefinition } from '../jobs/jobs.ts';
import { authorize } from '../policy/policy.ts';
import { createMembership, deleteMembership } from './manage-groups.ts';

export const createManyGroupMemberships: ItemJobDefinition<unknown> = {
  type: 'create_many_group_memberships',
  async run(tx, { account, actor }, item, index) {
    // Checked per item against the actor's permissions as loaded when the job started (or resumed).
    if (!actor) throw errors.forbidden();
    authorize.manageGroups(actor);
    const membership = await createMembership(tx, account, actor, item);
    return { index, id: membership.id, action: 'create', status: 'Created', success: true };
  },
  failure: (_item, index, error) => itemFailure(index, error),
};

export const destroyManyGroupMemberships: ItemJobDefinition<number> = {
  type: 'destroy_many_group_memberships',
  async run(tx, { account, actor }, id, index) {
    if (!actor) throw errors.forbidden();
    authorize.manageGroups(actor);
    await deleteMembership(tx, account, actor, id);
    return { index, id, action: 'delete', status: 'Deleted', success: true };
  },
  failure: (id, index, error) => itemFailure(index, error, id),
};

export const groupJobs = [createManyGroupMemberships, destroyManyGroupMemberships] as const;

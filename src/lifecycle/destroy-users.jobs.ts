import { errors } from '../http/errors.ts';
import { itemFailure, type ItemJobDefinition } from '../jobs/jobs.ts';
import { softDeleteUser } from './soft-delete-user.ts';

/**
 * DELETE /api/v2/users/destroy_many and POST /api/v2/users/destroy_by_query: each user is
 * soft-deleted in its own transaction under every rule of a single delete, so a refusal (an open
 * ticket, the last admin, …) is that user's result — code and message, no personal data — and
 * never fails the job. The last-admin rule counts admins as they are when each item runs, so two
 * admins queued in one job cannot both go.
 */
export const destroyManyUsers: ItemJobDefinition<number> = {
  type: 'destroy_many_users',
  async run(tx, { account, actor }, id, index) {
    if (!actor) throw errors.forbidden();
    await softDeleteUser(tx, account, actor, id);
    return { index, id, action: 'delete', status: 'Deleted', success: true };
  },
  failure: (id, index, error) => itemFailure(index, error, id),
};

export const lifecycleJobs = [destroyManyUsers] as const;

import { audit } from '../audit/audit.ts';
import type { Account } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import { authorize, type Actor } from '../policy/policy.ts';
import { countAdmins, findUser, type Executor, type UserView } from '../users/users.repository.ts';
import { countOpenRequested, lockAdminDeletions, takeIdentitiesAndMemberships, type DeletionStash } from './lifecycle.repository.ts';
import { lifecycleSettings } from './lifecycle-settings.ts';

/** The live user a lifecycle action names: a deleted (inactive) user is not found. */
export async function findLiveUser(tx: Executor, accountId: number, userId: number): Promise<UserView> {
  const user = await findUser(tx, accountId, userId);
  if (!user || !user.active) throw errors.notFound();
  return user;
}

/**
 * Every rule that refuses a soft delete (DOMAIN.md §5), in the order a caller meets them: who
 * may delete whom (403, src/policy/policy.ts), then the data rules (422 RecordInvalid on
 * `base`). Thrown as AppErrors so destroy_many reports them per user and destroy_by_query's dry
 * run can list them.
 */
export async function checkDeletable(tx: Executor, account: Account, actor: Actor, target: UserView, options: { openTicketsHandled?: boolean } = {}): Promise<void> {
  authorize.deleteUser(actor, target);
  if (target.shared) throw errors.field('base', 'InvalidValue', 'Users created by ticket sharing cannot be deleted');
  if (target.role === 'admin' && (await countAdmins(tx, account.id)) <= 1) {
    throw errors.field('base', 'InvalidValue', 'The last admin of the account cannot be deleted');
  }
  // The erasure (src/privacy/erasure) closes, reassigns or deletes them itself.
  if (options.openTicketsHandled) return;
  const open = await countOpenRequested(tx, account.id, target.id);
  if (open > 0) throw errors.field('base', 'InvalidValue', `User is requester on ${open} ${open === 1 ? 'ticket' : 'tickets'} that ${open === 1 ? 'is' : 'are'} not closed.`);
}

/**
 * Soft-deletes a user: `active: false`, `deleted_at`, and its identities, external id and
 * memberships moved aside (or dropped when the account's restore window is off) so the user can
 * no longer sign in, matches no inbound address, and a person who writes in again gets a new
 * profile. Its name stays on its tickets. API tokens and OAuth tokens it holds stop working
 * (the audit entry invalidates cached credentials at once). The caller owns the transaction.
 */
export async function softDeleteUser(tx: Executor, account: Account, actor: Actor | null, userId: number, options: { now?: Date; checked?: boolean } = {}): Promise<void> {
  const now = options.now ?? new Date();
  let target = await findLiveUser(tx, account.id, userId);
  if (target.role === 'admin') {
    // Re-read under the lock: a concurrent delete of another admin must be seen by the last-admin rule.
    await lockAdminDeletions(tx, account.id);
    target = await findLiveUser(tx, account.id, userId);
  }
  if (actor && !options.checked) await checkDeletable(tx, account, actor, target);
  await applySoftDelete(tx, account, actor, target, now);
  await audit(tx, { accountId: account.id, actorId: actor?.id ?? null, action: 'user.delete', targetType: 'user', targetId: userId, changedFields: ['active', 'deleted_at'] });
}

/** The state change itself, shared by deletion and by merge (whose loser is deleted). */
export async function applySoftDelete(tx: Executor, account: Account, actor: Actor | null, target: UserView, now: Date): Promise<void> {
  const taken = await takeIdentitiesAndMemberships(tx, account.id, target.id);
  const stash: DeletionStash = { external_id: target.external_id, organization_id: target.organization_id, default_group_id: target.default_group_id, ...taken };
  const { restoreWindow } = lifecycleSettings(account);
  await tx
    .updateTable('users')
    .set({ active: false, deleted_at: now, updated_at: now, external_id: null, organization_id: null, default_group_id: null })
    .where('account_id', '=', account.id)
    .where('id', '=', target.id)
    .execute();
  await tx.deleteFrom('oauth_tokens').where('account_id', '=', account.id).where('user_id', '=', target.id).execute();
  await unassignOpenTickets(tx, account, actor, target.id, now);
  await tx
    .insertInto('user_deletions')
    .values({ account_id: account.id, user_id: target.id, deleted_at: now, deleted_by: actor?.id ?? null, stash: restoreWindow ? JSON.stringify(stash) : null, purged_at: null })
    .onConflict((oc) => oc.columns(['account_id', 'user_id']).doUpdateSet({ deleted_at: now, deleted_by: actor?.id ?? null, stash: restoreWindow ? JSON.stringify(stash) : null, purged_at: null }))
    .execute();
}

/**
 * A deleted agent's tickets that are not closed lose their assignee and keep their group, as
 * Zendesk does when an agent is deleted through the API: they return to the group's unassigned
 * queue instead of waiting on someone who can no longer sign in. Closed tickets keep the
 * assignee (they are history and cannot change). One audit entry per ticket, naming the field.
 */
async function unassignOpenTickets(tx: Executor, account: Account, actor: Actor | null, userId: number, now: Date): Promise<void> {
  const tickets = await tx
    .updateTable('tickets')
    .set({ assignee_id: null, updated_at: now })
    .where('account_id', '=', account.id)
    .where('assignee_id', '=', userId)
    .where('status', '<>', 'closed')
    .returning('id')
    .execute();
  for (const ticket of tickets) {
    await audit(tx, { accountId: account.id, actorId: actor?.id ?? null, action: 'ticket.update', targetType: 'ticket', targetId: ticket.id, changedFields: ['assignee_id'] });
  }
}

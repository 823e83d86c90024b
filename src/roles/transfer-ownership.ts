import type { Account } from '../db/tables.ts';
import { audit } from '../audit/audit.ts';
import { errors } from '../http/errors.ts';
import { authorize, type Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';

/**
 * The owner hands the account to another active admin. One owner per account at every moment
 * (a partial unique index): the old flag is cleared before the new one is set, in one transaction.
 */
export async function transferOwnership(tx: Executor, account: Account, actor: Actor, rawUserId: unknown): Promise<{ userId: number; previousOwnerId: number }> {
  authorize.transferOwnership(actor);
  const userId = typeof rawUserId === 'number' ? rawUserId : typeof rawUserId === 'string' && /^\d{1,15}$/.test(rawUserId) ? Number(rawUserId) : NaN;
  if (!Number.isSafeInteger(userId) || userId < 1) throw errors.field('user_id', 'InvalidValue', 'user_id must be the id of an admin');
  const target = await tx
    .selectFrom('users')
    .select(['id', 'role', 'active', 'suspended', 'is_owner'])
    .where('account_id', '=', account.id)
    .where('id', '=', userId)
    .forUpdate()
    .executeTakeFirst();
  if (!target) throw errors.notFound();
  if (target.is_owner) throw errors.field('user_id', 'InvalidValue', 'This user already owns the account');
  if (target.role !== 'admin' || !target.active || target.suspended) {
    throw errors.field('user_id', 'InvalidValue', 'The account owner must be an active, unsuspended admin');
  }
  await tx.updateTable('users').set({ is_owner: false, updated_at: new Date() }).where('account_id', '=', account.id).where('is_owner', '=', true).execute();
  await tx.updateTable('users').set({ is_owner: true, updated_at: new Date() }).where('account_id', '=', account.id).where('id', '=', userId).execute();
  await audit(tx, { accountId: account.id, actorId: actor.id, action: 'account.owner_transfer', targetType: 'user', targetId: userId, changedFields: ['is_owner'] });
  return { userId, previousOwnerId: actor.id };
}

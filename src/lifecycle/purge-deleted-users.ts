import { sql } from 'kysely';
import { audit } from '../audit/audit.ts';
import type { Database } from '../db/database.ts';
import type { Account } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import type { ScheduledJobDefinition } from '../jobs/jobs.ts';
import { authorize, type Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { removeExportsHolding } from '../privacy/exports/remove-exports.ts';
import { scrubPersonMentions } from '../privacy/erasure/scrub-person.ts';
import type { FileStorage } from '../tickets/storage.ts';
import { findDeletion } from './lifecycle.repository.ts';
import { DAY_MS, lifecycleSettings } from './lifecycle-settings.ts';

/** The name a permanently deleted user keeps wherever it appears (Zendesk's wording). */
export const PURGED_NAME = 'Permanently Deleted User';
/** Users purged per transaction: bounded so a backlog never holds many locks for long. */
export const PURGE_BATCH = 50;

/** DELETE /api/v2/deleted_users/{id}: admins, only after a soft delete. */
export async function permanentlyDeleteUser(tx: Executor, storage: FileStorage, account: Account, actor: Actor, userId: number, now = new Date()): Promise<void> {
  authorize.manageDeletedUsers(actor);
  const deletion = await findDeletion(tx, account.id, userId);
  if (!deletion) {
    const exists = await tx.selectFrom('users').select('id').where('account_id', '=', account.id).where('id', '=', userId).executeTakeFirst();
    if (exists) throw errors.field('base', 'InvalidValue', 'Only a deleted user can be permanently deleted: delete the user first');
    throw errors.notFound();
  }
  if (deletion.purged_at) throw errors.notFound();
  await purgeUser(tx, account.id, actor.id, userId, now, storage);
}

/**
 * Removes every personal datum of a soft-deleted user (DOMAIN.md §5, §6): identities (and the
 * copies kept for a restore), the external id, phone, photo, notes, details, alias, signature,
 * tags, user fields, password, memberships, OAuth tokens, suspension reasons, merge snapshots
 * that hold its data, and its name and address on suspended tickets. The user row stays, named
 * "Permanently Deleted User", so its tickets (which stay intact) keep a requester. Idempotent.
 */
export async function purgeUser(tx: Executor, accountId: number, actorId: number | null, userId: number, now: Date, storage: FileStorage): Promise<void> {
  // Their name and identifiers leave ticket texts, suspended tickets and attachment files (the
  // tickets stay); first, while the identities (or their restore copies) still say what to find.
  await scrubPersonMentions(tx, storage, accountId, actorId, userId, PURGED_NAME);
  // Profiles merged into this one (and not brought back) are the same person's: they go with it.
  const mergedIn = await tx
    .selectFrom('user_merges as m')
    .innerJoin('user_deletions as d', (join) => join.onRef('d.account_id', '=', 'm.account_id').onRef('d.user_id', '=', 'm.source_id'))
    .select('m.source_id')
    .where('m.account_id', '=', accountId)
    .where('m.target_id', '=', userId)
    .where('m.undone_at', 'is', null)
    .where('d.purged_at', 'is', null)
    .execute();
  for (const merged of mergedIn) await purgeUser(tx, accountId, actorId, merged.source_id, now, storage);
  // Table names are constants: the statement is plain SQL so one helper serves five tables.
  // outbox_messages and user_tokens: the person's mail (address, text) and one-time links (issue 8).
  for (const table of ['user_identities', 'organization_memberships', 'group_memberships', 'oauth_tokens', 'user_suspensions', 'outbox_messages', 'user_tokens'] as const) {
    await sql`DELETE FROM ${sql.table(table)} WHERE account_id = ${accountId} AND user_id = ${userId}`.execute(tx);
  }
  await tx
    .updateTable('user_merges')
    .set({ snapshot: null })
    .where('account_id', '=', accountId)
    .where((eb) => eb.or([eb('source_id', '=', userId), eb('target_id', '=', userId)]))
    .where('snapshot', 'is not', null)
    .execute();
  await tx.updateTable('suspended_tickets').set({ author_name: null, author_email: null }).where('account_id', '=', accountId).where('author_id', '=', userId).execute();
  await tx
    .updateTable('users')
    .set({
      name: PURGED_NAME,
      external_id: null,
      alias: null,
      details: null,
      notes: null,
      signature: null,
      photo: null,
      time_zone: null,
      tags: [],
      user_fields: JSON.stringify({}),
      password_hash: null,
      shared_phone_number: null,
      last_login_at: null,
      organization_id: null,
      default_group_id: null,
      active: false,
      updated_at: now,
    })
    .where('account_id', '=', accountId)
    .where('id', '=', userId)
    .execute();
  // Export files that hold the person become unreadable at this commit (remove-exports.ts).
  await removeExportsHolding(tx, accountId, userId);
  await tx.updateTable('user_deletions').set({ stash: null, purged_at: now }).where('account_id', '=', accountId).where('user_id', '=', userId).execute();
  await audit(tx, { accountId, actorId, action: 'user.purge', targetType: 'user', targetId: userId, changedFields: ['identities', 'name', 'personal_data'] });
}

/**
 * One batch of one account's due purges: soft deletions older than the account's purge delay
 * as of `now`. SKIP LOCKED leaves a row another process is purging to it; a purged row no longer
 * matches, so running twice purges nothing twice.
 */
async function purgeDueBatch(tx: Executor, storage: FileStorage, account: Pick<Account, 'id' | 'settings'>, now: Date): Promise<number> {
  const dueBefore = new Date(now.getTime() - lifecycleSettings(account).purgeAfterDays * DAY_MS);
  const due = await sql<{ user_id: number }>`
    SELECT user_id FROM user_deletions
    WHERE account_id = ${account.id} AND purged_at IS NULL AND deleted_at <= ${dueBefore}
    ORDER BY deleted_at, user_id
    LIMIT ${PURGE_BATCH}
    FOR UPDATE SKIP LOCKED`.execute(tx);
  for (const row of due.rows) await purgeUser(tx, account.id, null, Number(row.user_id), now, storage);
  return due.rows.length;
}

/**
 * Merge snapshots hold both users' data: dropped when the restore window of their merge ends
 * (the same delay as the purge) or when the account switched the window off.
 */
async function expireMergeSnapshots(tx: Executor, account: Pick<Account, 'id' | 'settings'>, now: Date): Promise<number> {
  const { purgeAfterDays, restoreWindow } = lifecycleSettings(account);
  const before = restoreWindow ? new Date(now.getTime() - purgeAfterDays * DAY_MS) : now;
  const expired = await tx
    .updateTable('user_merges')
    .set({ snapshot: null })
    .where('account_id', '=', account.id)
    .where('snapshot', 'is not', null)
    .where('merged_at', '<=', before)
    .returning(['id'])
    .execute();
  for (const merge of expired) {
    await audit(tx, { accountId: account.id, actorId: null, action: 'user_merge.expire', targetType: 'user_merge', targetId: merge.id, changedFields: ['snapshot'] });
  }
  return expired.length;
}

/**
 * The automatic purge (DOMAIN.md §5): in every account, permanently delete users soft-deleted
 * more than `user_purge_after_days` days before `now`, and drop expired merge snapshots. It works
 * from the data, not from remembered runs: after downtime it catches up on the whole backlog,
 * batch by batch, and a changed setting applies to every pending deletion. Tests pass `now`.
 */
export async function sweepDeletedUsers(db: Database['db'], now: Date, storage: FileStorage): Promise<number> {
  const accounts = await db.selectFrom('accounts').select(['id', 'settings']).orderBy('id').execute();
  let purged = 0;
  for (const account of accounts) {
    for (;;) {
      const count = await db.transaction().execute((tx) => purgeDueBatch(tx, storage, account, now));
      purged += count;
      if (count < PURGE_BATCH) break;
      // Let requests in between batches (the embedded database has one connection).
      await new Promise((resolve) => setImmediate(resolve));
    }
    await db.transaction().execute((tx) => expireMergeSnapshots(tx, account, now));
  }
  return purged;
}

/** Every hour at minute 23 (UTC): a user is purged within an hour of falling due. */
export function purgeDeletedUsersJob(database: Database, storage: FileStorage): ScheduledJobDefinition {
  return {
    name: 'roster-purge-deleted-users',
    cron: '23 * * * *',
    run: async (now) => {
      await sweepDeletedUsers(database.db, now, storage);
    },
  };
}

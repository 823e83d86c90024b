import { sql } from 'kysely';
import { audit } from '../audit/audit.ts';
import type { Account } from '../db/tables.ts';
import { errors, type ErrorDetails } from '../http/errors.ts';
import { authorize, type Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import type { DeletionStash } from './lifecycle.repository.ts';
import { findDeletion } from './lifecycle.repository.ts';
import { lifecycleSettings } from './lifecycle-settings.ts';

/**
 * Brings a soft-deleted user back (beyond Zendesk; the restore window, DOMAIN.md §5) with its
 * identities, external id and memberships — unless someone else claimed one of its addresses or
 * its external id meanwhile: then 422, naming the kind of identity and the user who holds it
 * (never the value). Refused when the account's restore window is off, when the deletion kept
 * nothing (it happened while the window was off) and after the purge.
 */
export async function restoreUser(tx: Executor, account: Account, actor: Actor, userId: number, now = new Date()): Promise<void> {
  authorize.manageDeletedUsers(actor);
  const deletion = await findDeletion(tx, account.id, userId);
  if (!deletion) throw errors.notFound();
  const user = await tx.selectFrom('users').select(['active']).where('account_id', '=', account.id).where('id', '=', userId).executeTakeFirst();
  if (!user || user.active) throw errors.notFound();
  if (deletion.purged_at) throw errors.field('base', 'InvalidValue', 'This user was permanently deleted and cannot be restored');
  if (!lifecycleSettings(account).restoreWindow) throw errors.field('base', 'InvalidValue', 'The restore window is off for this account: deletion is irreversible');
  if (deletion.stash === null) throw errors.field('base', 'InvalidValue', 'This user was deleted while the restore window was off and cannot be restored');
  // A merged user's tickets and identities went to the survivor: only the merge's undo brings them back.
  const merge = await tx
    .selectFrom('user_merges')
    .select('target_id')
    .where('account_id', '=', account.id)
    .where('source_id', '=', userId)
    .where('undone_at', 'is', null)
    .orderBy('id', 'desc')
    .executeTakeFirst();
  if (merge) throw errors.field('base', 'InvalidValue', `This user was merged into user ${merge.target_id}: undo the merge instead (PUT /api/v2/users/${userId}/merge/undo)`);
  await putBack(tx, account.id, userId, deletion.stash as DeletionStash);
  await tx.updateTable('users').set({ active: true, deleted_at: null, updated_at: now }).where('account_id', '=', account.id).where('id', '=', userId).execute();
  await tx.deleteFrom('user_deletions').where('account_id', '=', account.id).where('user_id', '=', userId).execute();
  await audit(tx, { accountId: account.id, actorId: actor.id, action: 'user.restore', targetType: 'user', targetId: userId, changedFields: ['active', 'deleted_at'] });
}

/** Re-inserts what a soft delete moved aside; shared with merge undo (whose loser is restored). */
export async function putBack(tx: Executor, accountId: number, userId: number, stash: DeletionStash): Promise<void> {
  const conflicts: ErrorDetails = {};
  for (const identity of stash.identities) {
    if (identity.type === 'phone_number') continue; // phone numbers may be shared
    const holder = await tx
      .selectFrom('user_identities')
      .select('user_id')
      .where('account_id', '=', accountId)
      .where('type', '=', identity.type)
      .where('value_key', '=', identity.value_key)
      .executeTakeFirst();
    if (holder) (conflicts[identity.type] ??= []).push({ error: 'DuplicateValue', description: `This user's ${identity.type} identity now belongs to user ${holder.user_id}` });
  }
  if (stash.external_id !== null) {
    const holder = await tx
      .selectFrom('users')
      .select('id')
      .where('account_id', '=', accountId)
      .where(sql<string>`lower(external_id)`, '=', stash.external_id.toLowerCase())
      .executeTakeFirst();
    if (holder) conflicts.external_id = [{ error: 'DuplicateValue', description: `This user's external id now belongs to user ${holder.id}` }];
  }
  if (Object.keys(conflicts).length > 0) throw errors.invalid(conflicts, 'The user cannot be restored: another user claimed its identities meanwhile');

  if (stash.identities.length > 0) {
    await tx
      .insertInto('user_identities')
      .values(stash.identities.map((identity) => ({ account_id: accountId, user_id: userId, ...identity, created_at: new Date(identity.created_at) })))
      .execute();
  }
  // Organizations and groups deleted meanwhile are skipped; the default falls to what remains.
  const organizations = stash.organization_memberships.length === 0 ? [] : await tx
    .selectFrom('organizations').select('id').where('account_id', '=', accountId).where('id', 'in', stash.organization_memberships.map((m) => m.organization_id)).execute();
  const liveOrganizations = new Set(organizations.map((row) => row.id));
  const memberships = stash.organization_memberships.filter((m) => liveOrganizations.has(m.organization_id));
  if (memberships.length > 0) {
    await tx.insertInto('organization_memberships').values(memberships.map((m) => ({ account_id: accountId, user_id: userId, ...m, created_at: new Date(m.created_at) }))).onConflict((oc) => oc.doNothing()).execute();
  }
  const groups = stash.group_memberships.length === 0 ? [] : await tx
    .selectFrom('groups').select('id').where('account_id', '=', accountId).where('deleted_at', 'is', null).where('id', 'in', stash.group_memberships.map((m) => m.group_id)).execute();
  const liveGroups = new Set(groups.map((row) => row.id));
  const groupMemberships = stash.group_memberships.filter((m) => liveGroups.has(m.group_id));
  if (groupMemberships.length > 0) {
    await tx.insertInto('group_memberships').values(groupMemberships.map((m) => ({ account_id: accountId, user_id: userId, ...m, created_at: new Date(m.created_at) }))).onConflict((oc) => oc.doNothing()).execute();
  }
  await tx
    .updateTable('users')
    .set({
      external_id: stash.external_id,
      organization_id: stash.organization_id !== null && liveOrganizations.has(stash.organization_id) ? stash.organization_id : null,
      default_group_id: stash.default_group_id !== null && liveGroups.has(stash.default_group_id) ? stash.default_group_id : null,
    })
    .where('account_id', '=', accountId)
    .where('id', '=', userId)
    .execute();
}

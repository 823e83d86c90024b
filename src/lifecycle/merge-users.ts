import { sql } from 'kysely';
import { audit } from '../audit/audit.ts';
import type { Account, CollaboratorKind } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import { authorize, type Actor } from '../policy/policy.ts';
import type { Executor, UserView } from '../users/users.repository.ts';
import { findDeletion, type DeletionStash } from './lifecycle.repository.ts';
import { lifecycleSettings, purgeAt } from './lifecycle-settings.ts';
import { putBack } from './restore-user.ts';
import { applySoftDelete, findLiveUser } from './soft-delete-user.ts';

/** Zendesk blocks merging a user who requested more tickets than this. */
export const MERGE_TICKET_LIMIT = 10_000;

/** Fields whose surviving side the merge request may choose (beyond Zendesk). */
export const CHOOSABLE = ['name', 'phone', 'notes', 'details'] as const;
export type Choosable = (typeof CHOOSABLE)[number];
export type Side = 'source' | 'target';
export type Choices = Record<Choosable, Side>;

/** `keep: {name: 'source', …}` → every field's side; the survivor's (target's) by default. */
export function parseChoices(raw: unknown): Choices {
  const choices: Choices = { name: 'target', phone: 'target', notes: 'target', details: 'target' };
  if (raw === undefined || raw === null) return choices;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw errors.field('keep', 'InvalidValue', 'keep must be an object such as {"name": "source"}');
  for (const [field, side] of Object.entries(raw)) {
    if (!(CHOOSABLE as readonly string[]).includes(field)) throw errors.field('keep', 'InvalidValue', `keep takes ${CHOOSABLE.join(', ')}`);
    if (side !== 'source' && side !== 'target') throw errors.field('keep', 'InvalidValue', `keep.${field} must be "source" or "target"`);
    choices[field as Choosable] = side;
  }
  return choices;
}

/** What the undo of a merge needs (user_merges.snapshot): personal data, dropped at the end of the window and on purge. */
interface MergeSnapshot {
  target_fields: { name: string; notes: string | null; details: string | null };
  requested_ticket_ids: number[];
  /** Collaborator rows moved from the source to the target. */
  moved_collaborators: Array<{ ticket_id: number; kind: CollaboratorKind }>;
  /** Rows dropped because the target was already a collaborator there. */
  dropped_collaborators: Array<{ ticket_id: number; kind: CollaboratorKind }>;
  /** Identities moved, with their primary flag on the source. */
  identities: Array<{ id: number; primary: boolean }>;
  /** Target identities that stopped being primary (a moved one took their place). */
  demoted_target_identities: number[];
  /** Organization memberships created for the target. */
  created_memberships: number[];
}

interface Pair {
  source: UserView;
  target: UserView;
}

/**
 * The rules of a merge (DOMAIN.md §5; Zendesk's Merge End Users): both users live end users of
 * this account, not the same one, not created by ticket sharing, the source requesting at most
 * 10,000 tickets; and the caller may edit both (src/policy/policy.ts).
 */
async function loadPair(tx: Executor, account: Account, actor: Actor, sourceId: number, targetId: number): Promise<Pair> {
  authorize.staff(actor);
  const source = await findLiveUser(tx, account.id, sourceId);
  if (sourceId === targetId) throw errors.field('base', 'InvalidValue', 'A user cannot be merged into themselves');
  const target = await findLiveUser(tx, account.id, targetId).catch(() => {
    throw errors.field('id', 'InvalidValue', 'There is no user with this id to merge into');
  });
  for (const user of [source, target]) {
    if (user.is_owner) throw errors.field('base', 'InvalidValue', 'The account owner cannot be merged');
    if (user.role !== 'end-user') throw errors.field('base', 'InvalidValue', 'Only end users can be merged: agents and admins cannot');
    if (user.shared) throw errors.field('base', 'InvalidValue', 'Users created by ticket sharing cannot be merged');
  }
  authorize.mergeUsers(actor, source, target);
  const requested = await countRequested(tx, account.id, source.id);
  if (requested > MERGE_TICKET_LIMIT) throw errors.field('base', 'InvalidValue', `User is requester on more than ${MERGE_TICKET_LIMIT} tickets and cannot be merged`);
  return { source, target };
}

async function countRequested(db: Executor, accountId: number, userId: number): Promise<number> {
  const row = await db.selectFrom('tickets').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).where('requester_id', '=', userId).executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface MergePreview {
  source_id: number;
  target_id: number;
  tickets_requested: number;
  tickets_ccd: number;
  identities: Array<{ id: number; type: string; primary_after: boolean }>;
  organization_memberships: number;
  conflicts: Array<{ field: Choosable; source: string | null; target: string | null; default: Side }>;
}

/** GET /users/{id}/merge_preview: what a merge would move, and the fields where the two users differ. */
export async function previewMerge(tx: Executor, account: Account, actor: Actor, sourceId: number, targetId: number): Promise<MergePreview> {
  const { source, target } = await loadPair(tx, account, actor, sourceId, targetId);
  const ccd = await tx.selectFrom('ticket_collaborators').select((eb) => eb.fn.count<number>('ticket_id').distinct().as('n')).where('account_id', '=', account.id).where('user_id', '=', source.id).executeTakeFirstOrThrow();
  const identities = await tx.selectFrom('user_identities').select(['id', 'type', 'primary']).where('account_id', '=', account.id).where('user_id', '=', source.id).orderBy('id').execute();
  const targetPrimaries = new Set((await tx.selectFrom('user_identities').select('type').where('account_id', '=', account.id).where('user_id', '=', target.id).where('primary', '=', true).execute()).map((row) => row.type));
  const memberships = await tx
    .selectFrom('organization_memberships as m')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('m.account_id', '=', account.id)
    .where('m.user_id', '=', source.id)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('organization_memberships as t').select('t.id').whereRef('t.account_id', '=', 'm.account_id').whereRef('t.organization_id', '=', 'm.organization_id').where('t.user_id', '=', target.id))))
    .executeTakeFirstOrThrow();
  const conflicts: MergePreview['conflicts'] = [];
  for (const field of CHOOSABLE) {
    const a = source[field] ?? null;
    const b = target[field] ?? null;
    if (a !== null && b !== null && a !== b) conflicts.push({ field, source: a, target: b, default: 'target' });
  }
  return {
    source_id: source.id,
    target_id: target.id,
    tickets_requested: await countRequested(tx, account.id, source.id),
    tickets_ccd: Number(ccd.n),
    identities: identities.map((identity) => ({ id: identity.id, type: identity.type, primary_after: identity.primary && !targetPrimaries.has(identity.type) })),
    organization_memberships: Number(memberships.n),
    conflicts,
  };
}

/**
 * PUT /users/{id}/merge: moves the source's requested tickets, CCs/follows, identities and
 * organization memberships to the target, applies the chosen fields, then soft-deletes the
 * source (its purge follows as for any deletion). With the restore window on, a snapshot allows
 * the undo until the purge delay ends. Returns the merge id.
 */
export async function mergeUsers(tx: Executor, account: Account, actor: Actor, sourceId: number, targetId: number, choices: Choices, now = new Date()): Promise<number> {
  const { source, target } = await loadPair(tx, account, actor, sourceId, targetId);
  const accountId = account.id;

  const requested = await tx.updateTable('tickets').set({ requester_id: target.id }).where('account_id', '=', accountId).where('requester_id', '=', source.id).returning('id').execute();
  await tx.updateTable('tickets').set({ submitter_id: target.id }).where('account_id', '=', accountId).where('submitter_id', '=', source.id).execute();

  // A CC the target already has on a ticket is dropped rather than duplicated.
  const dropped = await sql<{ ticket_id: number; kind: CollaboratorKind }>`
    DELETE FROM ticket_collaborators s
    USING ticket_collaborators t
    WHERE s.account_id = ${accountId} AND s.user_id = ${source.id}
      AND t.account_id = s.account_id AND t.ticket_id = s.ticket_id AND t.kind = s.kind AND t.user_id = ${target.id}
    RETURNING s.ticket_id, s.kind`.execute(tx);
  const moved = await tx.updateTable('ticket_collaborators').set({ user_id: target.id }).where('account_id', '=', accountId).where('user_id', '=', source.id).returning(['ticket_id', 'kind']).execute();

  // Identities: the target keeps its primary of each type, unless the request keeps the source's phone.
  const identities = await tx.selectFrom('user_identities').select(['id', 'type', 'primary']).where('account_id', '=', accountId).where('user_id', '=', source.id).execute();
  const targetPrimaries = await tx.selectFrom('user_identities').select(['id', 'type']).where('account_id', '=', accountId).where('user_id', '=', target.id).where('primary', '=', true).execute();
  const demoted: number[] = [];
  if (choices.phone === 'source' && identities.some((identity) => identity.type === 'phone_number' && identity.primary)) {
    for (const primary of targetPrimaries.filter((identity) => identity.type === 'phone_number')) demoted.push(primary.id);
  }
  if (demoted.length > 0) await tx.updateTable('user_identities').set({ primary: false }).where('account_id', '=', accountId).where('id', 'in', demoted).execute();
  const stillPrimary = new Set(targetPrimaries.filter((identity) => !demoted.includes(identity.id)).map((identity) => identity.type));
  for (const identity of identities) {
    await tx
      .updateTable('user_identities')
      .set({ user_id: target.id, primary: identity.primary && !stillPrimary.has(identity.type), updated_at: now })
      .where('account_id', '=', accountId)
      .where('id', '=', identity.id)
      .execute();
  }

  const created = await sql<{ id: number }>`
    INSERT INTO organization_memberships (account_id, user_id, organization_id, is_default, view_tickets)
    SELECT m.account_id, ${target.id}, m.organization_id, false, m.view_tickets FROM organization_memberships m
    WHERE m.account_id = ${accountId} AND m.user_id = ${source.id}
    ON CONFLICT DO NOTHING
    RETURNING id`.execute(tx);

  const fields: Record<string, string | null> = {};
  if (choices.name === 'source') fields.name = source.name;
  if (choices.notes === 'source') fields.notes = source.notes;
  if (choices.details === 'source') fields.details = source.details;
  const targetHadOrganization = target.organization_id !== null;
  await tx
    .updateTable('users')
    .set({ ...fields, ...(targetHadOrganization ? {} : { organization_id: source.organization_id }), updated_at: now })
    .where('account_id', '=', accountId)
    .where('id', '=', target.id)
    .execute();
  if (!targetHadOrganization && source.organization_id !== null) {
    await tx.updateTable('organization_memberships').set({ is_default: true }).where('account_id', '=', accountId).where('user_id', '=', target.id).where('organization_id', '=', source.organization_id).execute();
  }

  await applySoftDelete(tx, account, actor, source, now);
  const snapshot: MergeSnapshot = {
    target_fields: { name: target.name, notes: target.notes, details: target.details },
    requested_ticket_ids: requested.map((row) => row.id),
    moved_collaborators: moved,
    dropped_collaborators: dropped.rows,
    identities: identities.map((identity) => ({ id: identity.id, primary: identity.primary })),
    demoted_target_identities: demoted,
    created_memberships: created.rows.map((row) => Number(row.id)),
  };
  const merge = await tx
    .insertInto('user_merges')
    .values({ account_id: accountId, source_id: source.id, target_id: target.id, merged_by: actor.id, merged_at: now, snapshot: lifecycleSettings(account).restoreWindow ? JSON.stringify(snapshot) : null, undone_at: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  await audit(tx, { accountId, actorId: actor.id, action: 'user.merge', targetType: 'user', targetId: source.id, changedFields: ['requester', 'collaborators', 'identities', 'organization_memberships', 'active'] });
  await audit(tx, { accountId, actorId: actor.id, action: 'user.merge_into', targetType: 'user', targetId: target.id, changedFields: ['identities', 'organization_memberships', ...Object.keys(fields)] });
  return merge.id;
}

/** The latest merge of `sourceId` that can still be undone, with its deadline. */
export async function findUndoableMerge(db: Executor, account: Account, sourceId: number) {
  const merge = await db
    .selectFrom('user_merges')
    .selectAll()
    .where('account_id', '=', account.id)
    .where('source_id', '=', sourceId)
    .where('undone_at', 'is', null)
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return merge ? { ...merge, undo_until: purgeAt(account, merge.merged_at) } : undefined;
}

/**
 * PUT /users/{id}/merge/undo (beyond Zendesk): within the restore window, puts back what the
 * merge of `sourceId` moved — tickets, CCs, identities, memberships, the survivor's fields — and
 * restores the source. Refused once the snapshot is gone (window over, window off, or a purge),
 * or when someone claimed the source's external id meanwhile.
 */
export async function undoMerge(tx: Executor, account: Account, actor: Actor, sourceId: number, now = new Date()): Promise<number> {
  authorize.staff(actor);
  const merge = await findUndoableMerge(tx, account, sourceId);
  if (!merge) throw errors.notFound();
  const target = await findLiveUser(tx, account.id, merge.target_id).catch(() => {
    throw errors.field('base', 'InvalidValue', 'The user this one was merged into has been deleted: the merge cannot be undone');
  });
  authorize.mergeUsers(actor, { id: sourceId, role: 'end-user', is_owner: false }, target);
  if (!lifecycleSettings(account).restoreWindow) throw errors.field('base', 'InvalidValue', 'The restore window is off for this account: merges are irreversible');
  if (merge.snapshot === null || merge.undo_until <= now) throw errors.field('base', 'InvalidValue', 'The restore window of this merge has ended: it cannot be undone');
  const deletion = await findDeletion(tx, account.id, sourceId);
  if (!deletion || deletion.purged_at || deletion.stash === null) throw errors.field('base', 'InvalidValue', 'The merged user was permanently deleted: the merge cannot be undone');
  const snapshot = merge.snapshot as MergeSnapshot;
  const accountId = account.id;

  // Only what is still where the merge put it moves back; later changes by agents stay.
  if (snapshot.requested_ticket_ids.length > 0) {
    await tx.updateTable('tickets').set({ requester_id: sourceId }).where('account_id', '=', accountId).where('requester_id', '=', target.id).where('id', 'in', snapshot.requested_ticket_ids).execute();
  }
  for (const row of snapshot.moved_collaborators) {
    await tx.updateTable('ticket_collaborators').set({ user_id: sourceId }).where('account_id', '=', accountId).where('ticket_id', '=', row.ticket_id).where('kind', '=', row.kind).where('user_id', '=', target.id).execute();
  }
  if (snapshot.dropped_collaborators.length > 0) {
    await tx.insertInto('ticket_collaborators').values(snapshot.dropped_collaborators.map((row) => ({ account_id: accountId, ticket_id: row.ticket_id, kind: row.kind, user_id: sourceId }))).onConflict((oc) => oc.doNothing()).execute();
  }
  for (const identity of snapshot.identities) {
    await tx.updateTable('user_identities').set({ user_id: sourceId, primary: identity.primary, updated_at: now }).where('account_id', '=', accountId).where('id', '=', identity.id).where('user_id', '=', target.id).execute();
  }
  for (const id of snapshot.demoted_target_identities) {
    await tx.updateTable('user_identities').set({ primary: true }).where('account_id', '=', accountId).where('id', '=', id).where('user_id', '=', target.id).execute();
  }
  if (snapshot.created_memberships.length > 0) {
    await tx.deleteFrom('organization_memberships').where('account_id', '=', accountId).where('user_id', '=', target.id).where('id', 'in', snapshot.created_memberships).execute();
    const current = await tx.selectFrom('users').select('organization_id').where('account_id', '=', accountId).where('id', '=', target.id).executeTakeFirstOrThrow();
    if (current.organization_id !== null) {
      const still = await tx.selectFrom('organization_memberships').select('id').where('account_id', '=', accountId).where('user_id', '=', target.id).where('organization_id', '=', current.organization_id).executeTakeFirst();
      if (!still) await tx.updateTable('users').set({ organization_id: null }).where('account_id', '=', accountId).where('id', '=', target.id).execute();
    }
  }
  await tx.updateTable('users').set({ ...snapshot.target_fields, updated_at: now }).where('account_id', '=', accountId).where('id', '=', target.id).execute();

  await putBack(tx, accountId, sourceId, deletion.stash as DeletionStash);
  await tx.updateTable('users').set({ active: true, deleted_at: null, updated_at: now }).where('account_id', '=', accountId).where('id', '=', sourceId).execute();
  await tx.deleteFrom('user_deletions').where('account_id', '=', accountId).where('user_id', '=', sourceId).execute();
  await tx.updateTable('user_merges').set({ snapshot: null, undone_at: now }).where('account_id', '=', accountId).where('id', '=', merge.id).execute();
  await audit(tx, { accountId, actorId: actor.id, action: 'user.merge_undo', targetType: 'user', targetId: sourceId, changedFields: ['requester', 'collaborators', 'identities', 'organization_memberships', 'active'] });
  await audit(tx, { accountId, actorId: actor.id, action: 'user.merge_undo_into', targetType: 'user', targetId: target.id, changedFields: ['identities', 'organization_memberships', 'name', 'notes', 'details'] });
  return merge.id;
}

import { sql } from 'kysely';
import type { Account } from '../db/tables.ts';
import { audit } from '../audit/audit.ts';
import { errors } from '../http/errors.ts';
import { authorizeTicketPrivacy, type Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import type { FileStorage } from './storage.ts';
import { visibleTo } from './ticket-access.ts';
import type { TicketViewer } from './tickets.repository.ts';

/**
 * The Deleted tickets view (DOMAIN.md §4, issue 5 item 6): soft-deleted tickets the actor's
 * ticket scope includes, restorable until they are permanently deleted. A permanent delete keeps
 * only an anonymous record for reporting — id, created and deleted dates, last status, channel,
 * group — and removes the text, the people and the files.
 */

export interface DeletedTicketView {
  id: number;
  subject: string;
  status: string;
  deleted_at: Date;
  actor_id: number | null;
  actor_name: string | null;
}

export const DELETED_SORTS = ['id', 'subject', 'deleted_at'] as const;
export type DeletedSort = (typeof DELETED_SORTS)[number];

/** Soft-deleted tickets visible to `viewer`, with who deleted them. */
export function selectDeletedTickets(db: Executor, accountId: number, viewer: TicketViewer) {
  return db
    .selectFrom('tickets as t')
    .leftJoin('users as d', (join) => join.onRef('d.account_id', '=', 't.account_id').onRef('d.id', '=', 't.deleted_by_id'))
    .select(['t.id', 't.subject', 't.status', sql<Date>`t.deleted_at`.as('deleted_at'), 't.deleted_by_id as actor_id', 'd.name as actor_name'])
    .where('t.account_id', '=', accountId)
    .where('t.deleted_at', 'is not', null)
    .where(visibleTo(viewer));
}

/** The soft-deleted tickets among `ids` that `viewer` may act on, locked; any other id is a 404. */
async function lockDeleted(tx: Executor, account: Account, viewer: TicketViewer, ids: number[]) {
  const rows = await tx
    .selectFrom('tickets as t')
    .select(['t.id', 't.status', 't.via_channel', 't.group_id', 't.created_at', sql<Date>`t.deleted_at`.as('deleted_at')])
    .where('t.account_id', '=', account.id)
    .where('t.id', 'in', ids)
    .where('t.deleted_at', 'is not', null)
    .where(visibleTo(viewer))
    .orderBy('t.id')
    .forUpdate()
    .execute();
  if (rows.length !== ids.length) throw errors.notFound();
  return rows;
}

/** Brings soft-deleted tickets back, all or none (restore and restore_many). */
export async function restoreDeletedTickets(tx: Executor, account: Account, actor: Actor & TicketViewer, ids: number[]): Promise<void> {
  authorizeTicketPrivacy.manageDeletedTickets(actor, ids.length > 1);
  await lockDeleted(tx, account, actor, ids);
  await tx
    .updateTable('tickets')
    .set({ deleted_at: null, deleted_by_id: null, updated_at: new Date() })
    .where('account_id', '=', account.id)
    .where('id', 'in', ids)
    .execute();
  for (const id of ids) await audit(tx, { accountId: account.id, actorId: actor.id, action: 'ticket.restore', targetType: 'ticket', targetId: id });
}

/**
 * Permanently deletes one soft-deleted ticket in the caller's transaction: the anonymous record
 * is written, the ticket row goes and takes its comments, CCs, followers and attachment rows
 * with it (foreign keys cascade), and the attachment bytes are removed from storage. The bytes
 * go last, just before the commit: a failed commit leaves rows pointing at missing files, which
 * the retry deletes — never files that outlive their ticket.
 */
export async function purgeDeletedTicket(tx: Executor, storage: FileStorage, account: Account, actor: Actor & TicketViewer, id: number): Promise<void> {
  const [ticket] = await lockDeleted(tx, account, actor, [id]);
  if (!ticket) throw errors.notFound();
  // By ticket or by comment: an attachment row names both, but the files are what must not be missed.
  const ofTicket = sql<boolean>`(ticket_id = ${id}::bigint OR comment_id IN (SELECT c.id FROM ticket_comments c WHERE c.account_id = ${account.id}::bigint AND c.ticket_id = ${id}::bigint))`;
  const files = await tx.selectFrom('ticket_attachments').select('storage_key').where('account_id', '=', account.id).where(ofTicket).execute();
  await tx
    .insertInto('deleted_ticket_records')
    .values({
      account_id: account.id,
      ticket_id: id,
      status: ticket.status,
      via_channel: ticket.via_channel,
      group_id: ticket.group_id,
      ticket_created_at: ticket.created_at,
      deleted_at: ticket.deleted_at,
    })
    .onConflict((conflict) => conflict.columns(['account_id', 'ticket_id']).doNothing())
    .execute();
  await tx.deleteFrom('ticket_attachments').where('account_id', '=', account.id).where(ofTicket).execute();
  await tx.deleteFrom('tickets').where('account_id', '=', account.id).where('id', '=', id).execute();
  await audit(tx, { accountId: account.id, actorId: actor.id, action: 'ticket.purge', targetType: 'ticket', targetId: id });
  for (const file of files) await storage.delete(file.storage_key);
}

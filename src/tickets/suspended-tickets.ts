import type { Account, SuspendedTicketRow, TicketAttachmentRow } from '../db/tables.ts';
import { audit } from '../audit/audit.ts';
import { errors } from '../http/errors.ts';
import { authorizeTicketPrivacy, type Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { createTicket } from './create-ticket.ts';
import type { FileStorage } from './storage.ts';
import type { PeopleChange, PersonRef, TicketInput } from './ticket-input.ts';
import type { StoredFields } from './suspend-submission.ts';

/**
 * The suspended tickets queue (DOMAIN.md §4–5, issue 5 item 7): submissions from suspended
 * users (src/tickets/suspend-submission.ts), kept as they were sent — who, subject, content, the
 * fields they asked for, their uploads — until an agent recovers one into a ticket or deletes
 * it. A recovered or deleted suspended ticket leaves no copy of its content behind.
 */

export type SuspendedTicketView = SuspendedTicketRow & { attachments: TicketAttachmentRow[] };

export function selectSuspendedTickets(db: Executor, accountId: number) {
  return db.selectFrom('suspended_tickets as s').selectAll('s').where('s.account_id', '=', accountId);
}

export async function withSuspendedAttachments(db: Executor, accountId: number, rows: SuspendedTicketRow[]): Promise<SuspendedTicketView[]> {
  const ids = rows.map((row) => row.id);
  const attachments = ids.length === 0
    ? []
    : await db.selectFrom('ticket_attachments').selectAll().where('account_id', '=', accountId).where('suspended_ticket_id', 'in', ids).orderBy('id').execute();
  return rows.map((row) => ({ ...row, attachments: attachments.filter((attachment) => attachment.suspended_ticket_id === row.id) }));
}

async function lockSuspended(tx: Executor, accountId: number, id: number): Promise<SuspendedTicketRow> {
  const row = await selectSuspendedTickets(tx, accountId).where('s.id', '=', id).forUpdate().executeTakeFirst();
  if (!row) throw errors.notFound();
  return row;
}

async function activeUser(tx: Executor, accountId: number, id: number | null): Promise<{ id: number; suspended: boolean } | undefined> {
  if (id === null) return undefined;
  return tx.selectFrom('users').select(['id', 'suspended']).where('account_id', '=', accountId).where('id', '=', id).where('active', '=', true).executeTakeFirst();
}

/**
 * Recovers a suspended ticket into a ticket, in the caller's transaction, and removes the
 * suspended one (its uploads become the first comment's attachments).
 * - `requester: 'caller'` (PUT …/{id}/recover): as Zendesk documents, the calling agent becomes
 *   the requester, so the ticket cannot be suspended again; the original author stays the
 *   author of the first comment while they are a live user.
 * - `requester: 'author'` (PUT …/recover_many): the original author stays the requester, which
 *   is refused while they are still suspended — lift the suspension first, or recover the ticket
 *   on its own.
 */
export async function recoverSuspendedTicket(tx: Executor, account: Account, actor: Actor, id: number, requester: 'caller' | 'author'): Promise<number> {
  authorizeTicketPrivacy.manageSuspendedTickets(actor);
  const row = await lockSuspended(tx, account.id, id);
  const fields = row.ticket_fields as StoredFields;
  const author = await activeUser(tx, account.id, row.author_id);
  let requesterRef: PersonRef;
  if (requester === 'caller') {
    requesterRef = { id: actor.id };
  } else {
    if (!author) throw errors.field('requester', 'InvalidValue', 'Requester: the author is no longer a user; recover this ticket on its own (PUT …/recover)');
    if (author.suspended) throw errors.field('requester', 'InvalidValue', 'Requester: the author is still suspended; lift the suspension or recover this ticket on its own (PUT …/recover)');
    requesterRef = { id: author.id };
  }
  const submitter = await activeUser(tx, account.id, fields.submitter_id ?? null);
  const ccs: PeopleChange = { add: fields.email_ccs ?? [], remove: [] };
  const input: TicketInput = {
    subject: row.subject,
    comment: { body: row.content, htmlBody: fields.html_body, public: true, authorId: author?.id ?? actor.id, uploads: [] },
    requester: requesterRef,
    ...(submitter ? { submitterId: submitter.id } : {}),
    ...(fields.priority !== undefined ? { priority: fields.priority } : {}),
    ...(fields.type !== undefined ? { type: fields.type } : {}),
    ...(fields.tags !== undefined ? { tags: fields.tags } : {}),
    ...(fields.group_id !== undefined ? { groupId: fields.group_id } : {}),
    // The organization must be one of the requester's: kept only when the requester is the author.
    ...(fields.organization_id !== undefined && requester === 'author' ? { organizationId: fields.organization_id } : {}),
    ...(fields.external_id !== undefined ? { externalId: fields.external_id } : {}),
    ...(fields.due_at !== undefined ? { dueAt: fields.due_at === null ? null : new Date(fields.due_at) } : {}),
    ...(row.recipient !== null ? { recipient: row.recipient } : {}),
    addTags: [],
    removeTags: [],
    emailCcs: ccs,
    followers: { add: [], remove: [] },
    fields: ['subject', 'comment', 'requester'],
  };
  const via = fields.via ?? (row.via_channel === 'web' ? 'request' : 'ticket');
  const created = await createTicket(tx, account, actor, input, { channel: via === 'request' ? 'web' : 'api', via });
  // The author was suspended again between the check above and now: the transaction rolls back.
  if ('suspendedTicketId' in created) throw errors.field('requester', 'InvalidValue', 'Requester: the author is still suspended');
  await tx
    .updateTable('ticket_attachments')
    .set({ suspended_ticket_id: null, comment_id: created.commentId, ticket_id: created.ticketId })
    .where('account_id', '=', account.id)
    .where('suspended_ticket_id', '=', id)
    .execute();
  await tx.deleteFrom('suspended_tickets').where('account_id', '=', account.id).where('id', '=', id).execute();
  await audit(tx, { accountId: account.id, actorId: actor.id, action: 'suspended_ticket.recover', targetType: 'suspended_ticket', targetId: id });
  return created.ticketId;
}

/**
 * Deletes suspended tickets (all or none) with their uploads' bytes. As for permanently deleted
 * tickets, the bytes go just before the commit: never files that outlive their rows.
 */
export async function deleteSuspendedTickets(tx: Executor, storage: FileStorage, account: Account, actor: Actor, ids: number[]): Promise<void> {
  authorizeTicketPrivacy.manageSuspendedTickets(actor);
  const rows = await selectSuspendedTickets(tx, account.id).where('s.id', 'in', ids).forUpdate().execute();
  if (rows.length !== ids.length) throw errors.notFound();
  const files = await tx.selectFrom('ticket_attachments').select('storage_key').where('account_id', '=', account.id).where('suspended_ticket_id', 'in', ids).execute();
  await tx.deleteFrom('ticket_attachments').where('account_id', '=', account.id).where('suspended_ticket_id', 'in', ids).execute();
  await tx.deleteFrom('suspended_tickets').where('account_id', '=', account.id).where('id', 'in', ids).execute();
  for (const id of ids) await audit(tx, { accountId: account.id, actorId: actor.id, action: 'suspended_ticket.delete', targetType: 'suspended_ticket', targetId: id });
  for (const file of files) await storage.delete(file.storage_key);
}

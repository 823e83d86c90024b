import type { Account, TicketAttachmentRow, TicketCommentRow } from '../db/tables.ts';
import { audit } from '../audit/audit.ts';
import { errors } from '../http/errors.ts';
import { authorizeTicketPrivacy, authorizeTickets } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import type { FileStorage } from './storage.ts';
import { applyRedactMarkup, redactHtml, redactPlain } from './redact-text.ts';
import { findTicket, type TicketViewer } from './tickets.repository.ts';

/**
 * Redaction (DOMAIN.md §6, issue 5 item 5): strings and files leave the comment for good. Each
 * function runs in the caller's transaction and writes an audit entry that names the comment and
 * the bodies that changed — never the text. Closed tickets can be redacted too (DOMAIN.md §4,
 * "beyond"): an erasure must not depend on whether a ticket happens to be closed yet.
 */

const TEXT_LIMIT = 65_535;

/** The ticket (live, visible to the actor) and the comment on it, locked for the change. */
async function lockComment(tx: Executor, account: Account, actor: TicketViewer, ticketId: number, commentId: number): Promise<{ comment: TicketCommentRow; closed: boolean }> {
  const ticket = await findTicket(tx, account.id, ticketId, actor);
  if (!ticket) throw errors.notFound();
  authorizeTickets.viewTicket(actor, ticket.visible);
  const comment = await tx
    .selectFrom('ticket_comments')
    .selectAll()
    .where('account_id', '=', account.id)
    .where('ticket_id', '=', ticketId)
    .where('id', '=', commentId)
    .forUpdate()
    .executeTakeFirst();
  if (!comment) throw errors.notFound();
  return { comment, closed: ticket.status === 'closed' };
}

async function storeBodies(tx: Executor, account: Account, actor: TicketViewer, comment: TicketCommentRow, next: Pick<TicketCommentRow, 'body' | 'html_body' | 'plain_body'>, action: string): Promise<TicketCommentRow> {
  const changed = (['body', 'html_body', 'plain_body'] as const).filter((key) => next[key] !== comment[key]);
  if (changed.length === 0) return comment;
  const updated = await tx
    .updateTable('ticket_comments')
    .set({ ...next, redacted_at: new Date() })
    .where('account_id', '=', account.id)
    .where('id', '=', comment.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await tx.updateTable('tickets').set({ updated_at: new Date() }).where('account_id', '=', account.id).where('id', '=', comment.ticket_id).execute();
  await audit(tx, { accountId: account.id, actorId: actor.id, action, targetType: 'ticket_comment', targetId: comment.id, changedFields: [...changed] });
  return updated;
}

/** `{"text": …}`: every occurrence in body, html_body and plain_body. An absent string changes nothing. */
export function parseRedactText(raw: unknown): string {
  const text = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>).text : undefined;
  if (text === undefined || text === null) throw errors.missingParameter('text');
  if (typeof text !== 'string') throw errors.field('text', 'InvalidValue', 'Text: must be a string');
  if (text === '') throw errors.field('text', 'BlankValue', 'Text: cannot be blank');
  if (text.length > TEXT_LIMIT) throw errors.field('text', 'TooLong', `Text: is too long (at most ${TEXT_LIMIT} characters)`);
  return text;
}

export async function redactCommentText(tx: Executor, account: Account, actor: TicketViewer, ticketId: number, commentId: number, text: string): Promise<TicketCommentRow> {
  authorizeTicketPrivacy.redact(actor);
  const { comment } = await lockComment(tx, account, actor, ticketId, commentId);
  return storeBodies(tx, account, actor, comment, {
    body: redactPlain(comment.body, text),
    html_body: redactHtml(comment.html_body, text),
    plain_body: redactPlain(comment.plain_body, text),
  }, 'ticket_comment.redact');
}

export interface MarkupRedaction {
  ticketId: number;
  htmlBody: string | undefined;
  attachmentUrls: string[];
}

/** PUT /api/v2/comment_redactions/{id}'s body: Zendesk's ticket_id, html_body and external_attachment_urls. */
export function parseMarkupRedaction(raw: unknown): MarkupRedaction {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw errors.missingParameter('ticket_id');
  const body = raw as Record<string, unknown>;
  const ticketId = typeof body.ticket_id === 'string' && /^\d{1,15}$/.test(body.ticket_id) ? Number(body.ticket_id) : body.ticket_id;
  if (ticketId === undefined || ticketId === null) throw errors.missingParameter('ticket_id');
  if (typeof ticketId !== 'number' || !Number.isSafeInteger(ticketId) || ticketId < 1) throw errors.field('ticket_id', 'InvalidValue', 'Ticket: must be a ticket id');
  const html = body.html_body;
  if (html !== undefined && html !== null && typeof html !== 'string') throw errors.field('html_body', 'InvalidValue', 'Html body: must be a string');
  if (typeof html === 'string' && html.length > TEXT_LIMIT * 4) throw errors.field('html_body', 'TooLong', 'Html body: is too long');
  const urls = body.external_attachment_urls ?? [];
  if (!Array.isArray(urls) || urls.length > 100 || !urls.every((url) => typeof url === 'string' && url.length <= 2048)) {
    throw errors.field('external_attachment_urls', 'InvalidValue', 'External attachment urls: must be a list of attachment URLs');
  }
  if ((typeof html !== 'string' || html === '') && urls.length === 0) throw errors.missingParameter('html_body');
  return { ticketId, htmlBody: typeof html === 'string' && html !== '' ? html : undefined, attachmentUrls: urls as string[] };
}

/** An attachment's id from any of the URLs Roster gives it (`…/attachments/{id}.json`, `…/attachments/{id}/content`). */
function attachmentIdFromUrl(url: string): number | undefined {
  const match = /\/attachments\/(\d{1,15})(?:\.json|\/content)?(?:[?#].*)?$/.exec(url);
  return match?.[1] ? Number(match[1]) : undefined;
}

/**
 * The agent-workspace redaction: the caller sends the comment's html_body with `<redact>` tags
 * (and `redact` attributes) added, and nothing else changed — anything else would be an edit of
 * the conversation, which redaction is not. The marked text is masked in the HTML where it was
 * marked, and everywhere in the plain bodies (over-masking a repeated string is the safe side).
 */
export async function redactCommentMarkup(tx: Executor, storage: FileStorage, account: Account, actor: TicketViewer, commentId: number, input: MarkupRedaction): Promise<TicketCommentRow> {
  authorizeTicketPrivacy.redact(actor);
  const { comment } = await lockComment(tx, account, actor, input.ticketId, commentId);
  let updated = comment;
  if (input.htmlBody !== undefined) {
    const marked = applyRedactMarkup(input.htmlBody);
    if (marked.unmarked !== comment.html_body) {
      throw errors.field('html_body', 'InvalidValue', "Html body: must be the comment's current html_body with <redact> tags added and nothing else changed");
    }
    let body = comment.body;
    let plain = comment.plain_body;
    for (const text of marked.texts) {
      body = redactPlain(body, text);
      plain = redactPlain(plain, text);
    }
    updated = await storeBodies(tx, account, actor, comment, { body, html_body: marked.html, plain_body: plain }, 'ticket_comment.redact');
  }
  for (const url of input.attachmentUrls) {
    const id = attachmentIdFromUrl(url);
    if (id === undefined) throw errors.field('external_attachment_urls', 'InvalidValue', 'External attachment urls: not an attachment URL of this comment');
    await redactAttachmentOf(tx, storage, account, actor, comment, id, 'external_attachment_urls');
  }
  return updated;
}

/**
 * Replaces an attachment with an empty `redacted.txt` and removes its bytes from storage. The old
 * bytes go before the transaction commits: if the commit then failed, the row would point at a
 * missing file (and a retry finishes the job) — never the other way round, with the API saying
 * "redacted" while the bytes are still on disk.
 */
async function redactAttachmentOf(tx: Executor, storage: FileStorage, account: Account, actor: TicketViewer, comment: TicketCommentRow, attachmentId: number, field?: string): Promise<TicketAttachmentRow> {
  const attachment = await tx
    .selectFrom('ticket_attachments')
    .selectAll()
    .where('account_id', '=', account.id)
    .where('comment_id', '=', comment.id)
    .where('id', '=', attachmentId)
    .forUpdate()
    .executeTakeFirst();
  if (!attachment) {
    if (field) throw errors.field(field, 'InvalidValue', 'External attachment urls: not an attachment URL of this comment');
    throw errors.notFound();
  }
  return redactAttachmentFile(tx, storage, account.id, actor.id, attachment, comment.ticket_id);
}

/**
 * The attachment becomes an empty `redacted.txt` and its bytes leave storage (shared by the
 * redaction API and the erasure, src/privacy/erasure). Already redacted: unchanged.
 */
export async function redactAttachmentFile(tx: Executor, storage: FileStorage, accountId: number, actorId: number | null, attachment: TicketAttachmentRow, ticketId: number | null): Promise<TicketAttachmentRow> {
  if (attachment.redacted) return attachment;
  const emptyKey = await storage.put(Buffer.alloc(0));
  const updated = await tx
    .updateTable('ticket_attachments')
    .set({ file_name: 'redacted.txt', content_type: 'text/plain', size: 0, storage_key: emptyKey, redacted: true })
    .where('account_id', '=', accountId)
    .where('id', '=', attachment.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  if (ticketId !== null) await tx.updateTable('tickets').set({ updated_at: new Date() }).where('account_id', '=', accountId).where('id', '=', ticketId).execute();
  await audit(tx, { accountId, actorId, action: 'ticket_attachment.redact', targetType: 'ticket_attachment', targetId: attachment.id, changedFields: ['file'] });
  await storage.delete(attachment.storage_key);
  return updated;
}

export async function redactAttachment(tx: Executor, storage: FileStorage, account: Account, actor: TicketViewer, ticketId: number, commentId: number, attachmentId: number): Promise<TicketAttachmentRow> {
  authorizeTicketPrivacy.redact(actor);
  const { comment } = await lockComment(tx, account, actor, ticketId, commentId);
  return redactAttachmentOf(tx, storage, account, actor, comment, attachmentId);
}

/**
 * Makes a public comment an internal note (Zendesk: agents). Closed tickets stay immutable, as
 * for any other update; a note stays a note (there is no "make public").
 */
export async function makeCommentPrivate(tx: Executor, account: Account, actor: TicketViewer, ticketId: number, commentId: number): Promise<void> {
  authorizeTickets.useTicketsApi(actor);
  const { comment, closed } = await lockComment(tx, account, actor, ticketId, commentId);
  if (closed) throw errors.field('status', 'InvalidValue', 'Status: closed prevents ticket update');
  if (!comment.public) return;
  await tx.updateTable('ticket_comments').set({ public: false }).where('account_id', '=', account.id).where('id', '=', comment.id).execute();
  // The ticket is public while any comment is (Zendesk's is_public).
  const stillPublic = await tx
    .selectFrom('ticket_comments')
    .select('id')
    .where('account_id', '=', account.id)
    .where('ticket_id', '=', ticketId)
    .where('public', '=', true)
    .limit(1)
    .executeTakeFirst();
  await tx.updateTable('tickets').set({ is_public: stillPublic !== undefined, updated_at: new Date() }).where('account_id', '=', account.id).where('id', '=', ticketId).execute();
  await audit(tx, { accountId: account.id, actorId: actor.id, action: 'ticket_comment.make_private', targetType: 'ticket_comment', targetId: comment.id, changedFields: ['public'] });
}

import { audit } from '../../audit/audit.ts';
import type { TicketAttachmentRow } from '../../db/tables.ts';
import { redactAttachmentFile } from '../../tickets/redact-comment.ts';
import { REDACTION_MARK, redactHtml, redactPlain } from '../../tickets/redact-text.ts';
import type { FileStorage } from '../../tickets/storage.ts';
import type { Executor } from '../../users/users.repository.ts';
import { findMentions, loadPerson, type Mention, type Person, personTerms, type Term, type TermKind } from './person-terms.ts';

/**
 * The one scrub of a person's identifiers and name from everything that is not theirs to take
 * away (issue 7 items 4 and 7): ticket comments (body, html_body, plain_body), ticket subjects,
 * suspended tickets and attachment files. Tickets stay (DOMAIN.md §5); each character of each
 * mention becomes `▇` through the redaction functions of src/tickets/redact-text.ts. Shared by the
 * erasure (plan and run) and by the permanent delete (src/lifecycle/purge-deleted-users.ts).
 *
 * `planScrub` only reads; `applyScrub` writes what a plan found, in the caller's transaction.
 * Both are idempotent: a scrubbed text has no mention left, so a second plan finds nothing.
 */

export type TextField = 'subject' | 'body' | 'html_body' | 'plain_body' | 'content' | 'author_name' | 'author_email' | 'ticket_fields' | 'file_name';

export interface TextSpan {
  ticket_id: number | null;
  comment_id: number | null;
  suspended_ticket_id: number | null;
  attachment_id: number | null;
  field: TextField;
  start: number;
  end: number;
  kind: TermKind;
  /** The matched text: shown in the dry run to the admin who may read it anyway, never stored. */
  text: string;
}

export interface AttachmentToRedact {
  id: number;
  ticket_id: number | null;
  comment_id: number | null;
  suspended_ticket_id: number | null;
  reason: 'authored' | 'content' | 'file_name';
}

export interface ScrubPlan {
  spans: TextSpan[];
  /** Comments, ticket subjects and suspended tickets whose text changes. */
  comment_ids: number[];
  subject_ticket_ids: number[];
  suspended_ticket_ids: number[];
  attachments: AttachmentToRedact[];
}

export interface ScrubOptions {
  /** The erasure also redacts every attachment the person uploaded or attached to their comments. */
  authoredAttachments: boolean;
  /** Tickets that will be permanently deleted instead (and suspended tickets that will be deleted). */
  skipTicketIds?: number[];
  skipSuspendedTicketIds?: number[];
  /** The person's own user id (for authored attachments). */
  userId: number;
  /** Stop once this many records to change are found (the erasure scrubs in bounded batches). */
  limit?: number;
}

const BATCH = 500;
/** Attachment files larger than this are not read for mentions (they are redacted when authored). */
const MAX_SCANNED_BYTES = 20 * 1024 * 1024;

const mask = (text: string): string => REDACTION_MARK.repeat([...text].length);

/** Masks exactly the given spans (source offsets). */
function maskSpans(text: string, mentions: Mention[]): string {
  let output = '';
  let at = 0;
  for (const mention of [...mentions].sort((a, b) => a.start - b.start)) {
    if (mention.start < at) continue;
    output += text.slice(at, mention.start) + mask(text.slice(mention.start, mention.end));
    at = mention.end;
  }
  return output + text.slice(at);
}

/**
 * A text with every mention masked. Each matched string goes through the redaction API's own
 * function (plain: `redactPlain`, HTML: `redactHtml`, which also finds it across entities, inline
 * tags and attribute values); whatever a mention still covers after that is masked in place.
 */
function scrubText(text: string, terms: Term[], matched: string[], html: boolean): string {
  let output = text;
  for (const piece of matched) output = html ? redactHtml(output, piece) : redactPlain(output, piece);
  const left = findMentions(output, terms);
  return left.length === 0 ? output : maskSpans(output, left);
}

/** Every string value of a JSON document, scrubbed. */
function scrubJson(value: unknown, terms: Term[]): unknown {
  if (typeof value === 'string') {
    const mentions = findMentions(value, terms);
    return mentions.length === 0 ? value : scrubText(value, terms, matchedStrings(value, mentions), false);
  }
  if (Array.isArray(value)) return value.map((item) => scrubJson(item, terms));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrubJson(item, terms)]));
  return value;
}

/** Every string value of a JSON document (what scrubJson masks). */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}

const matchedStrings = (text: string, mentions: Mention[]): string[] => [...new Set(mentions.map((mention) => text.slice(mention.start, mention.end)))];

function spansOf(text: string | null, terms: Term[], where: Omit<TextSpan, 'field' | 'start' | 'end' | 'kind' | 'text'>, field: TextField): TextSpan[] {
  if (!text) return [];
  return findMentions(text, terms).map((mention) => ({ ...where, field, start: mention.start, end: mention.end, kind: mention.kind, text: text.slice(mention.start, mention.end) }));
}

/** Attachment text as it could be read: UTF-8 (and Latin-1, for files that are not UTF-8). */
function fileMentions(bytes: Buffer, terms: Term[]): boolean {
  return findMentions(bytes.toString('utf8'), terms).length > 0 || findMentions(bytes.toString('latin1'), terms).length > 0;
}

export function termsFor(person: Person, purgedName: string): Term[] {
  return personTerms(person.name === purgedName ? { ...person, name: '' } : person);
}

/** What a scrub of `terms` would change in the account (reads only). */
export async function planScrub(db: Executor, storage: FileStorage, accountId: number, terms: Term[], options: ScrubOptions): Promise<ScrubPlan> {
  const plan: ScrubPlan = { spans: [], comment_ids: [], subject_ticket_ids: [], suspended_ticket_ids: [], attachments: [] };
  if (terms.length === 0 && !options.authoredAttachments) return plan;
  const skipTickets = new Set(options.skipTicketIds ?? []);
  const skipSuspended = new Set(options.skipSuspendedTicketIds ?? []);
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const found = () => plan.comment_ids.length + plan.subject_ticket_ids.length + plan.suspended_ticket_ids.length + plan.attachments.length;
  // Scanning is CPU work: let the event loop breathe between batches (the embedded database
  // answers through promises alone, so nothing else would run).
  const breathe = () => new Promise((resolve) => setImmediate(resolve));

  // Comments, batch by batch (every comment of the account: a mention can be anywhere).
  for (let after = 0; ; ) {
    const rows = await db
      .selectFrom('ticket_comments')
      .select(['id', 'ticket_id', 'body', 'html_body', 'plain_body'])
      .where('account_id', '=', accountId)
      .where('id', '>', after)
      .orderBy('id')
      .limit(BATCH)
      .execute();
    for (const row of rows) {
      if (skipTickets.has(row.ticket_id)) continue;
      const where = { ticket_id: row.ticket_id, comment_id: row.id, suspended_ticket_id: null, attachment_id: null };
      const spans = [...spansOf(row.body, terms, where, 'body'), ...spansOf(row.html_body, terms, where, 'html_body'), ...spansOf(row.plain_body, terms, where, 'plain_body')];
      if (spans.length > 0) {
        plan.spans.push(...spans);
        plan.comment_ids.push(row.id);
      }
    }
    if (rows.length < BATCH || found() >= limit) break;
    after = rows[rows.length - 1]?.id ?? after;
    await breathe();
  }
  if (found() >= limit) return plan;

  for (let after = 0; ; ) {
    const rows = await db.selectFrom('tickets').select(['id', 'subject']).where('account_id', '=', accountId).where('id', '>', after).orderBy('id').limit(BATCH).execute();
    for (const row of rows) {
      if (skipTickets.has(row.id)) continue;
      const spans = spansOf(row.subject, terms, { ticket_id: row.id, comment_id: null, suspended_ticket_id: null, attachment_id: null }, 'subject');
      if (spans.length > 0) {
        plan.spans.push(...spans);
        plan.subject_ticket_ids.push(row.id);
      }
    }
    if (rows.length < BATCH || found() >= limit) break;
    after = rows[rows.length - 1]?.id ?? after;
    await breathe();
  }
  if (found() >= limit) return plan;

  const suspended = await db
    .selectFrom('suspended_tickets')
    .select(['id', 'subject', 'content', 'author_name', 'author_email', 'ticket_fields'])
    .where('account_id', '=', accountId)
    .orderBy('id')
    .execute();
  for (const row of suspended) {
    if (skipSuspended.has(row.id)) continue;
    const where = { ticket_id: null, comment_id: null, suspended_ticket_id: row.id, attachment_id: null };
    const spans = [
      ...spansOf(row.subject, terms, where, 'subject'),
      ...spansOf(row.content, terms, where, 'content'),
      ...spansOf(row.author_name, terms, where, 'author_name'),
      ...spansOf(row.author_email, terms, where, 'author_email'),
      ...stringsOf(row.ticket_fields).flatMap((value) => spansOf(value, terms, where, 'ticket_fields')),
    ];
    if (spans.length > 0) {
      plan.spans.push(...spans);
      plan.suspended_ticket_ids.push(row.id);
    }
  }

  if (found() >= limit) return plan;
  // Attachments: the person's own (erasure), and any whose name or bytes mention them.
  const attachments = await db
    .selectFrom('ticket_attachments as a')
    .leftJoin('ticket_comments as c', (join) => join.onRef('c.account_id', '=', 'a.account_id').onRef('c.id', '=', 'a.comment_id'))
    .select(['a.id', 'a.ticket_id', 'a.comment_id', 'a.suspended_ticket_id', 'a.file_name', 'a.size', 'a.storage_key', 'a.uploader_id', 'c.author_id', 'c.ticket_id as comment_ticket_id'])
    .where('a.account_id', '=', accountId)
    .where('a.redacted', '=', false)
    .orderBy('a.id')
    .execute();
  for (const row of attachments) {
    const ticketId = row.ticket_id ?? row.comment_ticket_id;
    if (ticketId !== null && skipTickets.has(ticketId)) continue;
    if (row.suspended_ticket_id !== null && skipSuspended.has(row.suspended_ticket_id)) continue;
    const entry = { id: row.id, ticket_id: ticketId, comment_id: row.comment_id, suspended_ticket_id: row.suspended_ticket_id };
    const nameSpans = spansOf(row.file_name, terms, { ...entry, attachment_id: row.id, ticket_id: ticketId }, 'file_name');
    plan.spans.push(...nameSpans);
    if (options.authoredAttachments && (row.author_id === options.userId || row.uploader_id === options.userId)) {
      plan.attachments.push({ ...entry, reason: 'authored' });
      continue;
    }
    if (nameSpans.length > 0) {
      plan.attachments.push({ ...entry, reason: 'file_name' });
      continue;
    }
    if (Number(row.size) > MAX_SCANNED_BYTES || terms.length === 0) continue;
    const bytes = await storage.get(row.storage_key);
    if (bytes && fileMentions(bytes, terms)) plan.attachments.push({ ...entry, reason: 'content' });
  }
  return plan;
}

export interface ScrubCounts {
  redacted_spans: number;
  redacted_comments: number;
  redacted_subjects: number;
  redacted_suspended_tickets: number;
  redacted_attachments: number;
}

export function scrubCounts(plan: ScrubPlan): ScrubCounts {
  return {
    redacted_spans: plan.spans.length,
    redacted_comments: plan.comment_ids.length,
    redacted_subjects: plan.subject_ticket_ids.length,
    redacted_suspended_tickets: plan.suspended_ticket_ids.length,
    redacted_attachments: plan.attachments.length,
  };
}

/**
 * Writes a plan: every mention masked, every listed attachment replaced by an empty
 * `redacted.txt` with its bytes removed. Audit entries name the records and fields, never text.
 */
export async function applyScrub(tx: Executor, storage: FileStorage, accountId: number, actorId: number | null, terms: Term[], plan: ScrubPlan): Promise<ScrubCounts> {
  const now = new Date();
  for (const commentId of plan.comment_ids) {
    const comment = await tx.selectFrom('ticket_comments').selectAll().where('account_id', '=', accountId).where('id', '=', commentId).forUpdate().executeTakeFirst();
    if (!comment) continue;
    const matched = [comment.body, comment.html_body, comment.plain_body].flatMap((text) => matchedStrings(text, findMentions(text, terms)));
    const next = {
      body: scrubText(comment.body, terms, matched, false),
      html_body: scrubText(comment.html_body, terms, matched, true),
      plain_body: scrubText(comment.plain_body, terms, matched, false),
    };
    const changed = (['body', 'html_body', 'plain_body'] as const).filter((key) => next[key] !== comment[key]);
    if (changed.length === 0) continue;
    await tx.updateTable('ticket_comments').set({ ...next, redacted_at: now }).where('account_id', '=', accountId).where('id', '=', commentId).execute();
    await tx.updateTable('tickets').set({ updated_at: now }).where('account_id', '=', accountId).where('id', '=', comment.ticket_id).execute();
    await audit(tx, { accountId, actorId, action: 'ticket_comment.redact', targetType: 'ticket_comment', targetId: commentId, changedFields: changed });
  }
  for (const ticketId of plan.subject_ticket_ids) {
    const ticket = await tx.selectFrom('tickets').select(['id', 'subject']).where('account_id', '=', accountId).where('id', '=', ticketId).forUpdate().executeTakeFirst();
    if (!ticket) continue;
    const subject = scrubText(ticket.subject, terms, matchedStrings(ticket.subject, findMentions(ticket.subject, terms)), false);
    if (subject === ticket.subject) continue;
    await tx.updateTable('tickets').set({ subject, updated_at: now }).where('account_id', '=', accountId).where('id', '=', ticketId).execute();
    await audit(tx, { accountId, actorId, action: 'ticket.redact', targetType: 'ticket', targetId: ticketId, changedFields: ['subject'] });
  }
  for (const id of plan.suspended_ticket_ids) {
    const row = await tx.selectFrom('suspended_tickets').selectAll().where('account_id', '=', accountId).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!row) continue;
    const text = (value: string) => scrubText(value, terms, matchedStrings(value, findMentions(value, terms)), false);
    const next = {
      subject: text(row.subject),
      content: text(row.content),
      author_name: row.author_name === null ? null : text(row.author_name),
      author_email: row.author_email === null ? null : text(row.author_email),
      ticket_fields: JSON.stringify(scrubJson(row.ticket_fields, terms)),
    };
    await tx.updateTable('suspended_tickets').set({ ...next, updated_at: now }).where('account_id', '=', accountId).where('id', '=', id).execute();
    await audit(tx, { accountId, actorId, action: 'suspended_ticket.redact', targetType: 'suspended_ticket', targetId: id, changedFields: ['subject', 'content', 'author', 'ticket_fields'] });
  }
  for (const entry of plan.attachments) {
    const attachment: TicketAttachmentRow | undefined = await tx.selectFrom('ticket_attachments').selectAll().where('account_id', '=', accountId).where('id', '=', entry.id).forUpdate().executeTakeFirst();
    if (!attachment) continue;
    await redactAttachmentFile(tx, storage, accountId, actorId, attachment, entry.ticket_id);
  }
  return scrubCounts(plan);
}

/**
 * The permanent delete's scrub (src/lifecycle/purge-deleted-users.ts): the person's name and
 * identifiers leave every ticket text, suspended ticket and attachment file of the account; the
 * tickets themselves stay. Runs before the identities are removed (it needs them).
 */
export async function scrubPersonMentions(tx: Executor, storage: FileStorage, accountId: number, actorId: number | null, userId: number, purgedName: string): Promise<ScrubCounts | undefined> {
  const person = await loadPerson(tx, accountId, userId);
  if (!person) return undefined;
  const terms = termsFor(person, purgedName);
  if (terms.length === 0) return undefined;
  const plan = await planScrub(tx, storage, accountId, terms, { authoredAttachments: false, userId });
  return applyScrub(tx, storage, accountId, actorId, terms, plan);
}

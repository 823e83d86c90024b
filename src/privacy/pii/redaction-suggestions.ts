import type { Account, TicketCommentRow } from '../../db/tables.ts';
import { errors } from '../../http/errors.ts';
import { authorizeTickets } from '../../policy/policy.ts';
import { BREAK_TAG, segments } from '../../tickets/redact-text.ts';
import { findTicket, selectComments, type TicketViewer } from '../../tickets/tickets.repository.ts';
import type { Executor } from '../../users/users.repository.ts';
import { detectPii, supportedCountry, type PiiContext, type PiiPerson, type PiiSpan } from './detect-pii.ts';

/**
 * Redaction suggestions (issue 7 item 3): the PII detector run over every comment of one ticket,
 * with the ticket's people as context, answered in the shapes the redaction endpoints take:
 * - `suggestions`: spans of the comment's plain_body (UTF-16 offsets) with the text each covers —
 *   the text is what `PUT /api/v2/tickets/{ticket_id}/comments/{id}/redact` takes as `{"text"}`;
 * - `comment_redaction`: the comment's html_body with each finding wrapped in `<redact>` tags —
 *   the body of `PUT /api/v2/comment_redactions/{id}` as it stands.
 * Nothing is stored, logged or audited: reading a ticket is not a change.
 */

export interface Suggestion {
  start: number;
  end: number;
  type: PiiSpan['type'];
  confidence: number;
  text: string;
  user_id?: number;
  identity_type?: string;
}

export interface CommentSuggestions {
  comment_id: number;
  public: boolean;
  suggestions: Suggestion[];
  comment_redaction: { ticket_id: number; html_body: string } | null;
}

export interface TicketSuggestions {
  ticket_id: number;
  default_country: string | null;
  comments: CommentSuggestions[];
}

/** The region of a locale tag (`pt-BR` → BR), if it names a country libphonenumber knows. */
function localeCountry(locale: string | null | undefined): string | undefined {
  const region = locale?.split(/[-_]/)[1];
  return region && region.length === 2 ? supportedCountry(region) : undefined;
}

/** Parses `min_confidence`: a number from 0 to 1 (default 0: every finding). */
export function parseMinConfidence(raw: unknown): number {
  if (raw === undefined || raw === '') return 0;
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  const number = typeof value === 'string' && /^(?:0|1|0?\.\d{1,6}|1\.0{1,6})$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= 0 && number <= 1)) throw errors.badRequest('min_confidence must be a number from 0 to 1');
  return number;
}

/** Parses `default_country` (ISO 3166-1 alpha-2). */
export function parseDefaultCountry(raw: unknown): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  const country = typeof value === 'string' ? supportedCountry(value) : undefined;
  if (!country) throw errors.badRequest('default_country must be a two-letter country code (ISO 3166-1) with a phone numbering plan');
  return country;
}

/** Who is on the ticket (requester, submitter, assignee, CCs and followers, comment authors), with their identities. */
async function ticketPeople(db: Executor, accountId: number, ticket: { requester_id: number; submitter_id: number; assignee_id: number | null }, ticketId: number, comments: TicketCommentRow[]) {
  const collaborators = await db.selectFrom('ticket_collaborators').select('user_id').where('account_id', '=', accountId).where('ticket_id', '=', ticketId).execute();
  const ids = new Set<number>([ticket.requester_id, ticket.submitter_id, ...collaborators.map((c) => c.user_id), ...comments.map((c) => c.author_id)]);
  if (ticket.assignee_id !== null) ids.add(ticket.assignee_id);
  const identities = await db
    .selectFrom('user_identities')
    .select(['user_id', 'type', 'value'])
    .where('account_id', '=', accountId)
    .where('user_id', 'in', [...ids])
    .orderBy('id')
    .execute();
  const requester = await db.selectFrom('users').select(['name', 'locale']).where('account_id', '=', accountId).where('id', '=', ticket.requester_id).executeTakeFirst();
  const people: PiiPerson[] = [...ids].map((userId) => ({
    userId,
    identities: identities.filter((identity) => identity.user_id === userId).map(({ type, value }) => ({ type, value })),
    ...(userId === ticket.requester_id && requester ? { name: requester.name } : {}),
  }));
  return { people, requesterLocale: requester?.locale };
}

const toSuggestion = (text: string, span: PiiSpan): Suggestion => ({
  start: span.start,
  end: span.end,
  type: span.type,
  confidence: span.confidence,
  text: text.slice(span.start, span.end),
  ...(span.userId !== undefined ? { user_id: span.userId } : {}),
  ...(span.identityType !== undefined ? { identity_type: span.identityType } : {}),
});

/**
 * The html_body with every finding of its readable text wrapped in `<redact>…</redact>`. The
 * readable text is what a viewer sees: entities decoded, a line-breaking tag read as a newline.
 * A finding that crosses an inline tag keeps the tag inside the markers, which the
 * comment_redactions endpoint accepts (tags inside a marked region stay).
 */
export function markHtml(html: string, context: PiiContext, minConfidence = 0): string | null {
  const parts = segments(html);
  let readable = '';
  // For each readable UTF-16 unit: the source range of the character it belongs to (null for a break).
  const sources: ({ start: number; end: number } | null)[] = [];
  for (const part of parts) {
    if (part.kind === 'tag') {
      if (BREAK_TAG.test(part.source)) {
        readable += '\n';
        sources.push(null);
      }
      continue;
    }
    for (const char of part.chars) {
      readable += char.char;
      for (let i = 0; i < char.char.length; i++) sources.push({ start: char.start, end: char.end });
    }
  }
  const spans = detectPii(readable, context).filter((span) => span.confidence >= minConfidence);
  const cuts: { start: number; end: number }[] = [];
  for (const span of spans) {
    let start: number | undefined;
    let end: number | undefined;
    for (let i = span.start; i < span.end; i++) {
      const source = sources[i];
      if (!source) continue;
      start ??= source.start;
      end = source.end;
    }
    if (start !== undefined && end !== undefined) cuts.push({ start, end });
  }
  if (cuts.length === 0) return null;
  let marked = '';
  let at = 0;
  for (const cut of cuts) {
    marked += `${html.slice(at, cut.start)}<redact>${html.slice(cut.start, cut.end)}</redact>`;
    at = cut.end;
  }
  return marked + html.slice(at);
}

export interface SuggestionOptions {
  /** Overrides the requester's locale region for national phone numbers. */
  country?: string;
  /** Findings below this confidence are left out. */
  minConfidence: number;
}

export async function redactionSuggestions(db: Executor, account: Account, actor: TicketViewer, ticketId: number, options: SuggestionOptions): Promise<TicketSuggestions> {
  const ticket = await findTicket(db, account.id, ticketId, actor);
  if (!ticket) throw errors.notFound();
  authorizeTickets.viewTicket(actor, ticket.visible);
  const comments = await selectComments(db, account.id, ticket.id, false).orderBy('c.id').execute();
  const { people, requesterLocale } = await ticketPeople(db, account.id, ticket, ticket.id, comments);
  const defaultCountry = options.country ?? localeCountry(requesterLocale) ?? 'US';
  const context: PiiContext = { defaultCountry, people };
  return {
    ticket_id: ticket.id,
    default_country: defaultCountry,
    comments: comments.map((comment) => {
      const html = markHtml(comment.html_body, context, options.minConfidence);
      return {
        comment_id: comment.id,
        public: comment.public,
        suggestions: detectPii(comment.plain_body, context)
          .filter((span) => span.confidence >= options.minConfidence)
          .map((span) => toSuggestion(comment.plain_body, span)),
        comment_redaction: html === null ? null : { ticket_id: ticket.id, html_body: html },
      };
    }),
  };
}

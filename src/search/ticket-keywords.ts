import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { queryError, type FieldTerm, type TextTerm } from './query-parser.ts';
import { column, dateCondition, externalIdColumn, tagsColumn, type CompileContext, type KeywordCompiler } from './keyword-conditions.ts';
import { booleanValue, equalsOrLike, fold, hasCjk, hasWildcard, hasWordCharacter, isNone, matchesWords, nameKey, requireColon, textQuery, type Condition } from './text-match.ts';

/**
 * Zendesk's ticket keywords, over the ticket aliased `t` (src/db/migrations/20261122040000_tickets.ts).
 *
 * Text lives in the comments only (the description is the first comment), so `description:`,
 * `comment:` and free text read `ticket_comments.body` through an expression index
 * (`roster_text_document(body)`, migration 20261122090000_ticket_search.ts): a redaction rewrites
 * the body, the index entry with it, and the redacted words stop matching in the same commit.
 *
 * People (`requester`, `submitter`, `assignee`, `cc`, `follower`, `commenter`) take an id, an
 * email address (any of the user's email identities; `*` wildcards), a name (words, as `name:`
 * on users), `me` (the searcher) and, where the ticket may have nobody, `none`.
 */

/** Zendesk's order of statuses and priorities: `status<solved` is new, open, pending and hold. */
export const STATUS_ORDER = ['new', 'open', 'pending', 'hold', 'solved', 'closed'] as const;
export const PRIORITY_ORDER = ['low', 'normal', 'high', 'urgent'] as const;
const TICKET_TYPES = ['question', 'incident', 'problem', 'task'] as const;

/** Zendesk ticket keywords for features Roster does not have: a 400 that says so, not "unknown keyword". */
export const UNSUPPORTED_TICKET_KEYWORDS: Record<string, string> = {
  brand: 'brands', form: 'ticket forms', ticket_form: 'ticket forms', fieldvalue: 'ticket fields', satisfaction: 'satisfaction ratings',
  custom_status_id: 'custom statuses', sla: 'SLAs', problem: 'problem and incident links', incident: 'problem and incident links',
  assigned: 'assignment dates', sentiment: 'sentiment', language: 'ticket languages', schedule: 'schedules',
};

export const textDocument = (expression: RawBuilder<unknown>) => sql`roster_text_document(${expression})`;

/** A value of an ordered list (`status`, `priority`), compared with `:`, `<`, `>`, `<=`, `>=`. */
function ordered(ref: string, values: readonly string[], label: string, nullable: boolean): KeywordCompiler {
  return (term) => {
    const value = term.value.trim().toLowerCase();
    if (nullable && isNone(term)) {
      requireColon(term);
      return sql<SqlBool>`${column(ref)} IS NULL`;
    }
    const rank = values.indexOf(value);
    if (rank === -1) throw queryError(`${term.keyword} takes ${values.join(', ')}${nullable ? ' or none' : ''} (${label})`, term.position);
    const picked = values.filter((_, index) => {
      switch (term.operator) {
        case ':':
          return index === rank;
        case '<':
          return index < rank;
        case '<=':
          return index <= rank;
        case '>':
          return index > rank;
        case '>=':
          return index >= rank;
      }
    });
    if (picked.length === 0) return sql<SqlBool>`false`;
    return sql<SqlBool>`${column(ref)} IN (${sql.join(picked)})`;
  };
}

/** The ids of the users a people keyword names, as a sub-select. */
function people(term: FieldTerm, context: CompileContext): RawBuilder<unknown> {
  const value = term.value.trim();
  if (!term.quoted && value.toLowerCase() === 'me') {
    if (context.actorId === undefined) throw queryError(`${term.keyword}:me needs a signed-in searcher`, term.position);
    return sql`SELECT ${context.actorId}::bigint`;
  }
  if (/^\d{1,15}$/.test(value)) return sql`SELECT ${Number(value)}::bigint`;
  if (value.includes('@')) {
    return sql`SELECT i.user_id FROM user_identities i WHERE i.account_id = ${context.accountId} AND i.type = 'email' AND ${equalsOrLike(sql<string>`i.value_key`, term)}`;
  }
  if (!hasWordCharacter(value)) throw queryError(`${term.keyword} takes a user id, an email address, a name, me or none`, term.position);
  return sql`SELECT p.id FROM users p WHERE p.account_id = ${context.accountId} AND ${matchesWords(nameKey(sql.ref('p.name')), term)}`;
}

function person(ref: string, nullable: boolean): KeywordCompiler {
  return (term, context) => {
    requireColon(term);
    if (isNone(term)) return nullable ? sql<SqlBool>`${column(ref)} IS NULL` : sql<SqlBool>`false`;
    return sql<SqlBool>`${column(ref)} IN (${people(term, context)})`;
  };
}

function collaborator(kind: 'email_cc' | 'follower'): KeywordCompiler {
  return (term, context) => {
    requireColon(term);
    const any = sql<SqlBool>`EXISTS (SELECT 1 FROM ticket_collaborators tc WHERE tc.account_id = t.account_id AND tc.ticket_id = t.id AND tc.kind = ${kind})`;
    if (isNone(term)) return sql<SqlBool>`NOT ${any}`;
    return sql<SqlBool>`EXISTS (SELECT 1 FROM ticket_collaborators tc WHERE tc.account_id = t.account_id AND tc.ticket_id = t.id AND tc.kind = ${kind} AND tc.user_id IN (${people(term, context)}))`;
  };
}

/** `group` and `organization`: an id, the words of a name, or none. */
function namedRecord(ref: string, table: 'groups' | 'organizations'): KeywordCompiler {
  return (term, context) => {
    requireColon(term);
    if (isNone(term)) return sql<SqlBool>`${column(ref)} IS NULL`;
    const value = term.value.trim();
    if (!hasWordCharacter(value)) throw queryError(`${term.keyword} takes an id, a name or none`, term.position);
    const byName = matchesWords(nameKey(sql.ref('r.name')), term);
    const match = /^\d{1,15}$/.test(value) ? sql<SqlBool>`(r.id = ${Number(value)} OR ${byName})` : byName;
    return sql<SqlBool>`${column(ref)} IN (SELECT r.id FROM ${sql.table(table)} r WHERE r.account_id = ${context.accountId} AND ${match})`;
  };
}

/** Words of the comment aliased `c`: the index narrows, the pattern checks the words are in this order. */
function commentWords(term: Pick<FieldTerm, 'value' | 'quoted' | 'position'>): Condition {
  const words = matchesWords(fold(sql.ref('c.body')), term);
  if (hasWildcard(term) || hasCjk(term.value)) return words;
  return sql<SqlBool>`(${textDocument(sql.ref('c.body'))} @@ ${textQuery(term)} AND ${words})`;
}

/** `comment:` any comment of the ticket; `description:` its first comment only. */
function commentText(firstOnly: boolean): KeywordCompiler {
  return (term, context) => {
    requireColon(term);
    if (!hasWordCharacter(term.value)) throw queryError(`${term.keyword} needs letters or digits to search for`, term.position);
    const first = firstOnly
      ? sql`AND c.id = (SELECT min(c1.id) FROM ticket_comments c1 WHERE c1.account_id = c.account_id AND c1.ticket_id = c.ticket_id)`
      : sql``;
    return sql<SqlBool>`t.id IN (SELECT c.ticket_id FROM ticket_comments c WHERE c.account_id = ${context.accountId} AND ${commentWords(term)} ${first})`;
  };
}

function subject(): KeywordCompiler {
  return (term) => {
    requireColon(term);
    if (isNone(term)) return sql<SqlBool>`t.subject = ''`;
    if (!hasWordCharacter(term.value)) throw queryError(`${term.keyword} needs letters or digits to search for`, term.position);
    const words = matchesWords(fold(sql.ref('t.subject')), term);
    if (hasWildcard(term) || hasCjk(term.value)) return words;
    return sql<SqlBool>`(${textDocument(sql.ref('t.subject'))} @@ ${textQuery(term)} AND ${words})`;
  };
}

/** A date the ticket may not have (solved, due): `none` for none. */
function optionalDate(ref: string): KeywordCompiler {
  const compare = dateCondition(ref);
  return (term, context) => {
    if (!isNone(term)) return compare(term, context);
    requireColon(term);
    return sql<SqlBool>`${column(ref)} IS NULL`;
  };
}

function simpleValue(ref: string, pattern: RegExp, hint: string): KeywordCompiler {
  return (term) => {
    requireColon(term);
    if (isNone(term)) return sql<SqlBool>`${column(ref)} IS NULL`;
    const value = term.value.trim().toLowerCase();
    if (!pattern.test(value)) throw queryError(`${term.keyword} takes ${hint}`, term.position);
    return sql<SqlBool>`lower(${column(ref)}) = ${value}`;
  };
}

export const TICKET_KEYWORDS: Record<string, KeywordCompiler> = {
  status: ordered('t.status', STATUS_ORDER, 'in the order new < open < pending < hold < solved < closed', false),
  priority: ordered('t.priority', PRIORITY_ORDER, 'in the order low < normal < high < urgent', true),
  ticket_type: (term) => {
    requireColon(term);
    if (isNone(term)) return sql<SqlBool>`t.type IS NULL`;
    const value = term.value.trim().toLowerCase();
    if (!(TICKET_TYPES as readonly string[]).includes(value)) throw queryError(`ticket_type takes ${TICKET_TYPES.join(', ')} or none`, term.position);
    return sql<SqlBool>`t.type = ${value}`;
  },
  requester: person('t.requester_id', false),
  submitter: person('t.submitter_id', false),
  assignee: person('t.assignee_id', true),
  cc: collaborator('email_cc'),
  follower: collaborator('follower'),
  commenter: (term, context) => {
    requireColon(term);
    if (isNone(term)) throw queryError('commenter takes a user id, an email address, a name or me', term.position);
    return sql<SqlBool>`t.id IN (SELECT c.ticket_id FROM ticket_comments c WHERE c.account_id = ${context.accountId} AND c.author_id IN (${people(term, context)}))`;
  },
  group: namedRecord('t.group_id', 'groups'),
  organization: namedRecord('t.organization_id', 'organizations'),
  tags: tagsColumn('t.tags'),
  tag: tagsColumn('t.tags'),
  via: simpleValue('t.via_channel', /^[a-z_]{1,40}$/, 'a channel such as api, web or email'),
  recipient: (term) => {
    requireColon(term);
    if (isNone(term)) return sql<SqlBool>`t.recipient IS NULL`;
    return equalsOrLike(sql<string>`lower(t.recipient)`, term);
  },
  subject: subject(),
  description: commentText(true),
  comment: commentText(false),
  external_id: externalIdColumn('t.external_id'),
  created: dateCondition('t.created_at'),
  created_at: dateCondition('t.created_at'),
  updated: dateCondition('t.updated_at'),
  updated_at: dateCondition('t.updated_at'),
  solved: optionalDate('t.solved_at'),
  solved_at: optionalDate('t.solved_at'),
  due_date: optionalDate('t.due_at'),
  due: optionalDate('t.due_at'),
  has_attachment: (term) => {
    const any = sql<SqlBool>`EXISTS (SELECT 1 FROM ticket_attachments a WHERE a.account_id = t.account_id AND a.ticket_id = t.id AND a.comment_id IS NOT NULL)`;
    return booleanValue(term) ? any : sql<SqlBool>`NOT ${any}`;
  },
};

/**
 * Free text over tickets: the subject, every comment (public or internal: agents search both, as
 * in Zendesk), and the external id. Comment matches are collected as an array of ticket ids so the
 * branches OR as bitmaps on tickets (as users' identities do, src/search/compile-query.ts).
 */
export function ticketText(term: TextTerm, context: CompileContext): Condition {
  const branches: Condition[] = [];
  if (hasCjk(term.value)) {
    // No word boundaries in CJK text: substrings of the folded subject and bodies.
    branches.push(matchesWords(fold(sql.ref('t.subject')), term));
    branches.push(sql<SqlBool>`t.id = ANY (ARRAY(SELECT c.ticket_id FROM ticket_comments c WHERE c.account_id = ${context.accountId} AND ${matchesWords(fold(sql.ref('c.body')), term)}))`);
  } else {
    const query = textQuery(term);
    branches.push(sql<SqlBool>`${textDocument(sql.ref('t.subject'))} @@ (${query})`);
    branches.push(sql<SqlBool>`t.id = ANY (ARRAY(SELECT c.ticket_id FROM ticket_comments c WHERE c.account_id = ${context.accountId} AND ${textDocument(sql.ref('c.body'))} @@ (${query})))`);
  }
  if (!hasWildcard(term)) branches.push(sql<SqlBool>`lower(t.external_id) = ${term.value.trim().toLowerCase()}`);
  return sql<SqlBool>`(${sql.join(branches, sql` OR `)})`;
}

import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { CustomFieldType } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import { phoneKey } from '../identities/identity-values.ts';
import { dateRange } from './dates.ts';
import { TICKET_KEYWORDS, ticketText, UNSUPPORTED_TICKET_KEYWORDS } from './ticket-keywords.ts';
import { column, dateCondition, externalIdColumn, nameColumn, tagsColumn, textColumn, type CompileContext, type KeywordCompiler } from './keyword-conditions.ts';
import { queryError, type FieldTerm, type ParsedQuery, type Term, type TextTerm } from './query-parser.ts';
import {
  booleanValue,
  equalsOrLike,
  escapeLike,
  fold,
  hasCjk,
  hasWildcard,
  hasWordCharacter,
  isNone,
  matchesWords,
  nameKey,
  negate,
  requireColon,
  textQuery,
  type Condition,
} from './text-match.ts';

/**
 * Parsed query → one SQL condition per result type. Each result type has its own keyword table
 * (users and organizations below, tickets in src/search/ticket-keywords.ts); a
 * type takes part in a mixed search only when it knows every keyword of the query, so `role:agent`
 * finds users only and `type:organization role:agent` is a 400 naming `role`.
 *
 * Conditions are written against the aliases the runner uses: `u` for users, `o` for organizations,
 * `t` for tickets.
 * Every sub-query carries the account id (tenant isolation).
 */

export const SEARCH_TYPES = ['user', 'organization', 'ticket'] as const;
export type SearchType = (typeof SEARCH_TYPES)[number];

export type SortField = 'created_at' | 'updated_at' | 'name' | TicketSortField;
/** Orders only tickets have (Zendesk's ticket sort_by values): a search of tickets alone. */
export type TicketSortField = 'status' | 'priority' | 'ticket_type';
export type SortDirection = 'asc' | 'desc';

export type { CompileContext } from './keyword-conditions.ts';

export interface SearchPlan {
  types: SearchType[];
  where: Partial<Record<SearchType, Condition>>;
  order: { field: SortField; direction: SortDirection };
  /**
   * The matches come from a text index (names, free text, wildcards…): read them from it and sort,
   * rather than walk the created_at index hoping to meet a page's worth. PostgreSQL cannot estimate
   * how many rows a regex or a full-text query matches, and walking an index for a rare name
   * costs a full scan; a broad one costs its count anyway (see run-search.ts).
   */
  sortMatches: boolean;
  /**
   * When more than EXACT_COUNT_LIMIT match (src/search/run-search.ts), the page may walk the
   * created_at index filtering row by row: true when every term is cheap to test on a row (tags,
   * names, ids, dates…). Free text and the text fields (details, notes, subject, comments) would
   * tokenize a document per walked row — those read and sort their matches, counted exactly.
   */
  walkWhenBroad: boolean;
}

/** Keywords whose matches the created_at/updated_at indexes serve well in order (ranges, flags, the no-organization index). */
const ORDERED_INDEX_KEYWORDS = new Set(['created', 'created_at', 'updated', 'updated_at', 'role', 'is_suspended', 'suspended', 'organization']);


const TYPE_ALIASES: Record<string, SearchType | 'group'> = {
  user: 'user', users: 'user', organization: 'organization', organizations: 'organization', org: 'organization',
  ticket: 'ticket', tickets: 'ticket', group: 'group', groups: 'group',
};

const SORT_FIELDS: Record<string, SortField> = {
  created: 'created_at', created_at: 'created_at', updated: 'updated_at', updated_at: 'updated_at', name: 'name',
  status: 'status', priority: 'priority', ticket_type: 'ticket_type',
};
const TICKET_SORT_FIELDS = new Set<SortField>(['priority', 'status', 'ticket_type']);
const CONTROL_KEYWORDS = new Set(['type', 'order_by', 'sort']);
/** Keywords whose test of a row tokenizes a text (see SearchPlan.walkWhenBroad). */
const DOCUMENT_KEYWORDS = new Set(['details', 'notes', 'subject', 'description', 'comment']);

/** A custom field value in a jsonb column, by the field's type. */
function customField(jsonRef: string, key: string, type: CustomFieldType, term: FieldTerm, context: CompileContext): Condition {
  const json = sql`${column(jsonRef)} -> ${key}`;
  const text = sql<string>`(${column(jsonRef)} ->> ${key})`;
  if (isNone(term)) {
    requireColon(term);
    return sql<SqlBool>`coalesce(${json}, 'null'::jsonb) = 'null'::jsonb`;
  }
  switch (type) {
    case 'checkbox': {
      const value = booleanValue(term);
      return value ? sql<SqlBool>`${json} = 'true'::jsonb` : sql<SqlBool>`coalesce(${json}, 'false'::jsonb) <> 'true'::jsonb`;
    }
    case 'integer':
    case 'decimal': {
      const value = term.value.trim();
      if (!/^[+-]?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})$/.test(value)) throw queryError(`${term.keyword} takes a number`, term.position);
      const operator = term.operator === ':' ? '=' : term.operator;
      // CASE, not AND: PostgreSQL may evaluate either side of an AND first, and a cast of a non-number fails.
      return sql<SqlBool>`(CASE WHEN jsonb_typeof(${json}) = 'number' THEN (${text})::numeric END) ${sql.raw(operator)} ${value}::numeric`;
    }
    case 'date': {
      // Stored as YYYY-MM-DD: the day's UTC midnight, compared like created and updated.
      const range = dateRange(term, context.now);
      const day = sql`(CASE WHEN jsonb_typeof(${json}) = 'string' AND ${text} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN (${text})::date::timestamp AT TIME ZONE 'UTC' END)`;
      const parts: Condition[] = [];
      if (range.gte) parts.push(sql<SqlBool>`${day} >= ${range.gte}`);
      if (range.gt) parts.push(sql<SqlBool>`${day} > ${range.gt}`);
      if (range.lt) parts.push(sql<SqlBool>`${day} < ${range.lt}`);
      if (range.lte) parts.push(sql<SqlBool>`${day} <= ${range.lte}`);
      return sql<SqlBool>`(${sql.join(parts, sql` AND `)})`;
    }
    case 'dropdown':
      requireColon(term);
      return equalsOrLike(sql<string>`lower(${text})`, term);
    case 'text':
    case 'textarea':
    case 'regexp':
      requireColon(term);
      if (!hasWordCharacter(term.value)) throw queryError(`${term.keyword} needs letters or digits to search for`, term.position);
      return matchesWords(fold(text), term);
  }
}

/** `plan` or `user_fields.plan` (`organization_fields.…` for organizations) when `plan` is an active field. */
function customFieldKey(keyword: string, prefix: string, fields: ReadonlyMap<string, CustomFieldType>): string | undefined {
  const key = keyword.startsWith(`${prefix}.`) ? keyword.slice(prefix.length + 1) : keyword;
  return fields.has(key) ? key : undefined;
}

// ---------------------------------------------------------------------------------------------
// Users

const userDocument = (alias: string) => sql`roster_search_document(${column(`${alias}.name`)}, ${column(`${alias}.details`)}, ${column(`${alias}.notes`)}, ${column(`${alias}.external_id`)})`;

/** Users holding an identity of `types` whose key satisfies `condition` (any identity, not only the primary). */
function userHasIdentity(context: CompileContext, types: string[], condition: (key: RawBuilder<string>) => Condition): Condition {
  return sql<SqlBool>`u.id IN (SELECT i.user_id FROM user_identities i WHERE i.account_id = ${context.accountId} AND i.type IN (${sql.join(types)}) AND ${condition(sql<string>`i.value_key`)})`;
}

const ROLE_VALUES: Record<string, string> = {
  'end-user': 'end-user', enduser: 'end-user', end_user: 'end-user', 'end user': 'end-user', user: 'end-user', requester: 'end-user',
  agent: 'agent', admin: 'admin', administrator: 'admin',
};

/** Organizations matched by a value: its id (digits) or its name's words. */
function organizationMatch(term: FieldTerm): Condition {
  const byName = matchesWords(nameKey(sql.ref('o.name')), term);
  const value = term.value.trim();
  return /^\d{1,15}$/.test(value) ? sql<SqlBool>`(o.id = ${Number(value)} OR ${byName})` : byName;
}

const USER_KEYWORDS: Record<string, KeywordCompiler> = {
  name: nameColumn('u.name'),
  email: (term, context) => {
    requireColon(term);
    if (isNone(term)) return negate(userHasIdentity(context, ['email'], () => sql<SqlBool>`true`));
    return userHasIdentity(context, ['email'], (key) => equalsOrLike(key, term));
  },
  phone: (term, context) => {
    requireColon(term);
    if (isNone(term)) return negate(userHasIdentity(context, ['phone_number'], () => sql<SqlBool>`true`));
    if (hasWildcard(term)) {
      // Keys are `+` and digits: compare digits, whatever the caller typed around them.
      const like = term.value.split('*').map((part) => part.replace(/\D/g, '')).join('%');
      return userHasIdentity(context, ['phone_number'], (key) => sql<SqlBool>`${key} LIKE ${`%${like.replace(/^%/, '')}`}`);
    }
    const key = phoneKey(term.value.trim());
    if (!key) throw queryError('phone takes a phone number (+15551234567), or * wildcards', term.position);
    return userHasIdentity(context, ['phone_number'], (column) => sql<SqlBool>`${column} = ${key}`);
  },
  role: (term) => {
    requireColon(term);
    const role = ROLE_VALUES[term.value.trim().toLowerCase()];
    if (!role) throw queryError('role takes end-user, agent or admin', term.position);
    return sql<SqlBool>`u.role = ${role}`;
  },
  organization: (term, context) => {
    requireColon(term);
    // The default organization is set exactly when the user has a membership (src/organizations).
    if (isNone(term)) return sql<SqlBool>`u.organization_id IS NULL`;
    return sql<SqlBool>`u.id IN (SELECT m.user_id FROM organization_memberships m JOIN organizations o ON o.account_id = m.account_id AND o.id = m.organization_id WHERE m.account_id = ${context.accountId} AND ${organizationMatch(term)})`;
  },
  group: (term, context) => {
    requireColon(term);
    if (isNone(term)) return sql<SqlBool>`NOT EXISTS (SELECT 1 FROM group_memberships gm WHERE gm.account_id = u.account_id AND gm.user_id = u.id)`;
    const byName = matchesWords(nameKey(sql.ref('g.name')), term);
    const value = term.value.trim();
    const match = /^\d{1,15}$/.test(value) ? sql<SqlBool>`(g.id = ${Number(value)} OR ${byName})` : byName;
    return sql<SqlBool>`u.id IN (SELECT gm.user_id FROM group_memberships gm JOIN groups g ON g.account_id = gm.account_id AND g.id = gm.group_id WHERE gm.account_id = ${context.accountId} AND g.deleted_at IS NULL AND ${match})`;
  },
  tags: tagsColumn('u.tags'),
  tag: tagsColumn('u.tags'),
  external_id: externalIdColumn('u.external_id'),
  details: textColumn('u.details', userDocument, 'u'),
  notes: textColumn('u.notes', userDocument, 'u'),
  created: dateCondition('u.created_at'),
  created_at: dateCondition('u.created_at'),
  updated: dateCondition('u.updated_at'),
  updated_at: dateCondition('u.updated_at'),
  is_suspended: (term) => sql<SqlBool>`u.suspended = ${booleanValue(term)}`,
  suspended: (term) => sql<SqlBool>`u.suspended = ${booleanValue(term)}`,
  is_verified: (term, context) => {
    const verified = userHasIdentity(context, ['email', 'phone_number', 'twitter', 'facebook', 'google'], () => sql<SqlBool>`i.verified`);
    return booleanValue(term) ? verified : negate(verified);
  },
};

/**
 * Free text over users: the full-text document, any email identity, a phone number, and for CJK a
 * name substring. Written as OR of conditions on the user row itself, the identity matches as
 * `u.id = ANY(ARRAY(…))`: every branch is then an index condition of users and PostgreSQL ORs
 * the bitmaps, where `u.id IN (… UNION …)` made it hash-join the whole users table.
 */
function userText(term: TextTerm, context: CompileContext): Condition {
  const branches: Condition[] = [sql<SqlBool>`${userDocument('u')} @@ (${textQuery(term)})`];
  const value = term.value.trim().toLowerCase();
  const identities: Condition[] = [];
  // Emails: the whole address, or a word of it (ann finds ann.lee@acme.com and bo@ann.org), from three letters on (trigram index).
  if (!hasCjk(value) && [...value.replace(/\*/g, '')].length >= 3 && !/\s/.test(value)) {
    const pattern = hasWildcard(term)
      ? `(^|[^[:alnum:]])${value.split('*').map((part) => part.replace(/[\\.^$*+?()[\]{}|-]/g, (char) => `\\${char}`)).join('[^[:space:]]*')}`
      : `(^|[^[:alnum:]])${value.replace(/[\\.^$*+?()[\]{}|-]/g, (char) => `\\${char}`)}($|[^[:alnum:]])`;
    identities.push(sql<SqlBool>`(i.type = 'email' AND i.value_key ~ ${pattern})`);
  }
  const phone = /^\+?[\d\s().-]{6,}$/.test(value) ? phoneKey(value) : undefined;
  if (phone) identities.push(sql<SqlBool>`(i.type = 'phone_number' AND i.value_key = ${phone})`);
  if (identities.length > 0) {
    branches.push(sql<SqlBool>`u.id = ANY (ARRAY(SELECT i.user_id FROM user_identities i WHERE i.account_id = ${context.accountId} AND (${sql.join(identities, sql` OR `)})))`);
  }
  if (hasCjk(value)) branches.push(matchesWords(nameKey(sql.ref('u.name')), term));
  return sql<SqlBool>`(${sql.join(branches, sql` OR `)})`;
}

// ---------------------------------------------------------------------------------------------
// Organizations

const organizationDocument = (alias: string) => sql`roster_search_document(${column(`${alias}.name`)}, ${column(`${alias}.details`)}, ${column(`${alias}.notes`)}, ${column(`${alias}.external_id`)})`;

const ORGANIZATION_KEYWORDS: Record<string, KeywordCompiler> = {
  name: nameColumn('o.name'),
  details: textColumn('o.details', organizationDocument, 'o'),
  notes: textColumn('o.notes', organizationDocument, 'o'),
  tags: tagsColumn('o.tags'),
  tag: tagsColumn('o.tags'),
  external_id: externalIdColumn('o.external_id'),
  created: dateCondition('o.created_at'),
  created_at: dateCondition('o.created_at'),
  updated: dateCondition('o.updated_at'),
  updated_at: dateCondition('o.updated_at'),
};

function organizationText(term: TextTerm): Condition {
  const document = sql<SqlBool>`${organizationDocument('o')} @@ (${textQuery(term)})`;
  if (!hasCjk(term.value)) return document;
  return sql<SqlBool>`(${document} OR ${matchesWords(nameKey(sql.ref('o.name')), term)})`;
}

// ---------------------------------------------------------------------------------------------
// Per-type dispatch

interface TypeSpec {
  label: string;
  keyword(keyword: string, context: CompileContext): KeywordCompiler | undefined;
  text(term: TextTerm, context: CompileContext): Condition;
}

const TYPES: Record<SearchType, TypeSpec> = {
  user: {
    label: 'users',
    keyword: (keyword, context) => {
      const builtin = USER_KEYWORDS[keyword];
      if (builtin) return builtin;
      const key = customFieldKey(keyword, 'user_fields', context.userFields);
      const type = key === undefined ? undefined : context.userFields.get(key);
      if (key === undefined || type === undefined) return undefined;
      return (term, ctx) => customField('u.user_fields', key, type, term, ctx);
    },
    text: userText,
  },
  organization: {
    label: 'organizations',
    keyword: (keyword, context) => {
      const builtin = ORGANIZATION_KEYWORDS[keyword];
      if (builtin) return builtin;
      const key = customFieldKey(keyword, 'organization_fields', context.organizationFields);
      const type = key === undefined ? undefined : context.organizationFields.get(key);
      if (key === undefined || type === undefined) return undefined;
      return (term, ctx) => customField('o.organization_fields', key, type, term, ctx);
    },
    text: (term) => organizationText(term),
  },
  ticket: {
    label: 'tickets',
    keyword: (keyword) => TICKET_KEYWORDS[keyword],
    text: ticketText,
  },
};

/** Keywords that are neither built in nor control words: the caller loads custom fields only when there are any. */
export function needsCustomFields(parsed: ParsedQuery): boolean {
  return parsed.terms.some(
    (term) => term.kind === 'field' && !CONTROL_KEYWORDS.has(term.keyword) && !(term.keyword in USER_KEYWORDS) && !(term.keyword in ORGANIZATION_KEYWORDS) && !(term.keyword in TICKET_KEYWORDS),
  );
}

export interface PlanOptions {
  /** The endpoint searches one type (users/search, export's filter[type]): `type:` in the query is refused. */
  only?: SearchType;
  sortBy?: string | undefined;
  sortOrder?: string | undefined;
}

function readTypes(terms: FieldTerm[]): SearchType[] | undefined {
  if (terms.length === 0) return undefined;
  const included = new Set<SearchType>();
  const excluded = new Set<SearchType>();
  for (const term of terms) {
    requireColon(term);
    const type = TYPE_ALIASES[term.value.trim().toLowerCase()];
    if (type === undefined) throw queryError('type takes user, organization or ticket', term.position);
    if (type === 'group') {
      if (term.negated) continue;
      throw queryError('type takes user, organization or ticket; groups are listed at /api/v2/groups', term.position);
    }
    (term.negated ? excluded : included).add(type);
  }
  const base = included.size > 0 ? [...included] : [...SEARCH_TYPES];
  return base.filter((type) => !excluded.has(type));
}

function readOrder(terms: FieldTerm[], options: PlanOptions): SearchPlan['order'] {
  let field: SortField = 'created_at';
  let direction: SortDirection = 'desc';
  const setField = (raw: string, position?: number): void => {
    const value = raw.trim().toLowerCase();
    const mapped = SORT_FIELDS[value];
    if (!mapped) throw queryError('order_by takes created, updated or name (and for tickets status, priority or ticket_type)', position);
    field = mapped;
  };
  const setDirection = (raw: string, position?: number): void => {
    const value = raw.trim().toLowerCase();
    if (value !== 'asc' && value !== 'desc') throw queryError('sort takes asc or desc', position);
    direction = value;
  };
  if (options.sortBy !== undefined && options.sortBy !== '') setField(options.sortBy);
  if (options.sortOrder !== undefined && options.sortOrder !== '') setDirection(options.sortOrder);
  for (const term of terms) {
    requireColon(term);
    if (term.negated) throw queryError(`${term.keyword} cannot be negated`, term.position);
    if (term.keyword === 'order_by') setField(term.value, term.position);
    else setDirection(term.value, term.position);
  }
  return { field, direction };
}

/**
 * Decides which types the query searches and compiles each one's condition, or throws a 400
 * that names the first term no type can answer.
 */
export function planSearch(parsed: ParsedQuery, context: CompileContext, options: PlanOptions = {}): SearchPlan {
  const fieldTerms = parsed.terms.filter((term): term is FieldTerm => term.kind === 'field');
  const typeTerms = fieldTerms.filter((term) => term.keyword === 'type');
  const orderTerms = fieldTerms.filter((term) => term.keyword === 'order_by' || term.keyword === 'sort');
  const terms: Term[] = parsed.terms.filter((term) => term.kind === 'text' || !CONTROL_KEYWORDS.has(term.keyword));
  if (options.only && typeTerms[0]) {
    throw queryError(`this endpoint searches ${TYPES[options.only].label} only; leave type: out of the query`, typeTerms[0].position);
  }
  const order = readOrder(orderTerms, options);
  const explicit = readTypes(typeTerms);
  const requested = options.only ? [options.only] : (explicit ?? [...SEARCH_TYPES]);
  if (requested.length === 0) throw queryError('the type: terms exclude every result type', typeTerms[0]?.position);
  if (terms.length === 0 && explicit === undefined && !options.only) {
    throw errors.badRequest('Invalid search query: give something to search for (a word, or a keyword such as type:user)');
  }

  // Which requested types know every keyword of the query.
  const known = (type: SearchType, term: FieldTerm): boolean => TYPES[type].keyword(term.keyword, context) !== undefined;
  for (const term of terms) {
    if (term.kind !== 'field') continue;
    if (SEARCH_TYPES.some((type) => known(type, term))) continue;
    const missing = UNSUPPORTED_TICKET_KEYWORDS[term.keyword];
    if (missing !== undefined) throw queryError(`${term.keyword} is a Zendesk ticket keyword for ${missing}, which Roster does not have`, term.position);
    throw queryError(`unknown keyword ${term.keyword}`, term.position);
  }
  const types = requested.filter((type) => terms.every((term) => term.kind === 'text' || known(type, term)));
  if (types.length === 0) {
    // Every keyword exists somewhere, but not for the types asked for.
    const type = requested[0] ?? 'user';
    const offending = terms.find((term): term is FieldTerm => term.kind === 'field' && !known(type, term));
    throw queryError(`${offending?.keyword ?? 'this keyword'} does not apply to ${TYPES[type].label}`, offending?.position);
  }
  if (explicit !== undefined && types.length < requested.length) {
    const missing = requested.find((type) => !types.includes(type)) ?? 'user';
    const offending = terms.find((term): term is FieldTerm => term.kind === 'field' && !known(missing, term));
    throw queryError(`${offending?.keyword ?? 'this keyword'} does not apply to ${TYPES[missing].label}`, offending?.position);
  }

  const where: SearchPlan['where'] = {};
  for (const type of types) {
    const conditions = terms.map((term) => {
      let condition: Condition;
      if (term.kind === 'text') {
        if (!hasWordCharacter(term.value)) throw queryError('nothing to search for: a term needs letters or digits', term.position);
        condition = TYPES[type].text(term, context);
      } else {
        const compile = TYPES[type].keyword(term.keyword, context);
        if (!compile) throw queryError(`unknown keyword ${term.keyword}`, term.position);
        condition = compile(term, context);
      }
      return term.negated ? negate(condition) : condition;
    });
    where[type] = conditions.length === 0 ? sql<SqlBool>`true` : sql<SqlBool>`(${sql.join(conditions, sql` AND `)})`;
  }
  if (TICKET_SORT_FIELDS.has(order.field) && types.some((type) => type !== 'ticket')) {
    throw queryError(`order_by:${order.field} sorts tickets only; add type:ticket`, orderTerms.find((term) => term.keyword === 'order_by')?.position);
  }
  const sortMatches = terms.some(
    (term) => !term.negated && (term.kind === 'text' || !ORDERED_INDEX_KEYWORDS.has(term.keyword) || (term.keyword === 'organization' && !isNone(term))),
  );
  const walkWhenBroad = terms.every((term) => term.kind === 'field' && !DOCUMENT_KEYWORDS.has(term.keyword));
  return { types, where, order, sortMatches, walkWhenBroad };
}

import { CompiledQuery, sql, type Compilable, type SelectQueryBuilder } from 'kysely';
import type { CustomFieldType, DB } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import type { SearchVisibility } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { needsCustomFields, planSearch, type CompileContext, type PlanOptions, type SearchPlan, type SearchType } from './compile-query.ts';
import { parseQuery } from './query-parser.ts';
import { ticketVisibility } from '../tickets/ticket-access.ts';
import { PRIORITY_ORDER, STATUS_ORDER } from './ticket-keywords.ts';

/**
 * Runs a search: parse → plan (src/search/compile-query.ts) → one SQL statement per type for
 * the page's ids and one for the count. Results are read from the tables themselves, so a write
 * is found as soon as it commits. The runner adds what every search has: the account, live
 * users only (deleted users are not searchable), live tickets only (not soft-deleted), and what
 * the caller may see (for tickets, the same ticket-access filter every ticket list uses).
 */

export interface SearchHit {
  type: SearchType;
  id: number;
  created_at: Date;
  updated_at: Date;
  /** A user's or organization's name; a ticket's subject. */
  name: string;
  /** created_at in microseconds since the epoch: the export cursor, exact where a Date is not. */
  created_us: number;
  /** The folded name, the key of `order_by:name`. */
  sort_name: string;
}

export async function compileSearch(db: Executor, accountId: number, query: string, options: PlanOptions & { now?: Date; actorId?: number }): Promise<SearchPlan> {
  const parsed = parseQuery(query);
  const context: CompileContext = {
    accountId,
    actorId: options.actorId,
    now: options.now ?? new Date(),
    userFields: new Map(),
    organizationFields: new Map(),
  };
  if (needsCustomFields(parsed)) {
    const fields = await db
      .selectFrom('custom_fields')
      .select(['owner', 'key', 'type'])
      .where('account_id', '=', accountId)
      .where('active', '=', true)
      .execute();
    const byOwner = (owner: string) => new Map<string, CustomFieldType>(fields.filter((field) => field.owner === owner).map((field) => [field.key, field.type]));
    context.userFields = byOwner('user');
    context.organizationFields = byOwner('organization');
  }
  return planSearch(parsed, context, options);
}

type HitQuery = SelectQueryBuilder<DB, never, SearchHitRow>;
interface SearchHitRow {
  id: number;
  created_at: Date;
  updated_at: Date;
  name: string;
  created_us: number;
  sort_name: string;
}

/** The filtered rows of one type, or undefined when the caller may not see that type at all. */
function typeQuery(db: Executor, accountId: number, plan: SearchPlan, type: SearchType, visibility: SearchVisibility): HitQuery | undefined {
  const where = plan.where[type];
  if (!where) return undefined;
  if (type === 'user') {
    let query = db
      .selectFrom('users as u')
      .select(['u.id', 'u.created_at', 'u.updated_at', 'u.name', sql<number>`(extract(epoch FROM u.created_at) * 1000000)::bigint`.as('created_us'), sql<string>`roster_fold(u.name)`.as('sort_name')])
      .where('u.account_id', '=', accountId)
      .where('u.active', '=', true)
      .where(where);
    if (!visibility.endUsers) query = query.where('u.role', '<>', 'end-user');
    return query as unknown as HitQuery;
  }
  if (type === 'ticket') {
    return db
      .selectFrom('tickets as t')
      .select(['t.id', 't.created_at', 't.updated_at', 't.subject as name', sql<number>`(extract(epoch FROM t.created_at) * 1000000)::bigint`.as('created_us'), sql<string>`roster_fold(t.subject)`.as('sort_name')])
      .where('t.account_id', '=', accountId)
      .where('t.deleted_at', 'is', null)
      .where(ticketVisibility(visibility.tickets, visibility.actorId))
      .where(where) as unknown as HitQuery;
  }
  if (!visibility.organizations) return undefined;
  return db
    .selectFrom('organizations as o')
    .select(['o.id', 'o.created_at', 'o.updated_at', 'o.name', sql<number>`(extract(epoch FROM o.created_at) * 1000000)::bigint`.as('created_us'), sql<string>`roster_fold(o.name)`.as('sort_name')])
    .where('o.account_id', '=', accountId)
    .where(where) as unknown as HitQuery;
}

const ALIASES: Record<SearchType, string> = { user: 'u', organization: 'o', ticket: 't' };
const alias = (type: SearchType): string => ALIASES[type];

/** Zendesk's ticket orders: statuses and priorities by rank (no priority first), types by name. */
function ticketOrderKey(field: 'status' | 'priority' | 'ticket_type') {
  if (field === 'status') return sql`array_position(ARRAY[${sql.join([...STATUS_ORDER])}]::text[], t.status)`;
  if (field === 'priority') return sql`coalesce(array_position(ARRAY[${sql.join([...PRIORITY_ORDER])}]::text[], t.priority), 0)`;
  return sql`coalesce(t.type, '')`;
}

/**
 * `sortMatches` (default: the plan's): read every match and sort it; otherwise walk the order's
 * index and stop at the page — the right choice once the matches are known to be many.
 */
function ordered(query: HitQuery, type: SearchType, plan: SearchPlan, sortMatches = plan.sortMatches): HitQuery {
  const a = alias(type);
  const { order } = plan;
  if (order.field === 'status' || order.field === 'priority' || order.field === 'ticket_type') {
    // planSearch allows these for a search of tickets alone.
    return query.orderBy(ticketOrderKey(order.field), order.direction).orderBy(sql.ref('t.created_at'), order.direction).orderBy(sql.ref('t.id'), order.direction);
  }
  const column = sql.ref(`${a}.${order.field === 'name' ? (type === 'ticket' ? 'subject' : 'name') : order.field}`);
  // `+ interval '0'` orders the same but matches no index: see SearchPlan.sortMatches.
  // By name: the folded name in byte order ("C"), which compareHits below reproduces exactly when
  // it merges the types of a mixed search.
  const key = order.field === 'name' ? sql`roster_fold(${column}) COLLATE "C"` : sortMatches ? sql`(${column} + interval '0 seconds')` : column;
  return query.orderBy(key, order.direction).orderBy(sql.ref(`${a}.id`), order.direction);
}

/** UTF-8 byte order (PostgreSQL's "C" collation) is code point order; JavaScript's `<` compares UTF-16 units. */
function compareCodePoints(left: string, right: string): number {
  const a = [...left];
  const b = [...right];
  for (let index = 0; index < Math.min(a.length, b.length); index += 1) {
    const difference = (a[index]?.codePointAt(0) ?? 0) - (b[index]?.codePointAt(0) ?? 0);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

/** The order the page is merged in across types: the sort key, then the type, then the id. */
function compareHits(order: SearchPlan['order']) {
  const sign = order.direction === 'asc' ? 1 : -1;
  return (left: SearchHit, right: SearchHit): number => {
    let byKey = 0;
    if (order.field === 'name') byKey = compareCodePoints(left.sort_name, right.sort_name);
    // Ticket-only orders never merge types (planSearch): created_at stands in for the type check.
    else byKey = left[order.field === 'updated_at' ? 'updated_at' : 'created_at'].getTime() - right[order.field === 'updated_at' ? 'updated_at' : 'created_at'].getTime();
    if (byKey !== 0) return sign * byKey;
    if (left.type !== right.type) return left.type < right.type ? -1 : 1;
    return sign * (left.id - right.id);
  };
}

/**
 * Counts are exact up to this many matches of a type. Beyond it, for matches read from a name, tag
 * or other field index whose test is cheap per row (SearchPlan.walkWhenBroad), the page walks the created_at/updated_at index instead of sorting every match, and
 * the count is PostgreSQL's estimate (never below the limit), flagged `count_is_estimate` —
 * Zendesk's own counts of large results are approximate too. GET /api/v2/search/count stays exact.
 * Why: an exact count visits every match in the table (bench/RESULTS.md, "Search").
 */
export const EXACT_COUNT_LIMIT = 10_000;

/**
 * One pass over at most `EXACT_COUNT_LIMIT + 1` matches: their number, and the page sorted from
 * them — exact whenever they are all the matches (the number is at most the limit).
 */
async function cappedPage(
  db: Executor,
  query: HitQuery,
  type: SearchType,
  plan: SearchPlan,
  window: { offset: number; limit: number },
  limit = EXACT_COUNT_LIMIT,
): Promise<{ rows: SearchHitRow[]; capped: number }> {
  const a = alias(type);
  const inner = query
    .clearSelect()
    .select([sql.ref(`${a}.id`).as('id'), sql.ref(`${a}.created_at`).as('created_at'), sql.ref(`${a}.updated_at`).as('updated_at'), sql.ref(type === 'ticket' ? 't.subject' : `${a}.name`).as('name')])
    .limit(limit + 1);
  const key = sql.ref(`m.${plan.order.field === 'updated_at' ? 'updated_at' : 'created_at'}`);
  const direction = sql.raw(plan.order.direction === 'asc' ? 'ASC' : 'DESC');
  const { rows } = await sql<SearchHitRow & { total: number | string }>`
    WITH m AS MATERIALIZED (${inner})
    SELECT m.id, m.created_at, m.updated_at, m.name, (extract(epoch FROM m.created_at) * 1000000)::bigint AS created_us, roster_fold(m.name) AS sort_name,
      (SELECT count(*) FROM m) AS total
    FROM m ORDER BY ${key} ${direction}, m.id ${direction} OFFSET ${window.offset} LIMIT ${window.limit}`.execute(db);
  const capped = rows[0] ? Number(rows[0].total) : await countCapped(db, inner);
  return { rows: rows.map(({ total: _total, ...row }) => ({ ...row, id: Number(row.id) })), capped };
}

async function countCapped(db: Executor, inner: Compilable): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`SELECT count(*) AS n FROM (${inner}) AS capped`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/** The planner's estimate of how many rows `query` matches (EXPLAIN, nothing read). */
async function estimatedCount(db: Executor, query: HitQuery): Promise<number> {
  const compiled = query.clearSelect().select(sql<number>`1`.as('one')).compile();
  const result = await db.executeQuery<{ 'QUERY PLAN': unknown }>(CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${compiled.sql}`, [...compiled.parameters]));
  const raw = result.rows[0]?.['QUERY PLAN'];
  const parsed: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
  const rows = Array.isArray(parsed) ? (parsed[0] as { Plan?: { 'Plan Rows'?: unknown } } | undefined)?.Plan?.['Plan Rows'] : undefined;
  return typeof rows === 'number' && Number.isFinite(rows) ? Math.round(rows) : 0;
}

/** Orders an index serves (a broad match walks it); by name or a ticket rank, matches are sorted. */
const indexOrdered = (plan: SearchPlan): boolean => plan.order.field === 'created_at' || plan.order.field === 'updated_at';

/**
 * One offset page of a (possibly mixed) search. Each type yields at most `offset + limit` rows in
 * the page order (the search window keeps that ≤ 1,000), merged here; counts are exact up to
 * EXACT_COUNT_LIMIT matches per type (then estimated, `estimated` is true).
 *
 * `concurrent` (PostgreSQL, a pool of connections): every type's page and count statements run at
 * once — a broad match costs its heap visits twice, and overlapping them halves the wait. On
 * PGlite (one connection, statements queue anyway) a short page skips the count instead.
 */
export async function searchPage(
  db: Executor,
  accountId: number,
  plan: SearchPlan,
  visibility: SearchVisibility,
  window: { offset: number; limit: number },
  options: { concurrent: boolean; exactCountLimit?: number },
): Promise<{ hits: SearchHit[]; count: number; estimated: boolean }> {
  const exactLimit = options.exactCountLimit ?? EXACT_COUNT_LIMIT;
  const single = plan.types.length === 1;
  const perType = await Promise.all(
    plan.types.map(async (type) => {
      const query = typeQuery(db, accountId, plan, type, visibility);
      if (!query) return { rows: [] as SearchHitRow[], count: 0, type, estimated: false };
      // One type: the database cuts the page itself; several: each gives its first offset + limit rows.
      const page = single ? ordered(query, type, plan).offset(window.offset).limit(window.limit) : ordered(query, type, plan).limit(window.offset + window.limit);
      if (plan.sortMatches && plan.walkWhenBroad && indexOrdered(plan)) {
        // Matches from a text or tag index: up to the limit, one pass reads, counts and sorts them.
        const { rows: sorted, capped } = await cappedPage(db, query, type, plan, single ? window : { offset: 0, limit: window.offset + window.limit }, exactLimit);
        if (capped <= exactLimit) return { rows: sorted, count: capped, type, estimated: false };
        // Many: the order's index meets a page's worth within a few hundred rows per percent matched.
        const walk = ordered(query, type, plan, false);
        const rows = await (single ? walk.offset(window.offset).limit(window.limit) : walk.limit(window.offset + window.limit)).execute();
        return { rows, count: Math.max(capped, await estimatedCount(db, query)), type, estimated: true };
      }
      if (plan.sortMatches) {
        // Every match is read to be sorted anyway: count them in the same pass (one heap visit per
        // match instead of two). Only a page past the last match has no row to carry the total.
        const rows = (await page.select(sql<number>`count(*) OVER ()`.as('total')).execute()) as Array<SearchHitRow & { total: number }>;
        const first = rows[0];
        const count = first ? Number(first.total) : window.offset === 0 || !single ? 0 : await countQuery(query);
        return { rows: rows.map(({ total: _total, ...row }) => row), count, type, estimated: false };
      }
      if (options.concurrent) {
        const [rows, count] = await Promise.all([page.execute(), countQuery(query)]);
        return { rows, count, type, estimated: false };
      }
      const rows = await page.execute();
      // A short read holds every match: no count statement needed.
      if (single && rows.length < window.limit && (rows.length > 0 || window.offset === 0)) return { rows, count: window.offset + rows.length, type, estimated: false };
      if (!single && rows.length < window.offset + window.limit) return { rows, count: rows.length, type, estimated: false };
      return { rows, count: await countQuery(query), type, estimated: false };
    }),
  );
  const hits = perType.flatMap(({ rows, type }) => rows.map((row) => ({ type, ...row })));
  const count = perType.reduce((sum, entry) => sum + entry.count, 0);
  const estimated = perType.some((entry) => entry.estimated);
  if (single) return { hits, count, estimated };
  hits.sort(compareHits(plan.order));
  return { hits: hits.slice(window.offset, window.offset + window.limit), count, estimated };
}

async function countQuery(query: HitQuery): Promise<number> {
  const row = await query.clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number((row as { n?: number | string } | undefined)?.n ?? 0);
}

export async function searchCount(db: Executor, accountId: number, plan: SearchPlan, visibility: SearchVisibility): Promise<number> {
  let count = 0;
  for (const type of plan.types) {
    const query = typeQuery(db, accountId, plan, type, visibility);
    if (query) count += await countQuery(query);
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// Export: one type, newest first, keyset cursor on (created_at, id) — no window, no duplicates.

export interface ExportCursor {
  createdUs: number;
  id: number;
}

export function encodeExportCursor(hit: Pick<SearchHit, 'created_us' | 'id'>): string {
  return Buffer.from(JSON.stringify({ t: hit.created_us, i: hit.id })).toString('base64url');
}

export function decodeExportCursor(raw: string): ExportCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw errors.pagination('page[after] is not a valid cursor');
  }
  const value = parsed as { t?: unknown; i?: unknown } | null;
  if (!value || typeof value !== 'object' || !Number.isSafeInteger(value.t) || !Number.isSafeInteger(value.i) || (value.i as number) < 1) {
    throw errors.pagination('page[after] is not a valid cursor');
  }
  return { createdUs: value.t as number, id: value.i as number };
}

export async function exportPage(
  db: Executor,
  accountId: number,
  plan: SearchPlan,
  type: SearchType,
  visibility: SearchVisibility,
  page: { size: number; after: ExportCursor | undefined },
): Promise<{ hits: SearchHit[]; hasMore: boolean }> {
  const query = typeQuery(db, accountId, plan, type, visibility);
  if (!query) return { hits: [], hasMore: false };
  const a = alias(type);
  const after = page.after;
  const filtered = after
    ? query.where(sql<boolean>`(${sql.ref(`${a}.created_at`)}, ${sql.ref(`${a}.id`)}) < (timestamptz 'epoch' + ${after.createdUs}::bigint * interval '1 microsecond', ${after.id}::bigint)`)
    : query;
  const rows = await filtered
    .orderBy(sql.ref(`${a}.created_at`), 'desc')
    .orderBy(sql.ref(`${a}.id`), 'desc')
    .limit(page.size + 1)
    .execute();
  return { hits: rows.slice(0, page.size).map((row) => ({ type, ...row })), hasMore: rows.length > page.size };
}

/**
 * The statements a first search page runs, compiled (for EXPLAIN in bench/search.ts): per type,
 * the page and the count — one statement when the matches come from a text or tag index (at most
 * EXACT_COUNT_LIMIT + 1 read), plus, when more match, the page walked in index order.
 */
export async function searchStatements(db: Executor, accountId: number, plan: SearchPlan, visibility: SearchVisibility, window: { offset: number; limit: number }) {
  const statements: Array<{ label: string; query: CompiledQuery }> = [];
  for (const type of plan.types) {
    const query = typeQuery(db, accountId, plan, type, visibility);
    if (!query) continue;
    const page = ordered(query, type, plan).offset(window.offset).limit(window.limit);
    if (plan.sortMatches && plan.walkWhenBroad && indexOrdered(plan)) {
      const a = alias(type);
      const inner = query
        .clearSelect()
        .select([sql.ref(`${a}.id`).as('id'), sql.ref(`${a}.created_at`).as('created_at'), sql.ref(`${a}.updated_at`).as('updated_at'), sql.ref(type === 'ticket' ? 't.subject' : `${a}.name`).as('name')])
        .limit(EXACT_COUNT_LIMIT + 1);
      const key = sql.ref(`m.${plan.order.field === 'updated_at' ? 'updated_at' : 'created_at'}`);
      statements.push({
        label: `${type}: page and count, at most ${EXACT_COUNT_LIMIT + 1} matches read`,
        query: sql`WITH m AS MATERIALIZED (${inner}) SELECT m.id, roster_fold(m.name) AS sort_name, (SELECT count(*) FROM m) AS total FROM m ORDER BY ${key} DESC, m.id DESC LIMIT ${window.limit}`.compile(db),
      });
      const { capped } = await cappedPage(db, query, type, plan, window);
      if (capped > EXACT_COUNT_LIMIT) {
        statements.push({ label: `${type}: more than ${EXACT_COUNT_LIMIT} match — the page in index order (the count is the planner's estimate)`, query: ordered(query, type, plan, false).offset(window.offset).limit(window.limit).compile() });
      }
      continue;
    }
    if (plan.sortMatches) {
      statements.push({ label: `${type}: page and count`, query: page.select(sql<number>`count(*) OVER ()`.as('total')).compile() });
      continue;
    }
    statements.push({ label: `${type}: page`, query: page.compile() });
    statements.push({ label: `${type}: count`, query: query.clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).compile() });
  }
  return statements;
}

import type { FastifyRequest } from 'fastify';
import type { ReferenceExpression, SelectQueryBuilder } from 'kysely';
import { errors } from './errors.ts';

export const MAX_PER_PAGE = 100;
/** Zendesk refuses offset pages past the first 10,000 records; cursor pagination has no limit. */
export const OFFSET_WINDOW = 10_000;

export type PageRequest =
  | { kind: 'offset'; page: number; perPage: number }
  | { kind: 'cursor'; size: number; after: number | undefined; before: number | undefined };

type Query = Record<string, unknown>;

function positiveInt(raw: unknown, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const text = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (typeof text !== 'string' && typeof text !== 'number') throw errors.pagination(`${name} must be a positive integer`);
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw errors.pagination(`${name} must be a positive integer`);
  return value;
}

function decodeCursor(raw: unknown, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') throw errors.pagination(`${name} is not a valid cursor`);
  const decoded = Buffer.from(raw, 'base64url').toString('utf8');
  const match = /^id:(\d{1,15})$/.exec(decoded);
  if (!match?.[1]) throw errors.pagination(`${name} is not a valid cursor`);
  return Number(match[1]);
}

export function encodeCursor(id: number): string {
  return Buffer.from(`id:${id}`).toString('base64url');
}

/** The `page` parameter arrives either as a number (offset) or as an object (`page[size]`, cursor). */
export function parsePage(query: Query): PageRequest {
  const page = query.page;
  if (page !== null && typeof page === 'object' && !Array.isArray(page)) {
    const cursor = page as Record<string, unknown>;
    const size = positiveInt(cursor.size, 'page[size]') ?? MAX_PER_PAGE;
    if (size > MAX_PER_PAGE) throw errors.pagination(`page[size] must be at most ${MAX_PER_PAGE}`);
    const after = decodeCursor(cursor.after, 'page[after]');
    const before = decodeCursor(cursor.before, 'page[before]');
    if (after !== undefined && before !== undefined) throw errors.pagination('Use page[after] or page[before], not both');
    return { kind: 'cursor', size, after, before };
  }
  const pageNumber = positiveInt(page, 'page') ?? 1;
  const perPage = positiveInt(query.per_page, 'per_page') ?? MAX_PER_PAGE;
  if (perPage > MAX_PER_PAGE) throw errors.pagination(`per_page must be at most ${MAX_PER_PAGE}`);
  if ((pageNumber - 1) * perPage >= OFFSET_WINDOW) {
    throw errors.pagination(
      `Offset pagination is limited to the first ${OFFSET_WINDOW} records; use cursor pagination (page[size]) beyond that`,
    );
  }
  return { kind: 'offset', page: pageNumber, perPage };
}

/**
 * Orders by a unique, sequence-backed key and cuts one page (plus one row, to know whether more
 * follow). `direction` is the list's natural order; `page[before]` walks it backwards.
 */
export function applyPage<D, TB extends keyof D, O>(
  qb: SelectQueryBuilder<D, TB, O>,
  keyRef: ReferenceExpression<D, TB>,
  page: PageRequest,
  direction: 'asc' | 'desc' = 'asc',
): SelectQueryBuilder<D, TB, O> {
  const reverse = direction === 'asc' ? 'desc' : 'asc';
  const forwardOp = direction === 'asc' ? '>' : '<';
  const backwardOp = direction === 'asc' ? '<' : '>';
  if (page.kind === 'offset') {
    return qb.orderBy(keyRef as never, direction).offset((page.page - 1) * page.perPage).limit(page.perPage);
  }
  if (page.before !== undefined) {
    return qb.where(keyRef, backwardOp, page.before as never).orderBy(keyRef as never, reverse).limit(page.size + 1);
  }
  const after = page.after === undefined ? qb : qb.where(keyRef, forwardOp, page.after as never);
  return after.orderBy(keyRef as never, direction).limit(page.size + 1);
}

export interface CursorPage<T> {
  rows: T[];
  meta: { has_more: boolean; after_cursor: string | null; before_cursor: string | null };
  links: { next: string | null; prev: string | null };
}
export interface OffsetPage<T> {
  rows: T[];
  next_page: string | null;
  previous_page: string | null;
  count: number;
}

/** Absolute URL of this request with some query parameters replaced, as clients follow links verbatim. */
export function urlWith(request: FastifyRequest, replace: Record<string, string | undefined>, drop: string[] = []): string {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  for (const key of [...drop, ...Object.keys(replace)]) url.searchParams.delete(key);
  for (const [key, value] of Object.entries(replace)) if (value !== undefined) url.searchParams.set(key, value);
  // Scheme and host exactly as the client sent them (URL would drop a default port), so the
  // link keeps the prefix the client is configured with.
  return `${request.protocol}://${request.host}${url.pathname}${url.search}`;
}

export function cursorPage<T>(
  request: FastifyRequest,
  fetched: T[],
  page: Extract<PageRequest, { kind: 'cursor' }>,
  key: (row: T) => number,
): CursorPage<T> {
  return cursorPageWith(request, fetched, page, (row) => encodeCursor(key(row)));
}

/**
 * One page of a cursor walk whose cursors `cursorOf` writes (an id, or a sort key and an id).
 * `fetched` holds up to size + 1 rows in walking order: the extra row says whether more follow.
 */
export function cursorPageWith<T>(
  request: FastifyRequest,
  fetched: T[],
  page: { size: number; after: unknown; before: unknown },
  cursorOf: (row: T) => string,
): CursorPage<T> {
  const backwards = page.before !== undefined;
  const more = fetched.length > page.size;
  const rows = fetched.slice(0, page.size);
  if (backwards) rows.reverse();
  const first = rows[0];
  const last = rows[rows.length - 1];
  const drop = ['page[after]', 'page[before]', 'page[size]'];
  const size = String(page.size);
  // Walking forward, "more" is about what follows; walking backward, about what precedes.
  const hasNext = backwards ? true : more;
  const hasPrev = backwards ? more : page.after !== undefined;
  const afterCursor = last ? cursorOf(last) : null;
  const beforeCursor = first ? cursorOf(first) : null;
  return {
    rows,
    meta: { has_more: hasNext, after_cursor: afterCursor, before_cursor: beforeCursor },
    links: {
      next: hasNext && afterCursor ? urlWith(request, { 'page[size]': size, 'page[after]': afterCursor }, drop) : null,
      prev: hasPrev && beforeCursor ? urlWith(request, { 'page[size]': size, 'page[before]': beforeCursor }, drop) : null,
    },
  };
}

export function offsetPage<T>(request: FastifyRequest, rows: T[], page: Extract<PageRequest, { kind: 'offset' }>, count: number): OffsetPage<T> {
  const hasNext = page.page * page.perPage < count && page.page * page.perPage < OFFSET_WINDOW;
  return {
    rows,
    count,
    next_page: hasNext ? urlWith(request, { page: String(page.page + 1), per_page: String(page.perPage) }) : null,
    previous_page: page.page > 1 ? urlWith(request, { page: String(page.page - 1), per_page: String(page.perPage) }) : null,
  };
}

export interface PageFields {
  next_page?: string | null;
  previous_page?: string | null;
  count?: number;
  meta?: CursorPage<unknown>['meta'];
  links?: CursorPage<unknown>['links'];
}

/** Puts a page into Zendesk's envelope under `key`. */
export function envelope<K extends string, T, R>(key: K, page: CursorPage<T> | OffsetPage<T>, present: (row: T) => R): Record<K, R[]> & PageFields {
  const items = { [key]: page.rows.map(present) } as Record<K, R[]>;
  if ('meta' in page) return { ...items, meta: page.meta, links: page.links };
  return { ...items, next_page: page.next_page, previous_page: page.previous_page, count: page.count };
}

import type { FastifyRequest } from 'fastify';
import { sql, type RawBuilder } from 'kysely';
import type { Account } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import { cursorPageWith, parsePage, type CursorPage, type PageRequest } from '../http/pagination.ts';
import { lifecycleSettings } from './lifecycle-settings.ts';
import { selectDeletedUsers, type DeletedUserState, type DeletedUserView } from './deleted-users.repository.ts';
import type { Executor } from '../users/users.repository.ts';

export const DELETED_USER_SORTS = ['name', 'deleted_at', 'purge_at'] as const;
export type DeletedUserSortField = (typeof DELETED_USER_SORTS)[number];
export interface DeletedUserSort {
  by: DeletedUserSortField;
  direction: 'asc' | 'desc';
}

/**
 * `sort_by=name|deleted_at|purge_at` with `sort_order=asc|desc` (ascending by default), or
 * Zendesk's `sort=name` / `sort=-deleted_at`. Undefined when neither is given: the list keeps its
 * order by id.
 */
export function parseDeletedUserSort(query: Record<string, unknown>): DeletedUserSort | undefined {
  const { sort, sort_by: sortBy, sort_order: sortOrder } = query;
  const fields = DELETED_USER_SORTS.join(', ');
  if (sort !== undefined) {
    if (sortBy !== undefined || sortOrder !== undefined) throw errors.badRequest('Use sort, or sort_by and sort_order, not both');
    if (typeof sort !== 'string') throw errors.badRequest(`sort must be one of ${fields}, with - in front for descending`);
    const field = sort.startsWith('-') ? sort.slice(1) : sort;
    if (!isField(field)) throw errors.badRequest(`sort must be one of ${fields}, with - in front for descending`);
    return { by: field, direction: sort.startsWith('-') ? 'desc' : 'asc' };
  }
  if (sortOrder !== undefined && sortOrder !== 'asc' && sortOrder !== 'desc') throw errors.badRequest('sort_order must be asc or desc');
  if (sortBy === undefined) {
    if (sortOrder !== undefined) throw errors.badRequest('sort_order needs sort_by');
    return undefined;
  }
  if (typeof sortBy !== 'string' || !isField(sortBy)) throw errors.badRequest(`sort_by must be one of ${fields}`);
  return { by: sortBy, direction: sortOrder === 'desc' ? 'desc' : 'asc' };
}

const isField = (value: string): value is DeletedUserSortField => (DELETED_USER_SORTS as readonly string[]).includes(value);

/** A page request whose cursors carry the sort key: page[after]/page[before] decoded here, the rest by parsePage. */
export type SortedPageRequest = Extract<PageRequest, { kind: 'offset' }> | { kind: 'cursor'; size: number; after: SortCursor | undefined; before: SortCursor | undefined };

interface SortCursor {
  key: string;
  id: number;
}

export function parseSortedPage(query: Record<string, unknown>, sort: DeletedUserSort): SortedPageRequest {
  const page = query.page;
  if (page === null || typeof page !== 'object' || Array.isArray(page)) {
    const parsed = parsePage(query);
    if (parsed.kind !== 'offset') throw new Error('unreachable: an offset page');
    return parsed;
  }
  const { after, before, ...rest } = page as Record<string, unknown>;
  const parsed = parsePage({ ...query, page: rest });
  if (parsed.kind !== 'cursor') throw new Error('unreachable: a cursor page');
  const decodedAfter = decodeSortCursor(after, 'page[after]', sort);
  const decodedBefore = decodeSortCursor(before, 'page[before]', sort);
  if (decodedAfter !== undefined && decodedBefore !== undefined) throw errors.pagination('Use page[after] or page[before], not both');
  return { kind: 'cursor', size: parsed.size, after: decodedAfter, before: decodedBefore };
}

/** The cursor names the order it was made for: a cursor of another order is refused rather than misread. */
function encodeSortCursor(sort: DeletedUserSort, key: string, id: number): string {
  return Buffer.from(JSON.stringify([sort.by, sort.direction, key, id])).toString('base64url');
}

function decodeSortCursor(raw: unknown, name: string, sort: DeletedUserSort): SortCursor | undefined {
  if (raw === undefined || raw === '') return undefined;
  const invalid = errors.pagination(`${name} is not a valid cursor for this order`);
  if (typeof raw !== 'string' || raw.length > 2048) throw invalid;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) throw invalid;
  const [by, direction, key, id] = parsed as unknown[];
  if (by !== sort.by || direction !== sort.direction || typeof key !== 'string' || typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) throw invalid;
  // A timestamp key must read back as one (it is compared as timestamptz).
  if (sort.by !== 'name' && Number.isNaN(Date.parse(key))) throw invalid;
  return { key, id };
}

/** The sort key as the database compares it, and as text for the cursor (exact: microseconds and all). */
function sortExpression(sort: DeletedUserSort, account: Pick<Account, 'settings'>): RawBuilder<unknown> {
  if (sort.by === 'name') return sql`lower(u.name)`;
  if (sort.by === 'deleted_at') return sql`d.deleted_at`;
  const days = lifecycleSettings(account).purgeAfterDays;
  // As the presenter shows it: when it was purged, else when it is due.
  return sql`coalesce(d.purged_at, d.deleted_at + make_interval(days => ${days}::int))`;
}

/** One page of deleted users in the asked order, id breaking ties; cursor pages keyed on (sort key, id). */
export async function sortedDeletedUsers(
  db: Executor,
  account: Account,
  state: DeletedUserState | undefined,
  sort: DeletedUserSort,
  page: SortedPageRequest,
): Promise<Array<DeletedUserView & { sort_key: string }>> {
  const key = sortExpression(sort, account);
  const cast = sort.by === 'name' ? sql`text` : sql`timestamptz`;
  let query = selectDeletedUsers(db, account.id, state).select(sql<string>`(${key})::text`.as('sort_key'));
  const order = (direction: 'asc' | 'desc') => query.orderBy(sql`${key} ${sql.raw(direction)}, u.id ${sql.raw(direction)}`);
  if (page.kind === 'offset') {
    return (await order(sort.direction).offset((page.page - 1) * page.perPage).limit(page.perPage).execute()) as Array<DeletedUserView & { sort_key: string }>;
  }
  const reverse = sort.direction === 'asc' ? 'desc' : 'asc';
  const forward = sort.direction === 'asc' ? sql.raw('>') : sql.raw('<');
  const backward = sort.direction === 'asc' ? sql.raw('<') : sql.raw('>');
  if (page.before !== undefined) {
    query = query.where(sql<boolean>`(${key}, u.id) ${backward} (${page.before.key}::${cast}, ${page.before.id}::bigint)`);
    return (await order(reverse).limit(page.size + 1).execute()) as Array<DeletedUserView & { sort_key: string }>;
  }
  if (page.after !== undefined) query = query.where(sql<boolean>`(${key}, u.id) ${forward} (${page.after.key}::${cast}, ${page.after.id}::bigint)`);
  return (await order(sort.direction).limit(page.size + 1).execute()) as Array<DeletedUserView & { sort_key: string }>;
}

/** As src/http/pagination.ts's cursorPage, with cursors that carry the sort key. */
export function sortedCursorPage<T extends { id: number; sort_key: string }>(
  request: FastifyRequest,
  fetched: T[],
  page: Extract<SortedPageRequest, { kind: 'cursor' }>,
  sort: DeletedUserSort,
): CursorPage<T> {
  return cursorPageWith(request, fetched, page, (row) => encodeSortCursor(sort, row.sort_key, Number(row.id)));
}

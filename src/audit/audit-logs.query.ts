import { sql, type Selectable } from 'kysely';
import type { AuditEventsTable } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import type { PageRequest } from '../http/pagination.ts';
import type { Executor } from '../users/users.repository.ts';

/**
 * The audit log as an API (issue 7 item 6): read-only queries over `audit_events`, which the
 * foundation writes in the same transaction as each change (src/audit/audit.ts). A row names an
 * actor, an action, a target and the names of the changed fields — never a value — so nothing
 * here can leak personal data and an erasure needs no rewrite of it.
 */

export type AuditEventRow = Selectable<AuditEventsTable>;

/** Zendesk's action verbs and the Roster action suffixes each stands for. */
export const VERBS: Record<string, string[]> = {
  create: ['create'],
  update: ['update', 'settings_update', 'make_private', 'make_default', 'make_primary', 'owner_transfer', 'password_change'],
  destroy: ['delete', 'soft_delete', 'purge'],
};

export interface AuditLogFilter {
  actorId?: number;
  action?: string;
  sourceType?: string;
  sourceId?: string;
  createdFrom?: Date;
  createdTo?: Date;
}

export interface AuditLogSort {
  direction: 'asc' | 'desc';
}

const MAX_TEXT = 200;

function single(raw: unknown, name: string): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw === '' || raw.length > MAX_TEXT) throw errors.badRequest(`${name} must be a non-empty string`);
  return raw;
}

function timestamp(raw: unknown): Date {
  if (typeof raw !== 'string' || !/^\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(raw)) {
    throw errors.badRequest('filter[created_at][] takes two ISO 8601 timestamps');
  }
  const date = new Date(raw);
  // Date would roll 2024-02-30 over to March 1st: the calendar date must exist as written.
  const [year, month, day] = raw.slice(0, 10).split('-').map(Number);
  const exists = year !== undefined && month !== undefined && day !== undefined && month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (Number.isNaN(date.getTime()) || !exists) throw errors.badRequest('filter[created_at][] takes two ISO 8601 timestamps');
  return date;
}

/** Zendesk's `filter[…]` parameters (qs has already turned `filter[created_at][]` into an array). */
export function parseAuditLogFilter(query: Record<string, unknown>): AuditLogFilter {
  const raw = query.filter;
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw errors.badRequest('filter must be given as filter[name]=value');
  const filter = raw as Record<string, unknown>;
  const known = new Set(['actor_id', 'action', 'source_type', 'source_id', 'created_at']);
  for (const key of Object.keys(filter)) if (!known.has(key)) throw errors.badRequest(`Unknown filter: filter[${key}]; use actor_id, action, source_type, source_id or created_at`);
  const result: AuditLogFilter = {};
  const actor = single(filter.actor_id, 'filter[actor_id]');
  if (actor !== undefined) {
    if (!/^\d{1,15}$/.test(actor) || Number(actor) < 1) throw errors.badRequest('filter[actor_id] must be a user id');
    result.actorId = Number(actor);
  }
  result.action = single(filter.action, 'filter[action]');
  result.sourceType = single(filter.source_type, 'filter[source_type]');
  result.sourceId = single(filter.source_id, 'filter[source_id]');
  if (filter.created_at !== undefined) {
    const range = filter.created_at;
    if (!Array.isArray(range) || range.length !== 2) throw errors.badRequest('filter[created_at][] takes two ISO 8601 timestamps: the start and the end of the range');
    const [from, to] = [timestamp(range[0]), timestamp(range[1])];
    if (from.getTime() > to.getTime()) throw errors.badRequest('filter[created_at][]: the start must not be after the end');
    result.createdFrom = from;
    result.createdTo = to;
  }
  return result;
}

/** `sort_by=created_at` with `sort_order=asc|desc`, or `sort=created_at` / `sort=-created_at`; newest first by default. */
export function parseAuditLogSort(query: Record<string, unknown>): AuditLogSort {
  const { sort, sort_by: sortBy, sort_order: sortOrder } = query;
  if (sort !== undefined) {
    if (sort !== 'created_at' && sort !== '-created_at') throw errors.badRequest('sort must be created_at or -created_at');
    if (sortBy !== undefined || sortOrder !== undefined) throw errors.badRequest('Use sort, or sort_by and sort_order, not both');
    return { direction: sort === 'created_at' ? 'asc' : 'desc' };
  }
  if (sortBy !== undefined && sortBy !== 'created_at') throw errors.badRequest('sort_by must be created_at');
  if (sortOrder !== undefined && sortOrder !== 'asc' && sortOrder !== 'desc') throw errors.badRequest('sort_order must be asc or desc');
  return { direction: sortOrder === 'asc' ? 'asc' : 'desc' };
}

function filtered(db: Executor, accountId: number, filter: AuditLogFilter) {
  let query = db
    .selectFrom('audit_events')
    .select(['account_id', 'id', 'actor_id', 'action', 'target_type', 'target_id', 'changed_fields', 'created_at'])
    .where('account_id', '=', accountId);
  if (filter.actorId !== undefined) query = query.where('actor_id', '=', filter.actorId);
  if (filter.action !== undefined) {
    const action = filter.action;
    const suffixes = VERBS[action] ?? [action];
    // A full Roster action ("user.update"), or a verb: Zendesk's create/update/destroy, or any Roster suffix ("merge").
    query = query.where((eb) => eb.or([eb('action', '=', action), eb(sql<string>`split_part(action, '.', 2)`, 'in', suffixes)]));
  }
  if (filter.sourceType !== undefined) query = query.where('target_type', '=', filter.sourceType);
  if (filter.sourceId !== undefined) query = query.where('target_id', '=', filter.sourceId);
  if (filter.createdFrom !== undefined) query = query.where('created_at', '>=', filter.createdFrom);
  if (filter.createdTo !== undefined) query = query.where('created_at', '<=', filter.createdTo);
  return query;
}

/**
 * One page in (created_at, id) order. A cursor names an event by id; the page continues from that
 * event's place in the order (the index on account_id, created_at, id serves it).
 */
export async function listAuditLogs(db: Executor, accountId: number, filter: AuditLogFilter, sort: AuditLogSort, page: PageRequest): Promise<AuditEventRow[]> {
  const query = filtered(db, accountId, filter);
  const { direction } = sort;
  if (page.kind === 'offset') {
    return query.orderBy('created_at', direction).orderBy('id', direction).offset((page.page - 1) * page.perPage).limit(page.perPage).execute();
  }
  const backwards = page.before !== undefined;
  const order = backwards ? (direction === 'asc' ? 'desc' : 'asc') : direction;
  const cursor = page.before ?? page.after;
  let keyed = query;
  if (cursor !== undefined) {
    const op = order === 'asc' ? sql.raw('>') : sql.raw('<');
    keyed = keyed.where(sql<boolean>`(created_at, id) ${op} (SELECT c.created_at, c.id FROM audit_events c WHERE c.account_id = ${accountId} AND c.id = ${cursor})`);
  }
  return keyed.orderBy('created_at', order).orderBy('id', order).limit(page.size + 1).execute();
}

export async function countAuditLogs(db: Executor, accountId: number, filter: AuditLogFilter): Promise<number> {
  const row = await filtered(db, accountId, filter).clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function findAuditLog(db: Executor, accountId: number, id: number): Promise<AuditEventRow | undefined> {
  return filtered(db, accountId, {}).where('id', '=', id).executeTakeFirst();
}

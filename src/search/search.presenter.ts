import type { FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import { urlWith, type PageRequest } from '../http/pagination.ts';
import type { Actor } from '../policy/policy.ts';
import { presentOrganization } from '../organizations/organizations.presenter.ts';
import { activeOrganizationFieldKeys, findOrganizationsByIds } from '../organizations/organizations.repository.ts';
import { baseUrl } from '../http/urls.ts';
import { presentUser } from '../users/users.presenter.ts';
import { findUsersByIds, type Executor, type UserView } from '../users/users.repository.ts';
import { presentTicket } from '../tickets/tickets.presenter.ts';
import { findVisibleTickets } from '../tickets/tickets.repository.ts';
import type { AuthenticatedUser } from '../http/context.ts';
import type { SearchResult, UsersList } from './search.schemas.ts';
import type { SearchHit } from './run-search.ts';

/**
 * Hits → Zendesk search results: each record as its own API presents it (users through the user
 * presenter, so the caller's view of a user is the same everywhere), plus `result_type`, in the
 * hits' order. Rows are loaded by id in one statement per type.
 */
export async function presentHits(db: Executor, request: FastifyRequest, actor: AuthenticatedUser, hits: SearchHit[]): Promise<Static<typeof SearchResult>[]> {
  const accountId = request.ctx.account.id;
  const base = baseUrl(request);
  const userIds = hits.filter((hit) => hit.type === 'user').map((hit) => hit.id);
  const organizationIds = hits.filter((hit) => hit.type === 'organization').map((hit) => hit.id);
  const ticketIds = hits.filter((hit) => hit.type === 'ticket').map((hit) => hit.id);
  // Independent reads: side by side on PostgreSQL's pool (PGlite queues them on its one connection).
  const [userRows, organizationRows, fieldKeys, ticketRows] = await Promise.all([
    findUsersByIds(db, accountId, userIds),
    findOrganizationsByIds(db, accountId, organizationIds),
    organizationIds.length > 0 ? activeOrganizationFieldKeys(db, accountId) : Promise.resolve([]),
    // Through the ticket-access filter again, as every ticket read: the page never shows more than the lists would.
    findVisibleTickets(db, accountId, ticketIds, actor),
  ]);
  const tickets = new Map(ticketRows.map((row) => [row.id, row]));
  const users = new Map(userRows.map((user) => [user.id, user]));
  const organizations = new Map(organizationRows.map((row) => [row.id, row]));
  const results: Static<typeof SearchResult>[] = [];
  for (const hit of hits) {
    if (hit.type === 'user') {
      const user = users.get(hit.id);
      // Deleted between the two statements: left out rather than shown half.
      if (user) results.push(Object.assign(presentUser(user, base, actor), { result_type: 'user' as const }));
    } else if (hit.type === 'ticket') {
      const ticket = tickets.get(hit.id);
      if (ticket) results.push(Object.assign(presentTicket(ticket, base), { result_type: 'ticket' as const }));
    } else {
      const row = organizations.get(hit.id);
      if (row) results.push(Object.assign(presentOrganization(row, base, fieldKeys), { result_type: 'organization' as const }));
    }
  }
  return results;
}

/** Users/search answers plain users (no result_type), in the hits' order. */
export async function loadUserHits(db: Executor, request: FastifyRequest, hits: SearchHit[]): Promise<UserView[]> {
  const users = new Map((await findUsersByIds(db, request.ctx.account.id, hits.map((hit) => hit.id))).map((user) => [user.id, user]));
  return hits.flatMap((hit) => users.get(hit.id) ?? []);
}

export function presentUsersPage(
  request: FastifyRequest,
  actor: Actor,
  users: UserView[],
  page: Extract<PageRequest, { kind: 'offset' }>,
  count: number,
): Static<typeof UsersList> {
  const base = baseUrl(request);
  const hasNext = page.page * page.perPage < count;
  return {
    users: users.map((user) => presentUser(user, base, actor)),
    next_page: hasNext ? urlWith(request, { page: String(page.page + 1), per_page: String(page.perPage) }) : null,
    previous_page: page.page > 1 ? urlWith(request, { page: String(page.page - 1), per_page: String(page.perPage) }) : null,
    count,
  };
}

import type { FastifyRequest } from 'fastify';
import type { App, Services } from '../app.ts';
import { AppError, errors } from '../http/errors.ts';
import { parsePage, urlWith, type PageRequest } from '../http/pagination.ts';
import { queryString } from '../http/params.ts';
import { errorResponses } from '../http/schemas.ts';
import { requireUser } from '../http/urls.ts';
import { authorizeSearch } from '../policy/policy.ts';
import { SEARCH_TYPES, type SearchType } from './compile-query.ts';
import { presentHits, loadUserHits, presentUsersPage } from './search.presenter.ts';
import {
  SearchCountResponse,
  SearchExportQuery,
  SearchExportResponse,
  SearchQuery,
  SearchResponse,
  UsersAutocompleteQuery,
  UsersList,
  UsersSearchQuery,
} from './search.schemas.ts';
import { compileSearch, decodeExportCursor, encodeExportCursor, exportPage, searchCount, searchPage } from './run-search.ts';
import { autocompleteUsers, usersByExternalId } from './users-lookup.ts';

const tags = ['Search'];
/** Zendesk's search returns the first 1,000 results; /search/export has no limit. */
export const SEARCH_WINDOW = 1000;
const EXPORT_MAX_PAGE = 1000;
const EXPORT_DEFAULT_PAGE = 100;
/** Zendesk: autocomplete needs at least two characters of the name (as for organizations). */
const AUTOCOMPLETE_MIN = 2;

type Query = Record<string, unknown>;

function requiredQuery(query: Query): string {
  const text = queryString(query.query, 'query');
  if (text === undefined || text.trim() === '') throw errors.missingParameter('query');
  return text;
}

/** Offset pages inside the search window; a page beyond it is Zendesk's 422. */
function searchWindow(query: Query, window: number): Extract<PageRequest, { kind: 'offset' }> {
  if (query.page !== null && typeof query.page === 'object') {
    throw errors.pagination('Search results use offset pagination (page, per_page); use /api/v2/search/export for cursor pagination');
  }
  const page = parsePage(query);
  if (page.kind !== 'offset') throw errors.pagination('Search results use offset pagination (page, per_page)');
  if ((page.page - 1) * page.perPage >= window) {
    throw new AppError(
      'InsufficientResourceError',
      422,
      `Search returns the first ${window} results; use /api/v2/search/export (cursor pagination) for more`,
    );
  }
  return page;
}

/** next_page stops at the window, so clients that follow it (node-zendesk queryAll) end there. */
function pageLinks(request: FastifyRequest, page: Extract<PageRequest, { kind: 'offset' }>, count: number, window: number) {
  const seen = page.page * page.perPage;
  const hasNext = seen < count && seen < window;
  return {
    next_page: hasNext ? urlWith(request, { page: String(page.page + 1), per_page: String(page.perPage) }) : null,
    previous_page: page.page > 1 ? urlWith(request, { page: String(page.page - 1), per_page: String(page.perPage) }) : null,
  };
}

export async function searchRoutes(app: App, { database }: Services): Promise<void> {
  const db = database.db;
  // PostgreSQL serves statements side by side; PGlite has one connection (src/search/run-search.ts).
  const concurrent = database.kind === 'postgres';

  app.get('/api/v2/search', {
    schema: { tags, summary: 'Search users, organizations and tickets (Zendesk query syntax; the first 1,000 results)', querystring: SearchQuery, response: { 200: SearchResponse, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const visibility = authorizeSearch(actor);
    const query = request.query as Query;
    const text = requiredQuery(query);
    const page = searchWindow(query, SEARCH_WINDOW);
    const accountId = request.ctx.account.id;
    const plan = await compileSearch(db, accountId, text, { actorId: actor.id, sortBy: queryString(query.sort_by, 'sort_by'), sortOrder: queryString(query.sort_order, 'sort_order') });
    const { hits, count, estimated } = await searchPage(db, accountId, plan, visibility, { offset: (page.page - 1) * page.perPage, limit: page.perPage }, { concurrent });
    return { results: await presentHits(db, request, actor, hits), facets: null, ...pageLinks(request, page, count, SEARCH_WINDOW), count, ...(estimated ? { count_is_estimate: true } : {}) };
  });

  app.get('/api/v2/search/count', {
    schema: { tags, summary: 'Count search results', querystring: SearchQuery, response: { 200: SearchCountResponse, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const visibility = authorizeSearch(actor);
    const query = request.query as Query;
    const accountId = request.ctx.account.id;
    const plan = await compileSearch(db, accountId, requiredQuery(query), { actorId: actor.id });
    return { count: await searchCount(db, accountId, plan, visibility) };
  });

  app.get('/api/v2/search/export', {
    schema: { tags, summary: 'Export search results of one type (filter[type]), cursor pagination, no limit', querystring: SearchExportQuery, response: { 200: SearchExportResponse, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const visibility = authorizeSearch(actor);
    const query = request.query as Query;
    const text = requiredQuery(query);
    const filter = query.filter !== null && typeof query.filter === 'object' ? (query.filter as Query) : {};
    const rawType = queryString(filter.type, 'filter[type]')?.trim().toLowerCase();
    if (rawType === undefined || rawType === '') throw errors.missingParameter('filter[type]');
    if (!(SEARCH_TYPES as readonly string[]).includes(rawType)) throw errors.badRequest('filter[type] must be user, organization or ticket');
    const type = rawType as SearchType;
    const cursor = query.page !== null && typeof query.page === 'object' ? (query.page as Query) : {};
    if (query.page !== undefined && (query.page === null || typeof query.page !== 'object')) {
      throw errors.pagination('Export uses cursor pagination: page[size] and page[after]');
    }
    const sizeText = queryString(cursor.size, 'page[size]');
    const size = sizeText === undefined || sizeText === '' ? EXPORT_DEFAULT_PAGE : Number(sizeText);
    if (!Number.isSafeInteger(size) || size < 1 || size > EXPORT_MAX_PAGE) throw errors.pagination(`page[size] must be between 1 and ${EXPORT_MAX_PAGE}`);
    const afterText = queryString(cursor.after, 'page[after]');
    const after = afterText === undefined || afterText === '' ? undefined : decodeExportCursor(afterText);
    const accountId = request.ctx.account.id;
    const plan = await compileSearch(db, accountId, text, { only: type, actorId: actor.id });
    const { hits, hasMore } = await exportPage(db, accountId, plan, type, visibility, { size, after });
    const last = hits[hits.length - 1];
    const afterCursor = last ? encodeExportCursor(last) : null;
    return {
      results: await presentHits(db, request, actor, hits),
      facets: null,
      meta: { has_more: hasMore, after_cursor: afterCursor, before_cursor: null },
      links: {
        next: hasMore && afterCursor ? urlWith(request, { 'page[size]': String(size), 'page[after]': afterCursor }, ['page[after]', 'page[size]']) : null,
        prev: null,
      },
    };
  });

  app.get('/api/v2/users/search', {
    schema: { tags: ['Users', ...tags], summary: 'Search users: `query` (search syntax) or `external_id` (exact)', querystring: UsersSearchQuery, response: { 200: UsersList, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const visibility = authorizeSearch(actor);
    const query = request.query as Query;
    const text = queryString(query.query, 'query');
    const externalId = queryString(query.external_id, 'external_id');
    if (text !== undefined && externalId !== undefined) throw errors.badRequest('Search by query or by external_id, not both');
    const page = parsePage(query);
    if (page.kind !== 'offset') throw errors.pagination('User search uses offset pagination (page, per_page)');
    const accountId = request.ctx.account.id;
    if (externalId !== undefined) {
      if (externalId.trim() === '') throw errors.missingParameter('external_id');
      const users = await usersByExternalId(db, accountId, externalId, visibility);
      return presentUsersPage(request, actor, users, page, users.length);
    }
    if (text === undefined || text.trim() === '') throw errors.missingParameter('query or external_id');
    const plan = await compileSearch(db, accountId, text, { only: 'user', actorId: actor.id });
    const { hits, count } = await searchPage(db, accountId, plan, visibility, { offset: (page.page - 1) * page.perPage, limit: page.perPage }, { concurrent });
    return presentUsersPage(request, actor, await loadUserHits(db, request, hits), page, count);
  });

  app.get('/api/v2/users/autocomplete', {
    schema: { tags: ['Users', ...tags], summary: 'Users whose name starts with `name` (case- and accent-insensitive)', querystring: UsersAutocompleteQuery, response: { 200: UsersList, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const visibility = authorizeSearch(actor);
    const query = request.query as Query;
    const name = queryString(query.name, 'name')?.trim();
    if (name === undefined || name === '') throw errors.missingParameter('name');
    if ([...name].length < AUTOCOMPLETE_MIN) throw errors.badRequest(`name must be at least ${AUTOCOMPLETE_MIN} characters`);
    const page = parsePage(query);
    if (page.kind !== 'offset') throw errors.pagination('Autocomplete uses offset pagination (page, per_page)');
    const { users, count } = await autocompleteUsers(db, request.ctx.account.id, name, visibility, { offset: (page.page - 1) * page.perPage, limit: page.perPage });
    return presentUsersPage(request, actor, users, page, count);
  });
}

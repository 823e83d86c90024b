import type { FastifyRequest } from 'fastify';
import { sql, type RawBuilder } from 'kysely';
import { Type } from 'typebox';
import type { App, Services } from '../app.ts';
import { errors } from '../http/errors.ts';
import { applyPage, cursorPage, envelope, offsetPage, parsePage } from '../http/pagination.ts';
import { queryString } from '../http/params.ts';
import { errorResponses } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { findOrganization } from '../organizations/organizations.repository.ts';
import { ticketStatuses } from '../db/tables.ts';
import { presentComment, presentRequest } from './tickets.presenter.ts';
import {
  countComments,
  countTickets,
  findTicket,
  narrowTickets,
  selectComments,
  selectTickets,
  whereVisible,
  withAttachments,
  type TicketView,
  type TicketViewer,
} from './tickets.repository.ts';
import { CommentsList, OrganizationParams, RequestBody, RequestEnvelope, RequestParams, RequestsList } from './tickets.schemas.ts';
import { parseTicketInput } from './ticket-input.ts';
import { submitRequest } from './submit-request.ts';
import { isStaff } from '../policy/policy.ts';
import { showSuspendedTicket } from './suspended-tickets.presenter.ts';
import { SuspendedEnvelope } from './suspended-tickets.schemas.ts';

const tags = ['Requests'];
const RequestsQuery = Type.Object({ status: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: true });

/** `status=open,pending` → the statuses; an unknown one is a 400 rather than an empty list. */
function statusFilter(raw: unknown): string[] | undefined {
  const text = queryString(raw, 'status');
  if (text === undefined || text.trim() === '') return undefined;
  const statuses = text.split(',').map((status) => status.trim().toLowerCase()).filter(Boolean);
  for (const status of statuses) if (!(ticketStatuses as readonly string[]).includes(status)) throw errors.badRequest(`status must be among ${ticketStatuses.join(', ')}`);
  return statuses;
}

/**
 * Zendesk's Requests API: tickets as their requesters see them. Everything here goes through the
 * same ticket-access filter as the tickets API; for an end user that is their own requests, the
 * requests they are CC'd on and their organization's when it shares tickets.
 */
export async function requestsRoutes(app: App, { database }: Services): Promise<void> {
  const db = database.db;

  const list = async (request: FastifyRequest, viewer: TicketViewer, narrow: RawBuilder<boolean>) => {
    const accountId = request.ctx.account.id;
    const page = parsePage(request.query as Record<string, unknown>);
    const statuses = statusFilter((request.query as Record<string, unknown>).status);
    const extra = statuses ? narrowTickets.statuses(statuses) : undefined;
    let query = selectTickets(db, accountId, viewer).where(whereVisible(viewer)).where(narrow);
    if (extra) query = query.where(extra);
    const rows = (await applyPage(query, 't.id', page).execute()) as TicketView[];
    const present = (row: TicketView) => presentRequest(row, baseUrl(request), viewer.id);
    if (page.kind === 'cursor') return envelope('requests', cursorPage(request, rows, page, (row) => row.id), present);
    const count = await countTickets(db, accountId, viewer, extra ? sql<boolean>`(${narrow} AND ${extra})` : narrow);
    return envelope('requests', offsetPage(request, rows, page, count), present);
  };
  const visibleRequest = async (request: FastifyRequest, id: number): Promise<TicketView> => {
    const actor = requireUser(request);
    const ticket = await findTicket(db, request.ctx.account.id, id, actor);
    // A request the caller may not see does not exist for them (end users never learn other ids).
    if (!ticket || !ticket.visible) throw errors.notFound();
    return ticket;
  };

  app.post('/api/v2/requests', {
    config: { auth: 'optional' },
    schema: {
      tags,
      summary: 'Submit a request: as the signed-in user, or anonymously with requester {name, email} when the account allows it',
      body: RequestBody,
      response: { 201: Type.Union([RequestEnvelope, SuspendedEnvelope]), ...errorResponses },
    },
  }, async (request, reply) => {
    const actor = request.ctx.user;
    const input = parseTicketInput(request.body?.request, 'create', 'request');
    const result = await db.transaction().execute(async (tx) => {
      const created = await submitRequest(tx, request.ctx.account, actor, input);
      // From a suspended user: it waits in the suspended tickets queue (201 with suspended_ticket).
      if ('suspendedTicketId' in created) return { suspended: await showSuspendedTicket(tx, request.ctx.account.id, created.suspendedTicketId, baseUrl(request), actor && isStaff(actor) ? 'staff' : 'submitter') };
      return { ticket: created.ticket ?? (await findTicket(tx, request.ctx.account.id, created.ticketId, null)) };
    });
    if (result.suspended) {
      reply.code(201);
      return result.suspended;
    }
    const { ticket } = result;
    if (!ticket) throw errors.notFound();
    reply.code(201).header('Location', `${baseUrl(request)}/api/v2/requests/${ticket.id}.json`);
    return { request: presentRequest(ticket, baseUrl(request), ticket.requester_id) };
  });

  app.get('/api/v2/requests', {
    schema: { tags, summary: "The caller's own requests; `status` filters (comma-separated)", querystring: RequestsQuery, response: { 200: RequestsList, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    return list(request, actor, narrowTickets.requestedBy(actor.id));
  });

  app.get('/api/v2/requests/ccd', {
    schema: { tags, summary: 'Requests the caller is CC’d on', querystring: RequestsQuery, response: { 200: RequestsList, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    return list(request, actor, narrowTickets.ccd(actor.id));
  });

  app.get('/api/v2/organizations/:organization_id/requests', {
    schema: { tags, summary: "An organization's requests the caller may see (end users: when the organization shares tickets)", params: OrganizationParams, querystring: RequestsQuery, response: { 200: RequestsList, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const organizationId = request.params.organization_id as number;
    if (!(await findOrganization(db, request.ctx.account.id, organizationId))) throw errors.notFound();
    return list(request, actor, narrowTickets.organization(organizationId));
  });

  app.get('/api/v2/requests/:request_id', {
    schema: { tags, summary: 'Show a request', params: RequestParams, response: { 200: RequestEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const ticket = await visibleRequest(request, request.params.request_id as number);
    return { request: presentRequest(ticket, baseUrl(request), actor.id) };
  });

  app.get('/api/v2/requests/:request_id/comments', {
    schema: { tags, summary: "A request's public comments", params: RequestParams, response: { 200: CommentsList, ...errorResponses } },
  }, async (request) => {
    const ticket = await visibleRequest(request, request.params.request_id as number);
    const accountId = request.ctx.account.id;
    const page = parsePage(request.query as Record<string, unknown>);
    const rows = await withAttachments(db, accountId, await applyPage(selectComments(db, accountId, ticket.id, true), 'c.id', page).execute());
    const present = (row: (typeof rows)[number]) => presentComment(row, baseUrl(request));
    if (page.kind === 'cursor') return envelope('comments', cursorPage(request, rows, page, (row) => row.id), present);
    return envelope('comments', offsetPage(request, rows, page, await countComments(db, accountId, ticket.id, true)), present);
  });
}

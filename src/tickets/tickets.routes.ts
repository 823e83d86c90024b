import type { FastifyRequest } from 'fastify';
import type { RawBuilder } from 'kysely';
import { Type } from 'typebox';
import type { App, Services } from '../app.ts';
import { errors } from '../http/errors.ts';
import { applyPage, cursorPage, envelope, offsetPage, parsePage } from '../http/pagination.ts';
import { parseIdList, queryString } from '../http/params.ts';
import { errorResponses } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { JobStatusEnvelope } from '../jobs/job-statuses.schemas.ts';
import { presentJobStatus } from '../jobs/job-statuses.presenter.ts';
import { findOrganization } from '../organizations/organizations.repository.ts';
import { authorizeTickets } from '../policy/policy.ts';
import { closeSolvedTickets } from './close-solved-tickets.ts';
import { createTicket } from './create-ticket.ts';
import { showSuspendedTicket } from './suspended-tickets.presenter.ts';
import { SuspendedEnvelope } from './suspended-tickets.schemas.ts';
import { softDeleteTicket } from './delete-ticket.ts';
import { parseTicketInput } from './ticket-input.ts';
import { destroyManyTickets } from './tickets.jobs.ts';
import { presentComment, presentTicket } from './tickets.presenter.ts';
import {
  countComments,
  countTickets,
  findTicket,
  findVisibleTickets,
  narrowTickets,
  selectComments,
  selectTickets,
  whereVisible,
  withAttachments,
  type TicketView,
  type TicketViewer,
} from './tickets.repository.ts';
import {
  CloseSolvedBody,
  CloseSolvedResponse,
  CommentsList,
  IdsQuery,
  OrganizationParams,
  TicketBody,
  TicketEnvelope,
  TicketParams,
  TicketsList,
  TicketWriteEnvelope,
  UserParams,
} from './tickets.schemas.ts';
import { updateTicket } from './update-ticket.ts';

const tags = ['Tickets'];
const ListQuery = Type.Object({ external_id: Type.Optional(Type.String({ maxLength: 255 })) }, { additionalProperties: true });
const CommentsQuery = Type.Object({ sort_order: Type.Optional(Type.String({ enum: ['asc', 'desc'] })) }, { additionalProperties: true });
const CountResponse = Type.Object({ count: Type.Object({ value: Type.Integer(), refreshed_at: Type.String() }) });

/** Zendesk answers a create or update with the ticket and the audit of that change. */
function writeResponse(request: FastifyRequest, ticket: TicketView, actorId: number, commentId: number | null) {
  return {
    ticket: presentTicket(ticket, baseUrl(request)),
    audit: {
      id: null,
      ticket_id: ticket.id,
      created_at: ticket.updated_at.toISOString(),
      author_id: actorId,
      events: commentId === null ? [] : [{ id: commentId, type: 'Comment' }],
    },
  };
}

export async function ticketsRoutes(app: App, { database, jobs }: Services): Promise<void> {
  const db = database.db;

  /** A visible-tickets list, offset or cursor, in id order; `narrow` picks a requester, organization, …. */
  const list = async (request: FastifyRequest, viewer: TicketViewer, narrow?: RawBuilder<boolean>) => {
    const accountId = request.ctx.account.id;
    const page = parsePage(request.query as Record<string, unknown>);
    let query = selectTickets(db, accountId, viewer).where(whereVisible(viewer));
    if (narrow) query = query.where(narrow);
    const rows = (await applyPage(query, 't.id', page).execute()) as TicketView[];
    const present = (row: TicketView) => presentTicket(row, baseUrl(request));
    if (page.kind === 'cursor') return envelope('tickets', cursorPage(request, rows, page, (row) => row.id), present);
    return envelope('tickets', offsetPage(request, rows, page, await countTickets(db, accountId, viewer, narrow)), present);
  };
  const visibleTicket = async (request: FastifyRequest, id: number): Promise<TicketView> => {
    const actor = requireUser(request);
    const ticket = await findTicket(db, request.ctx.account.id, id, actor);
    if (!ticket) throw errors.notFound();
    authorizeTickets.viewTicket(actor, ticket.visible);
    return ticket;
  };

  app.get('/api/v2/tickets', {
    schema: { tags, summary: 'List tickets (those the caller may see); `external_id` filters', querystring: ListQuery, response: { 200: TicketsList, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorizeTickets.useTicketsApi(actor);
    const externalId = queryString(request.query.external_id, 'external_id');
    return list(request, actor, externalId === undefined ? undefined : narrowTickets.externalId(externalId));
  });

  app.get('/api/v2/tickets/count', {
    schema: { tags, summary: 'Count the tickets the caller may see', response: { 200: CountResponse, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorizeTickets.useTicketsApi(actor);
    return { count: { value: await countTickets(db, request.ctx.account.id, actor), refreshed_at: new Date().toISOString() } };
  });

  app.get('/api/v2/tickets/show_many', {
    schema: { tags, summary: 'Show up to 100 tickets by id (those the caller may see)', querystring: IdsQuery, response: { 200: Type.Object({ tickets: Type.Array(TicketEnvelope.properties.ticket) }), ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorizeTickets.useTicketsApi(actor);
    const rows = await findVisibleTickets(db, request.ctx.account.id, parseIdList(request.query.ids, 'ids'), actor);
    return { tickets: rows.map((row) => presentTicket(row, baseUrl(request))) };
  });

  app.get('/api/v2/tickets/:ticket_id', {
    schema: { tags, summary: 'Show a ticket', params: TicketParams, response: { 200: TicketEnvelope, ...errorResponses } },
  }, async (request) => {
    return { ticket: presentTicket(await visibleTicket(request, request.params.ticket_id as number), baseUrl(request)) };
  });

  app.post('/api/v2/tickets', {
    schema: {
      tags,
      summary: 'Create a ticket (a new requester or CC address becomes a user; a suspended requester\'s ticket goes to the suspended tickets: 201 with suspended_ticket)',
      body: TicketBody,
      response: { 201: Type.Union([TicketWriteEnvelope, SuspendedEnvelope]), ...errorResponses },
    },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorizeTickets.useTicketsApi(actor);
    const input = parseTicketInput(request.body?.ticket, 'create');
    const result = await db.transaction().execute(async (tx) => {
      const created = await createTicket(tx, request.ctx.account, actor, input, { channel: 'api', via: 'ticket' });
      if ('suspendedTicketId' in created) return { suspended: await showSuspendedTicket(tx, request.ctx.account.id, created.suspendedTicketId, baseUrl(request)) };
      return { ticket: created.ticket ?? (await findTicket(tx, request.ctx.account.id, created.ticketId, null)), commentId: created.commentId };
    });
    if (result.suspended) {
      reply.code(201).header('Location', `${baseUrl(request)}/api/v2/suspended_tickets/${result.suspended.suspended_ticket.id}.json`);
      return result.suspended;
    }
    const { ticket, commentId } = result;
    if (!ticket) throw errors.notFound();
    reply.code(201).header('Location', `${baseUrl(request)}/api/v2/tickets/${ticket.id}.json`);
    return writeResponse(request, ticket, actor.id, commentId);
  });

  app.put('/api/v2/tickets/:ticket_id', {
    schema: { tags, summary: 'Update a ticket (closed tickets cannot be updated)', params: TicketParams, body: TicketBody, response: { 200: TicketWriteEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorizeTickets.useTicketsApi(actor);
    const id = request.params.ticket_id as number;
    const input = parseTicketInput(request.body?.ticket, 'update');
    const { ticket, commentId } = await db.transaction().execute(async (tx) => {
      const updated = await updateTicket(tx, request.ctx.account, actor, id, input);
      return { ticket: await findTicket(tx, request.ctx.account.id, id, null), commentId: updated.commentId };
    });
    if (!ticket) throw errors.notFound();
    return writeResponse(request, ticket, actor.id, commentId);
  });

  app.delete('/api/v2/tickets/:ticket_id', {
    schema: { tags, summary: 'Delete a ticket (soft: it goes to the deleted tickets)', params: TicketParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    await db.transaction().execute((tx) => softDeleteTicket(tx, request.ctx.account, actor, request.params.ticket_id as number));
    return reply.code(204).send(null);
  });

  app.delete('/api/v2/tickets/destroy_many', {
    schema: { tags, summary: 'Delete up to 100 tickets (soft), as a job', querystring: IdsQuery, response: { 200: JobStatusEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorizeTickets.deleteManyTickets(actor);
    const ids = parseIdList(request.query.ids, 'ids');
    const row = await jobs.enqueue(request.ctx.account, actor, destroyManyTickets.type, ids);
    return { job_status: presentJobStatus(row, baseUrl(request)) };
  });

  app.post('/api/v2/tickets/close_solved', {
    schema: {
      tags,
      summary: 'Close solved tickets now (admins); `ids` limits it to those tickets',
      body: CloseSolvedBody,
      response: { 200: CloseSolvedResponse, ...errorResponses },
    },
  }, async (request) => {
    const actor = requireUser(request);
    authorizeTickets.closeSolvedTickets(actor);
    const body = request.body as { ids?: number[] } | null | undefined;
    const ids = body?.ids === undefined ? undefined : [...new Set(body.ids)];
    const closed = ids?.length === 0 ? [] : await closeSolvedTickets(db, { accountId: request.ctx.account.id, ids, actorId: actor.id, now: new Date() });
    return { closed: closed.length, ticket_ids: closed };
  });

  app.get('/api/v2/tickets/:ticket_id/comments', {
    schema: { tags, summary: "A ticket's comments (offset or cursor); sort_order asc (default) or desc", params: TicketParams, querystring: CommentsQuery, response: { 200: CommentsList, ...errorResponses } },
  }, async (request) => {
    const ticket = await visibleTicket(request, request.params.ticket_id as number);
    const accountId = request.ctx.account.id;
    const page = parsePage(request.query as Record<string, unknown>);
    const direction = request.query.sort_order === 'desc' ? 'desc' : 'asc';
    const rows = await withAttachments(db, accountId, await applyPage(selectComments(db, accountId, ticket.id, false), 'c.id', page, direction).execute());
    const present = (row: (typeof rows)[number]) => presentComment(row, baseUrl(request));
    if (page.kind === 'cursor') return envelope('comments', cursorPage(request, rows, page, (row) => row.id), present);
    return envelope('comments', offsetPage(request, rows, page, await countComments(db, accountId, ticket.id, false)), present);
  });

  for (const kind of ['requested', 'ccd', 'assigned'] as const) {
    const what = kind === 'ccd' ? 'is CC’d on' : kind === 'requested' ? 'requested' : 'is assigned';
    app.get(`/api/v2/users/:user_id/tickets/${kind}`, {
      schema: { tags, summary: `Tickets the user ${what} (those the caller may see)`, params: UserParams, response: { 200: TicketsList, ...errorResponses } },
    }, async (request) => {
      const actor = requireUser(request);
      const userId = request.params.user_id as number;
      authorizeTickets.listUserTickets(actor, userId);
      const user = await db.selectFrom('users').select('id').where('account_id', '=', request.ctx.account.id).where('id', '=', userId).executeTakeFirst();
      if (!user) throw errors.notFound();
      const narrow = kind === 'requested' ? narrowTickets.requestedBy(userId) : kind === 'ccd' ? narrowTickets.ccd(userId) : narrowTickets.assignedTo(userId);
      return list(request, actor, narrow);
    });
  }

  app.get('/api/v2/organizations/:organization_id/tickets', {
    schema: { tags, summary: "An organization's tickets (those the caller may see)", params: OrganizationParams, response: { 200: TicketsList, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorizeTickets.useTicketsApi(actor);
    const organizationId = request.params.organization_id as number;
    const organization = await findOrganization(db, request.ctx.account.id, organizationId);
    if (!organization) throw errors.notFound();
    return list(request, actor, narrowTickets.organization(organizationId));
  });
}

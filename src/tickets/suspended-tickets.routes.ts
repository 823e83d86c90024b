import { Type, type Static } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { App, Services } from '../app.ts';
import { AppError, errors } from '../http/errors.ts';
import { applyPage, cursorPage, envelope, offsetPage, parsePage } from '../http/pagination.ts';
import { parseIdList, queryString } from '../http/params.ts';
import { errorResponses, IdParams, OffsetMeta } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { authorizeTicketPrivacy } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { deleteSuspendedTickets, recoverSuspendedTicket, selectSuspendedTickets, withSuspendedAttachments, type SuspendedTicketView } from './suspended-tickets.ts';
import { presentTicket } from './tickets.presenter.ts';
import { findTicket } from './tickets.repository.ts';
import { TicketResponse } from './tickets.schemas.ts';
import { presentSuspendedTicket } from './suspended-tickets.presenter.ts';
import { SuspendedEnvelope, SuspendedTicketResponse, type SuspendedTicketJson } from './suspended-tickets.schemas.ts';

const tags = ['Suspended Tickets'];

const SORTS = ['author_email', 'cause', 'created_at', 'subject'] as const;
const ListQuery = Type.Object(
  { sort_by: Type.Optional(Type.String({ enum: [...SORTS] })), sort_order: Type.Optional(Type.String({ enum: ['asc', 'desc'] })) },
  { additionalProperties: true },
);
const IdsQuery = Type.Object({ ids: Type.String({ description: 'Comma-separated suspended ticket ids (not ticket ids), at most 100' }) }, { additionalProperties: true });
const SuspendedList = Type.Object({ suspended_tickets: Type.Array(SuspendedTicketResponse), ...OffsetMeta });
/** Zendesk's RecoverSuspendedTicketResponse: the new ticket, in an array under `ticket`. */
const RecoverResponse = Type.Object({ ticket: Type.Array(TicketResponse) });
/**
 * Zendesk's RecoverSuspendedTicketsResponse; the ones that could not be recovered stay suspended
 * and are listed with their error_messages under `suspended_tickets` — present only when there are
 * some, as node-zendesk answers recoverMany with that key's value whenever the key exists.
 */
const RecoverManyResponse = Type.Object({ tickets: Type.Array(TicketResponse), suspended_tickets: Type.Optional(Type.Array(SuspendedTicketResponse)) });

export async function suspendedTicketsRoutes(app: App, { database, storage }: Services): Promise<void> {
  const db = database.db;

  const present = async (executor: Executor, request: FastifyRequest, ids: number[]) => {
    const accountId = request.ctx.account.id;
    const rows = ids.length === 0 ? [] : await selectSuspendedTickets(executor, accountId).where('s.id', 'in', ids).orderBy('s.id').execute();
    return withSuspendedAttachments(executor, accountId, rows);
  };
  const ticketJson = async (executor: Executor, request: FastifyRequest, id: number) => {
    const ticket = await findTicket(executor, request.ctx.account.id, id, null);
    if (!ticket) throw errors.notFound();
    return presentTicket(ticket, baseUrl(request));
  };

  app.get('/api/v2/suspended_tickets', {
    schema: {
      tags,
      summary: 'The suspended tickets queue (admins, agents with access to all tickets); sort_by author_email, cause, created_at or subject; cursor or offset pagination (cursors order by creation)',
      querystring: ListQuery,
      response: { 200: SuspendedList, ...errorResponses },
    },
  }, async (request) => {
    authorizeTicketPrivacy.manageSuspendedTickets(requireUser(request));
    const query = request.query as Record<string, unknown>;
    const sort = queryString(query.sort_by, 'sort_by') ?? 'created_at';
    const order = queryString(query.sort_order, 'sort_order') === 'desc' ? 'desc' : 'asc';
    const page = parsePage(query);
    const accountId = request.ctx.account.id;
    const base = baseUrl(request);
    const show = (row: SuspendedTicketView) => presentSuspendedTicket(row, base);
    if (page.kind === 'cursor') {
      if (sort !== 'created_at') throw errors.pagination('Cursor pagination orders suspended tickets by creation; use page and per_page to sort by another column');
      const rows = await applyPage(selectSuspendedTickets(db, accountId), 's.id', page, order).execute();
      return envelope('suspended_tickets', cursorPage(request, await withSuspendedAttachments(db, accountId, rows), page, (row) => row.id), show);
    }
    const column = sort === 'author_email' ? 's.author_email' : sort === 'cause' ? 's.cause' : sort === 'subject' ? 's.subject' : 's.created_at';
    const rows = await selectSuspendedTickets(db, accountId).orderBy(column, order).orderBy('s.id', order).offset((page.page - 1) * page.perPage).limit(page.perPage).execute();
    const count = await selectSuspendedTickets(db, accountId).clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return envelope('suspended_tickets', offsetPage(request, await withSuspendedAttachments(db, accountId, rows), page, Number(count.n)), show);
  });

  app.get('/api/v2/suspended_tickets/:id', {
    schema: { tags, summary: 'Show a suspended ticket', params: IdParams('id'), response: { 200: SuspendedEnvelope, ...errorResponses } },
  }, async (request) => {
    authorizeTicketPrivacy.manageSuspendedTickets(requireUser(request));
    const [row] = await present(db, request, [(request.params as { id: number }).id]);
    if (!row) throw errors.notFound();
    return { suspended_ticket: presentSuspendedTicket(row, baseUrl(request)) };
  });

  app.put('/api/v2/suspended_tickets/:id/recover', {
    schema: {
      tags,
      summary: 'Recover a suspended ticket into a ticket; as in Zendesk the calling agent becomes its requester (the author stays the author of its first comment)',
      params: IdParams('id'),
      response: { 200: RecoverResponse, ...errorResponses },
    },
  }, async (request) => {
    const actor = requireUser(request);
    const id = (request.params as { id: number }).id;
    const ticket = await db.transaction().execute(async (tx) => ticketJson(tx, request, await recoverSuspendedTicket(tx, request.ctx.account, actor, id, 'caller')));
    return { ticket: [ticket] };
  });

  app.put('/api/v2/suspended_tickets/recover_many', {
    schema: {
      tags,
      summary: 'Recover up to 100 suspended tickets, each keeping its author as requester; those that cannot be recovered (author still suspended) stay suspended and are listed with error_messages',
      querystring: IdsQuery,
      response: { 200: RecoverManyResponse, ...errorResponses },
    },
  }, async (request) => {
    const actor = requireUser(request);
    authorizeTicketPrivacy.manageSuspendedTickets(actor);
    const ids = parseIdList((request.query as Record<string, unknown>).ids, 'ids');
    const found = await present(db, request, ids);
    if (found.length !== ids.length) throw errors.notFound();
    const tickets: Static<typeof TicketResponse>[] = [];
    const failed: SuspendedTicketJson[] = [];
    // Each in its own transaction: one that cannot be recovered does not hold back the others.
    for (const row of found) {
      try {
        tickets.push(await db.transaction().execute(async (tx) => ticketJson(tx, request, await recoverSuspendedTicket(tx, request.ctx.account, actor, row.id, 'author'))));
      } catch (error) {
        if (!(error instanceof AppError) || error.status !== 422) throw error;
        failed.push(presentSuspendedTicket(row, baseUrl(request), error));
      }
    }
    return failed.length > 0 ? { tickets, suspended_tickets: failed } : { tickets };
  });

  app.delete('/api/v2/suspended_tickets/:id', {
    schema: { tags, summary: 'Delete a suspended ticket and its uploads', params: IdParams('id'), response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    const id = (request.params as { id: number }).id;
    await db.transaction().execute((tx) => deleteSuspendedTickets(tx, storage, request.ctx.account, actor, [id]));
    return reply.code(204).send(null);
  });

  app.delete('/api/v2/suspended_tickets/destroy_many', {
    schema: { tags, summary: 'Delete up to 100 suspended tickets, all or none', querystring: IdsQuery, response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorizeTicketPrivacy.manageSuspendedTickets(actor);
    const ids = parseIdList((request.query as Record<string, unknown>).ids, 'ids');
    await db.transaction().execute((tx) => deleteSuspendedTickets(tx, storage, request.ctx.account, actor, ids));
    return reply.code(204).send(null);
  });
}

import { Type } from 'typebox';
import type { App, Services } from '../app.ts';
import { errors } from '../http/errors.ts';
import { applyPage, cursorPage, envelope, offsetPage, parsePage } from '../http/pagination.ts';
import { parseIdList, queryString } from '../http/params.ts';
import { DateTime, errorResponses, IdParams, OffsetMeta } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { presentJobStatus } from '../jobs/job-statuses.presenter.ts';
import { JobStatusEnvelope } from '../jobs/job-statuses.schemas.ts';
import { authorizeTicketPrivacy } from '../policy/policy.ts';
import { DELETED_SORTS, restoreDeletedTickets, selectDeletedTickets, type DeletedSort, type DeletedTicketView } from './deleted-tickets.ts';
import { PURGE_DELETED_TICKETS } from './deleted-tickets.jobs.ts';

const tags = ['Deleted Tickets'];
/** Zendesk's ListDeletedTicketsResponse item. */
const DeletedTicket = Type.Object({
  id: Type.Integer(),
  subject: Type.String(),
  deleted_at: DateTime,
  previous_state: Type.String(),
  actor: Type.Union([Type.Object({ id: Type.Integer(), name: Type.String() }), Type.Null()]),
});
const DeletedTicketsList = Type.Object({ deleted_tickets: Type.Array(DeletedTicket), ...OffsetMeta });
const ListQuery = Type.Object(
  { sort_by: Type.Optional(Type.String({ enum: [...DELETED_SORTS] })), sort_order: Type.Optional(Type.String({ enum: ['asc', 'desc'] })) },
  { additionalProperties: true },
);
const IdsQuery = Type.Object({ ids: Type.String({ description: 'Comma-separated ticket ids, at most 100' }) }, { additionalProperties: true });
const EmptyResponse = Type.Null({ description: 'Empty response' });

function presentDeletedTicket(row: DeletedTicketView) {
  return {
    id: row.id,
    subject: row.subject,
    deleted_at: row.deleted_at.toISOString(),
    previous_state: row.status,
    actor: row.actor_id !== null && row.actor_name !== null ? { id: row.actor_id, name: row.actor_name } : null,
  };
}

export async function deletedTicketsRoutes(app: App, { database, jobs }: Services): Promise<void> {
  const db = database.db;

  app.get('/api/v2/deleted_tickets', {
    schema: {
      tags,
      summary: 'Soft-deleted tickets in the caller\'s ticket scope (view_deleted_tickets); sort_by id, subject or deleted_at; offset or cursor pagination (cursors order by id)',
      querystring: ListQuery,
      response: { 200: DeletedTicketsList, ...errorResponses },
    },
  }, async (request) => {
    const actor = requireUser(request);
    authorizeTicketPrivacy.viewDeletedTickets(actor);
    const query = request.query as Record<string, unknown>;
    const sort = (queryString(query.sort_by, 'sort_by') ?? 'id') as DeletedSort;
    const order = queryString(query.sort_order, 'sort_order') === 'desc' ? 'desc' : 'asc';
    const page = parsePage(query);
    const accountId = request.ctx.account.id;
    const base = selectDeletedTickets(db, accountId, actor);
    if (page.kind === 'cursor') {
      if (sort !== 'id') throw errors.pagination('Cursor pagination orders deleted tickets by id; use page and per_page to sort by subject or deleted_at');
      const rows = (await applyPage(base, 't.id', page, order).execute()) as DeletedTicketView[];
      return envelope('deleted_tickets', cursorPage(request, rows, page, (row) => row.id), presentDeletedTicket);
    }
    const sortColumn = sort === 'subject' ? 't.subject' : sort === 'deleted_at' ? 't.deleted_at' : 't.id';
    const rows = (await base.orderBy(sortColumn, order).orderBy('t.id', order).offset((page.page - 1) * page.perPage).limit(page.perPage).execute()) as DeletedTicketView[];
    const count = await selectDeletedTickets(db, accountId, actor).clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return envelope('deleted_tickets', offsetPage(request, rows, page, Number(count.n)), presentDeletedTicket);
  });

  app.put('/api/v2/deleted_tickets/:ticket_id/restore', {
    schema: { tags, summary: 'Restore a soft-deleted ticket (ticket_deletion)', params: IdParams('ticket_id'), response: { 200: EmptyResponse, ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    const id = (request.params as { ticket_id: number }).ticket_id;
    await db.transaction().execute((tx) => restoreDeletedTickets(tx, request.ctx.account, actor, [id]));
    return reply.code(200).send(null);
  });

  app.put('/api/v2/deleted_tickets/restore_many', {
    schema: { tags, summary: 'Restore up to 100 soft-deleted tickets, all or none (ticket_deletion and bulk_actions)', querystring: IdsQuery, response: { 200: EmptyResponse, ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorizeTicketPrivacy.manageDeletedTickets(actor, true);
    const ids = parseIdList((request.query as Record<string, unknown>).ids, 'ids');
    await db.transaction().execute((tx) => restoreDeletedTickets(tx, request.ctx.account, actor, ids));
    return reply.code(200).send(null);
  });

  app.delete('/api/v2/deleted_tickets/:ticket_id', {
    schema: {
      tags,
      summary: 'Permanently delete a soft-deleted ticket, as a job: only an anonymous record stays (id, dates, last status, channel, group)',
      params: IdParams('ticket_id'),
      response: { 200: JobStatusEnvelope, ...errorResponses },
    },
  }, async (request) => {
    const actor = requireUser(request);
    authorizeTicketPrivacy.manageDeletedTickets(actor, false);
    const id = (request.params as { ticket_id: number }).ticket_id;
    // A ticket that is not in the Deleted tickets view (or not in the caller's scope) is a 404 now, not a failed job later.
    const found = await selectDeletedTickets(db, request.ctx.account.id, actor).where('t.id', '=', id).executeTakeFirst();
    if (!found) throw errors.notFound();
    const row = await jobs.enqueue(request.ctx.account, actor, PURGE_DELETED_TICKETS, [id]);
    return { job_status: presentJobStatus(row, baseUrl(request)) };
  });

  app.delete('/api/v2/deleted_tickets/destroy_many', {
    schema: {
      tags,
      summary: 'Permanently delete up to 100 soft-deleted tickets, as a job; a ticket that fails does not stop the others',
      querystring: IdsQuery,
      response: { 200: JobStatusEnvelope, ...errorResponses },
    },
  }, async (request) => {
    const actor = requireUser(request);
    authorizeTicketPrivacy.manageDeletedTickets(actor, true);
    const ids = parseIdList((request.query as Record<string, unknown>).ids, 'ids');
    const row = await jobs.enqueue(request.ctx.account, actor, PURGE_DELETED_TICKETS, ids);
    return { job_status: presentJobStatus(row, baseUrl(request)) };
  });
}

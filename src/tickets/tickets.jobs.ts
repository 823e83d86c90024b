import { errors } from '../http/errors.ts';
import { itemFailure, type ItemJobDefinition } from '../jobs/jobs.ts';
import { softDeleteTicket } from './delete-ticket.ts';

/** DELETE /api/v2/tickets/destroy_many: each ticket soft-deleted in its own transaction, under its starter's ticket scope. */
export const destroyManyTickets: ItemJobDefinition<number> = {
  type: 'destroy_many_tickets',
  async run(tx, { account, actor }, id, index) {
    if (!actor) throw errors.forbidden();
    await softDeleteTicket(tx, account, actor, id);
    return { index, id, action: 'delete', status: 'Deleted', success: true };
  },
  failure: (id, index, error) => itemFailure(index, error, id),
};

export const ticketJobs = [destroyManyTickets] as const;

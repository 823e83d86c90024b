import { errors } from '../http/errors.ts';
import { itemFailure, type ItemJobDefinition } from '../jobs/jobs.ts';
import { authorizeTicketPrivacy } from '../policy/policy.ts';
import { purgeDeletedTicket } from './deleted-tickets.ts';
import type { FileStorage } from './storage.ts';

export const PURGE_DELETED_TICKETS = 'destroy_many_deleted_tickets';

/**
 * DELETE /api/v2/deleted_tickets/{id} and …/destroy_many: each ticket permanently deleted in its
 * own transaction, so one that fails (restored meanwhile, out of the starter's scope) does not
 * stop the others. The job needs the storage to remove attachment bytes, hence a factory.
 */
export function deletedTicketJobs(storage: FileStorage): [ItemJobDefinition<number>] {
  return [
    {
      type: PURGE_DELETED_TICKETS,
      async run(tx, { account, actor }, id, index) {
        if (!actor) throw errors.forbidden();
        // Checked per item against the starter's permissions as they are now.
        authorizeTicketPrivacy.manageDeletedTickets(actor, false);
        await purgeDeletedTicket(tx, storage, account, actor, id);
        return { index, id, action: 'delete', status: 'Deleted', success: true };
      },
      failure: (id, index, error) => itemFailure(index, error, id),
    },
  ];
}

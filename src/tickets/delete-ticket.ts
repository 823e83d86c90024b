import type { Account } from '../db/tables.ts';
import { audit } from '../audit/audit.ts';
import { errors } from '../http/errors.ts';
import { authorizeTickets } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { findTicket, lockTicket, type TicketViewer } from './tickets.repository.ts';

/**
 * Soft-deletes a ticket (Zendesk's Deleted tickets view): it leaves every list and read but keeps
 * its status, comments and people, so it can be restored until it is permanently deleted.
 */
export async function softDeleteTicket(tx: Executor, account: Account, actor: TicketViewer, id: number): Promise<void> {
  const row = await lockTicket(tx, account.id, id);
  if (!row) throw errors.notFound();
  const view = await findTicket(tx, account.id, id, actor);
  authorizeTickets.deleteTicket(actor, view?.visible === true);
  const now = new Date();
  await tx.updateTable('tickets').set({ deleted_at: now, deleted_by_id: actor.id, updated_at: now }).where('account_id', '=', account.id).where('id', '=', id).execute();
  await audit(tx, { accountId: account.id, actorId: actor.id, action: 'ticket.soft_delete', targetType: 'ticket', targetId: id });
}

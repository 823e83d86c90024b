import type { Account, CollaboratorKind } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import { authorizeTickets, type Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { findOrCreatePerson } from './find-or-create-person.ts';
import type { PeopleChange, PersonRef } from './ticket-input.ts';

const MAX_PEOPLE = 48;

async function resolveAll(tx: Executor, account: Account, actor: Actor | null, refs: PersonRef[], field: string, create: boolean, via: 'ticket' | 'request'): Promise<number[]> {
  const ids: number[] = [];
  for (const ref of refs) {
    if (create && !('id' in ref)) authorizeTickets.bringInUser(actor, via);
    const person = await findOrCreatePerson(tx, account, actor, ref, field, create);
    if (kindNeedsStaff(field) && person.role === 'end-user') throw errors.field(field, 'InvalidValue', 'Followers must be agents or admins');
    if (!ids.includes(person.id)) ids.push(person.id);
  }
  return ids;
}

const kindNeedsStaff = (field: string): boolean => field.startsWith('follower');

/**
 * Applies a CC or follower change to a ticket: a replacement list, then additions and removals.
 * New addresses among CCs become users (DOMAIN.md §2, arrival path 3); followers must be staff.
 * Returns whether anything changed.
 */
export async function applyPeople(
  tx: Executor,
  account: Account,
  actor: Actor | null,
  ticketId: number,
  kind: CollaboratorKind,
  change: PeopleChange,
  via: 'ticket' | 'request',
): Promise<boolean> {
  const field = kind === 'email_cc' ? 'email_ccs' : 'followers';
  const create = kind === 'email_cc';
  if (change.set === undefined && change.add.length === 0 && change.remove.length === 0) return false;
  const current = (await tx
    .selectFrom('ticket_collaborators')
    .select('user_id')
    .where('account_id', '=', account.id)
    .where('ticket_id', '=', ticketId)
    .where('kind', '=', kind)
    .execute()).map((row) => row.user_id);
  let next = change.set === undefined ? [...current] : await resolveAll(tx, account, actor, change.set, field, create, via);
  for (const id of await resolveAll(tx, account, actor, change.add, field, create, via)) if (!next.includes(id)) next.push(id);
  // Removals name existing people only: an unknown address is simply not on the ticket.
  for (const ref of change.remove) {
    const person = await findOrCreatePerson(tx, account, actor, ref, field, false).catch(() => undefined);
    if (person) next = next.filter((id) => id !== person.id);
  }
  if (next.length > MAX_PEOPLE) throw errors.field(field, 'InvalidValue', `A ticket takes at most ${MAX_PEOPLE} ${kind === 'email_cc' ? 'CCs' : 'followers'}`);
  const added = next.filter((id) => !current.includes(id));
  const removed = current.filter((id) => !next.includes(id));
  if (removed.length > 0) {
    await tx.deleteFrom('ticket_collaborators').where('account_id', '=', account.id).where('ticket_id', '=', ticketId).where('kind', '=', kind).where('user_id', 'in', removed).execute();
  }
  if (added.length > 0) {
    await tx.insertInto('ticket_collaborators').values(added.map((userId) => ({ account_id: account.id, ticket_id: ticketId, user_id: userId, kind }))).execute();
  }
  return added.length > 0 || removed.length > 0;
}

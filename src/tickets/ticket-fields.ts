import type { Account } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import type { Executor } from '../users/users.repository.ts';
import { findPersonByEmail, findPersonById } from './find-or-create-person.ts';
import type { TicketInput } from './ticket-input.ts';
import { liveGroupExists } from '../groups/groups.repository.ts';

/** The assignee a ticket names: a live agent or admin of the account. */
export async function checkAssignee(tx: Executor, account: Account, assignee: NonNullable<TicketInput['assignee']>): Promise<number> {
  const person = 'id' in assignee ? await findPersonById(tx, account.id, assignee.id) : await findPersonByEmail(tx, account.id, assignee.emailKey);
  const field = 'id' in assignee ? 'assignee_id' : 'assignee_email';
  if (!person) throw errors.field(field, 'InvalidValue', 'There is no such user');
  if (person.role === 'end-user') throw errors.field(field, 'InvalidValue', 'The assignee must be an agent or admin');
  return person.id;
}

/** A live group of the account. */
export async function checkGroup(tx: Executor, account: Account, groupId: number): Promise<void> {
  if (!(await liveGroupExists(tx, account.id, groupId))) throw errors.field('group_id', 'InvalidValue', 'There is no such group');
}

/** Zendesk: an assignee must belong to the ticket's group. */
export async function checkAssigneeInGroup(tx: Executor, account: Account, assigneeId: number, groupId: number): Promise<void> {
  const member = await tx
    .selectFrom('group_memberships')
    .select('id')
    .where('account_id', '=', account.id)
    .where('user_id', '=', assigneeId)
    .where('group_id', '=', groupId)
    .executeTakeFirst();
  if (!member) throw errors.field('assignee_id', 'InvalidValue', 'The assignee is not a member of the group');
}

/** The ticket's organization must be one of the requester's (DOMAIN.md §4; Zendesk's rule). */
export async function checkRequesterOrganization(tx: Executor, account: Account, requesterId: number, organizationId: number): Promise<void> {
  const membership = await tx
    .selectFrom('organization_memberships')
    .select('id')
    .where('account_id', '=', account.id)
    .where('user_id', '=', requesterId)
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  if (!membership) throw errors.field('organization_id', 'InvalidValue', "The organization must be one of the requester's organizations");
}

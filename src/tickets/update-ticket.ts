import type { Account, TicketStatus, TicketsTable } from '../db/tables.ts';
import type { Updateable } from 'kysely';
import { audit } from '../audit/audit.ts';
import { errors } from '../http/errors.ts';
import { authorizeTickets, isStaff } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { addComment } from './add-comment.ts';
import { closedStatusRefused } from './create-ticket.ts';
import { findOrCreatePerson, findPersonById } from './find-or-create-person.ts';
import { checkAssignee, checkAssigneeInGroup, checkGroup, checkRequesterOrganization } from './ticket-fields.ts';
import type { TicketInput } from './ticket-input.ts';
import { applyPeople } from './ticket-people.ts';
import { findTicket, lockTicket, type TicketViewer } from './tickets.repository.ts';

export function closedTicketRefused(): never {
  throw errors.field('status', 'InvalidValue', 'Status: closed prevents ticket update');
}

/**
 * Updates a ticket in the caller's transaction: fields, a new comment, CCs and followers.
 * The row is locked first, so concurrent updates of one ticket apply one after the other; the
 * caller's ticket scope is checked on the locked row. A closed ticket takes no update at all
 * (DOMAIN.md §4), and nobody sets `closed` by hand.
 */
export async function updateTicket(tx: Executor, account: Account, actor: TicketViewer, id: number, input: TicketInput): Promise<{ commentId: number | null }> {
  const row = await lockTicket(tx, account.id, id);
  if (!row) throw errors.notFound();
  const view = await findTicket(tx, account.id, id, actor);
  authorizeTickets.updateTicket(actor, view?.visible === true);
  if (row.status === 'closed') closedTicketRefused();
  if (input.status !== undefined && !authorizeTickets.settableStatus(input.status)) closedStatusRefused();
  if (input.status === 'new' && row.status !== 'new') throw errors.field('status', 'InvalidValue', 'Status: a ticket cannot go back to new');

  const patch: Updateable<TicketsTable> = {};
  if (input.subject !== undefined) patch.subject = input.subject;
  if (input.priority !== undefined) patch.priority = input.priority;
  if (input.type !== undefined) patch.type = input.type;
  if (input.externalId !== undefined) patch.external_id = input.externalId;
  if (input.dueAt !== undefined) patch.due_at = input.dueAt;
  if (input.submitterId !== undefined) {
    if (!(await findPersonById(tx, account.id, input.submitterId))) throw errors.field('submitter_id', 'InvalidValue', 'There is no such user');
    patch.submitter_id = input.submitterId;
  }

  let requesterId = row.requester_id;
  if (input.requester) {
    if (!('id' in input.requester)) authorizeTickets.bringInUser(actor, 'ticket');
    const requester = await findOrCreatePerson(tx, account, actor, input.requester, 'requester', true);
    if (requester.id !== row.requester_id) {
      requesterId = requester.id;
      patch.requester_id = requester.id;
      // A new requester brings their own default organization, unless one is named below.
      if (input.organizationId === undefined) patch.organization_id = requester.organization_id;
    }
  }
  if (input.organizationId !== undefined) {
    if (input.organizationId !== null) await checkRequesterOrganization(tx, account, requesterId, input.organizationId);
    patch.organization_id = input.organizationId;
  }

  let assigneeId = row.assignee_id;
  if (input.assignee !== undefined) {
    assigneeId = input.assignee === null ? null : await checkAssignee(tx, account, input.assignee);
    patch.assignee_id = assigneeId;
  }
  let groupId = row.group_id;
  if (input.groupId !== undefined) {
    if (input.groupId !== null) await checkGroup(tx, account, input.groupId);
    groupId = input.groupId;
    patch.group_id = groupId;
  }
  if (assigneeId !== null && groupId !== null && (input.assignee !== undefined || input.groupId !== undefined)) {
    await checkAssigneeInGroup(tx, account, assigneeId, groupId);
  }

  let status: TicketStatus = input.status ?? row.status;
  if (status === 'new' && assigneeId !== null) status = 'open';
  const now = new Date();
  if (status !== row.status) {
    patch.status = status;
    // solved_at starts the auto-close clock; reopening stops it.
    patch.solved_at = status === 'solved' ? now : null;
  }

  if (input.tags !== undefined || input.addTags.length > 0 || input.removeTags.length > 0) {
    let tags = input.tags ?? row.tags;
    tags = [...tags, ...input.addTags.filter((tag) => !tags.includes(tag))];
    patch.tags = tags.filter((tag) => !input.removeTags.includes(tag));
  }

  let commentId: number | null = null;
  if (input.comment) {
    if (input.comment.authorId !== undefined && !(await findPersonById(tx, account.id, input.comment.authorId))) {
      throw errors.field('comment.author_id', 'InvalidValue', 'There is no such user');
    }
    commentId = await addComment(tx, account, {
      ticketId: id,
      authorId: input.comment.authorId ?? actor.id,
      // End users only ever write public comments; staff choose (public by default).
      input: isStaff(actor) ? input.comment : { ...input.comment, public: true },
      public: true,
      channel: 'api',
      uploaderId: actor.id,
    });
    if (input.comment.public !== false || !isStaff(actor)) patch.is_public = true;
  }
  await applyPeople(tx, account, actor, id, 'email_cc', input.emailCcs, 'ticket');
  await applyPeople(tx, account, actor, id, 'follower', input.followers, 'ticket');

  patch.updated_at = now;
  await tx.updateTable('tickets').set(patch).where('account_id', '=', account.id).where('id', '=', id).execute();
  await audit(tx, { accountId: account.id, actorId: actor.id, action: 'ticket.update', targetType: 'ticket', targetId: id, changedFields: input.fields });
  return { commentId };
}

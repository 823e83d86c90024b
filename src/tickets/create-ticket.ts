import { sql } from 'kysely';
import type { Account, TicketStatus } from '../db/tables.ts';
import { auditCreation } from '../audit/audit.ts';
import { errors } from '../http/errors.ts';
import { authorizeTickets, type Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { attachUploads } from './add-comment.ts';
import { commentBodies } from './comment-bodies.ts';
import { findOrCreatePerson, findPersonById } from './find-or-create-person.ts';
import { checkAssignee, checkAssigneeInGroup, checkGroup, checkRequesterOrganization } from './ticket-fields.ts';
import type { TicketInput } from './ticket-input.ts';
import { applyPeople } from './ticket-people.ts';
import type { TicketView } from './tickets.repository.ts';
import { suspendSubmission } from './suspend-submission.ts';
import { FORGOTTEN_IDENTITY_CAUSE, ForgottenIdentity } from '../privacy/erasure/suppression.ts';

export interface CreateTicketOptions {
  /** `api` for POST /tickets, `web` for requests, `email` for inbound mail (Zendesk's via.channel). */
  channel: 'api' | 'web' | 'email';
  via: 'ticket' | 'request';
}

export interface CreatedTicket {
  ticketId: number;
  commentId: number;
  /** Whether the requester was created on the way. */
  requesterCreated: boolean;
  /**
   * The ticket as the API shows it, built from the insert when nothing else shaped it (no CCs or
   * followers): the caller then needs no read-back. Undefined: read it.
   */
  ticket?: TicketView;
}

/** A suspended requester's submission, kept in the suspended tickets queue instead (src/tickets/suspend-submission.ts). */
export interface SuspendedSubmission {
  suspendedTicketId: number;
}

export function closedStatusRefused(): never {
  throw errors.field('status', 'InvalidValue', 'Status: closed is set only by the auto-close automation or by an admin closing solved tickets');
}

/**
 * Creates a ticket with its first comment (the description), in the caller's transaction. The
 * requester is found by id or by any email identity, or created (DOMAIN.md §2); CC addresses
 * likewise. `actor` is null for an anonymous request; the requester then comes from the input.
 */
export async function createTicket(tx: Executor, account: Account, actor: Actor | null, input: TicketInput, options: CreateTicketOptions): Promise<CreatedTicket | SuspendedSubmission> {
  const comment = input.comment;
  if (!comment) throw errors.field('comment', 'BlankValue', 'Description: cannot be blank (send a comment)');
  if (input.status !== undefined && !authorizeTickets.settableStatus(input.status)) closedStatusRefused();

  let requesterId: number;
  let requesterCreated = false;
  // The requester's default organization, when already read with them (saves a look-up).
  let requesterOrganizationId: number | null | undefined;
  if (input.requester) {
    if (!('id' in input.requester)) authorizeTickets.bringInUser(actor, options.via);
    const ref = input.requester;
    const requester = await findOrCreatePerson(tx, account, actor, ref, 'requester', true, { requester: true }).catch((error: unknown) => {
      if (error instanceof ForgottenIdentity && !('id' in ref)) return { forgotten: ref };
      throw error;
    });
    // A forgotten identity under the `suspend` policy: no profile, the submission is held (src/privacy/erasure/suppression.ts).
    if ('forgotten' in requester) {
      const author = { name: requester.forgotten.name ?? null, email: requester.forgotten.email };
      return { suspendedTicketId: await suspendSubmission(tx, account, actor, null, input, { channel: options.channel, via: options.via, submitterId: actor?.id ?? null, cause: FORGOTTEN_IDENTITY_CAUSE, author }) };
    }
    requesterId = requester.id;
    requesterCreated = requester.created;
    requesterOrganizationId = requester.organization_id;
    // A suspended requester's request or ticket waits in the suspended tickets queue (DOMAIN.md §5).
    if (requester.suspended) {
      const submitterId = input.submitterId ?? actor?.id ?? requester.id;
      return { suspendedTicketId: await suspendSubmission(tx, account, actor, requester.id, input, { channel: options.channel, via: options.via, submitterId }) };
    }
  } else if (actor) {
    requesterId = actor.id;
  } else {
    throw errors.field('requester', 'BlankValue', 'Requester: cannot be blank');
  }

  let submitterId = actor?.id ?? requesterId;
  if (input.submitterId !== undefined) {
    if (!(await findPersonById(tx, account.id, input.submitterId))) throw errors.field('submitter_id', 'InvalidValue', 'There is no such user');
    submitterId = input.submitterId;
  }
  const assigneeId = input.assignee ? await checkAssignee(tx, account, input.assignee) : null;
  const groupId = input.groupId ?? null;
  if (groupId !== null) await checkGroup(tx, account, groupId);
  if (assigneeId !== null && groupId !== null) await checkAssigneeInGroup(tx, account, assigneeId, groupId);

  let organizationId: number | null;
  if (input.organizationId !== undefined && input.organizationId !== null) {
    await checkRequesterOrganization(tx, account, requesterId, input.organizationId);
    organizationId = input.organizationId;
  } else if (input.organizationId === null) {
    organizationId = null;
  } else {
    organizationId = requesterOrganizationId !== undefined ? requesterOrganizationId : ((await findPersonById(tx, account.id, requesterId))?.organization_id ?? null);
  }

  // An assigned ticket is open, as in Zendesk: `new` means nobody has it yet.
  let status: TicketStatus = input.status ?? (assigneeId === null ? 'new' : 'open');
  if (status === 'new' && assigneeId !== null) status = 'open';
  const now = new Date();
  const authorId = comment.authorId ?? submitterId;
  if (comment.authorId !== undefined && !(await findPersonById(tx, account.id, comment.authorId))) {
    throw errors.field('comment.author_id', 'InvalidValue', 'There is no such user');
  }

  // The ticket, its first comment and the audit entry in one statement (the arrival path is hot:
  // bench:tickets); uploads are attached afterwards, when there are any.
  const bodies = commentBodies(comment.body, comment.htmlBody);
  const isPublic = comment.public ?? true;
  const inserted = await tx
    .with('t', (qc) =>
      qc
        .insertInto('tickets')
        .values({
          account_id: account.id,
          subject: input.subject ?? '',
          status,
          priority: input.priority ?? null,
          type: input.type ?? null,
          requester_id: requesterId,
          submitter_id: submitterId,
          assignee_id: assigneeId,
          group_id: groupId,
          organization_id: organizationId,
          external_id: input.externalId ?? null,
          tags: input.tags ?? [],
          via_channel: options.channel,
          recipient: input.recipient ?? null,
          due_at: input.dueAt ?? null,
          is_public: isPublic,
          created_at: now,
          updated_at: now,
          solved_at: status === 'solved' ? now : null,
        })
        .returningAll(),
    )
    .with('c', () => sql`(INSERT INTO ticket_comments (account_id, ticket_id, author_id, body, html_body, plain_body, public, via_channel)
      SELECT t.account_id, t.id, ${authorId}::bigint, ${bodies.body}, ${bodies.html_body}, ${bodies.plain_body}, ${isPublic}, ${options.channel} FROM t
      RETURNING id)`)
    .with('a', () =>
      auditCreation('t', { actorId: actor?.id ?? null, action: options.via === 'request' ? 'request.create' : 'ticket.create', targetType: 'ticket', changedFields: input.fields }),
    )
    .selectFrom('t')
    .selectAll('t')
    .select(sql<number>`(SELECT id FROM c)`.as('comment_id'))
    .executeTakeFirstOrThrow();
  const { comment_id: insertedCommentId, ...ticket } = inserted;
  const commentId = Number(insertedCommentId);
  await attachUploads(tx, account.id, ticket.id, commentId, comment.uploads, actor?.id ?? null);

  // The requester is never their own CC.
  const ccsChanged = await applyPeople(tx, account, actor, ticket.id, 'email_cc', input.emailCcs, options.via);
  if (ccsChanged) {
    await tx.deleteFrom('ticket_collaborators').where('account_id', '=', account.id).where('ticket_id', '=', ticket.id).where('kind', '=', 'email_cc').where('user_id', '=', requesterId).execute();
  }
  const followersChanged = await applyPeople(tx, account, actor, ticket.id, 'follower', input.followers, options.via);

  const view: TicketView | undefined = ccsChanged || followersChanged ? undefined : { ...ticket, description: bodies.body, email_cc_ids: [], follower_ids: [], visible: true };
  return { ticketId: ticket.id, commentId, requesterCreated, ...(view ? { ticket: view } : {}) };
}

import type { Account } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import { authorizeTickets, type Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { effectiveSettings } from '../accounts/account-settings.routes.ts';
import { createTicket, type CreatedTicket, type SuspendedSubmission } from './create-ticket.ts';
import type { TicketInput } from './ticket-input.ts';

const SUBJECT_FROM_BODY = 80;

/**
 * POST /api/v2/requests: a signed-in user (usually an end user) submits a request as its
 * requester, or — when the account allows anonymous requests — a visitor gives their name and
 * email and becomes (or is matched to) a user (DOMAIN.md §2, arrival path 1). A request sets
 * only what a requester may: subject, the comment (always public), priority, type, due date
 * and CCs; staff-only fields (assignee, group, status, tags, …) are ignored as Zendesk does.
 */
export async function submitRequest(
  tx: Executor,
  account: Account,
  actor: Actor | null,
  input: TicketInput,
  options: { channel: 'web' | 'email' } = { channel: 'web' },
): Promise<CreatedTicket | SuspendedSubmission> {
  // Mail to the support address is always taken in (src/mail/inbound), as in Zendesk: the
  // anonymous-requests setting governs the web form and the API only.
  authorizeTickets.submitRequest(actor, options.channel === 'email' || effectiveSettings(account.settings).anonymous_requests);
  if (actor === null && (!input.requester || 'id' in input.requester)) {
    throw errors.field('requester', 'BlankValue', 'Requester: name and email are required for an anonymous request');
  }
  const comment = input.comment ? { ...input.comment, public: true, authorId: undefined } : undefined;
  const description = comment?.body ?? comment?.htmlBody ?? '';
  const subject = input.subject !== undefined && input.subject !== '' ? input.subject : description.trim().split('\n')[0]?.slice(0, SUBJECT_FROM_BODY) ?? '';
  const request: TicketInput = {
    subject,
    ...(comment ? { comment } : {}),
    ...(actor === null && input.requester ? { requester: input.requester } : {}),
    ...(input.priority !== undefined ? { priority: input.priority } : {}),
    ...(input.type !== undefined ? { type: input.type } : {}),
    ...(input.dueAt !== undefined ? { dueAt: input.dueAt } : {}),
    // The support address a mail came in on (requesters do not choose it on the web form).
    ...(options.channel === 'email' && input.recipient !== undefined ? { recipient: input.recipient } : {}),
    addTags: [],
    removeTags: [],
    emailCcs: input.emailCcs,
    followers: { add: [], remove: [] },
    fields: input.fields.filter((field) => ['subject', 'comment', 'requester', 'priority', 'type', 'due_at', 'collaborators', 'email_ccs', 'email_cc_ids', 'collaborator_ids'].includes(field)),
  };
  return createTicket(tx, account, actor, request, { channel: options.channel, via: 'request' });
}

import { sql } from 'kysely';
import type { Account } from '../db/tables.ts';
import { audit } from '../audit/audit.ts';
import { errors } from '../http/errors.ts';
import type { Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { htmlToText } from './comment-bodies.ts';
import type { PersonRef, TicketInput } from './ticket-input.ts';

/**
 * A request or ticket whose requester is a suspended user (the right to object, seed 002)
 * becomes a suspended ticket instead of a ticket (DOMAIN.md §5, issue 5 item 7). Called from the
 * creation path (src/tickets/create-ticket.ts); the queue itself is src/tickets/suspended-tickets.ts.
 */

/** Roster's causes (Zendesk numbers its own; only this one arises in Roster, which has no spam filter). */
export const SUSPENDED_USER_CAUSE = { cause: 'Suspended user', cause_id: 1 } as const;

/** What a recovery needs besides subject and content, as stored in `ticket_fields`. */
export interface StoredFields {
  html_body?: string;
  submitter_id?: number;
  priority?: TicketInput['priority'];
  type?: TicketInput['type'];
  tags?: string[];
  group_id?: number | null;
  organization_id?: number | null;
  external_id?: string | null;
  due_at?: string | null;
  email_ccs?: PersonRef[];
  via?: 'ticket' | 'request';
}

/**
 * Stores a submission from a suspended requester as a suspended ticket, in the caller's
 * transaction (called by the ticket and request creation path, src/tickets/create-ticket.ts).
 * The uploads the comment names move to the suspended ticket, with the same ownership rule as a
 * comment: only their uploader may attach them.
 */
export async function suspendSubmission(
  tx: Executor,
  account: Account,
  actor: Actor | null,
  requesterId: number | null,
  input: TicketInput,
  options: {
    channel: string;
    via: 'ticket' | 'request';
    submitterId: number | null;
    /** Another cause than a suspended user (a forgotten identity, src/privacy/erasure/suppression.ts), with the sender as given. */
    cause?: { cause: string; cause_id: number };
    author?: { name: string | null; email: string };
  },
): Promise<number> {
  const author = options.author ? { id: null, ...options.author } : requesterId === null ? undefined : await tx
    .selectFrom('users as u')
    .leftJoin('user_identities as i', (join) => join.onRef('i.account_id', '=', 'u.account_id').onRef('i.user_id', '=', 'u.id').on('i.type', '=', 'email').on('i.primary', '=', true))
    .select(['u.id', 'u.name', 'i.value as email'])
    .where('u.account_id', '=', account.id)
    .where('u.id', '=', requesterId)
    .executeTakeFirst();
  const comment = input.comment;
  const html = comment?.htmlBody !== undefined && comment.htmlBody.trim() !== '' ? comment.htmlBody : undefined;
  const content = comment?.body !== undefined && comment.body.trim() !== '' ? comment.body : html !== undefined ? htmlToText(html) : '';
  const ccs = [...(input.emailCcs.set ?? []), ...input.emailCcs.add];
  const fields: StoredFields = {
    via: options.via,
    ...(options.submitterId !== null ? { submitter_id: options.submitterId } : {}),
    ...(html !== undefined ? { html_body: html } : {}),
    ...(input.priority !== undefined ? { priority: input.priority } : {}),
    ...(input.type !== undefined ? { type: input.type } : {}),
    ...(input.tags !== undefined || input.addTags.length > 0 ? { tags: [...(input.tags ?? []), ...input.addTags] } : {}),
    ...(input.groupId !== undefined ? { group_id: input.groupId } : {}),
    ...(input.organizationId !== undefined ? { organization_id: input.organizationId } : {}),
    ...(input.externalId !== undefined ? { external_id: input.externalId } : {}),
    ...(input.dueAt !== undefined ? { due_at: input.dueAt === null ? null : input.dueAt.toISOString() } : {}),
    ...(ccs.length > 0 ? { email_ccs: ccs } : {}),
  };
  const row = await tx
    .insertInto('suspended_tickets')
    .values({
      account_id: account.id,
      ...(options.cause ?? SUSPENDED_USER_CAUSE),
      author_id: author?.id ?? null,
      author_name: author?.name ?? null,
      author_email: author?.email ?? null,
      subject: input.subject ?? '',
      content,
      recipient: input.recipient ?? null,
      via_channel: options.channel,
      ticket_fields: JSON.stringify(fields),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const tokens = comment?.uploads ?? [];
  if (tokens.length > 0) {
    const attached = await tx
      .updateTable('ticket_attachments')
      .set({ suspended_ticket_id: row.id })
      .where('account_id', '=', account.id)
      .where('token', 'in', tokens)
      .where('comment_id', 'is', null)
      .where('suspended_ticket_id', 'is', null)
      .where(sql<boolean>`uploader_id IS NOT DISTINCT FROM ${actor?.id ?? null}::bigint`)
      .executeTakeFirst();
    if (Number(attached.numUpdatedRows) !== tokens.length) {
      throw errors.field('comment.uploads', 'InvalidValue', 'An upload token is unknown, already used or not yours');
    }
  }
  await audit(tx, { accountId: account.id, actorId: actor?.id ?? null, action: 'suspended_ticket.create', targetType: 'suspended_ticket', targetId: row.id, changedFields: input.fields });
  return row.id;
}

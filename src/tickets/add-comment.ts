import { sql } from 'kysely';
import type { Account } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import type { Executor } from '../users/users.repository.ts';
import { commentBodies } from './comment-bodies.ts';
import type { CommentInput } from './ticket-input.ts';

export interface NewComment {
  ticketId: number;
  authorId: number;
  input: CommentInput;
  /** Whether the comment is public when the input does not say (Zendesk: public). */
  public: boolean;
  channel: string;
  /** Who may attach an upload: only its uploader (a token is not a capability to pass around). */
  uploaderId: number | null;
}

/**
 * Adds a comment to a ticket, attaching the uploads its tokens name, and keeps the ticket's
 * is_public in step (true once any comment is public). Runs in the caller's transaction.
 */
export async function addComment(tx: Executor, account: Account, comment: NewComment): Promise<number> {
  const bodies = commentBodies(comment.input.body, comment.input.htmlBody);
  const isPublic = comment.input.public ?? comment.public;
  const row = await tx
    .insertInto('ticket_comments')
    .values({
      account_id: account.id,
      ticket_id: comment.ticketId,
      author_id: comment.authorId,
      ...bodies,
      public: isPublic,
      via_channel: comment.channel,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await attachUploads(tx, account.id, comment.ticketId, row.id, comment.input.uploads, comment.uploaderId);
  return row.id;
}

/**
 * Attaches the uploads named by `tokens` to a comment: each token once, and only by its uploader
 * (a token is not a capability to pass around). A token that does not qualify is a 422.
 */
export async function attachUploads(tx: Executor, accountId: number, ticketId: number, commentId: number, tokens: string[], uploaderId: number | null): Promise<void> {
  if (tokens.length === 0) return;
  const attached = await tx
    .updateTable('ticket_attachments')
    .set({ comment_id: commentId, ticket_id: ticketId })
    .where('account_id', '=', accountId)
    .where('token', 'in', tokens)
    .where('comment_id', 'is', null)
    .where('suspended_ticket_id', 'is', null)
    .where(sql<boolean>`uploader_id IS NOT DISTINCT FROM ${uploaderId}::bigint`)
    .executeTakeFirst();
  if (Number(attached.numUpdatedRows) !== tokens.length) {
    throw errors.field('comment.uploads', 'InvalidValue', 'An upload token is unknown, already used or not yours');
  }
}

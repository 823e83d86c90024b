import { sql, type RawBuilder } from 'kysely';
import type { Actor } from '../policy/policy.ts';
import type { TicketAttachmentRow, TicketCommentRow, TicketRow } from '../db/tables.ts';
import type { Executor } from '../users/users.repository.ts';
import { visibleTo } from './ticket-access.ts';

/**
 * A ticket as the API shows it: the row, its description (the first comment's body — never a
 * copy on the row, so a redaction of that comment shows here at once), its CCs and followers,
 * and whether the viewer's ticket scope includes it.
 */
export type TicketView = TicketRow & {
  description: string;
  email_cc_ids: number[];
  follower_ids: number[];
  visible: boolean;
};

export type TicketViewer = Actor & { ticket_restriction?: string | null };

const collaboratorIds = (kind: 'email_cc' | 'follower'): RawBuilder<number[]> =>
  sql<number[]>`coalesce((SELECT jsonb_agg(tc.user_id ORDER BY tc.created_at, tc.user_id) FROM ticket_collaborators tc
    WHERE tc.account_id = t.account_id AND tc.ticket_id = t.id AND tc.kind = ${kind}), '[]'::jsonb)`;

/**
 * The one select every ticket read goes through: live (not soft-deleted) tickets of the account,
 * with `visible` computed by the ticket-access filter for `viewer` (null: the system, which sees
 * everything). Lists add `.where(visibleTo(viewer))` through `whereVisible`.
 */
export function selectTickets(db: Executor, accountId: number, viewer: TicketViewer | null) {
  const visibility = viewer ? visibleTo(viewer) : sql<boolean>`true`;
  return db
    .selectFrom('tickets as t')
    .selectAll('t')
    .select([
      sql<string>`coalesce((SELECT c.body FROM ticket_comments c WHERE c.account_id = t.account_id AND c.ticket_id = t.id ORDER BY c.id LIMIT 1), '')`.as('description'),
      collaboratorIds('email_cc').as('email_cc_ids'),
      collaboratorIds('follower').as('follower_ids'),
      visibility.as('visible'),
    ])
    .where('t.account_id', '=', accountId)
    .where('t.deleted_at', 'is', null);
}

/** A list or count restricted to what `viewer` may see. */
export function whereVisible(viewer: TicketViewer): RawBuilder<boolean> {
  return visibleTo(viewer);
}

export async function findTicket(db: Executor, accountId: number, id: number, viewer: TicketViewer | null): Promise<TicketView | undefined> {
  return (await selectTickets(db, accountId, viewer).where('t.id', '=', id).executeTakeFirst()) as TicketView | undefined;
}

/** Live tickets visible to `viewer`, by id. */
export async function findVisibleTickets(db: Executor, accountId: number, ids: number[], viewer: TicketViewer): Promise<TicketView[]> {
  if (ids.length === 0) return [];
  return (await selectTickets(db, accountId, viewer).where('t.id', 'in', ids).where(whereVisible(viewer)).orderBy('t.id').execute()) as TicketView[];
}

/** Locks a live ticket row for an update (concurrent updates of one ticket serialise here). */
export async function lockTicket(tx: Executor, accountId: number, id: number): Promise<TicketRow | undefined> {
  return tx
    .selectFrom('tickets')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .forUpdate()
    .executeTakeFirst();
}

/** Live tickets `viewer` may see, optionally narrowed (a requester, an organization, …). */
export async function countTickets(db: Executor, accountId: number, viewer: TicketViewer, narrow?: RawBuilder<boolean>): Promise<number> {
  let query = db
    .selectFrom('tickets as t')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('t.account_id', '=', accountId)
    .where('t.deleted_at', 'is', null)
    .where(whereVisible(viewer));
  if (narrow) query = query.where(narrow);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Narrowing expressions over the ticket aliased `t`, for the list routes and counts. */
export const narrowTickets = {
  requestedBy: (userId: number) => sql<boolean>`t.requester_id = ${userId}::bigint`,
  assignedTo: (userId: number) => sql<boolean>`t.assignee_id = ${userId}::bigint`,
  ccd: (userId: number) =>
    sql<boolean>`EXISTS (SELECT 1 FROM ticket_collaborators tc WHERE tc.account_id = t.account_id AND tc.ticket_id = t.id AND tc.user_id = ${userId}::bigint AND tc.kind = 'email_cc')`,
  organization: (organizationId: number) => sql<boolean>`t.organization_id = ${organizationId}::bigint`,
  externalId: (externalId: string) => sql<boolean>`lower(t.external_id) = ${externalId.toLowerCase()}`,
  statuses: (statuses: string[]) => sql<boolean>`t.status = ANY(${statuses}::text[])`,
};

/** GET /users/{id}/related and GET /organizations/{id}/related: counts of what the viewer may see. */
export async function userTicketCounts(db: Executor, accountId: number, viewer: TicketViewer, userId: number) {
  const [requested, assigned, ccd] = await Promise.all([
    countTickets(db, accountId, viewer, narrowTickets.requestedBy(userId)),
    countTickets(db, accountId, viewer, narrowTickets.assignedTo(userId)),
    countTickets(db, accountId, viewer, narrowTickets.ccd(userId)),
  ]);
  return { requested_tickets: requested, assigned_tickets: assigned, ccd_tickets: ccd };
}

export async function organizationTicketCount(db: Executor, accountId: number, viewer: TicketViewer, organizationId: number): Promise<number> {
  return countTickets(db, accountId, viewer, narrowTickets.organization(organizationId));
}

/** An attachment and, when it is on a ticket, whether that ticket is live and `viewer` may see it. */
export async function findAttachment(db: Executor, accountId: number, id: number, viewer: TicketViewer) {
  return db
    .selectFrom('ticket_attachments as a')
    .leftJoin('tickets as t', (join) => join.onRef('t.account_id', '=', 'a.account_id').onRef('t.id', '=', 'a.ticket_id'))
    .leftJoin('ticket_comments as c', (join) => join.onRef('c.account_id', '=', 'a.account_id').onRef('c.id', '=', 'a.comment_id'))
    .selectAll('a')
    .select([sql<boolean | null>`CASE WHEN t.id IS NULL OR t.deleted_at IS NOT NULL THEN NULL ELSE ${whereVisible(viewer)} END`.as('ticket_visible'), 'c.public as comment_public'])
    .where('a.account_id', '=', accountId)
    .where('a.id', '=', id)
    .executeTakeFirst();
}

export type CommentView = TicketCommentRow & { attachments: TicketAttachmentRow[] };

export function selectComments(db: Executor, accountId: number, ticketId: number, publicOnly: boolean) {
  let query = db
    .selectFrom('ticket_comments as c')
    .selectAll('c')
    .where('c.account_id', '=', accountId)
    .where('c.ticket_id', '=', ticketId);
  if (publicOnly) query = query.where('c.public', '=', true);
  return query;
}

/** Attachments of the given comments, grouped by comment, in upload order. */
export async function attachmentsOf(db: Executor, accountId: number, commentIds: number[]): Promise<Map<number, TicketAttachmentRow[]>> {
  const byComment = new Map<number, TicketAttachmentRow[]>();
  if (commentIds.length === 0) return byComment;
  const rows = await db
    .selectFrom('ticket_attachments')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('comment_id', 'in', commentIds)
    .orderBy('id')
    .execute();
  for (const row of rows) {
    if (row.comment_id === null) continue;
    const list = byComment.get(row.comment_id) ?? [];
    list.push(row);
    byComment.set(row.comment_id, list);
  }
  return byComment;
}

export async function withAttachments(db: Executor, accountId: number, comments: TicketCommentRow[]): Promise<CommentView[]> {
  const byComment = await attachmentsOf(db, accountId, comments.map((comment) => comment.id));
  return comments.map((comment) => ({ ...comment, attachments: byComment.get(comment.id) ?? [] }));
}

export async function countComments(db: Executor, accountId: number, ticketId: number, publicOnly: boolean): Promise<number> {
  const row = await selectComments(db, accountId, ticketId, publicOnly)
    .clearSelect()
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

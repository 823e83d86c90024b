import type { AppError } from '../http/errors.ts';
import type { Executor } from '../users/users.repository.ts';
import { selectSuspendedTickets, withSuspendedAttachments, type SuspendedTicketView } from './suspended-tickets.ts';
import type { SuspendedTicketJson } from './suspended-tickets.schemas.ts';
import { presentAttachment } from './tickets.presenter.ts';

export function presentSuspendedTicket(row: SuspendedTicketView, base: string, failure?: AppError): SuspendedTicketJson {
  return {
    url: `${base}/api/v2/suspended_tickets/${row.id}.json`,
    id: row.id,
    author: { id: row.author_id, name: row.author_name, email: row.author_email },
    subject: row.subject,
    content: row.content,
    cause: row.cause,
    cause_id: row.cause_id,
    message_id: row.message_id,
    ticket_id: row.ticket_id,
    recipient: row.recipient,
    brand_id: null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    via: { channel: row.via_channel, source: { from: row.author_email ? { address: row.author_email, name: row.author_name } : {}, to: {}, rel: null } },
    attachments: row.attachments.map((attachment) => presentAttachment(attachment, base)),
    error_messages: failure ? failureMessages(failure) : null,
  };
}

/** A refused recovery as the item's `error_messages`: codes and descriptions, never submitted values. */
function failureMessages(error: AppError): { error: string; description: string }[] {
  if (error.details) return Object.values(error.details).flatMap((list) => list.map((entry) => ({ error: entry.error, description: entry.description })));
  return [{ error: error.code, description: error.description ?? error.code }];
}

/**
 * One suspended ticket as the API shows it (the creation path answers with it when a submission
 * is suspended). `viewer: 'submitter'` is for a caller who is not staff — an anonymous request
 * names an address, and its answer must not tell who holds it: the author's id, name and email
 * are left out.
 */
export async function showSuspendedTicket(db: Executor, accountId: number, id: number, base: string, viewer: 'staff' | 'submitter' = 'staff'): Promise<{ suspended_ticket: SuspendedTicketJson }> {
  const row = await selectSuspendedTickets(db, accountId).where('s.id', '=', id).executeTakeFirstOrThrow();
  const [view] = await withSuspendedAttachments(db, accountId, [row]);
  const shown = view ?? { ...row, attachments: [] };
  const anonymous = viewer === 'submitter' ? { ...shown, author_id: null, author_name: null, author_email: null } : shown;
  return { suspended_ticket: presentSuspendedTicket(anonymous, base) };
}

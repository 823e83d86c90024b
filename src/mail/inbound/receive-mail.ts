import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { Account, TicketStatus } from '../../db/tables.ts';
import { audit } from '../../audit/audit.ts';
import { AppError, errors } from '../../http/errors.ts';
import { authorizeInboundMail } from '../../policy/policy.ts';
import { resolvePermissions } from '../../roles/permissions.ts';
import { addComment } from '../../tickets/add-comment.ts';
import { findPersonByEmail } from '../../tickets/find-or-create-person.ts';
import type { FileStorage } from '../../tickets/storage.ts';
import { submitRequest } from '../../tickets/submit-request.ts';
import type { PeopleChange, TicketInput } from '../../tickets/ticket-input.ts';
import { applyPeople } from '../../tickets/ticket-people.ts';
import { findTicket, lockTicket } from '../../tickets/tickets.repository.ts';
import { cleanFileName, contentTypeOf } from '../../tickets/uploads.routes.ts';
import { findUser, type Executor } from '../../users/users.repository.ts';
import { inboundMailKey, parseInboxAddress, supportAddress, ticketFromTag } from './addresses.ts';
import { parseMessage, type InboundMessage, type MailPerson } from './parse-message.ts';

export interface InboundDeps {
  db: Db;
  storage: FileStorage;
  mailDomain: string;
  maxBytes: number;
}

export type DropReason = 'auto_reply' | 'bounce' | 'loop' | 'duplicate';

/** What became of a message (no personal data: ids and a reason). */
export type InboundOutcome =
  | { status: 'ticket_created'; ticketId: number; commentId: number; requesterCreated: boolean }
  | { status: 'comment_added'; ticketId: number; commentId: number }
  | { status: 'suspended'; suspendedTicketId: number }
  | { status: 'dropped'; reason: DropReason };

export interface Delivery {
  /** The envelope recipients (SMTP RCPT TO) when known; the API knows only the headers. */
  recipients?: string[];
  /** SMTP's null reverse path (`MAIL FROM:<>`): a bounce by definition. */
  nullSender?: boolean;
}

type SenderMessage = InboundMessage & { sender: MailPerson };

/** Zendesk's CC limit on a ticket. */
const MAX_CCS = 48;
const REOPENED_BY_REPLY: TicketStatus[] = ['pending', 'hold', 'solved'];

export function messageTooLarge(maxBytes: number): AppError {
  return new AppError('PayloadTooLarge', 413, `The message is larger than the inbound limit of ${maxBytes} bytes`);
}

/**
 * One inbound message for one account, from the SMTP listener or POST /api/v2/inbound_email
 * (README "Inbound mail"). Mail arrives the way the web form's requests do: a new message goes
 * through submitRequest (channel `email`), so its sender and CC addresses become users through
 * findOrCreatePerson exactly as on the web, and a suspended sender's mail becomes a suspended
 * ticket there. A reply (In-Reply-To / References known in ticket_mail_messages, or a ticket
 * token in the address) becomes a comment by its sender — when the sender may see that ticket;
 * anyone else's "reply" starts a ticket of its own rather than entering a conversation they are
 * not part of. Attachment bytes go to storage first and are deleted again when the transaction
 * fails, so a failure writes nothing.
 */
export async function receiveMail(deps: InboundDeps, account: Account, raw: Buffer, delivery: Delivery = {}): Promise<InboundOutcome> {
  if (raw.length > deps.maxBytes) throw messageTooLarge(deps.maxBytes);
  const parsed = await parseMessage(raw);
  if (delivery.nullSender) return { status: 'dropped', reason: 'bounce' };
  if (parsed.automatic) return { status: 'dropped', reason: parsed.automatic };
  // Loop protection: mail from one of this account's own support addresses (a notification
  // bounced back, an auto-forward) never becomes a ticket.
  if (parseInboxAddress(parsed.fromAddress, deps.mailDomain)?.subdomain === account.subdomain) return { status: 'dropped', reason: 'loop' };
  // Without a usable From address there is nobody to make a ticket for.
  const sender = parsed.sender;
  if (!sender) throw errors.badRequest('The message has no valid From address', 'InvalidMessage');
  const message: SenderMessage = { ...parsed, sender };

  const keys: string[] = [];
  try {
    const uploads: Array<{ token: string; key: string; fileName: string; contentType: string; size: number }> = [];
    for (const attachment of message.attachments) {
      const key = await deps.storage.put(attachment.content);
      keys.push(key);
      uploads.push({ token: crypto.randomBytes(18).toString('base64url'), key, fileName: cleanFileName(attachment.fileName), contentType: contentTypeOf(attachment.contentType), size: attachment.content.length });
    }
    return await deps.db.transaction().execute(async (tx) => {
      // The same message twice (two support addresses, an SMTP retry) is taken once; the lock
      // makes two concurrent deliveries of it wait for each other instead of both passing the check.
      if (message.messageId !== undefined) {
        await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`inbound:${account.id}:${message.messageId}`}, 0))`.execute(tx);
        const seen = await tx.selectFrom('ticket_mail_messages').select('ticket_id').where('account_id', '=', account.id).where('message_id', '=', message.messageId).executeTakeFirst();
        if (seen) return { status: 'dropped', reason: 'duplicate' } as const;
      }
      if (uploads.length > 0) {
        await tx
          .insertInto('ticket_attachments')
          .values(uploads.map((upload) => ({ account_id: account.id, token: upload.token, uploader_id: null, file_name: upload.fileName, content_type: upload.contentType, size: upload.size, storage_key: upload.key })))
          .execute();
      }
      const tokens = uploads.map((upload) => upload.token);
      const ccs = ccsOf(message, account, deps.mailDomain);
      const threadId = await threadOf(tx, account, message, delivery, deps.mailDomain);
      if (threadId !== undefined) {
        const commented = await replyByMail(tx, account, threadId, message, tokens, ccs);
        if (commented) {
          await recordMessage(tx, account.id, message.messageId, threadId, commented);
          return { status: 'comment_added', ticketId: threadId, commentId: commented } as const;
        }
      }
      const input: TicketInput = {
        subject: message.subject,
        comment: { body: message.text, htmlBody: message.html, public: true, authorId: undefined, uploads: tokens },
        requester: message.sender,
        recipient: recipientOf(message, account, delivery, deps.mailDomain),
        addTags: [],
        removeTags: [],
        emailCcs: { add: ccs, remove: [] },
        followers: { add: [], remove: [] },
        fields: ['subject', 'comment', 'requester', ...(ccs.length > 0 ? ['email_ccs'] : [])],
      };
      // An empty mail (no text, no files) still makes a ticket: its subject says what it is about.
      if (input.comment && input.comment.body === undefined && input.comment.htmlBody === undefined && tokens.length === 0) input.comment.body = message.subject || '(no content)';
      const created = await submitRequest(tx, account, null, input, { channel: 'email' });
      if ('suspendedTicketId' in created) return { status: 'suspended', suspendedTicketId: created.suspendedTicketId } as const;
      await recordMessage(tx, account.id, message.messageId, created.ticketId, created.commentId);
      return { status: 'ticket_created', ticketId: created.ticketId, commentId: created.commentId, requesterCreated: created.requesterCreated } as const;
    });
  } catch (error) {
    // Nothing refers to the bytes when the rows were not written.
    await Promise.all(keys.map((key) => deps.storage.delete(key).catch(() => undefined)));
    throw error;
  }
}

/** To and Cc addresses other than the sender and any support address: they become the ticket's CCs. */
function ccsOf(message: SenderMessage, account: Account, mailDomain: string): MailPerson[] {
  return message.addressed
    .filter((person) => person.emailKey !== message.sender.emailKey && parseInboxAddress(person.email, mailDomain) === undefined)
    .slice(0, MAX_CCS);
}

/** The support address the mail came in on (the ticket's `recipient`), without its tag. */
function recipientOf(message: InboundMessage, account: Account, delivery: Delivery, mailDomain: string): string {
  const candidates = [...(delivery.recipients ?? []), ...message.addressed.map((person) => person.email)];
  const own = candidates.find((address) => parseInboxAddress(address, mailDomain)?.subdomain === account.subdomain);
  return own === undefined ? supportAddress(account.subdomain, mailDomain) : own.trim().toLowerCase().replace(/\+[^@]*@/, '@');
}

/** The live ticket a message continues: a valid ticket token in an address, else a known Message-ID it answers. */
async function threadOf(tx: Executor, account: Account, message: InboundMessage, delivery: Delivery, mailDomain: string): Promise<number | undefined> {
  const addresses = [...(delivery.recipients ?? []), ...message.addressed.map((person) => person.email)];
  const tags = addresses.map((address) => parseInboxAddress(address, mailDomain)).filter((inbox) => inbox?.subdomain === account.subdomain && inbox.tag !== undefined);
  if (tags.length > 0) {
    const key = await inboundMailKey(tx, account.id);
    for (const inbox of tags) {
      const ticketId = ticketFromTag(inbox?.tag, key, account.id);
      if (ticketId !== undefined) return ticketId;
    }
  }
  if (message.threadIds.length === 0) return undefined;
  const known = await tx
    .selectFrom('ticket_mail_messages')
    .select(['message_id', 'ticket_id'])
    .where('account_id', '=', account.id)
    .where('message_id', 'in', message.threadIds)
    .execute();
  // In-Reply-To first, then References from the newest.
  for (const id of message.threadIds) {
    const hit = known.find((row) => row.message_id === id);
    if (hit) return hit.ticket_id;
  }
  return undefined;
}

/**
 * A reply: a comment by the sender on the ticket, when the sender is a live, unsuspended user
 * who may see the ticket (its requester, a CC, staff within their ticket scope — the API's own
 * visibility rule). Returns the comment id, or undefined when the reply does not qualify (a
 * closed or deleted ticket, an unknown or suspended sender, someone outside the ticket): the
 * caller then treats the mail as a new request, as Zendesk does for a closed ticket (a follow-up).
 */
async function replyByMail(tx: Executor, account: Account, ticketId: number, message: SenderMessage, tokens: string[], ccs: MailPerson[]): Promise<number | undefined> {
  const row = await lockTicket(tx, account.id, ticketId);
  if (!row || row.status === 'closed') return undefined;
  const person = await findPersonByEmail(tx, account.id, message.sender.emailKey);
  if (!person) return undefined;
  const user = await findUser(tx, account.id, person.id);
  if (!user) return undefined;
  const viewer = { ...user, permissions: resolvePermissions(user.role, user.role_configuration) };
  const view = await findTicket(tx, account.id, ticketId, viewer);
  if (!authorizeInboundMail.mayReplyByMail(viewer, view?.visible === true)) return undefined;

  const body = message.text ?? (message.html === undefined && tokens.length === 0 ? message.subject || '(no content)' : undefined);
  const commentId = await addComment(tx, account, {
    ticketId,
    authorId: person.id,
    input: { body, htmlBody: message.html, public: true, authorId: undefined, uploads: tokens },
    public: true,
    channel: 'email',
    uploaderId: null,
  });
  const fields = ['comment'];
  // People the reply was also sent to join the conversation, as on a new mail.
  const change: PeopleChange = { add: ccs.filter((cc) => cc.emailKey !== message.sender.emailKey), remove: [] };
  if (await applyPeople(tx, account, null, ticketId, 'email_cc', change, 'request')) {
    await tx.deleteFrom('ticket_collaborators').where('account_id', '=', account.id).where('ticket_id', '=', ticketId).where('kind', '=', 'email_cc').where('user_id', '=', row.requester_id).execute();
    fields.push('email_ccs');
  }
  // A requester's (or CC's) reply reopens a ticket waiting on them, as in Zendesk.
  const reopen = person.role === 'end-user' && REOPENED_BY_REPLY.includes(row.status);
  if (reopen) fields.push('status');
  await tx
    .updateTable('tickets')
    .set({ updated_at: new Date(), is_public: true, ...(reopen ? { status: 'open', solved_at: null } : {}) })
    .where('account_id', '=', account.id)
    .where('id', '=', ticketId)
    .execute();
  await audit(tx, { accountId: account.id, actorId: person.id, action: 'ticket.update', targetType: 'ticket', targetId: ticketId, changedFields: fields });
  return commentId;
}

async function recordMessage(tx: Executor, accountId: number, messageId: string | undefined, ticketId: number, commentId: number): Promise<void> {
  if (messageId === undefined) return;
  await tx.insertInto('ticket_mail_messages').values({ account_id: accountId, message_id: messageId, ticket_id: ticketId, comment_id: commentId }).onConflict((oc) => oc.doNothing()).execute();
}

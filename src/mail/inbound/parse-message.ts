import { simpleParser, type AddressObject, type EmailAddress, type HeaderValue } from 'mailparser';
import { errors } from '../../http/errors.ts';
import { normalizeIdentity } from '../../identities/identity-values.ts';

/** A mail address as the ticket code takes it (src/tickets/ticket-input.ts PersonRef). */
export interface MailPerson {
  email: string;
  emailKey: string;
  name: string | undefined;
}

export interface MailAttachment {
  fileName: string;
  contentType: string;
  content: Buffer;
}

/** What Roster keeps of a parsed message; the raw message itself is never stored. */
export interface InboundMessage {
  /** undefined: the From address is missing or not a valid address (the caller refuses the message). */
  sender: MailPerson | undefined;
  /** The From address as written, lower-cased ('' when missing): for loop and bounce checks only. */
  fromAddress: string;
  subject: string;
  text: string | undefined;
  html: string | undefined;
  /** `<…>` form; undefined when the message has none. */
  messageId: string | undefined;
  /** In-Reply-To and References, newest first. */
  threadIds: string[];
  /** Every address in To and Cc, as written (the account's own among them). */
  addressed: MailPerson[];
  attachments: MailAttachment[];
  /** Why the message is machine-made (no ticket from it), if it is. */
  automatic: 'auto_reply' | 'bounce' | undefined;
}

const TEXT_LIMIT = 65_535;
const SUBJECT_LIMIT = 255;
const MAX_ATTACHMENTS = 50;
const MAX_THREAD_IDS = 50;
const MAX_ADDRESSED = 100;

/** Control characters (NUL breaks PostgreSQL text) removed; tabs and newlines kept. */
const clean = (value: string): string => value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');

function headerText(value: HeaderValue | undefined): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((item) => (typeof item === 'string' ? item : '')).join(' ');
  if (typeof value === 'object' && 'value' in value && typeof value.value === 'string') return value.value;
  return '';
}

function flatten(list: EmailAddress[]): EmailAddress[] {
  return list.flatMap((entry) => (entry.group ? flatten(entry.group) : [entry]));
}

function addressList(field: AddressObject | AddressObject[] | undefined): EmailAddress[] {
  if (!field) return [];
  return flatten((Array.isArray(field) ? field : [field]).flatMap((object) => object.value));
}

export function personOf(entry: EmailAddress): MailPerson | undefined {
  const normalized = normalizeIdentity('email', entry.address ?? '');
  if (!normalized.ok) return undefined;
  const name = clean(entry.name ?? '').replace(/\s+/g, ' ').trim().slice(0, 255);
  return { email: normalized.value, emailKey: normalized.key, name: name === '' ? undefined : name };
}

function messageIds(raw: string | string[] | undefined): string[] {
  const text = Array.isArray(raw) ? raw.join(' ') : (raw ?? '');
  return [...text.matchAll(/<[^<>\s]{1,996}>/g)].map((match) => match[0]);
}

/**
 * Machine-made mail takes no part in conversations (RFC 3834): auto-replies and vacation
 * notices (Auto-Submitted other than `no`, Precedence bulk/junk/list/auto_reply, X-Autoreply)
 * and bounces (delivery reports, mail from MAILER-DAEMON or postmaster).
 */
function automaticKind(headers: Map<string, HeaderValue>, fromAddress: string): InboundMessage['automatic'] {
  const local = fromAddress.slice(0, Math.max(0, fromAddress.lastIndexOf('@')));
  if (local === 'mailer-daemon' || local === 'postmaster') return 'bounce';
  const contentType = headerText(headers.get('content-type')).toLowerCase();
  if (contentType.startsWith('multipart/report')) return 'bounce';
  const autoSubmitted = headerText(headers.get('auto-submitted')).trim().toLowerCase();
  if (autoSubmitted !== '' && autoSubmitted !== 'no') return 'auto_reply';
  const precedence = headerText(headers.get('precedence')).trim().toLowerCase();
  if (['bulk', 'junk', 'list', 'auto_reply'].includes(precedence)) return 'auto_reply';
  if (headers.has('x-autoreply') || headers.has('x-autorespond')) return 'auto_reply';
  return undefined;
}

/**
 * Parses a raw RFC 5322 message with mailparser (400 when it cannot). Error messages never
 * quote the message.
 */
export async function parseMessage(raw: Buffer): Promise<InboundMessage> {
  if (raw.length === 0) throw errors.badRequest('The message is empty', 'InvalidMessage');
  const parsed = await simpleParser(raw, { skipImageLinks: true, skipTextLinks: true, skipTextToHtml: true, maxHtmlLengthToParse: 4 * TEXT_LIMIT }).catch(() => {
    throw errors.badRequest('The message could not be parsed as RFC 5322 mail', 'InvalidMessage');
  });
  const first = addressList(parsed.from)[0];
  const sender = first ? personOf(first) : undefined;
  const fromAddress = (first?.address ?? '').trim().toLowerCase();

  const text = typeof parsed.text === 'string' ? clean(parsed.text).slice(0, TEXT_LIMIT) : undefined;
  // A cut HTML body would show broken markup: past the limit, the text part stands alone.
  const html = typeof parsed.html === 'string' && parsed.html.length <= TEXT_LIMIT ? clean(parsed.html) : undefined;
  const addressed: MailPerson[] = [];
  for (const entry of [...addressList(parsed.to), ...addressList(parsed.cc)].slice(0, MAX_ADDRESSED)) {
    const person = personOf(entry);
    if (person && !addressed.some((known) => known.emailKey === person.emailKey)) addressed.push(person);
  }
  const rawMessageId = messageIds(parsed.messageId)[0];
  return {
    sender,
    fromAddress,
    subject: clean(parsed.subject ?? '').replace(/\s+/g, ' ').trim().slice(0, SUBJECT_LIMIT),
    text: text !== undefined && text.trim() !== '' ? text : undefined,
    html: html !== undefined && html.trim() !== '' ? html : undefined,
    messageId: rawMessageId,
    threadIds: [...new Set([...messageIds(parsed.inReplyTo), ...messageIds(parsed.references).reverse()])].slice(0, MAX_THREAD_IDS),
    addressed,
    attachments: parsed.attachments.slice(0, MAX_ATTACHMENTS).map((attachment) => ({
      fileName: clean(attachment.filename ?? '').trim() || 'attachment',
      contentType: (attachment.contentType || 'application/octet-stream').toLowerCase(),
      content: attachment.content,
    })),
    automatic: automaticKind(parsed.headers, fromAddress),
  };
}

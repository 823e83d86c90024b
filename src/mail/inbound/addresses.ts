import crypto from 'node:crypto';
import type { Executor } from '../../users/users.repository.ts';

/**
 * Which account a mail is for, from the address it was sent to (README "Inbound mail"). Every
 * account has two equivalent support addresses under MAIL_DOMAIN:
 *   support@<subdomain>.<MAIL_DOMAIN>   and   <subdomain>@<MAIL_DOMAIN>
 * either with an optional `+tag` after the local part. A tag `id<ticket>-<mac>` names a ticket:
 * the reply address of ticket notifications, so a reply threads even when the mail client drops
 * In-Reply-To. The mac is keyed per account (accounts.inbound_mail_key): a guessed ticket number
 * threads nothing, and an address from one account means nothing in another.
 */
export interface InboxAddress {
  subdomain: string;
  tag: string | undefined;
}

const SUBDOMAIN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const SUPPORT_LOCAL = 'support';

export function parseInboxAddress(raw: string, mailDomain: string): InboxAddress | undefined {
  const address = raw.trim().toLowerCase();
  const at = address.lastIndexOf('@');
  if (at <= 0 || address.length > 320) return undefined;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const plus = local.indexOf('+');
  const base = plus === -1 ? local : local.slice(0, plus);
  const tag = plus === -1 ? undefined : local.slice(plus + 1);
  if (domain === mailDomain) return SUBDOMAIN.test(base) ? { subdomain: base, tag } : undefined;
  if (base === SUPPORT_LOCAL && domain.endsWith(`.${mailDomain}`)) {
    const subdomain = domain.slice(0, -(mailDomain.length + 1));
    return SUBDOMAIN.test(subdomain) ? { subdomain, tag } : undefined;
  }
  return undefined;
}

/** The account's support address (`tag`: a reply address naming a ticket). */
export function supportAddress(subdomain: string, mailDomain: string, tag?: string): string {
  return `${SUPPORT_LOCAL}${tag ? `+${tag}` : ''}@${subdomain}.${mailDomain}`;
}

/**
 * The account's key for ticket tokens, made on first use. Read first: the account row is written
 * (and locked) only the once; the coalesce makes concurrent first uses agree on one key.
 */
export async function inboundMailKey(db: Executor, accountId: number): Promise<string> {
  const existing = await db.selectFrom('accounts').select('inbound_mail_key').where('id', '=', accountId).executeTakeFirst();
  if (existing?.inbound_mail_key) return existing.inbound_mail_key;
  const row = await db
    .updateTable('accounts')
    .set((eb) => ({ inbound_mail_key: eb.fn.coalesce('inbound_mail_key', eb.val(crypto.randomBytes(32).toString('base64url'))) }))
    .where('id', '=', accountId)
    .returning('inbound_mail_key')
    .executeTakeFirstOrThrow();
  if (row.inbound_mail_key === null) throw new Error('The inbound mail key was not set');
  return row.inbound_mail_key;
}

const MAC_LENGTH = 12;

function mac(key: string, accountId: number, ticketId: number): string {
  return crypto.createHmac('sha256', key).update(`ticket:${accountId}:${ticketId}`).digest('hex').slice(0, MAC_LENGTH);
}

/** The `+tag` naming a ticket: `id<ticket>-<mac>`. */
export function ticketTag(key: string, accountId: number, ticketId: number): string {
  return `id${ticketId}-${mac(key, accountId, ticketId)}`;
}

/** The ticket a tag names, when its mac checks out. */
export function ticketFromTag(tag: string | undefined, key: string, accountId: number): number | undefined {
  const match = tag === undefined ? null : /^id(\d{1,15})-([0-9a-f]{12})$/.exec(tag);
  if (!match?.[1] || !match[2]) return undefined;
  const ticketId = Number(match[1]);
  if (!Number.isSafeInteger(ticketId) || ticketId <= 0) return undefined;
  const expected = Buffer.from(mac(key, accountId, ticketId));
  const given = Buffer.from(match[2]);
  return crypto.timingSafeEqual(expected, given) ? ticketId : undefined;
}

/** The address ticket mail is answered to (for outbound notifications): replies come back to this ticket. */
export async function ticketReplyAddress(db: Executor, account: { id: number; subdomain: string }, mailDomain: string, ticketId: number): Promise<string> {
  return supportAddress(account.subdomain, mailDomain, ticketTag(await inboundMailKey(db, account.id), account.id, ticketId));
}

import nodemailer, { type Transporter } from 'nodemailer';
import type { Database } from '../db/database.ts';
import type { Account, OutboxStatus, UserTokenPurpose } from '../db/tables.ts';
import type { Jobs } from '../jobs/jobs.ts';
import type { Executor } from '../users/users.repository.ts';
import { suppressionReason } from './suppression.ts';
import { chooseLocale, renderMail, type MailTemplate } from './templates.ts';
import { issueToken, TOKEN_LIFETIME_HOURS } from './tokens.ts';

/**
 * The outbox (README "Mail"): every outbound message is a row of outbox_messages, written in the
 * transaction of the change that causes it. With SMTP_URL set, the same transaction queues a
 * delivery task (pg-boss, data = account id + message id, retried with doubling delays); without
 * it the message stays `queued` in the outbox, where admins read it (GET /api/v2/outbox).
 */
export const MAIL_QUEUE = 'roster-mail';
/** A delivery cut off by a crash is tried again after this long. */
const DELIVERY_EXPIRY_SECONDS = 120;
/** What replaces a link's token in a stored body once it may no longer be used from there. */
export const TOKEN_MASK = '▇'.repeat(8);

export interface MailOptions {
  smtpUrl: string | undefined;
  from: string;
  /** PUBLIC_URL; `{subdomain}` is replaced by the account's. */
  publicUrl: string | undefined;
  baseDomain: string | undefined;
  port: number;
  retryLimit: number;
  retryDelaySeconds: number;
}

/** Which one-time link a template carries, and the Help Center page it opens. */
const TEMPLATE_LINKS: Record<MailTemplate, { purpose: UserTokenPurpose; page: string }> = {
  welcome: { purpose: 'set_password', page: 'hc/set_password' },
  verify_email: { purpose: 'verify_identity', page: 'hc/verify_email' },
  password_reset: { purpose: 'reset_password', page: 'hc/reset_password' },
};

export interface MailRequest {
  account: Account;
  /** The recipient. */
  userId: number;
  /** The email identity to write to; the user's primary email when left out. */
  identityId?: number;
  template: MailTemplate;
}

export interface EnqueuedMail {
  id: number;
  status: OutboxStatus;
}

interface DeliveryData {
  accountId: number;
  messageId: number;
}

/** The token in a stored link (`#token=…`), masked: what the outbox keeps once a message has left. */
export function maskTokens(body: string): string {
  return body.replace(/(#token=)[A-Za-z0-9_-]+/g, `$1${TOKEN_MASK}`);
}

/** An SMTP failure as the outbox records it: the error's code and reply code, never its text (it may name the address). */
export function deliveryError(error: unknown): { label: string; permanent: boolean } {
  const { code, responseCode } = (error ?? {}) as { code?: unknown; responseCode?: unknown };
  const codeText = typeof code === 'string' && /^[A-Z_]{1,40}$/.test(code) ? code : 'ERROR';
  const reply = typeof responseCode === 'number' && Number.isInteger(responseCode) ? responseCode : undefined;
  return { label: reply === undefined ? codeText : `${codeText} ${reply}`, permanent: reply !== undefined && reply >= 500 };
}

export class Mail {
  private transport: Transporter | null = null;

  constructor(
    private readonly database: Database,
    private readonly jobs: Jobs,
    readonly options: MailOptions,
  ) {
    jobs.defineTaskQueue<DeliveryData>({
      name: MAIL_QUEUE,
      retryLimit: options.retryLimit,
      retryDelaySeconds: options.retryDelaySeconds,
      expireInSeconds: DELIVERY_EXPIRY_SECONDS,
      run: (data, attempt) => this.deliver(data, attempt.retryCount >= attempt.retryLimit),
    });
  }

  /** True when messages leave over SMTP; false keeps them in the outbox (the embedded default). */
  get sends(): boolean {
    return this.options.smtpUrl !== undefined;
  }

  /** The origin of the account's Help Center links. */
  linkBase(account: Pick<Account, 'subdomain'>): string {
    if (this.options.publicUrl) return this.options.publicUrl.replaceAll('{subdomain}', account.subdomain);
    if (this.options.baseDomain) return `https://${account.subdomain}.${this.options.baseDomain}`;
    return `http://localhost:${this.options.port}`;
  }

  /**
   * Writes one message to the outbox in the caller's transaction, with its one-time token, and
   * queues its delivery. A recipient who must not get mail (suspended, deleted, a reserved or
   * undeliverable address) gets a `suppressed` row with the reason and no working token.
   * Returns null when the user or an email address to write to does not exist.
   */
  async enqueue(tx: Executor, request: MailRequest): Promise<EnqueuedMail | null> {
    const { account } = request;
    const user = await tx
      .selectFrom('users')
      .select(['id', 'name', 'locale', 'active', 'suspended', 'deleted_at'])
      .where('account_id', '=', account.id)
      .where('id', '=', request.userId)
      .executeTakeFirst();
    if (!user) return null;
    let identityQuery = tx
      .selectFrom('user_identities')
      .select(['id', 'value', 'deliverable_state'])
      .where('account_id', '=', account.id)
      .where('user_id', '=', user.id)
      .where('type', '=', 'email');
    identityQuery = request.identityId === undefined ? identityQuery.orderBy('primary', 'desc').orderBy('id', 'asc') : identityQuery.where('id', '=', request.identityId);
    const identity = await identityQuery.limit(1).executeTakeFirst();
    if (!identity) return null;

    const locale = chooseLocale(user.locale, account.settings.locale);
    const reason = suppressionReason(user, identity);
    const link = TEMPLATE_LINKS[request.template];
    // A message that will not be sent carries no working credential.
    const token = reason === null ? (await issueToken(tx, account.id, user.id, identity.id, link.purpose)).token : TOKEN_MASK;
    const hours = TOKEN_LIFETIME_HOURS[link.purpose];
    const rendered = renderMail(request.template, locale, {
      name: user.name,
      account: account.name,
      email: identity.value,
      link: `${this.linkBase(account)}/${link.page}#token=${token}`,
      days: Math.round(hours / 24),
      hours,
    });
    const status: OutboxStatus = reason === null ? 'queued' : 'suppressed';
    const row = await tx
      .insertInto('outbox_messages')
      .values({
        account_id: account.id,
        user_id: user.id,
        identity_id: identity.id,
        recipient: identity.value,
        template: request.template,
        locale,
        status,
        suppression_reason: reason,
        subject: rendered.subject,
        text_body: rendered.text,
        html_body: rendered.html,
      })
      .returning(['id', 'status'])
      .executeTakeFirstOrThrow();
    if (status === 'queued' && this.sends) await this.jobs.sendTask(tx, MAIL_QUEUE, { accountId: account.id, messageId: row.id } satisfies DeliveryData);
    return row;
  }

  private smtp(): Transporter {
    if (!this.transport) {
      if (!this.options.smtpUrl) throw new Error('SMTP_URL is not set');
      this.transport = nodemailer.createTransport(
        { url: this.options.smtpUrl, connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 60_000 } as Parameters<typeof nodemailer.createTransport>[0],
        { from: this.options.from },
      );
    }
    return this.transport;
  }

  /**
   * One delivery attempt. Idempotent on the row's status: a message no longer `queued` is left
   * alone. The recipient is checked again (a user suspended or deleted since the message was
   * written gets nothing). A failure is recorded by its code only; a temporary one is thrown (as
   * a bare code: pg-boss keeps the error) so the task is retried, a permanent one (5xx) or the
   * last attempt marks the message `failed`.
   */
  async deliver(data: DeliveryData, lastAttempt: boolean): Promise<void> {
    const db = this.database.db;
    const message = await db.selectFrom('outbox_messages').selectAll().where('account_id', '=', data.accountId).where('id', '=', data.messageId).executeTakeFirst();
    if (!message || message.status !== 'queued') return;
    const user = message.user_id === null ? null : await db.selectFrom('users').select(['active', 'suspended']).where('account_id', '=', data.accountId).where('id', '=', message.user_id).executeTakeFirst();
    const identity = message.identity_id === null ? null : await db.selectFrom('user_identities').select(['value', 'deliverable_state']).where('account_id', '=', data.accountId).where('id', '=', message.identity_id).executeTakeFirst();
    // The address the message was written for must still be the user's: a removed or changed identity is not written to.
    const reason =
      message.user_id === null
        ? suppressionReason(null, { value: message.recipient, deliverable_state: 'deliverable' })
        : suppressionReason(user ?? { active: false, suspended: false }, identity && identity.value === message.recipient ? identity : null);
    const finish = (patch: { status: OutboxStatus; suppression_reason?: string | null; last_error?: string | null; message_id?: string | null; sent_at?: Date }) =>
      db
        .updateTable('outbox_messages')
        .set({ ...patch, attempts: message.attempts + 1, text_body: maskTokens(message.text_body), html_body: maskTokens(message.html_body), updated_at: new Date() })
        .where('account_id', '=', data.accountId)
        .where('id', '=', data.messageId)
        .where('status', '=', 'queued')
        .execute();
    if (reason !== null) {
      await finish({ status: 'suppressed', suppression_reason: reason });
      return;
    }
    try {
      const info = (await this.smtp().sendMail({
        to: message.recipient,
        subject: message.subject,
        text: message.text_body,
        html: message.html_body,
        headers: { 'Auto-Submitted': 'auto-generated', 'Content-Language': message.locale },
      })) as { messageId?: unknown };
      await finish({ status: 'sent', last_error: null, sent_at: new Date(), message_id: typeof info.messageId === 'string' ? info.messageId : null });
    } catch (error) {
      const failure = deliveryError(error);
      if (failure.permanent || lastAttempt) {
        await finish({ status: 'failed', last_error: failure.label });
        return;
      }
      await db
        .updateTable('outbox_messages')
        .set({ attempts: message.attempts + 1, last_error: failure.label, updated_at: new Date() })
        .where('account_id', '=', data.accountId)
        .where('id', '=', data.messageId)
        .where('status', '=', 'queued')
        .execute();
      throw new Error(failure.label);
    }
  }

  close(): void {
    this.transport?.close();
    this.transport = null;
  }
}

/** The internal API for other features: write one message to the outbox in the caller's transaction. */
export function enqueueMail(tx: Executor, mail: Mail, request: MailRequest): Promise<EnqueuedMail | null> {
  return mail.enqueue(tx, request);
}

import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Account } from '../../db/tables.ts';
import { toAppError } from '../../http/errors.ts';
import { parseInboxAddress } from './addresses.ts';
import { receiveMail, type InboundDeps } from './receive-mail.ts';

/** What the listener logs through: outcomes and error classes only, never addresses or subjects. */
export interface InboundLog {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}

export interface InboundSmtpOptions extends InboundDeps {
  port: number;
  host: string;
  /** The account behind a support address's subdomain (src/accounts/resolve-account.ts). */
  findAccount(subdomain: string): Promise<Account | undefined>;
  log?: InboundLog;
}

export interface InboundSmtp {
  /** The port actually bound (SMTP_INBOUND_PORT=0 picks a free one). */
  port: number;
  close(): Promise<void>;
}

const smtpError = (responseCode: number, message: string): Error => Object.assign(new Error(message), { responseCode });

/**
 * The SMTP listener for support addresses (smtp-server): RCPT TO must name an account's support
 * address (550 otherwise), a message over the size limit is refused with 552, and each accepted
 * message goes through receiveMail once per account it is addressed to. No AUTH and no STARTTLS:
 * it is meant to sit behind the organisation's MX (or to be the MX on a private network), the
 * way Zendesk is reached through forwarding. Its own logger is off: smtp-server logs envelopes.
 */
export async function startInboundSmtp(options: InboundSmtpOptions): Promise<InboundSmtp> {
  const { mailDomain, maxBytes, log } = options;

  const accountFor = async (address: string): Promise<Account | undefined> => {
    const inbox = parseInboxAddress(address, mailDomain);
    return inbox ? options.findAccount(inbox.subdomain) : undefined;
  };

  const deliver = async (raw: Buffer, session: SMTPServerSession): Promise<string> => {
    const recipients = session.envelope.rcptTo.map((address) => address.address);
    const accounts = new Map<number, Account>();
    for (const address of recipients) {
      const account = await accountFor(address);
      if (account) accounts.set(account.id, account);
    }
    const mailFrom = session.envelope.mailFrom;
    const nullSender = mailFrom !== false && mailFrom.address === '';
    const outcomes: string[] = [];
    for (const account of accounts.values()) {
      const outcome = await receiveMail(options, account, raw, { recipients, nullSender });
      outcomes.push(outcome.status);
      log?.info({ inbound: outcome.status, ...(outcome.status === 'dropped' ? { reason: outcome.reason } : {}) }, 'inbound mail');
    }
    return outcomes.join(',');
  };

  const server = new SMTPServer({
    banner: 'Roster inbound mail',
    size: maxBytes,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideSTARTTLS: true,
    disableReverseLookup: true,
    logger: false,
    maxClients: 100,
    closeTimeout: 5000,
    onRcptTo(address, _session, callback) {
      accountFor(address.address).then(
        (account) => callback(account ? null : smtpError(550, '5.1.1 Mailbox unavailable')),
        () => callback(smtpError(451, '4.3.0 Temporary failure, try again later')),
      );
    },
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        // Past the limit the rest is drained, not kept.
        if (size <= maxBytes) chunks.push(chunk);
      });
      stream.on('error', () => callback(smtpError(451, '4.3.0 Temporary failure, try again later')));
      stream.on('end', () => {
        if (stream.sizeExceeded || size > maxBytes) {
          callback(smtpError(552, `5.3.4 Message too big for this system (limit ${maxBytes} bytes)`));
          return;
        }
        deliver(Buffer.concat(chunks, size), session).then(
          (outcomes) => callback(null, `2.0.0 Message accepted (${outcomes})`),
          (error: unknown) => {
            const appError = toAppError(error);
            if (appError?.status === 413) return callback(smtpError(552, `5.3.4 ${appError.description ?? 'Message too big'}`));
            if (appError && appError.status >= 400 && appError.status < 500) {
              log?.info({ inbound: 'rejected', error: appError.code }, 'inbound mail');
              return callback(smtpError(550, `5.6.0 Message rejected: ${appError.description ?? appError.code}`));
            }
            log?.warn({ inbound: 'failed', error: (error as Error)?.name ?? 'Error' }, 'inbound mail failed');
            return callback(smtpError(451, '4.3.0 Temporary failure, try again later'));
          },
        );
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.server.off('error', onError);
      resolve();
    });
  });
  // Errors after start (a client resetting its connection) are the connection's, not the process's.
  server.on('error', () => undefined);
  const address = server.server.address() as AddressInfo | null;
  return {
    port: address?.port ?? options.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

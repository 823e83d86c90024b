import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * A real SMTP server on loopback (port 0) that keeps what it receives. `reject` answers the next
 * N messages with a temporary (4xx) or permanent (5xx) error, to exercise retries.
 */
export interface SmtpSink {
  url: string;
  received: ParsedMail[];
  rawReceived: string[];
  rejectNext(count: number, code: number): void;
  attempts: number;
  waitFor(count: number, timeoutMs?: number): Promise<ParsedMail[]>;
  close(): Promise<void>;
}

export async function startSmtpSink(port = 0): Promise<SmtpSink> {
  const received: ParsedMail[] = [];
  const rawReceived: string[] = [];
  let rejections: { count: number; code: number } = { count: 0, code: 451 };
  const state = { attempts: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        state.attempts += 1;
        if (rejections.count > 0) {
          rejections = { ...rejections, count: rejections.count - 1 };
          const error = new Error(rejections.code >= 500 ? 'Mailbox unavailable' : 'Try again later') as Error & { responseCode: number };
          error.responseCode = rejections.code;
          callback(error);
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        rawReceived.push(raw);
        simpleParser(raw)
          .then((parsed) => {
            received.push(parsed);
            callback();
          })
          .catch((error: Error) => callback(error));
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  const bound = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${bound}`,
    received,
    rawReceived,
    get attempts() {
      return state.attempts;
    },
    rejectNext(count, code) {
      rejections = { count, code };
    },
    async waitFor(count, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > until) throw new Error(`expected ${count} messages, got ${received.length}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return received;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

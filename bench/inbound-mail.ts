/**
 * Inbound mail throughput: N messages sent with nodemailer (pooled, real SMTP on loopback) to
 * the inbound listener on an in-memory embedded database (or DATABASE_URL), half of them replies
 * threading onto earlier tickets. Run: `npx tsx bench/inbound-mail.ts --messages 300`.
 */
import { sql } from 'kysely';
import nodemailer from 'nodemailer';
import { loadConfig } from '../src/config.ts';
import { ensureAccount } from '../src/accounts/bootstrap.ts';
import { startInboundSmtp } from '../src/mail/inbound/smtp-listener.ts';
import { startRuntime } from '../src/server.ts';

const count = Number(process.argv[process.argv.indexOf('--messages') + 1]) || 200;
const config = { ...loadConfig({ DATA_DIR: 'memory://', ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}) }), dataDir: 'memory://' };
// PostgreSQL: a schema of its own, dropped at the end (never the database's public schema).
const schema = config.databaseUrl ? 'bench_inbound' : undefined;
const runtime = await startRuntime({ config, ...(schema ? { schema } : {}) });
await ensureAccount(runtime.database.db, 'default', { name: 'Bench Owner', email: 'owner@bench.test', password: 'a long bench password' });
const smtp = await startInboundSmtp({
  db: runtime.database.db,
  storage: runtime.storage,
  mailDomain: 'localhost',
  maxBytes: 25 * 1024 * 1024,
  port: 0,
  host: '127.0.0.1',
  findAccount: (subdomain) => runtime.accounts.get(subdomain),
});
const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true, pool: true, maxConnections: 4 });
const started = performance.now();
// First half: new messages; second half: one reply to each (threaded by In-Reply-To).
const half = Math.ceil(count / 2);
const ids: string[] = [];
const send = async (n: number) => {
  const reply = n >= half ? n - half : undefined;
  const who = reply ?? n;
  const sent = await transport.sendMail({
    from: { name: `Sender ${who}`, address: `sender${who}@customer.test` },
    to: 'support@default.localhost',
    cc: n % 5 === 0 ? [`cc${n}@customer.test`] : [],
    subject: reply !== undefined ? 'Re: bench' : `Bench message ${n}`,
    text: `Message ${n}\n\n${'lorem ipsum '.repeat(40)}`,
    ...(reply !== undefined ? { inReplyTo: ids[reply], references: [ids[reply] ?? ''] } : {}),
    ...(n % 10 === 0 ? { attachments: [{ filename: 'a.bin', content: Buffer.alloc(20_000, n % 256) }] } : {}),
  });
  ids[n] = sent.messageId;
};
for (const [from, to] of [[0, half], [half, count]] as const) {
  let index = from;
  const worker = async () => {
    while (index < to) await send(index++);
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}
const seconds = (performance.now() - started) / 1000;
const tickets = await runtime.database.db.selectFrom('tickets').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
const comments = await runtime.database.db.selectFrom('ticket_comments').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
process.stdout.write(`${count} messages in ${seconds.toFixed(1)} s: ${(count / seconds).toFixed(1)} msg/s (${tickets.n} tickets, ${comments.n} comments; ${runtime.database.kind})\n`);
transport.close();
await smtp.close();
if (schema) {
  await sql.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${schema}_boss" CASCADE`).execute(runtime.database.db);
}
await runtime.close();

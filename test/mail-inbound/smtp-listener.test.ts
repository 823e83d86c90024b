import nodemailer from 'nodemailer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startInboundSmtp, type InboundSmtp } from '../../src/mail/inbound/smtp-listener.ts';
import { createTestApp, type TestApp } from '../helpers.ts';
import { corpus, counts, SUPPORT } from './mail-helpers.ts';

const LIMIT = 128 * 1024;
let t: TestApp;
let smtp: InboundSmtp;
const logged: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  t = await createTestApp();
  const log = { info: (object: Record<string, unknown>) => logged.push(object), warn: (object: Record<string, unknown>) => logged.push(object) };
  smtp = await startInboundSmtp({
    db: t.runtime.database.db,
    storage: t.runtime.storage,
    mailDomain: 'localhost',
    maxBytes: LIMIT,
    port: 0,
    host: '127.0.0.1',
    findAccount: (subdomain) => t.runtime.accounts.get(subdomain),
    log,
  });
});
afterAll(async () => {
  await smtp.close();
  await t.close();
});
beforeEach(async () => {
  await t.reset();
  logged.length = 0;
});

const transport = () => nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true, connectionTimeout: 5000 });

describe('Inbound SMTP listener (real SMTP on loopback)', () => {
  it('binds a free port for port 0', () => {
    expect(smtp.port).toBeGreaterThan(0);
  });

  it('nodemailer → smtp-server: a ticket with its requester, CCs and attachment; the reply threads onto it', async () => {
    const sent = await transport().sendMail({
      from: { name: 'Nora Sender', address: 'nora@customer.test' },
      to: SUPPORT,
      cc: [{ name: 'Olaf Cc', address: 'olaf@customer.test' }],
      subject: 'Écran bloqué — 屏幕',
      text: 'My screen is stuck.',
      html: '<p>My screen is <em>stuck</em>.</p>',
      attachments: [{ filename: 'screen.png', content: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]), contentType: 'image/png' }],
    });
    expect(sent.accepted).toEqual([SUPPORT]);
    expect(sent.response).toMatch(/^250 .*ticket_created/);
    const tickets = (await t.request('GET', '/api/v2/tickets')).json().tickets as Array<Record<string, unknown>>;
    expect(tickets).toHaveLength(1);
    const ticket = tickets[0] as { id: number; subject: string; requester_id: number; email_cc_ids: number[]; via: { channel: string } };
    expect(ticket).toMatchObject({ subject: 'Écran bloqué — 屏幕', via: { channel: 'email' } });
    expect((await t.request('GET', `/api/v2/users/${ticket.requester_id}`)).json().user).toMatchObject({ name: 'Nora Sender', email: 'nora@customer.test' });
    expect(ticket.email_cc_ids).toHaveLength(1);
    const [first] = (await t.request('GET', `/api/v2/tickets/${ticket.id}/comments`)).json().comments as Array<{ attachments: Array<{ id: number }> }>;
    const content = await t.runtime.app.inject({ method: 'GET', url: `/api/v2/attachments/${first?.attachments[0]?.id}/content`, headers: t.owner.headers });
    expect(content.rawPayload.equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]))).toBe(true);

    const reply = await transport().sendMail({ from: 'nora@customer.test', to: SUPPORT, subject: 'Re: Écran', text: 'Still stuck', inReplyTo: sent.messageId, references: [sent.messageId] });
    expect(reply.response).toMatch(/comment_added/);
    const comments = (await t.request('GET', `/api/v2/tickets/${ticket.id}/comments`)).json().comments as unknown[];
    expect(comments).toHaveLength(2);
    // The log says what happened, never to or from whom.
    expect(JSON.stringify(logged)).not.toMatch(/customer\.test|Nora|Écran|localhost/);
    expect(logged.map((entry) => entry.inbound)).toEqual(['ticket_created', 'comment_added']);
  });

  it('refuses an unknown mailbox at RCPT TO (550)', async () => {
    await expect(transport().sendMail({ from: 'nora@customer.test', to: 'support@nobody.localhost', subject: 'x', text: 'x' })).rejects.toMatchObject({ responseCode: 550 });
    await expect(transport().sendMail({ from: 'nora@customer.test', to: 'someone@elsewhere.test', subject: 'x', text: 'x' })).rejects.toMatchObject({ responseCode: 550 });
  });

  it('refuses an over-size message with 552 and writes nothing', async () => {
    const before = await counts(t);
    await expect(transport().sendMail({ from: 'nora@customer.test', to: SUPPORT, subject: 'Big', text: 'x', attachments: [{ filename: 'big.bin', content: Buffer.alloc(LIMIT, 7) }] })).rejects.toMatchObject({ responseCode: 552 });
    expect(await counts(t)).toEqual(before);
  });

  it('rejects a malformed message with a permanent 550 (no sender), never a temporary failure', async () => {
    const before = await counts(t);
    const raw = corpus('malformed.eml');
    await expect(transport().sendMail({ envelope: { from: 'nora@customer.test', to: [SUPPORT] }, raw })).rejects.toMatchObject({ responseCode: 550 });
    expect(await counts(t)).toEqual(before);
  });

  it('drops a bounce (null reverse path) without a ticket', async () => {
    const before = await counts(t);
    const sent = await transport().sendMail({ envelope: { from: '', to: [SUPPORT] }, raw: corpus('multipart-alternative.eml') });
    expect(sent.response).toMatch(/dropped/);
    expect(await counts(t)).toEqual(before);
  });

  it('closes cleanly: a second listener on the same port starts after close', async () => {
    const log = { info: () => undefined, warn: () => undefined };
    const other = await startInboundSmtp({ db: t.runtime.database.db, storage: t.runtime.storage, mailDomain: 'localhost', maxBytes: LIMIT, port: 0, host: '127.0.0.1', findAccount: (s) => t.runtime.accounts.get(s), log });
    const port = other.port;
    await other.close();
    const again = await startInboundSmtp({ db: t.runtime.database.db, storage: t.runtime.storage, mailDomain: 'localhost', maxBytes: LIMIT, port, host: '127.0.0.1', findAccount: (s) => t.runtime.accounts.get(s), log });
    expect(again.port).toBe(port);
    await again.close();
  });
});

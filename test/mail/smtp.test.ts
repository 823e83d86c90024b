import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { basic, createTestApp, onPostgres, type TestApp } from '../helpers.ts';
import { startSmtpSink, type SmtpSink } from './smtp-sink.ts';

/**
 * Outbound mail over real SMTP on loopback: nodemailer (the outbox's delivery task) talks to an
 * smtp-server sink in this process. Retries use a 1 s first delay (MAIL_RETRY_DELAY_SECONDS).
 */
let sink: SmtpSink;
let t: TestApp;

beforeAll(async () => {
  sink = await startSmtpSink();
  t = await createTestApp({ env: { SMTP_URL: sink.url, MAIL_FROM: 'Support <support@roster.test>', PUBLIC_URL: 'https://{subdomain}.help.roster.test', MAIL_RETRY_LIMIT: '3', MAIL_RETRY_DELAY_SECONDS: '1' } });
});
afterAll(async () => {
  await t.close();
  await sink.close();
});
beforeEach(async () => {
  await t.reset();
  sink.received.length = 0;
  sink.rawReceived.length = 0;
  sink.rejectNext(0, 451);
});

async function outboxMessage(id: number): Promise<Record<string, unknown>> {
  const response = await t.request('GET', `/api/v2/outbox/${id}`);
  expect(response.statusCode).toBe(200);
  return response.json().message as Record<string, unknown>;
}

async function waitForStatus(userId: number, status: string): Promise<Record<string, unknown>> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const list = await t.request('GET', `/api/v2/outbox?user_id=${userId}`);
    const message = (list.json().messages as Array<Record<string, unknown>>)[0];
    if (message && message.status === status) return message;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no ${status} message for user ${userId}`);
}

describe('welcome mail over SMTP', () => {
  it('arrives with a text and an HTML part in the user\'s language, and its link sets a password that signs in', async () => {
    const created = await t.request('POST', '/api/v2/users', { body: { user: { name: 'Zoé <b>Martin</b>', email: 'zoe@roster-mail.dev', locale: 'fr' } } });
    expect(created.statusCode).toBe(201);
    const userId = created.json().user.id as number;
    const [mail] = await sink.waitFor(1);
    if (!mail) throw new Error('no mail');
    expect(mail.subject).toBe('Bienvenue chez Roster');
    expect(mail.to && 'text' in mail.to ? mail.to.text : '').toContain('zoe@roster-mail.dev');
    expect(mail.from?.text).toContain('support@roster.test');
    expect(mail.text).toContain('Définir votre mot de passe');
    expect(mail.text).toContain('Zoé <b>Martin</b>');
    // The HTML part escapes the name: no markup from a user reaches the message.
    expect(mail.html).toContain('Zoé &lt;b&gt;Martin&lt;/b&gt;');
    expect(mail.html).not.toContain('<b>Martin</b>');
    expect(mail.headers.get('content-language')).toBe('fr');
    const link = /https:\/\/default\.help\.roster\.test\/hc\/set_password#token=([A-Za-z0-9_-]{43})/.exec(mail.text ?? '');
    expect(link).not.toBeNull();
    const token = link?.[1] ?? '';
    expect(mail.html).toContain(`#token=${token}`);

    const sent = await waitForStatus(userId, 'sent');
    expect(sent).toMatchObject({ template: 'welcome', locale: 'fr', recipient: 'zoe@roster-mail.dev', attempts: 1, last_error: null });
    expect(sent.message_id).toEqual(expect.stringMatching(/^<.+>$/));
    // Once sent, the outbox keeps no working credential: the stored body's token is masked.
    const stored = await outboxMessage(sent.id as number);
    expect(stored.text_body).not.toContain(token);
    expect(stored.text_body).toContain('#token=▇');
    const rows = await t.runtime.database.db.selectFrom('outbox_messages').select(['text_body', 'html_body']).where('id', '=', sent.id as number).executeTakeFirstOrThrow();
    expect(rows.text_body + rows.html_body).not.toContain(token);

    const used = await t.request('POST', '/api/v2/users/tokens/set_password', { as: null, body: { token, password: 'a brand new password' } });
    expect(used.statusCode).toBe(200);
    expect(used.json().token).toMatchObject({ purpose: 'set_password', user_id: userId, identity_verified: true, password_set: true });
    const me = await t.request('GET', '/api/v2/users/me', { as: null, headers: basic('zoe@roster-mail.dev', 'a brand new password') });
    expect(me.statusCode).toBe(200);
    expect(me.json().user).toMatchObject({ id: userId, verified: true });
    const again = await t.request('POST', '/api/v2/users/tokens/set_password', { as: null, body: { token, password: 'another new password' } });
    expect(again.statusCode).toBe(410);
    expect(again.json().error).toBe('TokenUsed');
  });

  it('is retried with backoff when the server answers 4xx, then delivered once', async () => {
    sink.rejectNext(2, 451);
    const started = Date.now();
    const created = await t.request('POST', '/api/v2/users', { body: { user: { name: 'Retry Rita', email: 'rita@roster-mail.dev' } } });
    const userId = created.json().user.id as number;
    const sent = await waitForStatus(userId, 'sent');
    expect(sink.received).toHaveLength(1);
    expect(sent.attempts).toBe(3);
    expect(sent.last_error).toBeNull();
    // Two retries with doubling delays from 1 s: at least 1 s + 2 s elapsed.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
    expect(sink.received[0]?.subject).toBe('Welcome to Roster');
  });

  it('records the SMTP code while retrying, never the server\'s text or the address', async () => {
    sink.rejectNext(1, 451);
    const created = await t.request('POST', '/api/v2/users', { body: { user: { name: 'Code Carl', email: 'carl@roster-mail.dev' } } });
    const userId = created.json().user.id as number;
    let seen: string | null = null;
    for (let attempt = 0; attempt < 100 && seen === null; attempt += 1) {
      const row = await t.runtime.database.db.selectFrom('outbox_messages').select(['last_error']).where('user_id', '=', userId).executeTakeFirst();
      seen = row?.last_error ?? null;
      if (seen === null) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(seen).toBe('EMESSAGE 451');
    await waitForStatus(userId, 'sent');
    // pg-boss keeps the failed attempt's error and the job's data: the code and ids only.
    const db = t.runtime.database.db;
    const current = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db);
    const bossSchema = onPostgres ? `${current.rows[0]?.schema ?? ''}_boss` : 'pgboss';
    const jobs = await sql<{ data: string; output: string | null }>`SELECT data::text AS data, output::text AS output FROM ${sql.table(`${bossSchema}.job`)} WHERE name = 'roster-mail'`.execute(db);
    expect(jobs.rows.length).toBeGreaterThan(0);
    for (const job of jobs.rows) {
      expect(Object.keys(JSON.parse(job.data) as object).sort()).toEqual(['accountId', 'messageId']);
      expect(`${job.data} ${job.output ?? ''}`).not.toContain('carl');
      expect(`${job.data} ${job.output ?? ''}`).not.toContain('Try again later');
    }
  });

  it('gives up on a permanent (5xx) rejection: failed, not retried', async () => {
    sink.rejectNext(1, 550);
    const created = await t.request('POST', '/api/v2/users', { body: { user: { name: 'Bounce Bob', email: 'bob@roster-mail.dev' } } });
    const userId = created.json().user.id as number;
    const failed = await waitForStatus(userId, 'failed');
    expect(failed).toMatchObject({ attempts: 1, last_error: 'EMESSAGE 550' });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(sink.attempts).toBeGreaterThanOrEqual(1);
    expect(sink.received).toHaveLength(0);
  });

  it('never connects for reserved domains or suspended users: suppressed with the reason', async () => {
    const reserved = await t.request('POST', '/api/v2/users', { body: { user: { name: 'Placeholder', email: 'someone@example.com' } } });
    const suspended = await t.request('POST', '/api/v2/users', { body: { user: { name: 'Sus Pended', email: 'sus@roster-mail.dev', suspended: true, suspension_reason: 'abuse' } } });
    expect(reserved.statusCode).toBe(201);
    expect(suspended.statusCode).toBe(201);
    const list = await t.request('GET', '/api/v2/outbox?status=suppressed');
    const reasons = (list.json().messages as Array<Record<string, unknown>>).map((message) => message.suppression_reason).sort();
    expect(reasons).toEqual(['reserved_domain', 'suspended_user']);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(sink.received).toHaveLength(0);
  });

  it('does not send to a user suspended between writing and delivery', async () => {
    sink.rejectNext(1, 451);
    const created = await t.request('POST', '/api/v2/users', { body: { user: { name: 'Late Lou', email: 'lou@roster-mail.dev' } } });
    const userId = created.json().user.id as number;
    const suspend = await t.request('PUT', `/api/v2/users/${userId}`, { body: { user: { suspended: true, suspension_reason: 'spam' } } });
    expect(suspend.statusCode).toBe(200);
    const suppressed = await waitForStatus(userId, 'suppressed');
    expect(suppressed.suppression_reason).toBe('suspended_user');
    expect(sink.received).toHaveLength(0);
  });
});

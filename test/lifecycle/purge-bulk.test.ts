import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureAccount } from '../../src/accounts/bootstrap.ts';
import { issueApiToken } from '../../src/auth/api-tokens.ts';
import { loadConfig } from '../../src/config.ts';
import { PURGE_BATCH, sweepDeletedUsers } from '../../src/lifecycle/purge-deleted-users.ts';
import { startRuntime, type Runtime } from '../../src/server.ts';
import { basic, createTestApp, onPostgres, type TestApp } from '../helpers.ts';
import { DAY, ticketFor } from './lifecycle-helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});
beforeEach(async () => {
  await t.reset();
});

const deletedUser = async (t: TestApp, fields: Record<string, unknown> = {}): Promise<number> => {
  const user = await t.user(fields);
  const response = await t.request('DELETE', `/api/v2/users/${user.id}`);
  if (response.statusCode !== 200) throw new Error(response.body);
  return user.id;
};

describe('Automatic purge (pinned clock)', () => {
  it('purges 30 days after the soft delete, not before; a second run purges nothing; audited with no actor', async () => {
    const db = t.runtime.database.db;
    const id = await deletedUser(t, { name: 'Soon Gone', email: 'soon.gone@roster.test' });
    const now = Date.now();
    expect(await sweepDeletedUsers(db, new Date(now + 29 * DAY), t.runtime.storage)).toBe(0);
    expect((await t.request('GET', `/api/v2/deleted_users/${id}`)).json().deleted_user.state).toBe('pending_purge');
    expect(await sweepDeletedUsers(db, new Date(now + 30 * DAY + 60_000), t.runtime.storage)).toBe(1);
    expect((await t.request('GET', `/api/v2/deleted_users/${id}`)).json().deleted_user).toMatchObject({ state: 'purged', name: 'Permanently Deleted User', email: null });
    expect(await sweepDeletedUsers(db, new Date(now + 40 * DAY), t.runtime.storage)).toBe(0);
    const audits = await db.selectFrom('audit_events').selectAll().where('action', '=', 'user.purge').execute();
    expect(audits).toHaveLength(1);
    expect(audits[0]?.actor_id).toBeNull();
  });

  it('follows a changed setting for users already deleted, and catches up a backlog in batches', async () => {
    const db = t.runtime.database.db;
    const first = await deletedUser(t);
    expect((await t.request('PUT', '/api/v2/account/settings', { body: { settings: { user_purge_after_days: 7 } } })).json().settings.user_purge_after_days).toBe(7);
    expect((await t.request('PUT', '/api/v2/account/settings', { body: { settings: { user_purge_after_days: 0 } } })).statusCode).toBe(422);
    const shown = (await t.request('GET', `/api/v2/deleted_users/${first}`)).json().deleted_user;
    expect(new Date(shown.purge_at).getTime() - new Date(shown.deleted_at).getTime()).toBe(7 * DAY);
    // A backlog larger than one batch, deleted "long ago" (as after an outage).
    await sql`
      WITH u AS (
        INSERT INTO users (account_id, name, role, active, deleted_at)
        SELECT ${t.account.id}, 'backlog ' || g, 'end-user', false, now() - interval '60 days' FROM generate_series(1, ${PURGE_BATCH * 2 + 3}) g
        RETURNING account_id, id, deleted_at)
      INSERT INTO user_deletions (account_id, user_id, deleted_at) SELECT account_id, id, deleted_at FROM u`.execute(db);
    // The start-up run of the scheduled job may be purging alongside (SKIP LOCKED shares the rows out):
    // between them every due user is purged exactly once.
    const purged = await sweepDeletedUsers(db, new Date(Date.now() + 8 * DAY), t.runtime.storage);
    expect(purged).toBeGreaterThan(0);
    // Rows the concurrent run skipped to us, or holds, are purged when it commits: wait for it (not for ever).
    const pending = async () => (await t.request('GET', '/api/v2/deleted_users/count?state=pending_purge')).json().count.value as number;
    for (let i = 0; i < 300 && (await pending()) > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await pending()).toBe(0);
    expect((await t.request('GET', '/api/v2/deleted_users/count?state=purged')).json().count.value).toBe(PURGE_BATCH * 2 + 4);
    const audits = await db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', 'user.purge').executeTakeFirstOrThrow();
    expect(Number(audits.n)).toBe(PURGE_BATCH * 2 + 4);
  });
});

describe('Automatic purge across a restart', () => {
  it('a user deleted before the runtime stops is purged by the sweep after it starts again', async () => {
    const dataDir = onPostgres ? 'memory://' : fs.mkdtempSync(path.join(os.tmpdir(), 'roster-purge-'));
    const schema = onPostgres ? `t_${crypto.randomBytes(6).toString('hex')}` : undefined;
    const config = { ...loadConfig({ DATA_DIR: dataDir, ...(onPostgres ? { DATABASE_URL: process.env.DATABASE_URL } : {}) }), rateLimitPerMinute: 0 };
    const start = () => startRuntime({ config, ...(schema ? { schema } : {}), jobPollingSeconds: 0.5 });
    let runtime: Runtime = await start();
    try {
      const { account } = await ensureAccount(runtime.database.db, 'default', { name: 'Owner', email: 'owner@restart.test', password: 'restart owner password' });
      const token = await issueApiToken(runtime.database.db, account.id, null, 'restart');
      const headers = { ...basic('owner@restart.test/token', token.token), 'content-type': 'application/json' };
      const created = await runtime.app.inject({ method: 'POST', url: '/api/v2/users', headers, payload: JSON.stringify({ user: { name: 'Before Restart', email: 'before@restart.test' } }) });
      const id = created.json().user.id as number;
      expect((await runtime.app.inject({ method: 'DELETE', url: `/api/v2/users/${id}`, headers })).statusCode).toBe(200);
      await runtime.close();

      runtime = await start();
      // The hourly cron is registered durably in the job queue's schedule table.
      const schedules = await sql<{ name: string }>`SELECT name FROM ${sql.table(`${schema ? `${schema}_boss` : 'pgboss'}.schedule`)}`.execute(runtime.database.db);
      expect(schedules.rows.map((row) => row.name)).toContain('roster-purge-deleted-users');
      expect(await sweepDeletedUsers(runtime.database.db, new Date(Date.now() + 31 * DAY), runtime.storage)).toBe(1);
      const shown = await runtime.app.inject({ method: 'GET', url: `/api/v2/deleted_users/${id}`, headers });
      expect(shown.json().deleted_user).toMatchObject({ state: 'purged', name: 'Permanently Deleted User', email: null });
    } finally {
      await runtime.close();
      if (schema) {
        const { openDatabase } = await import('../../src/db/database.ts');
        const admin = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: 'memory://' });
        await sql.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${schema}_boss" CASCADE`).execute(admin.db);
        await admin.close();
      } else {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    }
  });
});

describe('DELETE /api/v2/users/destroy_many', () => {
  it('deletes as a job; refusals are per-user results, not a failed job', async () => {
    const ok = await t.user({});
    const busy = await t.user({});
    await ticketFor(t, busy.id, 'open');
    const response = await t.request('DELETE', `/api/v2/users/destroy_many?ids=${ok.id},${busy.id},${t.owner.id}`);
    expect(response.statusCode).toBe(200);
    const job = await t.waitForJob(response.json().job_status.id);
    expect(job.status).toBe('completed');
    expect(job.results).toEqual([
      { index: 0, id: ok.id, action: 'delete', status: 'Deleted', success: true },
      { index: 1, id: busy.id, success: false, status: 'Failed', error: 'RecordInvalid', details: 'base: User is requester on 1 ticket that is not closed.' },
      { index: 2, id: t.owner.id, success: false, status: 'Failed', error: 'Forbidden', details: 'Nobody can delete themselves' },
    ]);
    expect((await t.request('GET', `/api/v2/users/${ok.id}`)).json().user.active).toBe(false);
    expect((await t.request('GET', `/api/v2/users/${busy.id}`)).json().user.active).toBe(true);
  });

  it('takes external_ids, at most 100 ids, and needs bulk_actions', async () => {
    const user = await t.user({ external_id: 'ext-del-1' });
    const job = await t.waitForJob((await t.request('DELETE', '/api/v2/users/destroy_many?external_ids=ext-del-1')).json().job_status.id);
    expect(job.results).toEqual([expect.objectContaining({ id: user.id, success: true })]);
    const many = Array.from({ length: 101 }, (_, i) => i + 1).join(',');
    expect((await t.request('DELETE', `/api/v2/users/destroy_many?ids=${many}`)).statusCode).toBe(400);
    expect((await t.request('DELETE', '/api/v2/users/destroy_many')).statusCode).toBe(400);
  });
});

describe('POST /api/v2/users/destroy_by_query', () => {
  it('dry run: the count and who would be refused and why; nobody is deleted', async () => {
    const a = await t.user({ name: 'Query Target One', tags: ['cleanup'] });
    const b = await t.user({ name: 'Query Target Two', tags: ['cleanup'] });
    await ticketFor(t, b.id, 'open');
    const response = await t.request('POST', '/api/v2/users/destroy_by_query', { body: { query: 'tags:cleanup', dry_run: true } });
    expect(response.statusCode).toBe(200);
    expect(response.json().dry_run).toEqual({
      count: 2,
      deletable: 1,
      refused: [{ id: b.id, name: 'Query Target Two', error: 'RecordInvalid', description: 'User is requester on 1 ticket that is not closed.' }],
    });
    expect((await t.request('GET', `/api/v2/users/${a.id}`)).json().user.active).toBe(true);

    const real = await t.request('POST', '/api/v2/users/destroy_by_query', { body: { query: 'tags:cleanup' } });
    const job = await t.waitForJob(real.json().job_status.id);
    expect((job.results as Array<{ success: boolean }>).map((r) => r.success)).toEqual([true, false]);
    expect((await t.request('GET', `/api/v2/users/${a.id}`)).json().user.active).toBe(false);
  });

  it('refuses a query that finds more than 100 users, and a malformed query', async () => {
    await sql`INSERT INTO users (account_id, name, role, tags) SELECT ${t.account.id}, 'many ' || g, 'end-user', '{bulk}' FROM generate_series(1, 101) g`.execute(t.runtime.database.db);
    const response = await t.request('POST', '/api/v2/users/destroy_by_query', { body: { query: 'tags:bulk', dry_run: true } });
    expect(response.statusCode).toBe(422);
    expect(response.json().details.query[0].description).toBe('The query finds 101 users; destroy_by_query deletes at most 100 at a time: narrow the query');
    expect((await t.request('POST', '/api/v2/users/destroy_by_query', { body: { query: 'created<' } })).statusCode).toBe(400);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { Credentials } from '../../src/auth/authenticate.ts';
import { CredentialCache, invalidateCredentials } from '../../src/auth/credential-cache.ts';
import { openDatabase } from '../../src/db/database.ts';
import type { Account } from '../../src/db/tables.ts';
import { startRuntime, type Runtime } from '../../src/server.ts';
import { basic, onPostgres } from '../helpers.ts';

const account = { id: 7 } as Account;
const signedIn = (id: number, expiresAt: Date | null = null): Credentials =>
  ({ user: { id } as Credentials['user'], method: 'api_token', scopes: null, expiresAt }) as Credentials;

describe('CredentialCache', () => {
  it('authenticates once, then answers repeats from memory', async () => {
    const cache = new CredentialCache();
    let loads = 0;
    const load = async () => (loads += 1, signedIn(1));
    await cache.authenticate(account, 'Basic a', load);
    await cache.authenticate(account, 'Basic a', load);
    expect(loads).toBe(1);
    await cache.authenticate(account, 'Basic b', load);
    expect(loads).toBe(2);
    cache.close();
  });

  it('never keeps failures or anonymous callers', async () => {
    const cache = new CredentialCache();
    let loads = 0;
    const anonymous = async () => (loads += 1, { user: null, method: 'anonymous', scopes: null } as Credentials);
    await cache.authenticate(account, 'Basic a', anonymous);
    await cache.authenticate(account, 'Basic a', anonymous);
    await expect(cache.authenticate(account, 'Basic x', async () => { throw new Error('401'); })).rejects.toThrow('401');
    expect(loads).toBe(2);
    cache.close();
  });

  it('drops an account\'s entries when a write to that account is audited, and only that account\'s', async () => {
    const cache = new CredentialCache();
    let loads = 0;
    const load = async () => (loads += 1, signedIn(1));
    const other = { id: 8 } as Account;
    await cache.authenticate(account, 'Basic a', load);
    await cache.authenticate(other, 'Basic a', load);
    invalidateCredentials(account.id);
    await cache.authenticate(account, 'Basic a', load);
    await cache.authenticate(other, 'Basic a', load);
    expect(loads).toBe(3);
    cache.close();
  });

  it('does not keep an answer whose authentication raced a write', async () => {
    const cache = new CredentialCache();
    let loads = 0;
    await cache.authenticate(account, 'Basic a', async () => {
      loads += 1;
      invalidateCredentials(account.id); // the write commits while this read is in flight
      return signedIn(1);
    });
    await cache.authenticate(account, 'Basic a', async () => (loads += 1, signedIn(1)));
    expect(loads).toBe(2);
    cache.close();
  });

  it('honours an OAuth token\'s own expiry', async () => {
    const cache = new CredentialCache();
    let loads = 0;
    const load = async () => (loads += 1, signedIn(1, new Date(Date.now() + 30)));
    await cache.authenticate(account, 'Bearer t', load);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await cache.authenticate(account, 'Bearer t', load);
    expect(loads).toBe(2);
    cache.close();
  });

  it('asks the database every time while disabled (cross-process invalidation not heard)', async () => {
    const cache = new CredentialCache();
    cache.setEnabled(false);
    let loads = 0;
    const load = async () => (loads += 1, signedIn(1));
    await cache.authenticate(account, 'Basic a', load);
    await cache.authenticate(account, 'Basic a', load);
    expect(loads).toBe(2);
    cache.close();
  });
});

// Two Roster processes on one PostgreSQL database: a write in one reaches the other's cache.
// The second is a real `roster serve` child process (in one process, audit() alone would do it).
describe.runIf(onPostgres)('Credential invalidation across processes (PostgreSQL)', () => {
  const schema = `t_${crypto.randomBytes(6).toString('hex')}`;
  let child: ChildProcess | undefined;
  let runtime: Runtime | undefined;

  afterAll(async () => {
    child?.kill('SIGTERM');
    await runtime?.close();
    const admin = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: 'memory://' });
    await sql.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${schema}_boss" CASCADE`).execute(admin.db);
    await admin.close();
  });

  it('locks a user out of the other process once this one suspends them', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_SCHEMA: schema, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ROSTER_OWNER_EMAIL: 'owner@roster.test', SMTP_INBOUND_PORT: 'off' };
    delete env.ROSTER_OWNER_PASSWORD;
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], { cwd: path.resolve(import.meta.dirname, '../..'), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 60_000;
    while (!/API token: +\S+/.test(output) || !output.includes('These are shown')) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const token = /API token: +(\S+)/.exec(output)?.[1] ?? '';
    const port = Number(/Roster is running at http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);

    const config = { ...loadConfig({ DATA_DIR: 'memory://', DATABASE_URL: process.env.DATABASE_URL, DATABASE_SCHEMA: schema }), rateLimitPerMinute: 0 };
    runtime = await startRuntime({ config, jobPollingSeconds: 0.5 });
    const ownerHeaders = { ...basic('owner@roster.test/token', token), 'content-type': 'application/json' };
    const created = await runtime.app.inject({ method: 'POST', url: '/api/v2/users', headers: ownerHeaders, payload: { user: { name: 'Ada Admin', email: 'ada@roster.test', role: 'admin' } } });
    expect(created.statusCode).toBe(201);
    const adminId = created.json().user.id as number;

    const asAdminThere = () => fetch(`http://127.0.0.1:${port}/api/v2/users/me`, { headers: basic('ada@roster.test/token', token) });
    expect((await asAdminThere()).status).toBe(200);
    expect((await asAdminThere()).status).toBe(200); // now answered from the other process's cache

    const suspend = await runtime.app.inject({ method: 'PUT', url: `/api/v2/users/${adminId}`, headers: ownerHeaders, payload: { user: { suspended: true, suspension_reason: 'security' } } });
    expect(suspend.statusCode).toBe(200);
    let status = 200;
    for (let attempt = 0; attempt < 50 && status === 200; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = (await asAdminThere()).status;
    }
    expect(status).toBe(401);
  });
});

import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../src/config.ts';
import { ensureAccount } from '../src/accounts/bootstrap.ts';
import { issueApiToken } from '../src/auth/api-tokens.ts';
import { startRuntime, type Runtime } from '../src/server.ts';
import type { Account } from '../src/db/tables.ts';

/** True when the suite runs against the PostgreSQL server (DATABASE_URL) instead of PGlite. */
export const onPostgres = Boolean(process.env.DATABASE_URL);

export const OWNER_EMAIL = 'owner@roster.test';
export const OWNER_PASSWORD = 'correct horse battery staple';

export interface Caller {
  email: string;
  token: string;
  id: number;
  headers: Record<string, string>;
}

export interface TestApp {
  runtime: Runtime;
  account: Account;
  owner: Caller;
  /** Send a request through Fastify's inject (no socket). */
  request(method: string, url: string, options?: { as?: Caller | null; body?: unknown; headers?: Record<string, string> }): Promise<LightMyRequestResponse>;
  /** Create a user through the API as the owner and return an API caller for it (role agent/admin/end-user). */
  user(fields: Record<string, unknown>): Promise<Caller>;
  /** Waits until a job leaves queued/working. */
  waitForJob(id: string, as?: Caller): Promise<Record<string, unknown>>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

export function basic(login: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${login}:${secret}`).toString('base64')}` };
}

/**
 * One runtime per test file: in-memory PGlite, or a private schema on the PostgreSQL server
 * when DATABASE_URL is set, so files never see each other's rows.
 */
export async function createTestApp(options: { rateLimitPerMinute?: number; baseDomain?: string; env?: Record<string, string>; dataDir?: string } = {}): Promise<TestApp> {
  const schema = onPostgres ? `t_${crypto.randomBytes(6).toString('hex')}` : undefined;
  const config = { ...loadConfig({ DATA_DIR: 'memory://', ...(onPostgres ? { DATABASE_URL: process.env.DATABASE_URL } : {}), ...options.env }), rateLimitPerMinute: options.rateLimitPerMinute ?? 0, baseDomain: options.baseDomain };
  // A real directory (the zero-trace test reads every file under it); in memory otherwise.
  config.dataDir = options.dataDir ?? 'memory://';
  const runtime = await startRuntime({ config, ...(schema ? { schema } : {}), jobPollingSeconds: 0.5 });
  const db = runtime.database.db;
  let tokenSecret = '';

  const bootstrap = async (): Promise<{ account: Account; owner: Caller }> => {
    const { account } = await ensureAccount(db, 'default', { name: 'Olivia Owner', email: OWNER_EMAIL, password: OWNER_PASSWORD });
    const issued = await issueApiToken(db, account.id, null, 'tests');
    tokenSecret = issued.token;
    const owner = await db.selectFrom('users').select('id').where('account_id', '=', account.id).where('is_owner', '=', true).executeTakeFirstOrThrow();
    return { account, owner: { email: OWNER_EMAIL, token: issued.token, id: owner.id, headers: basic(`${OWNER_EMAIL}/token`, issued.token) } };
  };

  const state = await bootstrap();
  const app: TestApp = {
    runtime,
    account: state.account,
    owner: state.owner,
    async request(method, url, options = {}) {
      const as = options.as === undefined ? app.owner : options.as;
      const headers: Record<string, string> = { ...(as ? as.headers : {}), ...(options.headers ?? {}) };
      const init: InjectOptions = { method: method as 'GET', url, headers };
      if (options.body !== undefined) {
        init.payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      return runtime.app.inject(init);
    },
    async user(fields) {
      const email = (fields.email as string | undefined) ?? `user-${crypto.randomBytes(4).toString('hex')}@roster.test`;
      const response = await app.request('POST', '/api/v2/users', { body: { user: { name: 'Test User', ...fields, email } } });
      if (response.statusCode !== 201) throw new Error(`could not create test user: ${response.statusCode} ${response.body}`);
      const id = response.json().user.id as number;
      return { email, token: tokenSecret, id, headers: basic(`${email}/token`, tokenSecret) };
    },
    async waitForJob(id, as) {
      for (let attempt = 0; attempt < 200; attempt += 1) {
        const response = await app.request('GET', `/api/v2/job_statuses/${id}`, { as: as ?? app.owner });
        const job = response.json().job_status as Record<string, unknown>;
        if (job.status === 'completed' || job.status === 'failed') return job;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`job ${id} did not finish`);
    },
    async reset() {
      await runtime.jobs.stop();
      await sql`TRUNCATE accounts, users, user_identities, api_tokens, oauth_clients, oauth_tokens, audit_events, job_statuses, groups, group_memberships, custom_roles, organizations, organization_memberships, custom_fields, custom_field_options, tickets, ticket_collaborators, ticket_comments, ticket_attachments, suspended_tickets, deleted_ticket_records RESTART IDENTITY CASCADE`.execute(db);
      await runtime.jobs.start();
      runtime.accounts.clear();
      runtime.credentials.clear();
      const fresh = await bootstrap();
      app.account = fresh.account;
      app.owner = fresh.owner;
    },
    async close() {
      await runtime.close();
      if (schema) {
        const { openDatabase } = await import('../src/db/database.ts');
        const admin = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: 'memory://' });
        await sql.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${schema}_boss" CASCADE`).execute(admin.db);
        await admin.close();
      }
    },
  };
  return app;
}

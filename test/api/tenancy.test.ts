import crypto from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAccount } from '../../src/accounts/bootstrap.ts';
import { issueApiToken } from '../../src/auth/api-tokens.ts';
import type { Account } from '../../src/db/tables.ts';
import { basic, createTestApp, OWNER_EMAIL, OWNER_PASSWORD, type Caller, type TestApp } from '../helpers.ts';

/** Account A is the helper's default account (host localhost); account B is `acme`. */
const ACME_HOST = 'acme.localhost:3000';
const ACME_PASSWORD = 'acme owner password';

let t: TestApp;
let acme: Account;
/** Acme's owner: same email as the default account's owner, its own token and host. */
let acmeOwner: Caller;

beforeAll(async () => {
  t = await createTestApp();
  const db = t.runtime.database.db;
  ({ account: acme } = await ensureAccount(db, 'acme', { name: 'Acme Owner', email: OWNER_EMAIL, password: ACME_PASSWORD }));
  const token = await issueApiToken(db, acme.id, null, 'acme tests');
  const owner = await db.selectFrom('users').select('id').where('account_id', '=', acme.id).where('is_owner', '=', true).executeTakeFirstOrThrow();
  acmeOwner = { email: OWNER_EMAIL, token: token.token, id: owner.id, headers: { ...basic(`${OWNER_EMAIL}/token`, token.token), host: ACME_HOST } };
});
afterAll(async () => {
  await t.close();
});

/** Sends `caller`'s credentials to another account's host. */
function on(host: string, caller: Caller): Caller {
  return { ...caller, headers: { ...caller.headers, host } };
}

async function acmeUser(fields: Record<string, unknown>): Promise<{ id: number; email: string }> {
  const email = (fields.email as string | undefined) ?? `acme-${crypto.randomBytes(4).toString('hex')}@roster.test`;
  const response = await t.request('POST', '/api/v2/users', { as: acmeOwner, body: { user: { name: 'Acme User', ...fields, email } } });
  expect(response.statusCode, response.body).toBe(201);
  return { id: response.json().user.id as number, email };
}

async function defaultUser(fields: Record<string, unknown>): Promise<{ id: number; email: string }> {
  const caller = await t.user({ name: 'Default User', ...fields });
  return { id: caller.id, email: caller.email };
}

async function identitiesOf(userId: number, as: Caller = t.owner): Promise<Array<{ id: number; type: string; value: string; primary: boolean; verified: boolean }>> {
  const response = await t.request('GET', `/api/v2/users/${userId}/identities`, { as });
  expect(response.statusCode).toBe(200);
  return response.json().identities;
}

function expectNotFound(response: { statusCode: number; json(): Record<string, unknown> }, label = ''): void {
  expect(response.statusCode, label).toBe(404);
  expect(response.json().error, label).toBe('RecordNotFound');
}

describe('Account resolution by host', () => {
  it('serves each account its own owner under the same email', async () => {
    const a = await t.request('GET', '/api/v2/users/me');
    const b = await t.request('GET', '/api/v2/users/me', { as: acmeOwner });
    expect(a.json().user.email).toBe(OWNER_EMAIL);
    expect(b.json().user.email).toBe(OWNER_EMAIL);
    expect(a.json().user.id).toBe(t.owner.id);
    expect(b.json().user.id).toBe(acmeOwner.id);
    expect(acmeOwner.id).not.toBe(t.owner.id);
    expect(b.json().user.url).toContain(`//${ACME_HOST}/api/v2/users/${acmeOwner.id}.json`);
  });

  it('answers 404 for a subdomain that has no account, whoever asks', async () => {
    for (const as of [null, t.owner, on('nope.localhost:3000', acmeOwner)]) {
      const response = await t.request('GET', '/api/v2/users', { as, headers: { host: 'nope.localhost:3000' } });
      expectNotFound(response);
    }
    const me = await t.request('GET', '/api/v2/users/me', { as: null, headers: { host: 'nope.localhost' } });
    expectNotFound(me);
  });

  it('answers 400 for a malformed Host instead of echoing it into links', async () => {
    for (const host of ['exa mple', 'a/b', 'evil.test"><script>', 'x..y:99999999']) {
      const response = await t.request('GET', '/api/v2/users/me', { headers: { host } });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toBe('InvalidParameter');
    }
  });
});

describe('Credentials do not cross accounts', () => {
  it('does not authenticate an API token of account A on account B, nor B\'s on A', async () => {
    const aOnB = await t.request('GET', '/api/v2/users', { as: on(ACME_HOST, t.owner) });
    expect(aOnB.statusCode).toBe(401);
    expect(aOnB.json()).toEqual({ error: "Couldn't authenticate you" });
    const bOnA = await t.request('GET', '/api/v2/users', { as: on('localhost', acmeOwner) });
    expect(bOnA.statusCode).toBe(401);
  });

  it('checks a password against the user of the account asked, not a namesake elsewhere', async () => {
    const wrong = await t.request('GET', '/api/v2/users/me', { as: null, headers: { ...basic(OWNER_EMAIL, OWNER_PASSWORD), host: ACME_HOST } });
    expect(wrong.statusCode).toBe(401);
    const right = await t.request('GET', '/api/v2/users/me', { as: null, headers: { ...basic(OWNER_EMAIL, ACME_PASSWORD), host: ACME_HOST } });
    expect(right.json().user.id).toBe(acmeOwner.id);
  });

  it('does not authenticate an OAuth token of account A on account B', async () => {
    const client = await t.request('POST', '/api/v2/oauth/clients', { body: { client: { name: 'A app', identifier: 'a-app' } } });
    const issued = await t.request('POST', '/api/v2/oauth/tokens', { body: { token: { client_id: client.json().client.id, scopes: ['read'] } } });
    const bearer = { authorization: `Bearer ${issued.json().token.full_token as string}` };
    expect((await t.request('GET', '/api/v2/users', { as: null, headers: bearer })).statusCode).toBe(200);
    const onB = await t.request('GET', '/api/v2/users', { as: null, headers: { ...bearer, host: ACME_HOST } });
    expect(onB.statusCode).toBe(401);
  });

  it('does not let account B use or delete account A\'s OAuth client', async () => {
    const client = await t.request('POST', '/api/v2/oauth/clients', { body: { client: { name: 'A only', identifier: 'a-only' } } });
    const clientId = client.json().client.id as number;
    const issue = await t.request('POST', '/api/v2/oauth/tokens', { as: acmeOwner, body: { token: { client_id: clientId, scopes: ['read'] } } });
    expect(issue.statusCode).toBe(422);
    expectNotFound(await t.request('DELETE', `/api/v2/oauth/clients/${clientId}`, { as: acmeOwner }));
    const listed = await t.request('GET', '/api/v2/oauth/clients', { as: acmeOwner });
    expect((listed.json().clients as Array<{ id: number }>).map((row) => row.id)).not.toContain(clientId);
    // The same identifier is free in account B.
    const same = await t.request('POST', '/api/v2/oauth/clients', { as: acmeOwner, body: { client: { name: 'B too', identifier: 'a-only' } } });
    expect(same.statusCode).toBe(201);
  });
});

describe('Users are private to their account', () => {
  it('allows the same email and external_id in both accounts', async () => {
    const a = await defaultUser({ email: 'shared@roster.test', external_id: 'ext-shared' });
    const b = await acmeUser({ email: 'shared@roster.test', external_id: 'ext-shared' });
    expect(a.id).not.toBe(b.id);
    const dupInB = await t.request('POST', '/api/v2/users', { as: acmeOwner, body: { user: { name: 'Dup', email: 'shared@roster.test' } } });
    expect(dupInB.statusCode).toBe(422);
  });

  it('does not show, list, count or show_many another account\'s users', async () => {
    const a = await defaultUser({ external_id: 'only-in-a' });
    expectNotFound(await t.request('GET', `/api/v2/users/${a.id}`, { as: acmeOwner }));
    expectNotFound(await t.request('GET', `/api/v2/users/${a.id}/related`, { as: acmeOwner }));
    expectNotFound(await t.request('GET', `/api/v2/users/${a.id}/password/requirements`, { as: acmeOwner }));

    const list = await t.request('GET', '/api/v2/users?per_page=100', { as: acmeOwner });
    const ids = (list.json().users as Array<{ id: number }>).map((user) => user.id);
    expect(ids).toContain(acmeOwner.id);
    expect(ids).not.toContain(a.id);
    expect(ids).not.toContain(t.owner.id);
    const cursor = await t.request('GET', '/api/v2/users?page[size]=100', { as: acmeOwner });
    expect((cursor.json().users as Array<{ id: number }>).map((user) => user.id)).not.toContain(a.id);

    const dbCount = await t.runtime.database.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', acme.id).executeTakeFirstOrThrow();
    const count = await t.request('GET', '/api/v2/users/count', { as: acmeOwner });
    expect(count.json().count.value).toBe(Number(dbCount.n));

    const many = await t.request('GET', `/api/v2/users/show_many?ids=${a.id},${t.owner.id},${acmeOwner.id}`, { as: acmeOwner });
    expect(many.statusCode).toBe(200);
    expect((many.json().users as Array<{ id: number }>).map((user) => user.id)).toEqual([acmeOwner.id]);
    const byExternal = await t.request('GET', '/api/v2/users/show_many?external_ids=only-in-a', { as: acmeOwner });
    expect(byExternal.json().users).toEqual([]);
    const filtered = await t.request('GET', '/api/v2/users?external_id=only-in-a', { as: acmeOwner });
    expect(filtered.json().users).toEqual([]);
  });

  it('answers 404 to an update of another account\'s user and leaves it unchanged', async () => {
    const a = await defaultUser({ name: 'Alice in A' });
    expectNotFound(await t.request('PUT', `/api/v2/users/${a.id}`, { as: acmeOwner, body: { user: { name: 'Hijacked', suspended: true } } }));
    expectNotFound(await t.request('POST', `/api/v2/users/${a.id}/password`, { as: acmeOwner, body: { password: 'hijacked-password' } }));
    expectNotFound(await t.request('PUT', `/api/v2/users/${t.owner.id}`, { as: acmeOwner, body: { user: { role: 'end-user' } } }));
    const after = await t.request('GET', `/api/v2/users/${a.id}`);
    expect(after.json().user).toMatchObject({ name: 'Alice in A', suspended: false });
    const row = await t.runtime.database.db.selectFrom('users').select('password_hash').where('id', '=', a.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toBeNull();
  });

  it('create_or_update in B with an email or external_id of A creates a user in B and leaves A alone', async () => {
    const a = await defaultUser({ name: 'Match Me', external_id: 'ext-a-match' });
    const byEmail = await t.request('POST', '/api/v2/users/create_or_update', { as: acmeOwner, body: { user: { name: 'B by email', email: a.email } } });
    expect(byEmail.statusCode).toBe(201);
    expect(byEmail.json().user.id).not.toBe(a.id);
    const byExternal = await t.request('POST', '/api/v2/users/create_or_update', { as: acmeOwner, body: { user: { name: 'B by ext', external_id: 'ext-a-match' } } });
    expect(byExternal.statusCode).toBe(201);
    expect(byExternal.json().user.id).not.toBe(a.id);
    expect((await t.request('GET', `/api/v2/users/${a.id}`)).json().user.name).toBe('Match Me');
  });

  it('update_many in B on A\'s ids fails each item and changes nothing in A', async () => {
    const a = await defaultUser({ name: 'Bulk Target' });
    const queued = await t.request('PUT', `/api/v2/users/update_many?ids=${a.id},${t.owner.id}`, { as: acmeOwner, body: { user: { name: 'Bulk Hijack' } } });
    expect(queued.statusCode).toBe(200);
    const job = await t.waitForJob(queued.json().job_status.id as string, acmeOwner);
    expect(job.status).toBe('completed');
    const results = job.results as Array<{ success: boolean }>;
    expect(results).toHaveLength(2);
    expect(results.every((result) => result.success === false)).toBe(true);

    const byList = await t.request('PUT', '/api/v2/users/update_many', { as: acmeOwner, body: { users: [{ id: a.id, name: 'Bulk Hijack' }] } });
    const listJob = await t.waitForJob(byList.json().job_status.id as string, acmeOwner);
    expect((listJob.results as Array<{ success: boolean }>)[0]?.success).toBe(false);

    expect((await t.request('GET', `/api/v2/users/${a.id}`)).json().user.name).toBe('Bulk Target');
    expect((await t.request('GET', '/api/v2/users/me')).json().user.name).toBe('Olivia Owner');
  });

  it('create_many in B with A\'s emails creates B users', async () => {
    const a = await defaultUser({});
    const queued = await t.request('POST', '/api/v2/users/create_many', { as: acmeOwner, body: { users: [{ name: 'Twin', email: a.email }] } });
    const job = await t.waitForJob(queued.json().job_status.id as string, acmeOwner);
    const result = (job.results as Array<{ success: boolean; id: number }>)[0];
    expect(result?.success).toBe(true);
    expect(result?.id).not.toBe(a.id);
    const twin = await t.request('GET', `/api/v2/users/${result?.id ?? 0}`, { as: acmeOwner });
    expect(twin.json().user.email).toBe(a.email);
    expectNotFound(await t.request('GET', `/api/v2/users/${result?.id ?? 0}`));
  });
});

describe('Identities are private to their account', () => {
  it('answers 404 to every identity route for another account\'s user or identity', async () => {
    const a = await defaultUser({ email: `ident-a-${crypto.randomBytes(3).toString('hex')}@roster.test` });
    await t.request('POST', `/api/v2/users/${a.id}/identities`, { body: { identity: { type: 'email', value: `second-${a.email}` } } });
    const aIdentities = await identitiesOf(a.id);
    const aIdentity = aIdentities.find((identity) => !identity.primary);
    expect(aIdentity).toBeDefined();
    const identityId = aIdentity?.id ?? 0;
    const b = await acmeUser({});
    const base = `/api/v2/users/${a.id}/identities`;
    const crossed = `/api/v2/users/${b.id}/identities/${identityId}`;

    const attempts: Array<[string, string, unknown]> = [
      ['GET', base, undefined],
      ['GET', `${base}/${identityId}`, undefined],
      ['POST', base, { identity: { type: 'email', value: 'injected@roster.test' } }],
      ['PUT', `${base}/${identityId}`, { identity: { value: 'changed@roster.test' } }],
      ['PUT', `${base}/${identityId}/make_primary`, undefined],
      ['PUT', `${base}/${identityId}/verify`, undefined],
      ['PUT', `${base}/${identityId}/request_verification`, undefined],
      ['DELETE', `${base}/${identityId}`, undefined],
      // B's own user with A's identity id
      ['GET', crossed, undefined],
      ['PUT', crossed, { identity: { verified: true } }],
      ['PUT', `${crossed}/make_primary`, undefined],
      ['PUT', `${crossed}/verify`, undefined],
      ['DELETE', crossed, undefined],
    ];
    for (const [method, url, body] of attempts) {
      const response = await t.request(method, url, { as: acmeOwner, ...(body === undefined ? {} : { body }) });
      expectNotFound(response, `${method} ${url}`);
    }
    expect(await identitiesOf(a.id)).toEqual(aIdentities);
  });

  it('lets each account hold the same identity value', async () => {
    const a = await defaultUser({});
    const b = await acmeUser({});
    const value = `twitter_${crypto.randomBytes(3).toString('hex')}`;
    expect((await t.request('POST', `/api/v2/users/${a.id}/identities`, { body: { identity: { type: 'twitter', value } } })).statusCode).toBe(201);
    expect((await t.request('POST', `/api/v2/users/${b.id}/identities`, { as: acmeOwner, body: { identity: { type: 'twitter', value } } })).statusCode).toBe(201);
    const b2 = await acmeUser({});
    const dup = await t.request('POST', `/api/v2/users/${b2.id}/identities`, { as: acmeOwner, body: { identity: { type: 'twitter', value } } });
    expect(dup.statusCode).toBe(422);
  });
});

describe('Job statuses are private to their account', () => {
  it('does not show, list or show_many another account\'s jobs', async () => {
    const queued = await t.request('POST', '/api/v2/users/create_many', { body: { users: [{ name: 'Job in A' }] } });
    const id = queued.json().job_status.id as string;
    await t.waitForJob(id);
    expectNotFound(await t.request('GET', `/api/v2/job_statuses/${id}`, { as: acmeOwner }));
    const list = await t.request('GET', '/api/v2/job_statuses', { as: acmeOwner });
    expect((list.json().job_statuses as Array<{ id: string }>).map((job) => job.id)).not.toContain(id);
    const many = await t.request('GET', `/api/v2/job_statuses/show_many?ids=${id}`, { as: acmeOwner });
    expect(many.json().job_statuses).toEqual([]);
    expect((await t.request('GET', `/api/v2/job_statuses/${id}`)).statusCode).toBe(200);
  });
});

describe('API tokens are private to their account', () => {
  it('does not list or delete another account\'s tokens', async () => {
    const created = await t.request('POST', '/api/v2/api_tokens', { body: { api_token: { description: 'A token' } } });
    const { id, full_token: secret } = created.json().api_token as { id: number; full_token: string };
    const listed = await t.request('GET', '/api/v2/api_tokens', { as: acmeOwner });
    expect((listed.json().api_tokens as Array<{ id: number }>).map((token) => token.id)).not.toContain(id);
    expectNotFound(await t.request('DELETE', `/api/v2/api_tokens/${id}`, { as: acmeOwner }));
    const stillWorks = await t.request('GET', '/api/v2/users/me', { as: null, headers: basic(`${OWNER_EMAIL}/token`, secret) });
    expect(stillWorks.json().user.id).toBe(t.owner.id);
  });
});

describe('Account settings are private to their account', () => {
  it('changes one account\'s settings without touching the other', async () => {
    const put = await t.request('PUT', '/api/v2/account/settings', { as: acmeOwner, body: { settings: { require_email_on_create: true } } });
    expect(put.json().settings.require_email_on_create).toBe(true);
    expect((await t.request('GET', '/api/v2/account/settings')).json().settings.require_email_on_create).toBe(false);
    const inA = await t.request('POST', '/api/v2/users', { body: { user: { name: 'No email in A' } } });
    expect(inA.statusCode).toBe(201);
    const inB = await t.request('POST', '/api/v2/users', { as: acmeOwner, body: { user: { name: 'No email in B' } } });
    expect(inB.statusCode).toBe(422);
    await t.request('PUT', '/api/v2/account/settings', { as: acmeOwner, body: { settings: { require_email_on_create: false } } });
  });
});

describe('Schema: every tenant table is keyed by account_id', () => {
  const BOOKKEEPING = /^kysely_migration/;

  async function tenantTables(): Promise<string[]> {
    const result = await sql<{ table_name: string }>`
      SELECT table_name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
      ORDER BY table_name`.execute(t.runtime.database.db);
    return result.rows.map((row) => row.table_name).filter((name) => name !== 'accounts' && !BOOKKEEPING.test(name));
  }

  it('has an account_id column on every table but accounts', async () => {
    const tables = await tenantTables();
    expect(tables).toEqual(expect.arrayContaining(['users', 'user_identities', 'api_tokens', 'oauth_clients', 'oauth_tokens', 'audit_events', 'job_statuses']));
    const columns = await sql<{ table_name: string }>`
      SELECT table_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND column_name = 'account_id'`.execute(t.runtime.database.db);
    const withAccount = new Set(columns.rows.map((row) => row.table_name));
    expect(tables.filter((table) => !withAccount.has(table))).toEqual([]);
  });

  it('includes account_id in every primary key, unique constraint and foreign key (both sides)', async () => {
    const tables = await tenantTables();
    const constraints = await sql<{ table_name: string; constraint_name: string; constraint_type: string; columns: string[] | null; referenced_columns: string[] | null; referenced_table: string | null }>`
      SELECT tc.table_name, tc.constraint_name, tc.constraint_type,
        (SELECT array_agg(k.column_name::text) FROM information_schema.key_column_usage k
          WHERE k.constraint_schema = tc.constraint_schema AND k.constraint_name = tc.constraint_name AND k.table_name = tc.table_name) AS columns,
        (SELECT array_agg(a.attname::text) FROM pg_constraint c
          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = ANY (c.confkey)
          WHERE c.conname = tc.constraint_name AND c.connamespace = to_regnamespace(tc.constraint_schema)) AS referenced_columns,
        (SELECT c.confrelid::regclass::text FROM pg_constraint c
          WHERE c.conname = tc.constraint_name AND c.connamespace = to_regnamespace(tc.constraint_schema) AND c.contype = 'f') AS referenced_table
      FROM information_schema.table_constraints tc
      WHERE tc.table_schema = current_schema() AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')`.execute(t.runtime.database.db);

    const ofTenants = constraints.rows.filter((row) => tables.includes(row.table_name));
    expect(ofTenants.filter((row) => row.constraint_type === 'FOREIGN KEY').length).toBeGreaterThanOrEqual(4);
    for (const table of tables) {
      expect(ofTenants.some((row) => row.table_name === table && row.constraint_type === 'PRIMARY KEY'), `${table} has a primary key`).toBe(true);
    }
    const offenders = ofTenants
      .filter((row) => {
        if (!(row.columns ?? []).includes('account_id')) return true;
        // A foreign key into another tenant table must match on account_id too (into accounts: its id).
        if (row.constraint_type === 'FOREIGN KEY' && row.referenced_table !== 'accounts') return !(row.referenced_columns ?? []).includes('account_id');
        return false;
      })
      .map((row) => `${row.table_name}.${row.constraint_name}`);
    expect(offenders).toEqual([]);
  });

  it('includes account_id in every unique index', async () => {
    const tables = await tenantTables();
    const indexes = await sql<{ table_name: string; index_name: string; has_account: boolean }>`
      SELECT t.relname AS table_name, i.relname AS index_name,
        EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = 'account_id' AND a.attnum = ANY (x.indkey::int2[])) AS has_account
      FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_class t ON t.oid = x.indrelid
      WHERE x.indisunique AND t.relnamespace = to_regnamespace(current_schema())`.execute(t.runtime.database.db);
    const offenders = indexes.rows.filter((row) => tables.includes(row.table_name) && !row.has_account).map((row) => `${row.table_name}.${row.index_name}`);
    expect(indexes.rows.filter((row) => tables.includes(row.table_name)).length).toBeGreaterThan(tables.length);
    expect(offenders).toEqual([]);
  });
});

import crypto from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, createTestApp, OWNER_EMAIL, OWNER_PASSWORD, type Caller, type TestApp } from '../helpers.ts';

const UNAUTHENTICATED = { error: "Couldn't authenticate you" };

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** A caller that sends exactly these headers (no helper token). */
function raw(headers: Record<string, string>): Caller {
  return { email: '', token: '', id: 0, headers };
}

/** Creates a user with a password set by the owner; returns its email and password. */
async function userWithPassword(fields: Record<string, unknown>): Promise<Caller & { password: string }> {
  const caller = await t.user(fields);
  const password = `pw-${crypto.randomBytes(6).toString('hex')}`;
  const response = await t.request('POST', `/api/v2/users/${caller.id}/password`, { body: { password } });
  expect(response.statusCode).toBe(200);
  return { ...caller, password };
}

async function oauthClient(as: Caller = t.owner): Promise<number> {
  const response = await t.request('POST', '/api/v2/oauth/clients', {
    as,
    body: { client: { name: 'Integration', identifier: `client-${crypto.randomBytes(4).toString('hex')}` } },
  });
  expect(response.statusCode).toBe(201);
  return response.json().client.id as number;
}

async function oauthToken(scopes: string[], as: Caller = t.owner): Promise<{ id: number; token: string }> {
  const clientId = await oauthClient(as);
  const response = await t.request('POST', '/api/v2/oauth/tokens', { as, body: { token: { client_id: clientId, scopes } } });
  expect(response.statusCode).toBe(201);
  const token = response.json().token as { id: number; full_token: string; scopes: string[] };
  expect(token.scopes.sort()).toEqual([...scopes].sort());
  return { id: token.id, token: token.full_token };
}

describe('Basic authentication with an API token (email/token:TOKEN)', () => {
  it('authenticates as the user named by the email', async () => {
    const response = await t.request('GET', '/api/v2/users/me');
    expect(response.statusCode).toBe(200);
    expect(response.json().user).toMatchObject({ id: t.owner.id, email: OWNER_EMAIL, role: 'admin' });
  });

  it('accepts the email in any case and the scheme name in lower case', async () => {
    const header = basic(`${OWNER_EMAIL.toUpperCase()}/token`, t.owner.token).authorization ?? '';
    const response = await t.request('GET', '/api/v2/users/me', { as: raw({ authorization: header.replace('Basic', 'basic') }) });
    expect(response.statusCode).toBe(200);
    expect(response.json().user.id).toBe(t.owner.id);
  });

  it('acts as each user: an agent authenticated by token gets the agent role', async () => {
    const agent = await t.user({ role: 'agent' });
    const response = await t.request('GET', '/api/v2/users/me', { as: agent });
    expect(response.statusCode).toBe(200);
    expect(response.json().user).toMatchObject({ id: agent.id, role: 'agent' });
  });

  it('refuses a wrong token with exactly {"error":"Couldn\'t authenticate you"}', async () => {
    const response = await t.request('GET', '/api/v2/users', { as: raw(basic(`${OWNER_EMAIL}/token`, 'not-the-token')) });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(UNAUTHENTICATED);
    expect(response.headers['www-authenticate']).toMatch(/^Basic /);
  });

  it('refuses a valid token with an email that is not a user of the account', async () => {
    const response = await t.request('GET', '/api/v2/users', { as: raw(basic('nobody@roster.test/token', t.owner.token)) });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(UNAUTHENTICATED);
  });

  it('does not treat the token as a password', async () => {
    const response = await t.request('GET', '/api/v2/users', { as: raw(basic(OWNER_EMAIL, t.owner.token)) });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(UNAUTHENTICATED);
  });
});

describe('Basic authentication with a password (email:password)', () => {
  it('authenticates a user whose password was set by the owner', async () => {
    const agent = await userWithPassword({ role: 'agent' });
    const response = await t.request('GET', '/api/v2/users/me', { as: raw(basic(agent.email, agent.password)) });
    expect(response.statusCode).toBe(200);
    expect(response.json().user).toMatchObject({ id: agent.id, role: 'agent' });
  });

  it('authenticates the owner with the bootstrap password', async () => {
    const response = await t.request('GET', '/api/v2/users/me', { as: raw(basic(OWNER_EMAIL, OWNER_PASSWORD)) });
    expect(response.statusCode).toBe(200);
    expect(response.json().user.id).toBe(t.owner.id);
  });

  it('stores the password as a scrypt hash, never in clear', async () => {
    const agent = await userWithPassword({ role: 'agent' });
    const row = await t.runtime.database.db.selectFrom('users').selectAll().where('id', '=', agent.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$/);
    expect(JSON.stringify(row)).not.toContain(agent.password);
  });

  it('refuses a wrong password, an unknown email and a user without a password alike', async () => {
    const agent = await userWithPassword({ role: 'agent' });
    const noPassword = await t.user({ role: 'agent' });
    for (const header of [basic(agent.email, `${agent.password}x`), basic('ghost@roster.test', agent.password), basic(noPassword.email, agent.password)]) {
      const response = await t.request('GET', '/api/v2/users', { as: raw(header) });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual(UNAUTHENTICATED);
    }
  });
});

describe('Bearer authentication with OAuth tokens', () => {
  it('lets a read token GET', async () => {
    const { token } = await oauthToken(['read']);
    const response = await t.request('GET', '/api/v2/users', { as: raw(bearer(token)) });
    expect(response.statusCode).toBe(200);
    const me = await t.request('GET', '/api/v2/users/me', { as: raw(bearer(token)) });
    expect(me.json().user.id).toBe(t.owner.id);
  });

  it('refuses writes (POST, PUT, DELETE) with a read token: 403 Forbidden, nothing changed', async () => {
    const { token } = await oauthToken(['read']);
    const target = await t.user({ role: 'end-user', name: 'Before' });
    const as = raw(bearer(token));
    const attempts = [
      await t.request('PUT', `/api/v2/users/${target.id}`, { as, body: { user: { name: 'After' } } }),
      await t.request('POST', '/api/v2/users', { as, body: { user: { name: 'Nope', email: 'nope-read@roster.test' } } }),
      await t.request('DELETE', `/api/v2/users/${target.id}/identities/1`, { as }),
    ];
    for (const response of attempts) {
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ error: 'Forbidden' });
      expect(typeof response.json().description).toBe('string');
    }
    const after = await t.request('GET', `/api/v2/users/${target.id}`);
    expect(after.json().user.name).toBe('Before');
    const users = await t.request('GET', '/api/v2/users?per_page=100');
    expect(users.json().users.some((user: { email: string | null }) => user.email === 'nope-read@roster.test')).toBe(false);
  });

  it('does not let a read token mint itself a write token', async () => {
    const { token } = await oauthToken(['read']);
    const clientId = await oauthClient();
    const response = await t.request('POST', '/api/v2/oauth/tokens', { as: raw(bearer(token)), body: { token: { client_id: clientId, scopes: ['write'] } } });
    expect(response.statusCode).toBe(403);
    expect(response.json().error).toBe('Forbidden');
  });

  it('lets a write token write', async () => {
    const { token } = await oauthToken(['write']);
    const target = await t.user({ role: 'end-user', name: 'Before' });
    const updated = await t.request('PUT', `/api/v2/users/${target.id}`, { as: raw(bearer(token)), body: { user: { name: 'Written' } } });
    expect(updated.statusCode).toBe(200);
    expect(updated.json().user.name).toBe('Written');
    const created = await t.request('POST', '/api/v2/users', { as: raw(bearer(token)), body: { user: { name: 'By OAuth', email: 'by-oauth@roster.test' } } });
    expect(created.statusCode).toBe(201);
  });

  it('needs read to GET: a write-only token cannot read', async () => {
    const { token } = await oauthToken(['write']);
    const response = await t.request('GET', '/api/v2/users', { as: raw(bearer(token)) });
    expect(response.statusCode).toBe(403);
    expect(response.json().error).toBe('Forbidden');
  });

  it('lets a read write token do both', async () => {
    const { token } = await oauthToken(['read', 'write']);
    expect((await t.request('GET', '/api/v2/users', { as: raw(bearer(token)) })).statusCode).toBe(200);
    const created = await t.request('POST', '/api/v2/users', { as: raw(bearer(token)), body: { user: { name: 'RW', email: 'rw@roster.test' } } });
    expect(created.statusCode).toBe(201);
  });

  it('refuses unknown scopes', async () => {
    const clientId = await oauthClient();
    const response = await t.request('POST', '/api/v2/oauth/tokens', { body: { token: { client_id: clientId, scopes: ['admin'] } } });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ error: 'RecordInvalid', details: { scopes: [expect.objectContaining({ error: 'InvalidValue' })] } });
  });

  it('refuses an unknown bearer token', async () => {
    const response = await t.request('GET', '/api/v2/users', { as: raw(bearer(crypto.randomBytes(30).toString('base64url'))) });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(UNAUTHENTICATED);
  });

  it('stores OAuth tokens and client secrets only as hashes', async () => {
    const { token } = await oauthToken(['read']);
    const db = t.runtime.database.db;
    const tokens = await db.selectFrom('oauth_tokens').selectAll().execute();
    const clients = await db.selectFrom('oauth_clients').selectAll().execute();
    expect(JSON.stringify(tokens)).not.toContain(token);
    expect(tokens.some((row) => row.token_hash === crypto.createHash('sha256').update(token).digest('hex'))).toBe(true);
    expect(JSON.stringify(clients)).not.toMatch(/"secret"/);
  });
});

describe('Wrong or missing credentials', () => {
  it.each([
    ['an unknown scheme', { authorization: 'Digest username="x"' }],
    ['a scheme without credentials', { authorization: 'Basic' }],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['Basic that is not base64', { authorization: 'Basic !!!***' }],
    ['Basic without a colon', { authorization: `Basic ${Buffer.from('justtext').toString('base64')}` }],
    ['Basic with an empty secret', basic(`${OWNER_EMAIL}/token`, '')],
    ['Basic with an empty login', basic('', 'secret')],
    ['a token sent as Bearer', { authorization: 'Bearer ' + 'x'.repeat(40) }],
    ['a huge header', { authorization: `Basic ${Buffer.from(`${OWNER_EMAIL}:${'p'.repeat(5000)}`).toString('base64')}` }],
  ])('answers 401 {"error":"Couldn\'t authenticate you"} to %s', async (_label, headers) => {
    const response = await t.request('GET', '/api/v2/users', { as: raw(headers) });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(UNAUTHENTICATED);
  });

  it('answers 401 to a protected route without credentials', async () => {
    for (const [method, url] of [
      ['GET', '/api/v2/users'],
      ['GET', `/api/v2/users/${t.owner.id}`],
      ['POST', '/api/v2/users'],
      ['GET', '/api/v2/api_tokens'],
      ['GET', '/api/v2/job_statuses'],
      ['GET', '/api/v2/account/settings'],
    ] as const) {
      const response = await t.request(method, url, { as: null, ...(method === 'POST' ? { body: { user: { name: 'Anon' } } } : {}) });
      expect(response.statusCode, `${method} ${url}`).toBe(401);
      expect(response.json()).toEqual(UNAUTHENTICATED);
    }
  });

  it('answers GET /api/v2/users/me anonymously with the anonymous placeholder', async () => {
    const response = await t.request('GET', '/api/v2/users/me', { as: null });
    expect(response.statusCode).toBe(200);
    expect(response.json().user).toMatchObject({ id: null, url: null, name: 'Anonymous user', role: 'end-user', verified: false });
  });

  it('answers 401 on /users/me when credentials are sent but wrong', async () => {
    const response = await t.request('GET', '/api/v2/users/me', { as: raw(basic(`${OWNER_EMAIL}/token`, 'wrong')) });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(UNAUTHENTICATED);
  });
});

describe('Suspended users and revoked tokens', () => {
  it('locks a suspended user out of API-token, password and OAuth authentication', async () => {
    const admin = await userWithPassword({ role: 'admin' });
    const { token } = await oauthToken(['read'], admin);
    expect((await t.request('GET', '/api/v2/users/me', { as: raw(bearer(token)) })).json().user.id).toBe(admin.id);

    const suspend = await t.request('PUT', `/api/v2/users/${admin.id}`, { body: { user: { suspended: true, suspension_reason: 'security' } } });
    expect(suspend.statusCode).toBe(200);
    expect(suspend.json().user.suspended).toBe(true);

    for (const headers of [admin.headers, basic(admin.email, admin.password), bearer(token)]) {
      const response = await t.request('GET', '/api/v2/users', { as: raw(headers) });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual(UNAUTHENTICATED);
    }

    const unsuspend = await t.request('PUT', `/api/v2/users/${admin.id}`, { body: { user: { suspended: false } } });
    expect(unsuspend.statusCode).toBe(200);
    expect((await t.request('GET', '/api/v2/users', { as: admin })).statusCode).toBe(200);
  });

  it('refuses a deleted API token', async () => {
    const created = await t.request('POST', '/api/v2/api_tokens', { body: { api_token: { description: 'short-lived' } } });
    const { id, full_token: secret } = created.json().api_token as { id: number; full_token: string };
    const caller = raw(basic(`${OWNER_EMAIL}/token`, secret));
    expect((await t.request('GET', '/api/v2/users', { as: caller })).statusCode).toBe(200);
    expect((await t.request('DELETE', `/api/v2/api_tokens/${id}`)).statusCode).toBe(204);
    const response = await t.request('GET', '/api/v2/users', { as: caller });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(UNAUTHENTICATED);
  });

  it('refuses a revoked OAuth token, and the tokens of a deleted client', async () => {
    const revoked = await oauthToken(['read']);
    expect((await t.request('DELETE', `/api/v2/oauth/tokens/${revoked.id}`)).statusCode).toBe(204);
    const afterRevoke = await t.request('GET', '/api/v2/users', { as: raw(bearer(revoked.token)) });
    expect(afterRevoke.statusCode).toBe(401);
    expect(afterRevoke.json()).toEqual(UNAUTHENTICATED);

    const clientId = await oauthClient();
    const issued = await t.request('POST', '/api/v2/oauth/tokens', { body: { token: { client_id: clientId, scopes: ['read'] } } });
    const token = issued.json().token.full_token as string;
    expect((await t.request('GET', '/api/v2/users', { as: raw(bearer(token)) })).statusCode).toBe(200);
    expect((await t.request('DELETE', `/api/v2/oauth/clients/${clientId}`)).statusCode).toBe(204);
    expect((await t.request('GET', '/api/v2/users', { as: raw(bearer(token)) })).statusCode).toBe(401);
  });

  it('does not let the owner suspend themselves (it would lock the account out)', async () => {
    const response = await t.request('PUT', `/api/v2/users/${t.owner.id}`, { body: { user: { suspended: true } } });
    expect(response.statusCode).toBe(403);
    expect(response.json().error).toBe('Forbidden');
    expect((await t.request('GET', '/api/v2/users/me')).json().user.id).toBe(t.owner.id);
  });
});

describe('Credentials in the URL', () => {
  it.each([
    ['an API token as query parameters', () => `?email=${encodeURIComponent(OWNER_EMAIL)}/token&token=${t.owner.token}`],
    ['an access_token parameter', () => `?access_token=${t.owner.token}`],
    ['a username and password', () => `?username=${encodeURIComponent(OWNER_EMAIL)}&password=${encodeURIComponent(OWNER_PASSWORD)}`],
    ['an Authorization parameter', () => `?authorization=${encodeURIComponent(basic(`${OWNER_EMAIL}/token`, t.owner.token).authorization ?? '')}`],
  ])('ignores %s', async (_label, query) => {
    const response = await t.request('GET', `/api/v2/users${query()}`, { as: null });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(UNAUTHENTICATED);
    const me = await t.request('GET', `/api/v2/users/me${query()}`, { as: null });
    expect(me.json().user.id).toBeNull();
  });
});

describe('/api/v2/api_tokens', () => {
  it('creates a token, shows the full token once, and stores only its hash', async () => {
    const created = await t.request('POST', '/api/v2/api_tokens', { body: { api_token: { description: 'CI pipeline' } } });
    expect(created.statusCode).toBe(201);
    const token = created.json().api_token as { id: number; url: string; token: string; full_token: string; description: string; active: boolean };
    expect(token).toMatchObject({ description: 'CI pipeline', active: true });
    expect(token.full_token.length).toBeGreaterThanOrEqual(32);
    expect(token.full_token.startsWith(token.token.replace('…', ''))).toBe(true);
    expect(token.token.length).toBeLessThan(token.full_token.length);
    expect(created.headers.location).toBe(token.url);

    const list = await t.request('GET', '/api/v2/api_tokens');
    expect(list.statusCode).toBe(200);
    const listed = (list.json().api_tokens as Array<Record<string, unknown>>).find((row) => row.id === token.id);
    expect(listed).toMatchObject({ id: token.id, description: 'CI pipeline', token: token.token });
    expect(listed).not.toHaveProperty('full_token');
    expect(list.body).not.toContain(token.full_token);

    const rows = await t.runtime.database.db.selectFrom('api_tokens').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(token.full_token);
    const row = rows.find((candidate) => candidate.id === token.id);
    expect(row?.token_hash).toBe(crypto.createHash('sha256').update(token.full_token).digest('hex'));
    const audit = await sql<{ text: string }>`SELECT row_to_json(a)::text AS text FROM audit_events a`.execute(t.runtime.database.db);
    expect(audit.rows.map((entry) => entry.text).join('\n')).not.toContain(token.full_token);

    const works = await t.request('GET', '/api/v2/users/me', { as: raw(basic(`${OWNER_EMAIL}/token`, token.full_token)) });
    expect(works.json().user.id).toBe(t.owner.id);
  });

  it('is for admins only: an agent gets 403 on list, create and delete', async () => {
    const agent = await t.user({ role: 'agent' });
    const endUser = await t.user({ role: 'end-user' });
    for (const as of [agent, endUser]) {
      for (const [method, url] of [['GET', '/api/v2/api_tokens'], ['POST', '/api/v2/api_tokens'], ['DELETE', '/api/v2/api_tokens/1']] as const) {
        const response = await t.request(method, url, { as, ...(method === 'POST' ? { body: { api_token: { description: 'mine' } } } : {}) });
        expect(response.statusCode, `${method} ${url}`).toBe(403);
        expect(response.json().error).toBe('Forbidden');
      }
    }
    const rows = await t.runtime.database.db.selectFrom('api_tokens').select('description').execute();
    expect(rows.some((row) => row.description === 'mine')).toBe(false);
  });

  it('lets a non-owner admin manage tokens', async () => {
    const admin = await t.user({ role: 'admin' });
    const created = await t.request('POST', '/api/v2/api_tokens', { as: admin, body: { api_token: { description: 'admin made' } } });
    expect(created.statusCode).toBe(201);
    expect((await t.request('DELETE', `/api/v2/api_tokens/${created.json().api_token.id}`, { as: admin })).statusCode).toBe(204);
  });

  it('answers 404 when deleting a token that does not exist', async () => {
    const response = await t.request('DELETE', '/api/v2/api_tokens/999999');
    expect(response.statusCode).toBe(404);
    expect(response.json().error).toBe('RecordNotFound');
  });
});

describe('Password endpoints', () => {
  it('POST /users/:id/password lets the owner set an agent\'s and an admin\'s password (200)', async () => {
    for (const role of ['agent', 'admin', 'end-user']) {
      const user = await t.user({ role });
      const response = await t.request('POST', `/api/v2/users/${user.id}/password`, { body: { password: 'a-long-password-1' } });
      expect(response.statusCode, role).toBe(200);
      const login = await t.request('GET', '/api/v2/users/me', { as: raw(basic(user.email, 'a-long-password-1')) });
      expect(login.json().user.id).toBe(user.id);
    }
  });

  it('lets a non-owner admin set an agent\'s password but not another admin\'s or the owner\'s', async () => {
    const admin = await t.user({ role: 'admin' });
    const agent = await t.user({ role: 'agent' });
    const otherAdmin = await t.user({ role: 'admin' });
    expect((await t.request('POST', `/api/v2/users/${agent.id}/password`, { as: admin, body: { password: 'agent-password-1' } })).statusCode).toBe(200);
    for (const target of [otherAdmin.id, t.owner.id]) {
      const response = await t.request('POST', `/api/v2/users/${target}/password`, { as: admin, body: { password: 'hijacked-password' } });
      expect(response.statusCode).toBe(403);
      expect(response.json().error).toBe('Forbidden');
    }
    const hijack = await t.request('GET', '/api/v2/users/me', { as: raw(basic(OWNER_EMAIL, 'hijacked-password')) });
    expect(hijack.statusCode).toBe(401);
  });

  it('refuses POST by agents and end users, and on oneself', async () => {
    const agent = await t.user({ role: 'agent' });
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('POST', `/api/v2/users/${endUser.id}/password`, { as: agent, body: { password: 'agent-sets-this' } })).statusCode).toBe(403);
    expect((await t.request('POST', `/api/v2/users/${agent.id}/password`, { as: endUser, body: { password: 'enduser-sets-this' } })).statusCode).toBe(403);
    expect((await t.request('POST', `/api/v2/users/${t.owner.id}/password`, { body: { password: 'owner-sets-own' } })).statusCode).toBe(403);
  });

  it('refuses a weak password with a 422 that does not echo it', async () => {
    const user = await t.user({ role: 'agent' });
    for (const password of ['short', '', 'x'.repeat(129), user.email]) {
      const response = await t.request('POST', `/api/v2/users/${user.id}/password`, { body: { password } });
      expect(response.statusCode).toBe(422);
      expect(response.json()).toMatchObject({ error: 'RecordInvalid', details: { password: [expect.objectContaining({ error: expect.any(String) })] } });
      if (password.length > 0) expect(response.body).not.toContain(password);
    }
  });

  it('answers 404 for a user that does not exist', async () => {
    expect((await t.request('POST', '/api/v2/users/999999/password', { body: { password: 'whatever-long' } })).statusCode).toBe(404);
  });

  it('PUT /users/:id/password changes one\'s own password given the previous one', async () => {
    const agent = await userWithPassword({ role: 'agent' });
    const asAgent = raw(basic(agent.email, agent.password));
    const wrong = await t.request('PUT', `/api/v2/users/${agent.id}/password`, { as: asAgent, body: { previous_password: 'not-it-at-all', password: 'brand-new-pass' } });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().details.previous_password).toBeDefined();

    const missing = await t.request('PUT', `/api/v2/users/${agent.id}/password`, { as: asAgent, body: { password: 'brand-new-pass' } });
    expect(missing.statusCode).toBe(422);

    const changed = await t.request('PUT', `/api/v2/users/${agent.id}/password`, { as: asAgent, body: { previous_password: agent.password, password: 'brand-new-pass' } });
    expect(changed.statusCode).toBe(200);
    expect((await t.request('GET', '/api/v2/users/me', { as: asAgent })).statusCode).toBe(401);
    expect((await t.request('GET', '/api/v2/users/me', { as: raw(basic(agent.email, 'brand-new-pass')) })).json().user.id).toBe(agent.id);
  });

  it('refuses PUT on someone else\'s password, even for the owner', async () => {
    const agent = await userWithPassword({ role: 'agent' });
    const response = await t.request('PUT', `/api/v2/users/${agent.id}/password`, { body: { previous_password: agent.password, password: 'owner-changed-it' } });
    expect(response.statusCode).toBe(403);
    expect((await t.request('GET', '/api/v2/users/me', { as: raw(basic(agent.email, agent.password)) })).json().user.id).toBe(agent.id);
  });

  it('GET /users/:id/password/requirements lists the rules as strings', async () => {
    const agent = await t.user({ role: 'agent' });
    const response = await t.request('GET', `/api/v2/users/${agent.id}/password/requirements`, { as: agent });
    expect(response.statusCode).toBe(200);
    const requirements = response.json().requirements as unknown[];
    expect(requirements.length).toBeGreaterThan(0);
    expect(requirements.every((entry) => typeof entry === 'string')).toBe(true);
  });

  it('does not show an end user another user\'s requirements', async () => {
    const endUser = await t.user({ role: 'end-user' });
    const response = await t.request('GET', `/api/v2/users/${t.owner.id}/password/requirements`, { as: endUser });
    expect(response.statusCode).toBe(403);
  });
});

describe('Rate limiting', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await createTestApp({ rateLimitPerMinute: 5 });
  });
  afterAll(async () => {
    await limited.close();
  });

  it('answers the 6th request in a minute with 429, Retry-After and the rate headers on every response', async () => {
    // The budget is a fixed, clock-aligned minute: do not straddle its end.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoMinute + 100));

    const responses = [];
    for (let index = 0; index < 5; index += 1) {
      const url = index === 3 ? '/api/v2/users' : '/api/v2/users/me';
      responses.push(await limited.request('GET', url, { as: index === 3 ? null : limited.owner }));
    }
    expect(responses.map((response) => response.statusCode)).toEqual([200, 200, 200, 401, 200]);
    responses.forEach((response, index) => {
      expect(response.headers['x-rate-limit']).toBe('5');
      expect(response.headers['x-rate-limit-remaining']).toBe(String(4 - index));
    });

    const sixth = await limited.request('GET', '/api/v2/users/me');
    expect(sixth.statusCode).toBe(429);
    expect(sixth.json().error).toEqual(expect.any(String));
    const retryAfter = Number(sixth.headers['retry-after']);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(sixth.headers['x-rate-limit']).toBe('5');
    expect(sixth.headers['x-rate-limit-remaining']).toBe('0');

    const write = await limited.request('POST', '/api/v2/users', { body: { user: { name: 'Throttled' } } });
    expect(write.statusCode).toBe(429);
    const count = await limited.runtime.database.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  it('does not limit an app whose limiter is off', async () => {
    for (let index = 0; index < 12; index += 1) {
      const response = await t.request('GET', '/api/v2/users/me');
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-rate-limit']).toBeUndefined();
    }
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type Caller, type TestApp } from '../helpers.ts';

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

const MEMBERSHIP_FIELDS = ['url', 'id', 'user_id', 'organization_id', 'default', 'organization_name', 'view_tickets', 'created_at', 'updated_at'];

type Json = Record<string, unknown>;

async function org(name: string): Promise<number> {
  const response = await t.request('POST', '/api/v2/organizations', { body: { organization: { name } } });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().organization.id;
}

async function join(userId: number, organizationId: number, as?: Caller, extra: Json = {}) {
  return t.request('POST', '/api/v2/organization_memberships', {
    body: { organization_membership: { user_id: userId, organization_id: organizationId, ...extra } },
    ...(as ? { as } : {}),
  });
}

async function joined(userId: number, organizationId: number): Promise<Json & { id: number }> {
  const response = await join(userId, organizationId);
  expect(response.statusCode, response.body).toBe(201);
  return response.json().organization_membership;
}

async function agentWithRole(configuration: Json): Promise<Caller> {
  const role = await t.runtime.database.db
    .insertInto('custom_roles')
    .values({ account_id: t.account.id, name: `Role ${Math.random()}`, configuration: JSON.stringify(configuration) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return t.user({ role: 'agent', custom_role_id: role.id });
}

async function organizationIdOf(userId: number): Promise<unknown> {
  return (await t.request('GET', `/api/v2/users/${userId}`)).json().user.organization_id;
}

async function listOf(userId: number): Promise<Array<[unknown, unknown]>> {
  const list = (await t.request('GET', `/api/v2/users/${userId}/organization_memberships`)).json().organization_memberships as Json[];
  return list.map((membership) => [membership.organization_id, membership.default]);
}

describe('POST /api/v2/organization_memberships', () => {
  it('creates a membership with every reference field; the first one is the default', async () => {
    const acme = await org('Acme');
    const user = await t.user({});
    const response = await join(user.id, acme);
    expect(response.statusCode).toBe(201);
    const membership = response.json().organization_membership;
    expect(Object.keys(membership)).toEqual(MEMBERSHIP_FIELDS);
    expect(membership).toMatchObject({ user_id: user.id, organization_id: acme, default: true, organization_name: 'Acme', view_tickets: true });
    expect(response.headers.location).toBe(`http://localhost:80/api/v2/organization_memberships/${membership.id}.json`);
    expect(membership.url).toBe(response.headers.location);
    expect(await organizationIdOf(user.id)).toBe(acme);
  });

  it('adds further memberships as non-default (null), unless default: true is asked for', async () => {
    const [a, b, c] = [await org('A'), await org('B'), await org('C')];
    const user = await t.user({});
    await joined(user.id, a);
    expect((await joined(user.id, b)).default).toBeNull();
    expect(await organizationIdOf(user.id)).toBe(a);
    expect((await join(user.id, c, undefined, { default: true })).json().organization_membership.default).toBe(true);
    expect(await organizationIdOf(user.id)).toBe(c);
    expect(await listOf(user.id)).toEqual([[c, true], [a, null], [b, null]]);
  });

  it('refuses a user already in the organization with 422 DuplicateValue', async () => {
    const acme = await org('Acme');
    const user = await t.user({});
    await joined(user.id, acme);
    const response = await join(user.id, acme);
    expect(response.statusCode).toBe(422);
    expect(response.json().details.user_id[0].error).toBe('DuplicateValue');
  });

  it('refuses an unknown user or organization, missing ids and a missing wrapper', async () => {
    const acme = await org('Acme');
    const user = await t.user({});
    expect((await join(999, acme)).json().details.user_id[0].error).toBe('InvalidValue');
    expect((await join(user.id, 999)).json().details.organization_id[0].error).toBe('InvalidValue');
    const missing = await t.request('POST', '/api/v2/organization_memberships', { body: { organization_membership: { default: 'yes' } } });
    expect(missing.statusCode).toBe(422);
    expect(Object.keys(missing.json().details).sort()).toEqual(['default', 'organization_id', 'user_id']);
    expect((await t.request('POST', '/api/v2/organization_memberships', { body: {} })).json().error).toBe('ParameterMissing');
  });

  it('is refused to end users, to agents on agents, and to agents whose role lacks organization_editing', async () => {
    const acme = await org('Acme');
    const endUser = await t.user({ role: 'end-user' });
    expect((await join(endUser.id, acme, endUser)).statusCode).toBe(403);
    const agent = await t.user({ role: 'agent' });
    const otherAgent = await t.user({ role: 'agent' });
    expect((await join(otherAgent.id, acme, agent)).statusCode).toBe(403);
    expect((await join(endUser.id, acme, agent)).statusCode).toBe(201);
    const limited = await agentWithRole({ organization_editing: false });
    const refused = await join(otherAgent.id, acme, limited);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().description).toContain('organization_editing');
    const admin = await t.user({ role: 'admin' });
    expect((await join(otherAgent.id, acme, admin)).statusCode).toBe(201);
  });

  it('audits the membership without values', async () => {
    const acme = await org('Acme');
    const user = await t.user({});
    const membership = await joined(user.id, acme);
    const events = await t.runtime.database.db.selectFrom('audit_events').selectAll().where('target_type', '=', 'organization_membership').where('target_id', '=', String(membership.id)).execute();
    expect(events.map((event) => [event.action, event.changed_fields])).toEqual([['organization_membership.create', ['default', 'organization_id', 'user_id']]]);
  });
});

describe('POST /api/v2/users/:user_id/organization_memberships', () => {
  it('creates a membership for the user in the path', async () => {
    const acme = await org('Acme');
    const user = await t.user({});
    const response = await t.request('POST', `/api/v2/users/${user.id}/organization_memberships`, { body: { organization_membership: { organization_id: acme, user_id: 12345 } } });
    expect(response.statusCode).toBe(201);
    expect(response.json().organization_membership.user_id).toBe(user.id);
    expect((await t.request('POST', '/api/v2/users/999/organization_memberships', { body: { organization_membership: { organization_id: acme } } })).statusCode).toBe(404);
  });
});

describe('GET /api/v2/organization_memberships', () => {
  it('lists all memberships to staff, with offset and cursor pagination', async () => {
    const [a, b] = [await org('A'), await org('B')];
    const one = await t.user({});
    const two = await t.user({});
    await joined(one.id, a);
    await joined(one.id, b);
    await joined(two.id, a);
    const all = (await t.request('GET', '/api/v2/organization_memberships?per_page=2')).json();
    expect(all.organization_memberships).toHaveLength(2);
    expect(all.count).toBe(3);
    expect(all.next_page).toContain('page=2');
    const cursor = (await t.request('GET', '/api/v2/organization_memberships?page[size]=2')).json();
    expect(cursor.meta.has_more).toBe(true);
    const agent = await t.user({ role: 'agent' });
    expect((await t.request('GET', '/api/v2/organization_memberships', { as: agent })).json().organization_memberships).toHaveLength(3);
  });

  it("lists a user's memberships default first, then by organization name", async () => {
    const [zeta, alpha, mid] = [await org('Zeta'), await org('alpha'), await org('Mid')];
    const user = await t.user({});
    await joined(user.id, mid);
    await joined(user.id, zeta);
    await joined(user.id, alpha);
    const list = (await t.request('GET', `/api/v2/users/${user.id}/organization_memberships`)).json().organization_memberships as Json[];
    expect(list.map((membership) => membership.organization_name)).toEqual(['Mid', 'alpha', 'Zeta']);
    expect((await t.request('GET', '/api/v2/users/999/organization_memberships')).statusCode).toBe(404);
    expect(mid + zeta + alpha).toBeGreaterThan(0);
  });

  it("lists an organization's memberships to staff only", async () => {
    const [a, b] = [await org('A'), await org('B')];
    const one = await t.user({ role: 'end-user' });
    const two = await t.user({});
    await joined(one.id, a);
    await joined(two.id, a);
    await joined(two.id, b);
    const list = (await t.request('GET', `/api/v2/organizations/${a}/organization_memberships`)).json();
    expect(list.organization_memberships.map((membership: Json) => membership.user_id)).toEqual([one.id, two.id]);
    expect((await t.request('GET', '/api/v2/organizations/999/organization_memberships')).statusCode).toBe(404);
    expect((await t.request('GET', `/api/v2/organizations/${a}/organization_memberships`, { as: one })).statusCode).toBe(403);
  });

  it('shows an end user only their own memberships', async () => {
    const [a, b] = [await org('A'), await org('B')];
    const me = await t.user({ role: 'end-user' });
    const other = await t.user({ role: 'end-user' });
    await joined(me.id, a);
    await joined(other.id, a);
    await joined(other.id, b);
    const mine = (await t.request('GET', '/api/v2/organization_memberships', { as: me })).json();
    expect(mine.organization_memberships.map((membership: Json) => membership.user_id)).toEqual([me.id]);
    expect(mine.count).toBe(1);
    expect((await t.request('GET', `/api/v2/users/${me.id}/organization_memberships`, { as: me })).statusCode).toBe(200);
    expect((await t.request('GET', `/api/v2/users/${other.id}/organization_memberships`, { as: me })).statusCode).toBe(403);
  });
});

describe('GET /api/v2/organization_memberships/:id', () => {
  it('shows a membership to staff and to its own end user only', async () => {
    const acme = await org('Acme');
    const me = await t.user({ role: 'end-user' });
    const other = await t.user({ role: 'end-user' });
    const membership = await joined(me.id, acme);
    const shown = await t.request('GET', `/api/v2/organization_memberships/${membership.id}`);
    expect(shown.json().organization_membership).toEqual(membership);
    expect((await t.request('GET', `/api/v2/organization_memberships/${membership.id}`, { as: me })).statusCode).toBe(200);
    expect((await t.request('GET', `/api/v2/organization_memberships/${membership.id}`, { as: other })).statusCode).toBe(403);
    expect((await t.request('GET', '/api/v2/organization_memberships/999')).statusCode).toBe(404);
    expect((await t.request('GET', '/api/v2/organization_memberships/x')).statusCode).toBe(400);
  });

  it('shows it under its user, and not under another user', async () => {
    const acme = await org('Acme');
    const me = await t.user({});
    const other = await t.user({});
    const membership = await joined(me.id, acme);
    expect((await t.request('GET', `/api/v2/users/${me.id}/organization_memberships/${membership.id}`)).statusCode).toBe(200);
    expect((await t.request('GET', `/api/v2/users/${other.id}/organization_memberships/${membership.id}`)).statusCode).toBe(404);
  });
});

describe('DELETE /api/v2/organization_memberships/:id', () => {
  it('removes a membership; a removed default hands over to the oldest remaining one, the last one clears organization_id', async () => {
    const [a, b, c] = [await org('A'), await org('B'), await org('C')];
    const user = await t.user({});
    const first = await joined(user.id, a);
    const second = await joined(user.id, c);
    const third = await joined(user.id, b);
    const response = await t.request('DELETE', `/api/v2/organization_memberships/${first.id}`);
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect(await organizationIdOf(user.id)).toBe(c);
    expect(await listOf(user.id)).toEqual([[c, true], [b, null]]);
    await t.request('DELETE', `/api/v2/organization_memberships/${third.id}`);
    expect(await organizationIdOf(user.id)).toBe(c);
    await t.request('DELETE', `/api/v2/organization_memberships/${second.id}`);
    expect(await organizationIdOf(user.id)).toBeNull();
    expect((await t.request('DELETE', `/api/v2/organization_memberships/${second.id}`)).statusCode).toBe(404);
  });

  it('is refused to end users (even on their own) and to agents on agents', async () => {
    const acme = await org('Acme');
    const endUser = await t.user({ role: 'end-user' });
    const own = await joined(endUser.id, acme);
    expect((await t.request('DELETE', `/api/v2/organization_memberships/${own.id}`, { as: endUser })).statusCode).toBe(403);
    const agent = await t.user({ role: 'agent' });
    const colleague = await t.user({ role: 'agent' });
    const theirs = await joined(colleague.id, acme);
    expect((await t.request('DELETE', `/api/v2/organization_memberships/${theirs.id}`, { as: agent })).statusCode).toBe(403);
    expect((await t.request('DELETE', `/api/v2/organization_memberships/${own.id}`, { as: agent })).statusCode).toBe(204);
  });

  it('removes under the user path, and 404s under another user', async () => {
    const acme = await org('Acme');
    const me = await t.user({});
    const other = await t.user({});
    const membership = await joined(me.id, acme);
    expect((await t.request('DELETE', `/api/v2/users/${other.id}/organization_memberships/${membership.id}`)).statusCode).toBe(404);
    expect((await t.request('DELETE', `/api/v2/users/${me.id}/organization_memberships/${membership.id}`)).statusCode).toBe(204);
    expect(await organizationIdOf(me.id)).toBeNull();
  });
});

describe('DELETE /api/v2/users/:user_id/organizations/:organization_id', () => {
  it('unassigns the user from the organization', async () => {
    const [a, b] = [await org('A'), await org('B')];
    const user = await t.user({});
    await joined(user.id, a);
    await joined(user.id, b);
    expect((await t.request('DELETE', `/api/v2/users/${user.id}/organizations/${a}`)).statusCode).toBe(204);
    expect(await listOf(user.id)).toEqual([[b, true]]);
    expect((await t.request('DELETE', `/api/v2/users/${user.id}/organizations/${a}`)).statusCode).toBe(404);
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('DELETE', `/api/v2/users/${user.id}/organizations/${b}`, { as: endUser })).statusCode).toBe(403);
  });
});

describe('make_default', () => {
  it("PUT /users/:id/organization_memberships/:id/make_default answers all the user's memberships", async () => {
    const [a, b] = [await org('A'), await org('B')];
    const user = await t.user({});
    await joined(user.id, a);
    const second = await joined(user.id, b);
    const response = await t.request('PUT', `/api/v2/users/${user.id}/organization_memberships/${second.id}/make_default`);
    expect(response.statusCode).toBe(200);
    expect(response.json().organization_memberships.map((m: Json) => [m.organization_id, m.default])).toEqual([[b, true], [a, null]]);
    expect(await organizationIdOf(user.id)).toBe(b);
    const other = await t.user({});
    expect((await t.request('PUT', `/api/v2/users/${other.id}/organization_memberships/${second.id}/make_default`)).statusCode).toBe(404);
    const events = await t.runtime.database.db.selectFrom('audit_events').select('action').where('target_id', '=', String(second.id)).execute();
    expect(events.map((event) => event.action)).toContain('organization_membership.make_default');
  });

  it('PUT /users/:id/organizations/:id/make_default answers the membership', async () => {
    const [a, b] = [await org('A'), await org('B')];
    const user = await t.user({});
    await joined(user.id, a);
    await joined(user.id, b);
    const response = await t.request('PUT', `/api/v2/users/${user.id}/organizations/${b}/make_default`);
    expect(response.statusCode).toBe(200);
    expect(response.json().organization_membership).toMatchObject({ organization_id: b, default: true });
    expect(await organizationIdOf(user.id)).toBe(b);
    expect((await t.request('PUT', `/api/v2/users/${user.id}/organizations/999/make_default`)).statusCode).toBe(404);
  });

  it('is refused to end users and to agents whose role lacks organization_editing', async () => {
    const [a, b] = [await org('A'), await org('B')];
    const endUser = await t.user({ role: 'end-user' });
    await joined(endUser.id, a);
    await joined(endUser.id, b);
    expect((await t.request('PUT', `/api/v2/users/${endUser.id}/organizations/${b}/make_default`, { as: endUser })).statusCode).toBe(403);
    const limited = await agentWithRole({ organization_editing: false });
    expect((await t.request('PUT', `/api/v2/users/${endUser.id}/organizations/${b}/make_default`, { as: limited })).statusCode).toBe(403);
    expect(await organizationIdOf(endUser.id)).toBe(a);
  });
});

describe('Bulk membership jobs', () => {
  it('create_many adds each membership and reports the failures by index', async () => {
    const [a, b] = [await org('A'), await org('B')];
    const user = await t.user({});
    const response = await t.request('POST', '/api/v2/organization_memberships/create_many', {
      body: { organization_memberships: [{ user_id: user.id, organization_id: a }, { user_id: user.id, organization_id: b }, { user_id: user.id, organization_id: a }] },
    });
    expect(response.statusCode).toBe(200);
    const job = await t.waitForJob(response.json().job_status.id);
    expect((job.results as Json[]).map((result) => [result.status, result.success])).toEqual([['Created', true], ['Created', true], ['Failed', false]]);
    expect(await listOf(user.id)).toEqual([[a, true], [b, null]]);
  });

  it('create_many fails a malformed item alone, and refuses items that are not objects, more than 100, and end users', async () => {
    const acme = await org('Acme');
    const user = await t.user({});
    const response = await t.request('POST', '/api/v2/organization_memberships/create_many', {
      body: { organization_memberships: [{ user_id: 'x' }, { user_id: user.id, organization_id: 999, default: 'no' }, { user_id: user.id, organization_id: acme }] },
    });
    const job = await t.waitForJob(response.json().job_status.id);
    expect(job.status).toBe('completed');
    expect((job.results as Json[]).map((result) => [result.index, result.success, result.error])).toEqual([
      [0, false, 'RecordInvalid'],
      [1, false, 'RecordInvalid'],
      [2, true, undefined],
    ]);
    expect((await t.request('POST', '/api/v2/organization_memberships/create_many', { body: { organization_memberships: ['nonsense'] } })).statusCode).toBe(400);
    const many = Array.from({ length: 101 }, () => ({ user_id: 1, organization_id: 1 }));
    expect((await t.request('POST', '/api/v2/organization_memberships/create_many', { body: { organization_memberships: many } })).statusCode).toBe(400);
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('POST', '/api/v2/organization_memberships/create_many', { as: endUser, body: { organization_memberships: [] } })).statusCode).toBe(403);
  });

  it('destroy_many removes memberships by ids', async () => {
    const [a, b] = [await org('A'), await org('B')];
    const user = await t.user({});
    const first = await joined(user.id, a);
    const second = await joined(user.id, b);
    const response = await t.request('DELETE', `/api/v2/organization_memberships/destroy_many?ids=${first.id},${second.id},999`);
    const job = await t.waitForJob(response.json().job_status.id);
    expect((job.results as Json[]).map((result) => result.success)).toEqual([true, true, false]);
    expect(await listOf(user.id)).toEqual([]);
    expect(await organizationIdOf(user.id)).toBeNull();
    expect((await t.request('DELETE', '/api/v2/organization_memberships/destroy_many')).statusCode).toBe(400);
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('DELETE', '/api/v2/organization_memberships/destroy_many?ids=1', { as: endUser })).statusCode).toBe(403);
  });
});

describe('Tenancy', () => {
  it("never shows or touches another account's organizations and memberships", async () => {
    const acme = await org('Acme');
    const user = await t.user({});
    const membership = await joined(user.id, acme);
    const db = t.runtime.database.db;
    const other = await db.insertInto('accounts').values({ subdomain: 'other', name: 'Other', settings: JSON.stringify({}) }).returning('id').executeTakeFirstOrThrow();
    const foreignOrg = await db.insertInto('organizations').values({ account_id: other.id, name: 'Acme', domain_names: ['acme.test'] }).returning('id').executeTakeFirstOrThrow();
    expect((await t.request('GET', `/api/v2/organizations/${foreignOrg.id}`)).statusCode).toBe(404);
    expect((await t.request('GET', '/api/v2/organizations/count')).json().count.value).toBe(1);
    expect((await join(user.id, foreignOrg.id)).statusCode).toBe(422);
    const local = await t.user({ email: 'x@acme.test' });
    expect(await organizationIdOf(local.id)).toBeNull();
    expect((await t.request('GET', `/api/v2/organization_memberships/${membership.id}`)).statusCode).toBe(200);
  });
});

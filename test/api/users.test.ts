import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';

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

const USER_FIELDS = [
  'id', 'url', 'name', 'email', 'created_at', 'updated_at', 'time_zone', 'iana_time_zone', 'phone', 'shared_phone_number',
  'photo', 'locale_id', 'locale', 'organization_id', 'role', 'verified', 'external_id', 'tags', 'alias', 'active', 'shared',
  'shared_agent', 'last_login_at', 'two_factor_auth_enabled', 'signature', 'details', 'notes', 'role_type', 'custom_role_id',
  'moderator', 'ticket_restriction', 'only_private_comments', 'restricted_agent', 'suspended', 'default_group_id', 'report_csv',
  'user_fields',
];
const END_USER_FIELDS = ['id', 'url', 'name', 'email', 'created_at', 'updated_at', 'time_zone', 'iana_time_zone', 'phone',
  'shared_phone_number', 'photo', 'locale_id', 'locale', 'organization_id', 'role', 'verified'];

async function create(user: Record<string, unknown>) {
  return t.request('POST', '/api/v2/users', { body: { user } });
}

describe('POST /api/v2/users', () => {
  it('creates a user with every reference field, in order, and answers 201 with Location', async () => {
    const response = await create({ name: 'Ann Lee', email: 'Ann@Acme.test', tags: ['vip', 'Gold'], details: 'd', notes: 'n', external_id: 'EXT-1' });
    expect(response.statusCode).toBe(201);
    const user = response.json().user;
    expect(Object.keys(user)).toEqual(USER_FIELDS);
    expect(user).toMatchObject({ name: 'Ann Lee', email: 'Ann@Acme.test', role: 'end-user', active: true, tags: ['vip', 'gold'], details: 'd', notes: 'n', external_id: 'EXT-1', verified: false });
    expect(response.headers.location).toBe(`http://localhost:80/api/v2/users/${user.id}.json`);
    expect(user.url).toBe(`http://localhost:80/api/v2/users/${user.id}.json`);
  });

  it('creates a phone identity from phone, as users asked for at creation', async () => {
    const user = (await create({ name: 'Bo', phone: '+55 11 91234-5678' })).json().user;
    expect(user.phone).toBe('+55 11 91234-5678');
    const identities = (await t.request('GET', `/api/v2/users/${user.id}/identities`)).json().identities;
    expect(identities).toHaveLength(1);
    expect(identities[0]).toMatchObject({ type: 'phone_number', primary: true, value: '+55 11 91234-5678' });
  });

  it('creates identities from the identities list with exactly one primary email', async () => {
    const response = await create({
      name: 'Cy',
      identities: [
        { type: 'email', value: 'cy1@roster.test' },
        { type: 'email', value: 'cy2@roster.test', primary: true },
        { type: 'twitter', value: '@cy' },
      ],
      verified: true,
    });
    expect(response.statusCode).toBe(201);
    const user = response.json().user;
    expect(user.email).toBe('cy2@roster.test');
    expect(user.verified).toBe(true);
    const identities = (await t.request('GET', `/api/v2/users/${user.id}/identities`)).json().identities;
    expect(identities.filter((i: { primary: boolean; type: string }) => i.type === 'email' && i.primary)).toHaveLength(1);
    expect(identities).toHaveLength(3);
  });

  it('refuses a duplicate email (any identity, case-insensitive) with DuplicateValue', async () => {
    await create({ name: 'A', email: 'dup@roster.test' });
    const response = await create({ name: 'B', email: 'DUP@roster.test' });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ error: 'RecordInvalid', description: 'Record validation errors', details: { email: [{ error: 'DuplicateValue' }] } });
  });

  it('refuses a duplicate external_id case-insensitively', async () => {
    await create({ name: 'A', external_id: 'abc' });
    const response = await create({ name: 'B', external_id: 'ABC' });
    expect(response.statusCode).toBe(422);
    expect(response.json().details.external_id[0].error).toBe('DuplicateValue');
  });

  it('refuses a blank name, a malformed email and an unknown role, all at once', async () => {
    const response = await create({ name: ' ', email: 'not-an-email', role: 'wizard' });
    expect(response.statusCode).toBe(422);
    const details = response.json().details;
    expect(details.name[0].error).toBe('BlankValue');
    expect(details.email[0].error).toBe('InvalidValue');
    expect(details.role[0].error).toBe('InvalidValue');
    const count = (await t.request('GET', '/api/v2/users/count')).json().count.value;
    expect(count).toBe(1);
  });

  it('answers 400 for a missing user object and for malformed JSON', async () => {
    expect((await t.request('POST', '/api/v2/users', { body: {} })).statusCode).toBe(400);
    const bad = await t.request('POST', '/api/v2/users', { body: '{"user":', headers: { 'content-type': 'application/json' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('InvalidJSON');
  });

  it('makes email mandatory when the account setting says so', async () => {
    const set = await t.request('PUT', '/api/v2/account/settings', { body: { settings: { require_email_on_create: true } } });
    expect(set.statusCode).toBe(200);
    expect(set.json().settings.require_email_on_create).toBe(true);
    const refused = await create({ name: 'No Mail', phone: '+14155550100' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().details.email[0].error).toBe('BlankValue');
    expect((await create({ name: 'Mail', email: 'mail@roster.test' })).statusCode).toBe(201);
  });

  it('lets an agent create end users but not agents or admins', async () => {
    const agent = await t.user({ role: 'agent' });
    expect((await t.request('POST', '/api/v2/users', { as: agent, body: { user: { name: 'E', email: 'e@roster.test' } } })).statusCode).toBe(201);
    const refused = await t.request('POST', '/api/v2/users', { as: agent, body: { user: { name: 'A', email: 'a2@roster.test', role: 'admin' } } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toBe('Forbidden');
  });

  it('refuses end users', async () => {
    const endUser = await t.user({});
    expect((await t.request('POST', '/api/v2/users', { as: endUser, body: { user: { name: 'X' } } })).statusCode).toBe(403);
  });

  it('writes an audit event naming the fields, never their values', async () => {
    const user = (await create({ name: 'Audited Person', email: 'audited@roster.test' })).json().user;
    const events = await t.runtime.database.db.selectFrom('audit_events').selectAll().where('target_id', '=', String(user.id)).execute();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: 'user.create', target_type: 'user', actor_id: t.owner.id });
    expect(JSON.stringify(events)).not.toContain('audited@roster.test');
    expect(JSON.stringify(events)).not.toContain('Audited Person');
    expect(events[0]?.changed_fields).toEqual(['email', 'name']);
  });
});

describe('GET /api/v2/users and friends', () => {
  it('lists with offset pagination, absolute next_page and count', async () => {
    for (let i = 0; i < 4; i += 1) await create({ name: `U${i}`, email: `u${i}@roster.test` });
    const first = (await t.request('GET', '/api/v2/users?per_page=2')).json();
    expect(first.users).toHaveLength(2);
    expect(first.count).toBe(5);
    expect(first.previous_page).toBeNull();
    const next = new URL(first.next_page);
    expect(first.next_page.startsWith('http://localhost:80/api/v2/users?')).toBe(true);
    expect(Object.fromEntries(next.searchParams)).toEqual({ page: '2', per_page: '2' });
    const last = (await t.request('GET', '/api/v2/users?per_page=2&page=3')).json();
    expect(last.users).toHaveLength(1);
    expect(last.next_page).toBeNull();
  });

  it('lists with cursor pagination forwards and backwards', async () => {
    for (let i = 0; i < 4; i += 1) await create({ name: `U${i}`, email: `c${i}@roster.test` });
    const first = (await t.request('GET', '/api/v2/users?page[size]=2')).json();
    expect(first.users.map((u: { id: number }) => u.id)).toEqual([1, 2]);
    expect(first.meta.has_more).toBe(true);
    const nextPath = new URL(first.links.next).pathname + new URL(first.links.next).search;
    const second = (await t.request('GET', nextPath)).json();
    expect(second.users.map((u: { id: number }) => u.id)).toEqual([3, 4]);
    const prevUrl = new URL(second.links.prev);
    const back = (await t.request('GET', prevUrl.pathname + prevUrl.search)).json();
    expect(back.users.map((u: { id: number }) => u.id)).toEqual([1, 2]);
    const thirdUrl = new URL(second.links.next);
    const third = (await t.request('GET', thirdUrl.pathname + thirdUrl.search)).json();
    expect(third.users.map((u: { id: number }) => u.id)).toEqual([5]);
    expect(third.meta.has_more).toBe(false);
    expect(third.links.next).toBeNull();
  });

  it('refuses offset pages past 10,000 records and bad pagination values with 400', async () => {
    expect((await t.request('GET', '/api/v2/users?page=101&per_page=100')).statusCode).toBe(400);
    expect((await t.request('GET', '/api/v2/users?per_page=101')).statusCode).toBe(400);
    expect((await t.request('GET', '/api/v2/users?page[after]=garbage')).statusCode).toBe(400);
  });

  it('filters by role, role[] and external_id', async () => {
    await create({ name: 'Ag', email: 'ag@roster.test', role: 'agent' });
    await create({ name: 'Eu', email: 'eu@roster.test', external_id: 'X-9' });
    const agents = (await t.request('GET', '/api/v2/users?role=agent')).json().users;
    expect(agents.map((u: { name: string }) => u.name)).toEqual(['Ag']);
    const staff = (await t.request('GET', '/api/v2/users?role[]=agent&role[]=admin')).json().users;
    expect(staff).toHaveLength(2);
    const byExternal = (await t.request('GET', '/api/v2/users?external_id=x-9')).json().users;
    expect(byExternal.map((u: { name: string }) => u.name)).toEqual(['Eu']);
    expect((await t.request('GET', '/api/v2/users/count?role=agent')).json().count.value).toBe(1);
  });

  it('accepts the .json suffix and + as a space in query strings', async () => {
    await create({ name: 'Plus', email: 'plus@roster.test', external_id: 'a b' });
    const response = await t.request('GET', '/api/v2/users.json?external_id=a+b');
    expect(response.statusCode).toBe(200);
    expect(response.json().users.map((u: { name: string }) => u.name)).toEqual(['Plus']);
  });

  it('shows many by ids and by external_ids, at most 100', async () => {
    const a = (await create({ name: 'A', external_id: 'ea' })).json().user;
    const b = (await create({ name: 'B', external_id: 'eb' })).json().user;
    const byIds = (await t.request('GET', `/api/v2/users/show_many?ids=${a.id},${b.id},999`)).json().users;
    expect(byIds.map((u: { id: number }) => u.id)).toEqual([a.id, b.id]);
    const byExternal = (await t.request('GET', '/api/v2/users/show_many?external_ids=ea,EB')).json().users;
    expect(byExternal).toHaveLength(2);
    const many = Array.from({ length: 101 }, (_, i) => i + 1).join(',');
    expect((await t.request('GET', `/api/v2/users/show_many?ids=${many}`)).statusCode).toBe(400);
    expect((await t.request('GET', '/api/v2/users/show_many')).statusCode).toBe(400);
  });

  it('answers 404 RecordNotFound for an unknown user and InvalidEndpoint for an unknown path', async () => {
    const missing = await t.request('GET', '/api/v2/users/424242');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'RecordNotFound', description: 'Not found' });
    const unknown = await t.request('GET', '/api/v2/nope');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toBe('InvalidEndpoint');
  });

  it('shows an end user only themselves, with the end-user subset of fields', async () => {
    const endUser = await t.user({});
    const own = await t.request('GET', `/api/v2/users/${endUser.id}`, { as: endUser });
    expect(own.statusCode).toBe(200);
    expect(Object.keys(own.json().user)).toEqual(END_USER_FIELDS);
    expect((await t.request('GET', `/api/v2/users/${t.owner.id}`, { as: endUser })).statusCode).toBe(403);
    expect((await t.request('GET', '/api/v2/users', { as: endUser })).statusCode).toBe(403);
    const me = (await t.request('GET', '/api/v2/users/me', { as: endUser })).json().user;
    expect(Object.keys(me)).toEqual(END_USER_FIELDS);
  });

  it('answers related counts', async () => {
    const user = (await create({ name: 'R' })).json().user;
    const related = (await t.request('GET', `/api/v2/users/${user.id}/related`)).json();
    expect(related.user_related).toEqual({ assigned_tickets: 0, ccd_tickets: 0, organization_subscriptions: 0, requested_tickets: 0 });
  });
});

describe('PUT /api/v2/users/:id', () => {
  it('updates fields and adds email as a secondary identity', async () => {
    const user = (await create({ name: 'Dee', email: 'dee@roster.test' })).json().user;
    // user_fields values must name a defined field (test/api/custom-fields.test.ts covers the rest).
    await t.request('POST', '/api/v2/user_fields', { body: { user_field: { key: 'plan', title: 'Plan' } } });
    const response = await t.request('PUT', `/api/v2/users/${user.id}`, { body: { user: { name: 'Dee Dee', email: 'dee2@roster.test', notes: 'vip', user_fields: { plan: 'gold' } } } });
    expect(response.statusCode).toBe(200);
    const updated = response.json().user;
    expect(updated).toMatchObject({ name: 'Dee Dee', email: 'dee@roster.test', notes: 'vip', user_fields: { plan: 'gold' } });
    const identities = (await t.request('GET', `/api/v2/users/${user.id}/identities`)).json().identities;
    expect(identities.map((i: { value: string; primary: boolean }) => [i.value, i.primary])).toEqual([
      ['dee@roster.test', true],
      ['dee2@roster.test', false],
    ]);
  });

  it('lets phone follow the primary phone identity', async () => {
    const user = (await create({ name: 'Ph', phone: '+14155550100' })).json().user;
    const changed = (await t.request('PUT', `/api/v2/users/${user.id}`, { body: { user: { phone: '+14155550199' } } })).json().user;
    expect(changed.phone).toBe('+14155550199');
    const cleared = (await t.request('PUT', `/api/v2/users/${user.id}`, { body: { user: { phone: null } } })).json().user;
    expect(cleared.phone).toBeNull();
  });

  it('refuses an email that belongs to another user', async () => {
    await create({ name: 'Own', email: 'owned@roster.test' });
    const other = (await create({ name: 'Other' })).json().user;
    const response = await t.request('PUT', `/api/v2/users/${other.id}`, { body: { user: { email: 'owned@roster.test' } } });
    expect(response.statusCode).toBe(422);
    expect(response.json().details.email[0].error).toBe('DuplicateValue');
  });

  it('keeps agents to end users, and nobody changes their own role', async () => {
    const agent = await t.user({ role: 'agent' });
    const admin = await t.user({ role: 'admin' });
    const endUser = await t.user({});
    expect((await t.request('PUT', `/api/v2/users/${endUser.id}`, { as: agent, body: { user: { notes: 'ok' } } })).statusCode).toBe(200);
    expect((await t.request('PUT', `/api/v2/users/${admin.id}`, { as: agent, body: { user: { notes: 'no' } } })).statusCode).toBe(403);
    expect((await t.request('PUT', `/api/v2/users/${agent.id}`, { as: agent, body: { user: { role: 'admin' } } })).statusCode).toBe(403);
    expect((await t.request('PUT', `/api/v2/users/${admin.id}`, { as: admin, body: { user: { role: 'end-user' } } })).statusCode).toBe(403);
    expect((await t.request('PUT', `/api/v2/users/${endUser.id}`, { as: agent, body: { user: { role: 'agent' } } })).statusCode).toBe(403);
  });

  it('lets only the owner change another admin\'s email', async () => {
    const admin = await t.user({ role: 'admin' });
    const other = await t.user({ role: 'admin' });
    expect((await t.request('PUT', `/api/v2/users/${other.id}`, { as: admin, body: { user: { email: 'x@roster.test' } } })).statusCode).toBe(403);
    expect((await t.request('PUT', `/api/v2/users/${other.id}`, { as: admin, body: { user: { notes: 'fine' } } })).statusCode).toBe(200);
    expect((await t.request('PUT', `/api/v2/users/${other.id}`, { body: { user: { email: 'x@roster.test' } } })).statusCode).toBe(200);
  });

  it('lets an end user edit their own name but not their notes', async () => {
    const endUser = await t.user({});
    expect((await t.request('PUT', `/api/v2/users/${endUser.id}`, { as: endUser, body: { user: { name: 'Me' } } })).statusCode).toBe(200);
    expect((await t.request('PUT', `/api/v2/users/${endUser.id}`, { as: endUser, body: { user: { notes: 'x' } } })).statusCode).toBe(403);
  });

  it('never demotes the owner', async () => {
    const admin = await t.user({ role: 'admin' });
    expect((await t.request('PUT', `/api/v2/users/${t.owner.id}`, { as: admin, body: { user: { role: 'agent' } } })).statusCode).toBe(403);
  });

  it('accepts Content-Type json with an empty body as an empty change', async () => {
    const user = (await create({ name: 'Empty' })).json().user;
    const response = await t.request('PUT', `/api/v2/users/${user.id}`, { body: '', headers: { 'content-type': 'application/json' } });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toBe('ParameterMissing');
  });
});

describe('POST /api/v2/users/create_or_update', () => {
  it('creates (201) then updates by email (200), and by external_id', async () => {
    const created = await t.request('POST', '/api/v2/users/create_or_update', { body: { user: { name: 'Cou', email: 'cou@roster.test' } } });
    expect(created.statusCode).toBe(201);
    const updated = await t.request('POST', '/api/v2/users/create_or_update', { body: { user: { name: 'Cou 2', email: 'COU@roster.test', external_id: 'cou-1' } } });
    expect(updated.statusCode).toBe(200);
    expect(updated.json().user).toMatchObject({ id: created.json().user.id, name: 'Cou 2', external_id: 'cou-1' });
    const byExternal = await t.request('POST', '/api/v2/users/create_or_update', { body: { user: { name: 'Cou 3', external_id: 'COU-1' } } });
    expect(byExternal.statusCode).toBe(200);
    expect(byExternal.json().user.id).toBe(created.json().user.id);
  });
});

describe('bulk jobs', () => {
  it('create_many reports per-item results and failures without failing the job', async () => {
    await create({ name: 'Taken', email: 'taken@roster.test' });
    const response = await t.request('POST', '/api/v2/users/create_many', {
      body: { users: [{ name: 'One', email: 'one@roster.test' }, { name: 'Two', email: 'taken@roster.test' }, { email: 'noname@roster.test' }] },
    });
    expect(response.statusCode).toBe(200);
    const queued = response.json().job_status;
    expect(queued).toMatchObject({ status: 'queued', total: 3, progress: 0 });
    expect(queued.url).toBe(`http://localhost:80/api/v2/job_statuses/${queued.id}.json`);
    const job = await t.waitForJob(queued.id);
    expect(job).toMatchObject({ status: 'completed', total: 3, progress: 3 });
    const results = job.results as Record<string, unknown>[];
    expect(results[0]).toMatchObject({ index: 0, status: 'Created', success: true });
    expect(results[1]).toMatchObject({ index: 1, success: false, error: 'RecordInvalid' });
    expect(results[2]).toMatchObject({ index: 2, success: false, error: 'RecordInvalid' });
    expect(JSON.stringify(job)).not.toContain('taken@roster.test');
    const payload = await t.runtime.database.db.selectFrom('job_statuses').select('payload').where('id', '=', queued.id).executeTakeFirstOrThrow();
    expect(payload.payload).toBeNull();
  });

  it('refuses more than 100 users', async () => {
    const users = Array.from({ length: 101 }, (_, i) => ({ name: `N${i}` }));
    expect((await t.request('POST', '/api/v2/users/create_many', { body: { users } })).statusCode).toBe(400);
  });

  it('create_or_update_many creates and updates', async () => {
    await create({ name: 'Old', email: 'old@roster.test' });
    const response = await t.request('POST', '/api/v2/users/create_or_update_many', { body: { users: [{ name: 'Old 2', email: 'old@roster.test' }, { name: 'New', email: 'new@roster.test' }] } });
    const job = await t.waitForJob(response.json().job_status.id);
    expect((job.results as { status: string }[]).map((r) => r.status)).toEqual(['Updated', 'Created']);
  });

  it('update_many applies one change to ids, and a batch of changes', async () => {
    const a = (await create({ name: 'A', external_id: 'a' })).json().user;
    const b = (await create({ name: 'B', external_id: 'b' })).json().user;
    const one = await t.request('PUT', `/api/v2/users/update_many?ids=${a.id},${b.id}`, { body: { user: { notes: 'bulk' } } });
    const job = await t.waitForJob(one.json().job_status.id);
    expect((job.results as { status: string }[]).every((r) => r.status === 'Updated')).toBe(true);
    expect((await t.request('GET', `/api/v2/users/${b.id}`)).json().user.notes).toBe('bulk');
    const batch = await t.request('PUT', '/api/v2/users/update_many', { body: { users: [{ id: a.id, name: 'A2' }, { external_id: 'b', name: 'B2' }] } });
    await t.waitForJob(batch.json().job_status.id);
    const names = (await t.request('GET', `/api/v2/users/show_many?ids=${a.id},${b.id}`)).json().users.map((u: { name: string }) => u.name);
    expect(names).toEqual(['A2', 'B2']);
    const byExternal = await t.request('PUT', '/api/v2/users/update_many?external_ids=a', { body: { user: { details: 'x' } } });
    await t.waitForJob(byExternal.json().job_status.id);
    expect((await t.request('GET', `/api/v2/users/${a.id}`)).json().user.details).toBe('x');
  });

  it('limits an account to 30 queued or running jobs with TooManyJobs', async () => {
    await t.runtime.jobs.stop(); // keep jobs queued
    try {
      const codes: number[] = [];
      for (let i = 0; i < 31; i += 1) codes.push((await t.request('POST', '/api/v2/users/create_many', { body: { users: [{ name: `J${i}` }] } })).statusCode);
      expect(codes.slice(0, 30).every((code) => code === 200)).toBe(true);
      const refused = await t.request('POST', '/api/v2/users/create_many', { body: { users: [{ name: 'over' }] } });
      expect(refused.statusCode).toBe(429);
      expect(refused.json().error).toBe('TooManyJobs');
    } finally {
      await t.runtime.jobs.start();
    }
  });

  it('lists job statuses newest first and shows many', async () => {
    const first = (await t.request('POST', '/api/v2/users/create_many', { body: { users: [{ name: 'J1' }] } })).json().job_status.id;
    const second = (await t.request('POST', '/api/v2/users/create_many', { body: { users: [{ name: 'J2' }] } })).json().job_status.id;
    const list = (await t.request('GET', '/api/v2/job_statuses')).json().job_statuses.map((j: { id: string }) => j.id);
    expect(list).toEqual([second, first]);
    const many = (await t.request('GET', `/api/v2/job_statuses/show_many?ids=${first},${second}`)).json().job_statuses;
    expect(many).toHaveLength(2);
    expect((await t.request('GET', '/api/v2/job_statuses/0123456789abcdef0123456789abcdef')).statusCode).toBe(404);
  });
});

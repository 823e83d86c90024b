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

const ORGANIZATION_FIELDS = [
  'url', 'id', 'name', 'shared_tickets', 'shared_comments', 'external_id', 'created_at', 'updated_at', 'domain_names',
  'details', 'notes', 'group_id', 'tags', 'organization_fields',
];

type Json = Record<string, unknown>;

async function create(organization: Json, as?: Caller) {
  return t.request('POST', '/api/v2/organizations', { body: { organization }, ...(as ? { as } : {}) });
}

async function org(organization: Json): Promise<Json & { id: number }> {
  const response = await create(organization);
  expect(response.statusCode, response.body).toBe(201);
  return response.json().organization;
}

/** An agent whose custom role has this configuration (inserted directly: the roles API is another feature's). */
async function agentWithRole(configuration: Json): Promise<Caller> {
  const role = await t.runtime.database.db
    .insertInto('custom_roles')
    .values({ account_id: t.account.id, name: `Role ${Math.random()}`, configuration: JSON.stringify(configuration) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return t.user({ role: 'agent', custom_role_id: role.id });
}

async function organizationField(key: string, type: string, extra: Json = {}): Promise<number> {
  const row = await t.runtime.database.db
    .insertInto('custom_fields')
    .values({ account_id: t.account.id, owner: 'organization', key, type: type as 'text', title: key, ...extra })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function auditOf(targetType: string, targetId: number) {
  return t.runtime.database.db.selectFrom('audit_events').selectAll().where('target_type', '=', targetType).where('target_id', '=', String(targetId)).execute();
}

async function userJson(id: number): Promise<Json> {
  return (await t.request('GET', `/api/v2/users/${id}`)).json().user;
}

async function memberships(userId: number): Promise<Json[]> {
  return (await t.request('GET', `/api/v2/users/${userId}/organization_memberships`)).json().organization_memberships;
}

describe('POST /api/v2/organizations', () => {
  it('creates an organization with every reference field, in order, and answers 201 with Location', async () => {
    const response = await create({
      name: ' Acme Inc ',
      details: 'HQ: Lisbon',
      notes: 'Key account',
      domain_names: ['Acme.COM', '@acme.org', 'acme.com'],
      tags: ['VIP', 'gold'],
      external_id: 'ACME-1',
      shared_tickets: true,
      shared_comments: 'true',
      id: 999,
      url: 'ignored',
    });
    expect(response.statusCode).toBe(201);
    const organization = response.json().organization;
    expect(Object.keys(organization)).toEqual(ORGANIZATION_FIELDS);
    expect(organization).toMatchObject({
      name: 'Acme Inc',
      details: 'HQ: Lisbon',
      notes: 'Key account',
      domain_names: ['acme.com', 'acme.org'],
      tags: ['vip', 'gold'],
      external_id: 'ACME-1',
      shared_tickets: true,
      shared_comments: true,
      group_id: null,
      organization_fields: {},
    });
    expect(organization.id).not.toBe(999);
    expect(response.headers.location).toBe(`http://localhost:80/api/v2/organizations/${organization.id}.json`);
    expect(organization.url).toBe(response.headers.location);
  });

  it('answers the reference defaults for a name alone', async () => {
    const organization = await org({ name: 'Bare' });
    expect(organization).toMatchObject({ details: null, notes: null, external_id: null, domain_names: [], tags: [], shared_tickets: false, shared_comments: false });
  });

  it('refuses a name already taken, compared case-insensitively, with DuplicateValue', async () => {
    await org({ name: 'Acme' });
    const response = await create({ name: 'ACME' });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ error: 'RecordInvalid', description: 'Record validation errors', details: { name: [{ error: 'DuplicateValue' }] } });
  });

  it('refuses an external_id already taken, compared case-insensitively', async () => {
    await org({ name: 'A', external_id: 'abc' });
    const response = await create({ name: 'B', external_id: 'ABC' });
    expect(response.statusCode).toBe(422);
    expect(response.json().details.external_id[0].error).toBe('DuplicateValue');
  });

  it('refuses a blank or missing name, and a missing wrapper', async () => {
    expect((await create({ name: '  ' })).json().details.name[0].error).toBe('BlankValue');
    expect((await create({ notes: 'x' })).json().details.name[0].error).toBe('BlankValue');
    const missing = await t.request('POST', '/api/v2/organizations', { body: { name: 'x' } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toBe('ParameterMissing');
  });

  it('refuses malformed values, naming each field, without echoing them', async () => {
    const response = await create({ name: 'X', domain_names: ['not a domain'], tags: [{}], shared_tickets: 'maybe', group_id: 'abc', details: {}, organization_fields: [] });
    expect(response.statusCode).toBe(422);
    expect(Object.keys(response.json().details).sort()).toEqual(['details', 'domain_names', 'group_id', 'organization_fields', 'shared_tickets', 'tags']);
    expect(response.body).not.toContain('not a domain');
    expect((await t.request('GET', '/api/v2/organizations/count')).json().count.value).toBe(0);
  });

  it('takes a group only when it is a live group of the account', async () => {
    const db = t.runtime.database.db;
    const live = await db.insertInto('groups').values({ account_id: t.account.id, name: 'Tier 1' }).returning('id').executeTakeFirstOrThrow();
    const gone = await db.insertInto('groups').values({ account_id: t.account.id, name: 'Old', deleted_at: new Date() }).returning('id').executeTakeFirstOrThrow();
    expect((await org({ name: 'With group', group_id: live.id })).group_id).toBe(live.id);
    expect((await create({ name: 'Deleted group', group_id: gone.id })).json().details.group_id[0].error).toBe('InvalidValue');
    expect((await create({ name: 'No group', group_id: 424242 })).statusCode).toBe(422);
  });

  it('validates organization_fields against the account definitions and shows every active key', async () => {
    await organizationField('plan', 'dropdown');
    const planId = (await t.runtime.database.db.selectFrom('custom_fields').select('id').where('key', '=', 'plan').executeTakeFirstOrThrow()).id;
    await t.runtime.database.db.insertInto('custom_field_options').values({ account_id: t.account.id, field_id: planId, name: 'Gold', value: 'gold' }).execute();
    await organizationField('seats', 'integer');
    await organizationField('retired', 'text', { active: false });

    const organization = await org({ name: 'Fields', organization_fields: { seats: '12' } });
    expect(organization.organization_fields).toEqual({ plan: null, seats: 12 });

    const unknown = await create({ name: 'Unknown', organization_fields: { nope: 'x', retired: 'y' } });
    expect(unknown.statusCode).toBe(422);
    expect(Object.keys(unknown.json().details).sort()).toEqual(['organization_fields.nope', 'organization_fields.retired']);
    const bad = await create({ name: 'Bad', organization_fields: { plan: 'platinum', seats: 'many' } });
    expect(Object.keys(bad.json().details).sort()).toEqual(['organization_fields.plan', 'organization_fields.seats']);
  });

  it('is refused to end users and to agents whose role lacks organization_editing, allowed to agents who have it', async () => {
    const endUser = await t.user({ role: 'end-user' });
    const forbidden = await create({ name: 'E' }, endUser);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error).toBe('Forbidden');
    const limited = await agentWithRole({ organization_editing: false });
    const refused = await create({ name: 'L' }, limited);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().description).toContain('organization_editing');
    const editor = await agentWithRole({ organization_editing: true });
    expect((await create({ name: 'OK' }, editor)).statusCode).toBe(201);
  });

  it('writes an audit event naming the fields, never their values', async () => {
    const organization = await org({ name: 'Audited Org', notes: 'secret note' });
    const events = await auditOf('organization', organization.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: 'organization.create', changed_fields: ['name', 'notes'], actor_id: t.owner.id });
    expect(JSON.stringify(events)).not.toContain('secret note');
  });
});

describe('GET /api/v2/organizations', () => {
  it('lists with offset pagination and counts', async () => {
    for (const name of ['One', 'Two', 'Three']) await org({ name });
    const page = (await t.request('GET', '/api/v2/organizations?per_page=2')).json();
    expect(page.organizations.map((o: Json) => o.name)).toEqual(['One', 'Two']);
    expect(page.count).toBe(3);
    expect(page.next_page).toBe('http://localhost:80/api/v2/organizations?page=2&per_page=2');
    const second = (await t.request('GET', '/api/v2/organizations?per_page=2&page=2')).json();
    expect(second.organizations.map((o: Json) => o.name)).toEqual(['Three']);
  });

  it('lists with cursor pagination', async () => {
    for (const name of ['One', 'Two', 'Three']) await org({ name });
    const first = (await t.request('GET', '/api/v2/organizations?page[size]=2')).json();
    expect(first.organizations).toHaveLength(2);
    expect(first.meta.has_more).toBe(true);
    const next = (await t.request('GET', first.links.next.replace('http://localhost:80', ''))).json();
    expect(next.organizations.map((o: Json) => o.name)).toEqual(['Three']);
    expect(next.meta.has_more).toBe(false);
  });

  it('is refused to end users', async () => {
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('GET', '/api/v2/organizations', { as: endUser })).statusCode).toBe(403);
    expect((await t.request('GET', '/api/v2/organizations/count', { as: endUser })).statusCode).toBe(403);
  });

  it('answers agents', async () => {
    await org({ name: 'Seen' });
    const agent = await t.user({ role: 'agent' });
    expect((await t.request('GET', '/api/v2/organizations', { as: agent })).json().organizations).toHaveLength(1);
  });

  it('refuses a malformed page', async () => {
    expect((await t.request('GET', '/api/v2/organizations?per_page=1000')).statusCode).toBe(400);
  });
});

describe('Reads across organizations', () => {
  it('are refused to end users, even members, and answered to agents', async () => {
    const organization = await org({ name: 'Staff Only', external_id: 'so' });
    const endUser = await t.user({ role: 'end-user', organization_id: organization.id });
    const agent = await t.user({ role: 'agent' });
    const paths = [
      '/api/v2/organizations',
      '/api/v2/organizations/count',
      `/api/v2/organizations/show_many?ids=${organization.id}`,
      '/api/v2/organizations/search?external_id=so',
      '/api/v2/organizations/autocomplete?name=st',
      `/api/v2/organizations/${organization.id}/related`,
      `/api/v2/organizations/${organization.id}/users`,
      `/api/v2/organizations/${organization.id}/organization_memberships`,
    ];
    for (const path of paths) {
      const refused = await t.request('GET', path, { as: endUser });
      expect(refused.statusCode, path).toBe(403);
      expect(refused.json().error, path).toBe('Forbidden');
      expect((await t.request('GET', path, { as: agent })).statusCode, path).toBe(200);
    }
  });
});

describe('GET /api/v2/organizations/:id', () => {
  it('shows an organization', async () => {
    const created = await org({ name: 'Shown', external_id: 'S1' });
    const response = await t.request('GET', `/api/v2/organizations/${created.id}.json`);
    expect(response.statusCode).toBe(200);
    expect(response.json().organization).toEqual(created);
  });

  it('answers 404 for an unknown organization and 400 for a malformed id', async () => {
    expect((await t.request('GET', '/api/v2/organizations/999')).json()).toEqual({ error: 'RecordNotFound', description: 'Not found' });
    expect((await t.request('GET', '/api/v2/organizations/abc')).statusCode).toBe(400);
  });

  it('shows an end user the organizations they belong to, and no other', async () => {
    const mine = await org({ name: 'Mine' });
    const other = await org({ name: 'Other' });
    const endUser = await t.user({ role: 'end-user', organization_id: mine.id });
    expect((await t.request('GET', `/api/v2/organizations/${mine.id}`, { as: endUser })).statusCode).toBe(200);
    expect((await t.request('GET', `/api/v2/organizations/${other.id}`, { as: endUser })).statusCode).toBe(403);
  });
});

describe('GET /api/v2/organizations/show_many', () => {
  it('shows many by ids and by external_ids (case-insensitive)', async () => {
    const a = await org({ name: 'A', external_id: 'ext-a' });
    const b = await org({ name: 'B', external_id: 'ext-b' });
    await org({ name: 'C' });
    const byIds = (await t.request('GET', `/api/v2/organizations/show_many?ids=${a.id},${b.id},999`)).json();
    expect(byIds.organizations.map((o: Json) => o.id)).toEqual([a.id, b.id]);
    const byExternal = (await t.request('GET', '/api/v2/organizations/show_many?external_ids=EXT-A,ext-b')).json();
    expect(byExternal.organizations.map((o: Json) => o.name)).toEqual(['A', 'B']);
  });

  it('refuses a request without ids, with malformed ids, or with more than 100', async () => {
    expect((await t.request('GET', '/api/v2/organizations/show_many')).statusCode).toBe(400);
    expect((await t.request('GET', '/api/v2/organizations/show_many?ids=a,b')).statusCode).toBe(400);
    const many = Array.from({ length: 101 }, (_, index) => index + 1).join(',');
    expect((await t.request('GET', `/api/v2/organizations/show_many?ids=${many}`)).statusCode).toBe(400);
  });
});

describe('GET /api/v2/organizations/count', () => {
  it('counts the organizations of the account', async () => {
    await org({ name: 'A' });
    await org({ name: 'B' });
    const count = (await t.request('GET', '/api/v2/organizations/count')).json().count;
    expect(count.value).toBe(2);
    expect(Date.parse(count.refreshed_at)).not.toBeNaN();
  });
});

describe('GET /api/v2/organizations/search', () => {
  it('finds by exact name and by external_id, case-insensitively', async () => {
    await org({ name: 'Globex Corp', external_id: 'GLX' });
    await org({ name: 'Globex Corporation' });
    const byName = (await t.request('GET', '/api/v2/organizations/search?name=globex+corp')).json();
    expect(byName.organizations.map((o: Json) => o.name)).toEqual(['Globex Corp']);
    expect(byName.count).toBe(1);
    const byExternal = (await t.request('GET', '/api/v2/organizations/search?external_id=glx')).json();
    expect(byExternal.organizations.map((o: Json) => o.name)).toEqual(['Globex Corp']);
    expect((await t.request('GET', '/api/v2/organizations/search?name=Globex%25')).json().organizations).toEqual([]);
  });

  it('refuses neither or both criteria', async () => {
    expect((await t.request('GET', '/api/v2/organizations/search')).json().error).toBe('ParameterMissing');
    expect((await t.request('GET', '/api/v2/organizations/search?name=a&external_id=b')).statusCode).toBe(400);
  });

  it('is refused to end users', async () => {
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('GET', '/api/v2/organizations/search?name=a', { as: endUser })).statusCode).toBe(403);
  });
});

describe('GET /api/v2/organizations/autocomplete', () => {
  it('matches a name prefix ignoring case and accents, ordered by name', async () => {
    for (const name of ['Émile Consulting', 'emily ltd', 'Emu Farms', 'Mémé']) await org({ name });
    const response = (await t.request('GET', '/api/v2/organizations/autocomplete?name=EMI')).json();
    expect(response.organizations.map((o: Json) => o.name)).toEqual(['emily ltd', 'Émile Consulting'].sort((a, b) => (a < b ? -1 : 1)));
    expect(response.count).toBe(2);
    const accented = (await t.request('GET', `/api/v2/organizations/autocomplete?name=${encodeURIComponent('mé')}`)).json();
    expect(accented.organizations.map((o: Json) => o.name)).toEqual(['Mémé']);
  });

  it('treats LIKE wildcards literally', async () => {
    await org({ name: '100% Cotton' });
    await org({ name: '1000 Lakes' });
    const response = (await t.request('GET', `/api/v2/organizations/autocomplete?name=${encodeURIComponent('100%')}`)).json();
    expect(response.organizations.map((o: Json) => o.name)).toEqual(['100% Cotton']);
  });

  it('needs at least two characters', async () => {
    expect((await t.request('GET', '/api/v2/organizations/autocomplete?name=a')).statusCode).toBe(400);
    expect((await t.request('GET', '/api/v2/organizations/autocomplete')).json().error).toBe('ParameterMissing');
  });
});

describe('GET /api/v2/organizations/:id/related', () => {
  it('counts the members and (until tickets exist) no tickets', async () => {
    const organization = await org({ name: 'Related' });
    await t.user({ organization_id: organization.id });
    await t.user({ organization_id: organization.id });
    const response = await t.request('GET', `/api/v2/organizations/${organization.id}/related`);
    expect(response.json()).toEqual({ organization_related: { tickets_count: 0, users_count: 2 } });
    expect((await t.request('GET', '/api/v2/organizations/999/related')).statusCode).toBe(404);
  });
});

describe('PUT /api/v2/organizations/:id', () => {
  it('updates fields, replaces domain_names and merges organization_fields', async () => {
    await organizationField('region', 'text');
    await organizationField('seats', 'integer');
    const created = await org({ name: 'Before', domain_names: ['a.com', 'b.com'], organization_fields: { region: 'EU', seats: 3 } });
    const response = await t.request('PUT', `/api/v2/organizations/${created.id}`, {
      body: { organization: { name: 'After', domain_names: ['c.com'], notes: null, organization_fields: { seats: null } } },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().organization).toMatchObject({ name: 'After', domain_names: ['c.com'], notes: null, organization_fields: { region: 'EU', seats: null } });
    const events = await auditOf('organization', created.id);
    expect(events.map((event) => event.action)).toEqual(['organization.create', 'organization.update']);
  });

  it('keeps its own name and refuses another organization\'s', async () => {
    const a = await org({ name: 'Alpha' });
    await org({ name: 'Beta' });
    expect((await t.request('PUT', `/api/v2/organizations/${a.id}`, { body: { organization: { name: 'ALPHA' } } })).statusCode).toBe(200);
    const taken = await t.request('PUT', `/api/v2/organizations/${a.id}`, { body: { organization: { name: 'beta' } } });
    expect(taken.statusCode).toBe(422);
    expect(taken.json().details.name[0].error).toBe('DuplicateValue');
  });

  it('lets an agent without organization_editing change the notes only', async () => {
    const created = await org({ name: 'Noted' });
    const limited = await agentWithRole({ organization_editing: false });
    const notes = await t.request('PUT', `/api/v2/organizations/${created.id}`, { as: limited, body: { organization: { notes: 'Called today' } } });
    expect(notes.statusCode).toBe(200);
    expect(notes.json().organization.notes).toBe('Called today');
    const name = await t.request('PUT', `/api/v2/organizations/${created.id}`, { as: limited, body: { organization: { name: 'Renamed', notes: 'x' } } });
    expect(name.statusCode).toBe(403);
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('PUT', `/api/v2/organizations/${created.id}`, { as: endUser, body: { organization: { notes: 'x' } } })).statusCode).toBe(403);
  });

  it('answers 404 for an unknown organization and 422 for a malformed change', async () => {
    expect((await t.request('PUT', '/api/v2/organizations/999', { body: { organization: { notes: 'x' } } })).statusCode).toBe(404);
    const created = await org({ name: 'Valid' });
    expect((await t.request('PUT', `/api/v2/organizations/${created.id}`, { body: { organization: { name: '' } } })).statusCode).toBe(422);
    expect((await t.request('PUT', `/api/v2/organizations/${created.id}`, { body: {} })).statusCode).toBe(400);
  });
});

describe('POST /api/v2/organizations/create_or_update', () => {
  it('creates, then updates by external_id, then by id', async () => {
    const created = await t.request('POST', '/api/v2/organizations/create_or_update', { body: { organization: { name: 'Upsert', external_id: 'UP-1' } } });
    expect(created.statusCode).toBe(201);
    const id = created.json().organization.id;
    const byExternal = await t.request('POST', '/api/v2/organizations/create_or_update', { body: { organization: { external_id: 'up-1', notes: 'found' } } });
    expect(byExternal.statusCode).toBe(200);
    expect(byExternal.json().organization).toMatchObject({ id, name: 'Upsert', notes: 'found' });
    const byId = await t.request('POST', '/api/v2/organizations/create_or_update', { body: { organization: { id, name: 'Renamed' } } });
    expect(byId.statusCode).toBe(200);
    expect(byId.json().organization.name).toBe('Renamed');
  });

  it('never matches by name: a new organization with a taken name is a DuplicateValue', async () => {
    await org({ name: 'Taken' });
    const response = await t.request('POST', '/api/v2/organizations/create_or_update', { body: { organization: { name: 'Taken' } } });
    expect(response.statusCode).toBe(422);
    expect(response.json().details.name[0].error).toBe('DuplicateValue');
  });

  it('is refused to end users and needs the wrapper', async () => {
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('POST', '/api/v2/organizations/create_or_update', { as: endUser, body: { organization: { name: 'x' } } })).statusCode).toBe(403);
    expect((await t.request('POST', '/api/v2/organizations/create_or_update', { body: { name: 'x' } })).statusCode).toBe(400);
  });
});

describe('DELETE /api/v2/organizations/:id', () => {
  it('deletes it with its memberships; members whose default it was fall back to their oldest other one', async () => {
    const first = await org({ name: 'First' });
    const second = await org({ name: 'Second' });
    const third = await org({ name: 'Third' });
    const user = await t.user({ organization_id: first.id });
    for (const organization of [third, second]) {
      await t.request('POST', '/api/v2/organization_memberships', { body: { organization_membership: { user_id: user.id, organization_id: organization.id } } });
    }
    const loner = await t.user({ organization_id: first.id });
    const response = await t.request('DELETE', `/api/v2/organizations/${first.id}`);
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect((await t.request('GET', `/api/v2/organizations/${first.id}`)).statusCode).toBe(404);
    expect((await userJson(user.id)).organization_id).toBe(third.id);
    expect((await memberships(user.id)).map((m) => [m.organization_id, m.default])).toEqual([[third.id, true], [second.id, null]]);
    expect((await userJson(loner.id)).organization_id).toBeNull();
    expect((await auditOf('organization', first.id)).map((event) => event.action)).toContain('organization.delete');
  });

  it('answers 404 for an unknown organization and 403 to those who may not edit organizations', async () => {
    expect((await t.request('DELETE', '/api/v2/organizations/999')).statusCode).toBe(404);
    const created = await org({ name: 'Kept' });
    const limited = await agentWithRole({ organization_editing: false });
    expect((await t.request('DELETE', `/api/v2/organizations/${created.id}`, { as: limited })).statusCode).toBe(403);
    expect((await t.request('GET', `/api/v2/organizations/${created.id}`)).statusCode).toBe(200);
  });
});

describe('Bulk organization jobs', () => {
  it('create_many creates each organization and reports failures by index without values', async () => {
    const response = await t.request('POST', '/api/v2/organizations/create_many', {
      body: { organizations: [{ name: 'Bulk A' }, { name: 'Bulk B', external_id: 'bb' }, { name: 'bulk a' }] },
    });
    expect(response.statusCode).toBe(200);
    const job = await t.waitForJob(response.json().job_status.id);
    expect(job.status).toBe('completed');
    const results = job.results as Json[];
    expect(results.slice(0, 2).map((result) => [result.action, result.status, result.success])).toEqual([['create', 'Created', true], ['create', 'Created', true]]);
    expect(results[2]).toMatchObject({ index: 2, success: false, error: 'RecordInvalid' });
    expect(JSON.stringify(results)).not.toContain('bulk a');
    expect((await t.request('GET', '/api/v2/organizations/count')).json().count.value).toBe(2);
  });

  it('create_many refuses more than 100 organizations and end users', async () => {
    const many = Array.from({ length: 101 }, (_, index) => ({ name: `n${index}` }));
    expect((await t.request('POST', '/api/v2/organizations/create_many', { body: { organizations: many } })).statusCode).toBe(400);
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('POST', '/api/v2/organizations/create_many', { as: endUser, body: { organizations: [] } })).statusCode).toBe(403);
  });

  it('update_many applies one change to ids or external_ids', async () => {
    const a = await org({ name: 'A', external_id: 'ea' });
    const b = await org({ name: 'B' });
    const byIds = await t.request('PUT', `/api/v2/organizations/update_many?ids=${a.id},${b.id}`, { body: { organization: { notes: 'Priority' } } });
    expect((await t.waitForJob(byIds.json().job_status.id)).status).toBe('completed');
    expect((await t.request('GET', `/api/v2/organizations/${b.id}`)).json().organization.notes).toBe('Priority');
    const byExternal = await t.request('PUT', '/api/v2/organizations/update_many?external_ids=EA', { body: { organization: { notes: 'Normal' } } });
    await t.waitForJob(byExternal.json().job_status.id);
    expect((await t.request('GET', `/api/v2/organizations/${a.id}`)).json().organization.notes).toBe('Normal');
  });

  it('update_many applies a list of changes by id or external_id', async () => {
    const a = await org({ name: 'A', external_id: 'ea' });
    const b = await org({ name: 'B' });
    const response = await t.request('PUT', '/api/v2/organizations/update_many', {
      body: { organizations: [{ external_id: 'ea', notes: 'one' }, { id: b.id, notes: 'two' }, { id: b.id, name: 'A' }] },
    });
    const job = await t.waitForJob(response.json().job_status.id);
    expect((job.results as Json[]).map((result) => result.success)).toEqual([true, true, false]);
    expect((await t.request('GET', `/api/v2/organizations/${a.id}`)).json().organization.notes).toBe('one');
    expect((await t.request('GET', `/api/v2/organizations/${b.id}`)).json().organization).toMatchObject({ name: 'B', notes: 'two' });
  });

  it('update_many refuses a request without ids or list, a malformed change, and an unknown external id in the list', async () => {
    expect((await t.request('PUT', '/api/v2/organizations/update_many', { body: {} })).statusCode).toBe(400);
    expect((await t.request('PUT', '/api/v2/organizations/update_many?ids=1', { body: { organization: { name: '' } } })).statusCode).toBe(422);
    expect((await t.request('PUT', '/api/v2/organizations/update_many?ids=1', { body: {} })).statusCode).toBe(400);
    expect((await t.request('PUT', '/api/v2/organizations/update_many', { body: { organizations: [{ external_id: 'nope', notes: 'x' }] } })).statusCode).toBe(400);
    const limited = await agentWithRole({ organization_editing: false });
    expect((await t.request('PUT', '/api/v2/organizations/update_many?ids=1', { as: limited, body: { organization: { name: 'x' } } })).statusCode).toBe(403);
  });

  it('destroy_many deletes by ids or external_ids', async () => {
    const a = await org({ name: 'A' });
    const b = await org({ name: 'B', external_id: 'eb' });
    const byIds = await t.request('DELETE', `/api/v2/organizations/destroy_many?ids=${a.id},999`);
    const job = await t.waitForJob(byIds.json().job_status.id);
    expect((job.results as Json[]).map((result) => [result.id, result.success])).toEqual([[a.id, true], [999, false]]);
    const byExternal = await t.request('DELETE', '/api/v2/organizations/destroy_many?external_ids=EB');
    await t.waitForJob(byExternal.json().job_status.id);
    expect((await t.request('GET', `/api/v2/organizations/${b.id}`)).statusCode).toBe(404);
    expect((await t.request('DELETE', '/api/v2/organizations/destroy_many')).statusCode).toBe(400);
  });
});

describe('GET /api/v2/organizations/:id/users and /api/v2/users/:id/organizations', () => {
  it('lists the users of an organization', async () => {
    const organization = await org({ name: 'Team' });
    const a = await t.user({ name: 'Ann', organization_id: organization.id });
    const b = await t.user({ name: 'Bob', organization_id: organization.id });
    await t.user({ name: 'Outsider' });
    const response = (await t.request('GET', `/api/v2/organizations/${organization.id}/users`)).json();
    expect(response.users.map((user: Json) => user.id)).toEqual([a.id, b.id]);
    expect(response.count).toBe(2);
    const cursor = (await t.request('GET', `/api/v2/organizations/${organization.id}/users?page[size]=1`)).json();
    expect(cursor.users).toHaveLength(1);
    expect(cursor.meta.has_more).toBe(true);
    expect((await t.request('GET', '/api/v2/organizations/999/users')).statusCode).toBe(404);
    const endUser = await t.user({ role: 'end-user', organization_id: organization.id });
    expect((await t.request('GET', `/api/v2/organizations/${organization.id}/users`, { as: endUser })).statusCode).toBe(403);
    const noLists = await agentWithRole({ end_user_list_access: 'none' });
    const refused = await t.request('GET', `/api/v2/organizations/${organization.id}/users`, { as: noLists });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().description).toContain('end_user_list_access');
  });

  it("lists a user's organizations; an end user sees only their own", async () => {
    const a = await org({ name: 'A' });
    const b = await org({ name: 'B' });
    await org({ name: 'C' });
    const user = await t.user({ role: 'end-user', organization_id: a.id });
    await t.request('POST', '/api/v2/organization_memberships', { body: { organization_membership: { user_id: user.id, organization_id: b.id } } });
    const listed = (await t.request('GET', `/api/v2/users/${user.id}/organizations`)).json();
    expect(listed.organizations.map((o: Json) => o.name)).toEqual(['A', 'B']);
    expect((await t.request('GET', `/api/v2/users/${user.id}/organizations`, { as: user })).statusCode).toBe(200);
    const other = await t.user({ role: 'end-user' });
    expect((await t.request('GET', `/api/v2/users/${user.id}/organizations`, { as: other })).statusCode).toBe(403);
    expect((await t.request('GET', '/api/v2/users/999/organizations')).statusCode).toBe(404);
  });
});

describe('Domain auto-join', () => {
  it('puts a new user into every organization that claims their email domain, the oldest as default', async () => {
    const acme = await org({ name: 'Acme', domain_names: ['acme.test'] });
    const partners = await org({ name: 'Acme Partners', domain_names: ['acme.test', 'partners.test'] });
    const user = await t.user({ email: 'Jo@ACME.test' });
    expect((await userJson(user.id)).organization_id).toBe(acme.id);
    expect((await memberships(user.id)).map((m) => [m.organization_id, m.default])).toEqual([[acme.id, true], [partners.id, null]]);
    const stranger = await t.user({ email: 'someone@elsewhere.test' });
    expect((await userJson(stranger.id)).organization_id).toBeNull();
  });

  it('matches the whole domain, not a subdomain or a suffix', async () => {
    await org({ name: 'Acme', domain_names: ['acme.test'] });
    const sub = await t.user({ email: 'a@mail.acme.test' });
    const suffix = await t.user({ email: 'b@notacme.test' });
    expect((await userJson(sub.id)).organization_id).toBeNull();
    expect((await userJson(suffix.id)).organization_id).toBeNull();
  });

  it('keeps an organization named on create as the default and adds the domain ones beside it', async () => {
    const chosen = await org({ name: 'Chosen' });
    const byDomain = await org({ name: 'By domain', domain_names: ['dom.test'] });
    const user = await t.user({ email: 'x@dom.test', organization_id: chosen.id });
    expect((await userJson(user.id)).organization_id).toBe(chosen.id);
    expect((await memberships(user.id)).map((m) => m.organization_id)).toEqual([chosen.id, byDomain.id]);
  });

  it('joins when an email identity is added, or an email is set on update', async () => {
    const acme = await org({ name: 'Acme', domain_names: ['acme.test'] });
    const globex = await org({ name: 'Globex', domain_names: ['globex.test'] });
    const user = await t.user({ email: 'solo@home.test' });
    const added = await t.request('POST', `/api/v2/users/${user.id}/identities`, { body: { identity: { type: 'email', value: 'solo@acme.test' } } });
    expect(added.statusCode).toBe(201);
    expect((await userJson(user.id)).organization_id).toBe(acme.id);
    await t.request('PUT', `/api/v2/users/${user.id}`, { body: { user: { email: 'solo@globex.test' } } });
    expect((await memberships(user.id)).map((m) => m.organization_id)).toEqual([acme.id, globex.id]);
  });

  it('does not move existing users when a domain is added to an organization later', async () => {
    const user = await t.user({ email: 'early@late.test' });
    const organization = await org({ name: 'Late' });
    await t.request('PUT', `/api/v2/organizations/${organization.id}`, { body: { organization: { domain_names: ['late.test'] } } });
    expect((await userJson(user.id)).organization_id).toBeNull();
    const newcomer = await t.user({ email: 'new@late.test' });
    expect((await userJson(newcomer.id)).organization_id).toBe(organization.id);
  });

  it('does not re-add a user who sends back an email they already had', async () => {
    const acme = await org({ name: 'Acme', domain_names: ['acme.test'] });
    const user = await t.user({ email: 'back@acme.test' });
    const membership = (await memberships(user.id))[0];
    await t.request('DELETE', `/api/v2/organization_memberships/${membership?.id}`);
    await t.request('PUT', `/api/v2/users/${user.id}`, { body: { user: { email: 'back@acme.test', notes: 'x' } } });
    expect(await memberships(user.id)).toEqual([]);
    expect(acme.id).toBeGreaterThan(0);
  });
});

describe("A user's organization_id and organization", () => {
  it('sets the default organization on create by id, or by name (found case-insensitively, else created)', async () => {
    const existing = await org({ name: 'Existing' });
    const byId = await t.user({ organization_id: existing.id });
    expect((await userJson(byId.id)).organization_id).toBe(existing.id);
    const byName = await t.request('POST', '/api/v2/users', { body: { user: { name: 'N', email: 'n@x.test', organization: { name: 'EXISTING' } } } });
    expect(byName.json().user.organization_id).toBe(existing.id);
    const created = await t.request('POST', '/api/v2/users', { body: { user: { name: 'M', email: 'm@x.test', organization: { name: 'Brand New' } } } });
    const newId = created.json().user.organization_id;
    expect((await t.request('GET', `/api/v2/organizations/${newId}`)).json().organization.name).toBe('Brand New');
  });

  it('refuses an unknown organization_id, a malformed organization, and a new name from an agent who may not create organizations', async () => {
    const unknown = await t.request('POST', '/api/v2/users', { body: { user: { name: 'U', email: 'u@x.test', organization_id: 999 } } });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().details.organization_id[0].error).toBe('InvalidValue');
    expect((await t.request('POST', '/api/v2/users', { body: { user: { name: 'U', organization: 'Acme' } } })).json().details.organization[0].error).toBe('InvalidValue');
    const limited = await agentWithRole({ organization_editing: false, end_user_profile_access: 'full' });
    const refused = await t.request('POST', '/api/v2/users', { as: limited, body: { user: { name: 'V', email: 'v@x.test', organization: { name: 'Nope' } } } });
    expect(refused.statusCode).toBe(422);
    expect((await t.request('GET', '/api/v2/organizations/count')).json().count.value).toBe(0);
    expect((await t.request('GET', '/api/v2/users/count')).json().count.value).toBe(2);
  });

  it('replaces the memberships on update; the same value changes nothing; null removes them all', async () => {
    const a = await org({ name: 'A' });
    const b = await org({ name: 'B' });
    const c = await org({ name: 'C' });
    const user = await t.user({ organization_id: a.id });
    await t.request('POST', '/api/v2/organization_memberships', { body: { organization_membership: { user_id: user.id, organization_id: b.id } } });

    await t.request('PUT', `/api/v2/users/${user.id}`, { body: { user: { organization_id: a.id, notes: 'round trip' } } });
    expect((await memberships(user.id)).map((m) => m.organization_id)).toEqual([a.id, b.id]);

    const moved = await t.request('PUT', `/api/v2/users/${user.id}`, { body: { user: { organization_id: c.id } } });
    expect(moved.json().user.organization_id).toBe(c.id);
    expect((await memberships(user.id)).map((m) => [m.organization_id, m.default])).toEqual([[c.id, true]]);

    const kept = (await t.request('POST', '/api/v2/organization_memberships', { body: { organization_membership: { user_id: user.id, organization_id: b.id } } })).json().organization_membership;
    await t.request('PUT', `/api/v2/users/${user.id}`, { body: { user: { organization_id: b.id } } });
    expect((await memberships(user.id)).map((m) => [m.id, m.default])).toEqual([[kept.id, true]]);

    const cleared = await t.request('PUT', `/api/v2/users/${user.id}`, { body: { user: { organization_id: null } } });
    expect(cleared.json().user.organization_id).toBeNull();
    expect(await memberships(user.id)).toEqual([]);
  });

  it('refuses an end user changing their own organization and an agent changing an agent\'s', async () => {
    const a = await org({ name: 'A' });
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('PUT', `/api/v2/users/${endUser.id}`, { as: endUser, body: { user: { organization_id: a.id } } })).statusCode).toBe(403);
    const agent = await t.user({ role: 'agent' });
    const other = await t.user({ role: 'agent' });
    expect((await t.request('PUT', `/api/v2/users/${other.id}`, { as: agent, body: { user: { organization_id: a.id } } })).statusCode).toBe(403);
    expect((await t.request('PUT', `/api/v2/users/${endUser.id}`, { as: agent, body: { user: { organization_id: a.id } } })).statusCode).toBe(200);
  });
});

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

async function field(body: Record<string, unknown>, kind: 'user' | 'organization' = 'user'): Promise<Record<string, unknown>> {
  const response = await t.request('POST', `/api/v2/${kind}_fields`, { body: { [`${kind}_field`]: body } });
  expect(response.statusCode, response.body).toBe(201);
  return response.json()[`${kind}_field`];
}

async function agentWithRole(configuration: Record<string, unknown>): Promise<Caller> {
  const role = await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: { name: `R${Math.random()}`, configuration } } });
  return t.user({ role: 'agent', custom_role_id: role.json().custom_role.id });
}

async function setFields(userId: number, values: Record<string, unknown>) {
  return t.request('PUT', `/api/v2/users/${userId}`, { body: { user: { user_fields: values } } });
}

describe('POST /api/v2/user_fields', () => {
  it('creates each type, text by default, with Zendesk\'s field JSON', async () => {
    const text = await field({ key: 'nickname', title: 'Nickname', description: 'What they like to be called' });
    expect(text).toMatchObject({ key: 'nickname', type: 'text', title: 'Nickname', raw_title: 'Nickname', description: 'What they like to be called', active: true, system: false, position: 0, regexp_for_validation: null });
    const dropdown = await field({ key: 'plan', type: 'dropdown', title: 'Plan', custom_field_options: [{ name: 'Gold', value: 'gold' }, { name: 'Free', value: 'free' }] });
    expect(dropdown.position).toBe(1);
    expect((dropdown.custom_field_options as Array<Record<string, unknown>>).map((o) => [o.name, o.value, o.position])).toEqual([['Gold', 'gold', 0], ['Free', 'free', 1]]);
    const checkbox = await field({ key: 'vip', type: 'checkbox', title: 'VIP', tag: 'VIP' });
    expect(checkbox.tag).toBe('vip');
    const regexp = await field({ key: 'code', type: 'regexp', title: 'Code', regexp_for_validation: '\\A[A-Z]{3}-\\d+\\z' });
    expect(regexp.regexp_for_validation).toBe('\\A[A-Z]{3}-\\d+\\z');
    for (const type of ['textarea', 'date', 'integer', 'decimal']) await field({ key: `f_${type}`, type, title: type });
    const response = await t.request('POST', '/api/v2/user_fields', { body: { user_field: { key: 'x1', title: 'X' } } });
    expect(response.headers.location).toBe(`http://localhost:80/api/v2/user_fields/${response.json().user_field.id}.json`);
  });

  it('refuses bad keys, types, titles, patterns and options with 422 naming the attribute', async () => {
    const post = (body: Record<string, unknown>) => t.request('POST', '/api/v2/user_fields', { body: { user_field: body } });
    expect((await post({ title: 'No key' })).json().details.key[0].error).toBe('BlankValue');
    expect((await post({ key: 'has space', title: 'x' })).json().details.key).toBeDefined();
    expect((await post({ key: '123', title: 'x' })).json().details.key).toBeDefined();
    expect((await post({ key: 'k', title: 'x', type: 'lookup' })).json().details.type).toBeDefined();
    expect((await post({ key: 'k' })).json().details.title).toBeDefined();
    expect((await post({ key: 'k', title: 'x', type: 'regexp' })).json().details.regexp_for_validation).toBeDefined();
    expect((await post({ key: 'k', title: 'x', type: 'regexp', regexp_for_validation: '([' })).json().details.regexp_for_validation).toBeDefined();
    expect((await post({ key: 'k', title: 'x', type: 'dropdown' })).json().details.custom_field_options).toBeDefined();
    expect((await post({ key: 'k', title: 'x', type: 'dropdown', custom_field_options: [{ name: 'A', value: 'a' }, { name: 'B', value: 'a' }] })).json().details.custom_field_options[0].error).toBe('DuplicateValue');
    expect((await post({ key: 'k', title: 'x', type: 'text', custom_field_options: [{ name: 'A', value: 'a' }] })).statusCode).toBe(422);
    expect((await post({ key: 'k', title: 'x', position: -1, active: 'yes' })).json().details).toHaveProperty('active');
    await field({ key: 'taken', title: 'Taken' });
    expect((await post({ key: 'taken', title: 'Again' })).json().details.key[0].error).toBe('DuplicateValue');
    expect((await t.request('POST', '/api/v2/user_fields', { body: { field: {} } })).statusCode).toBe(400);
  });

  it('is for admins and agents with manage_user_fields (403 naming it otherwise)', async () => {
    const agent = await t.user({ role: 'agent' });
    const denied = await t.request('POST', '/api/v2/user_fields', { as: agent, body: { user_field: { key: 'k', title: 'K' } } });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().description).toContain('manage_user_fields');
    const manager = await agentWithRole({ manage_user_fields: true });
    expect((await t.request('POST', '/api/v2/user_fields', { as: manager, body: { user_field: { key: 'k', title: 'K' } } })).statusCode).toBe(201);
    // manage_user_fields does not extend to organization fields.
    const orgDenied = await t.request('POST', '/api/v2/organization_fields', { as: manager, body: { organization_field: { key: 'k', title: 'K' } } });
    expect(orgDenied.statusCode).toBe(403);
    expect(orgDenied.json().description).toContain('manage_organization_fields');
  });
});

describe('GET /api/v2/user_fields', () => {
  it('lists fields in position order and shows one to agents; not to end users', async () => {
    const a = await field({ key: 'a', title: 'A', position: 5 });
    const b = await field({ key: 'b', title: 'B', position: 1 });
    const agent = await t.user({ role: 'agent' });
    const list = await t.request('GET', '/api/v2/user_fields', { as: agent });
    expect(list.statusCode).toBe(200);
    expect(list.json().user_fields.map((f: { key: string }) => f.key)).toEqual(['b', 'a']);
    expect(list.json().count).toBe(2);
    expect((await t.request('GET', `/api/v2/user_fields/${a.id}`, { as: agent })).json().user_field.key).toBe('a');
    expect((await t.request('GET', `/api/v2/user_fields/${b.id}`, { as: agent })).statusCode).toBe(200);
    expect((await t.request('GET', '/api/v2/user_fields/999999', { as: agent })).statusCode).toBe(404);
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('GET', '/api/v2/user_fields', { as: endUser })).statusCode).toBe(403);
  });

  it('keeps user and organization fields apart', async () => {
    const userField = await field({ key: 'same', title: 'User' });
    const orgField = await field({ key: 'same', title: 'Org' }, 'organization');
    expect((await t.request('GET', '/api/v2/organization_fields')).json().organization_fields.map((f: { id: number }) => f.id)).toEqual([orgField.id]);
    expect((await t.request('GET', `/api/v2/organization_fields/${userField.id}`)).statusCode).toBe(404);
    expect(orgField.url).toContain('/api/v2/organization_fields/');
  });
});

describe('PUT /api/v2/user_fields/:id', () => {
  it('changes title, description, active and pattern; refuses a new key or type', async () => {
    const f = await field({ key: 'code', type: 'regexp', title: 'Code', regexp_for_validation: '^[0-9]+$' });
    const response = await t.request('PUT', `/api/v2/user_fields/${f.id}`, { body: { user_field: { title: 'Zip', description: 'd', active: false, regexp_for_validation: '^\\d{5}$' } } });
    expect(response.statusCode).toBe(200);
    expect(response.json().user_field).toMatchObject({ title: 'Zip', description: 'd', active: false, regexp_for_validation: '^\\d{5}$' });
    expect((await t.request('PUT', `/api/v2/user_fields/${f.id}`, { body: { user_field: { key: 'other' } } })).json().details.key).toBeDefined();
    expect((await t.request('PUT', `/api/v2/user_fields/${f.id}`, { body: { user_field: { type: 'text' } } })).json().details.type).toBeDefined();
    expect((await t.request('PUT', `/api/v2/user_fields/${f.id}`, { body: { user_field: { regexp_for_validation: null } } })).statusCode).toBe(422);
    expect((await t.request('PUT', '/api/v2/user_fields/999999', { body: { user_field: { title: 'x' } } })).statusCode).toBe(404);
    const agent = await t.user({ role: 'agent' });
    expect((await t.request('PUT', `/api/v2/user_fields/${f.id}`, { as: agent, body: { user_field: { title: 'x' } } })).statusCode).toBe(403);
  });

  it('replaces dropdown options as sent: updates by id, adds without id, removes the rest and their values', async () => {
    const f = await field({ key: 'plan', type: 'dropdown', title: 'Plan', custom_field_options: [{ name: 'Gold', value: 'gold' }, { name: 'Free', value: 'free' }] });
    const [gold, free] = f.custom_field_options as Array<{ id: number }>;
    const user = await t.user({ role: 'end-user' });
    expect((await setFields(user.id, { plan: 'free' })).statusCode).toBe(200);
    const response = await t.request('PUT', `/api/v2/user_fields/${f.id}`, {
      body: { user_field: { custom_field_options: [{ id: null, name: 'Silver', value: 'silver' }, { id: gold?.id, name: 'Gold!', value: 'gold' }] } },
    });
    expect(response.statusCode).toBe(200);
    const options = response.json().user_field.custom_field_options as Array<Record<string, unknown>>;
    expect(options.map((o) => [o.name, o.value, o.position])).toEqual([['Silver', 'silver', 0], ['Gold!', 'gold', 1]]);
    expect(options[1]?.id).toBe(gold?.id);
    expect(options.some((o) => o.id === free?.id)).toBe(false);
    expect((await t.request('GET', `/api/v2/users/${user.id}`)).json().user.user_fields.plan).toBeNull();
    expect((await t.request('PUT', `/api/v2/user_fields/${f.id}`, { body: { user_field: { custom_field_options: [{ id: 999999, name: 'X', value: 'x' }] } } })).statusCode).toBe(422);
    expect((await t.request('PUT', `/api/v2/user_fields/${f.id}`, { body: { user_field: { custom_field_options: [] } } })).statusCode).toBe(422);
  });
});

describe('DELETE /api/v2/user_fields/:id and PUT /api/v2/user_fields/reorder', () => {
  it('deletes a field and its values', async () => {
    const f = await field({ key: 'nickname', title: 'Nickname' });
    const user = await t.user({ role: 'end-user' });
    await setFields(user.id, { nickname: 'Bo' });
    expect((await t.request('DELETE', `/api/v2/user_fields/${f.id}`)).statusCode).toBe(204);
    expect((await t.request('GET', `/api/v2/user_fields/${f.id}`)).statusCode).toBe(404);
    expect((await t.request('GET', `/api/v2/users/${user.id}`)).json().user.user_fields).toEqual({});
    await field({ key: 'nickname', title: 'Again' });
    expect((await t.request('GET', `/api/v2/users/${user.id}`)).json().user.user_fields).toEqual({ nickname: null });
    expect((await t.request('DELETE', `/api/v2/user_fields/${f.id}`)).statusCode).toBe(404);
    const agent = await t.user({ role: 'agent' });
    const other = await field({ key: 'other', title: 'Other' });
    expect((await t.request('DELETE', `/api/v2/user_fields/${other.id}`, { as: agent })).statusCode).toBe(403);
  });

  it('reorders: the listed fields first, in that order', async () => {
    const a = await field({ key: 'a', title: 'A' });
    const b = await field({ key: 'b', title: 'B' });
    const c = await field({ key: 'c', title: 'C' });
    const response = await t.request('PUT', '/api/v2/user_fields/reorder', { body: { user_field_ids: [c.id, a.id] } });
    expect(response.statusCode).toBe(200);
    const keys = (await t.request('GET', '/api/v2/user_fields')).json().user_fields.map((f: { key: string; position: number }) => [f.key, f.position]);
    expect(keys).toEqual([['c', 0], ['a', 1], ['b', 2]]);
    expect((await t.request('PUT', '/api/v2/user_fields/reorder', { body: { user_field_ids: [b.id, 999999] } })).statusCode).toBe(422);
    expect((await t.request('PUT', '/api/v2/user_fields/reorder', { body: {} })).statusCode).toBe(400);
    const agent = await t.user({ role: 'agent' });
    expect((await t.request('PUT', '/api/v2/user_fields/reorder', { as: agent, body: { user_field_ids: [a.id] } })).statusCode).toBe(403);
    const org = await field({ key: 'o', title: 'O' }, 'organization');
    expect((await t.request('PUT', '/api/v2/organization_fields/reorder', { body: { organization_field_ids: [org.id] } })).statusCode).toBe(200);
  });
});

describe('User field options', () => {
  it('lists, shows, creates (201), updates (200) and deletes (204) options of a dropdown', async () => {
    const f = await field({ key: 'plan', type: 'dropdown', title: 'Plan', custom_field_options: [{ name: 'Gold', value: 'gold' }] });
    const base = `/api/v2/user_fields/${f.id}/options`;
    const created = await t.request('POST', base, { body: { custom_field_option: { name: 'Free', value: 'free' } } });
    expect(created.statusCode).toBe(201);
    const option = created.json().custom_field_option;
    expect(option).toMatchObject({ name: 'Free', raw_name: 'Free', value: 'free', position: 1 });
    const updated = await t.request('POST', base, { body: { custom_field_option: { id: option.id, name: 'Free tier', value: 'free', position: 0 } } });
    expect(updated.statusCode).toBe(200);
    expect(updated.json().custom_field_option).toMatchObject({ id: option.id, name: 'Free tier', position: 0 });
    const list = await t.request('GET', base);
    expect(list.json()).toMatchObject({ count: 2 });
    expect(list.json().custom_field_options.map((o: { value: string }) => o.value)).toEqual(['free', 'gold']);
    expect((await t.request('GET', `${base}/${option.id}`)).json().custom_field_option.value).toBe('free');
    const user = await t.user({ role: 'end-user' });
    await setFields(user.id, { plan: 'free' });
    expect((await t.request('DELETE', `${base}/${option.id}`)).statusCode).toBe(204);
    expect((await t.request('GET', `/api/v2/users/${user.id}`)).json().user.user_fields.plan).toBeNull();
    expect((await t.request('GET', `${base}/${option.id}`)).statusCode).toBe(404);
  });

  it('refuses a duplicate value or a bad option (422), the last option (422), a non-dropdown (422) and non-managers (403)', async () => {
    const f = await field({ key: 'plan', type: 'dropdown', title: 'Plan', custom_field_options: [{ name: 'Gold', value: 'gold' }] });
    const base = `/api/v2/user_fields/${f.id}/options`;
    expect((await t.request('POST', base, { body: { custom_field_option: { name: 'G', value: 'gold' } } })).statusCode).toBe(422);
    expect((await t.request('POST', base, { body: { custom_field_option: { name: '', value: 'x' } } })).statusCode).toBe(422);
    expect((await t.request('POST', base, { body: {} })).statusCode).toBe(400);
    const only = (f.custom_field_options as Array<{ id: number }>)[0];
    expect((await t.request('DELETE', `${base}/${only?.id}`)).statusCode).toBe(422);
    const text = await field({ key: 'nick', title: 'Nick' });
    expect((await t.request('POST', `/api/v2/user_fields/${text.id}/options`, { body: { custom_field_option: { name: 'A', value: 'a' } } })).statusCode).toBe(422);
    expect((await t.request('GET', '/api/v2/user_fields/999999/options')).statusCode).toBe(404);
    const agent = await t.user({ role: 'agent' });
    expect((await t.request('POST', base, { as: agent, body: { custom_field_option: { name: 'A', value: 'a' } } })).statusCode).toBe(403);
  });
});

describe('user_fields on users', () => {
  it('shows every active field key, null when unset, and normalizes each type', async () => {
    await field({ key: 'plan', type: 'dropdown', title: 'Plan', custom_field_options: [{ name: 'Gold', value: 'gold' }] });
    await field({ key: 'seats', type: 'integer', title: 'Seats' });
    await field({ key: 'ratio', type: 'decimal', title: 'Ratio' });
    await field({ key: 'vip', type: 'checkbox', title: 'VIP' });
    await field({ key: 'since', type: 'date', title: 'Since' });
    await field({ key: 'code', type: 'regexp', title: 'Code', regexp_for_validation: '\\A[A-Z]{3}\\z' });
    await field({ key: 'bio', type: 'textarea', title: 'Bio' });
    await field({ key: 'nick', title: 'Nick' });
    const created = await t.request('POST', '/api/v2/users', { body: { user: { name: 'Ann', user_fields: { plan: 'gold', seats: '12', ratio: '1.5', vip: 'true', since: '2024-02-29T10:00:00Z', code: 'ABC', bio: ' line one\nline two ', nick: '' } } } });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().user.user_fields).toEqual({ plan: 'gold', seats: 12, ratio: 1.5, vip: true, since: '2024-02-29', code: 'ABC', bio: 'line one\nline two', nick: null });
    const plain = (await t.request('POST', '/api/v2/users', { body: { user: { name: 'Bo' } } })).json().user;
    expect(plain.user_fields).toEqual({ plan: null, seats: null, ratio: null, vip: null, since: null, code: null, bio: null, nick: null });
  });

  it('stops a catastrophically backtracking pattern instead of stalling the server', async () => {
    await field({ key: 'code', type: 'regexp', title: 'Code', regexp_for_validation: '^(a+)+$' });
    const started = Date.now();
    const response = await t.request('POST', '/api/v2/users', { body: { user: { name: 'Ann', user_fields: { code: `${'a'.repeat(40)}b` } } } });
    expect(response.statusCode).toBe(422);
    expect(Object.keys(response.json().details)).toEqual(['user_fields.code']);
    expect(Date.now() - started).toBeLessThan(20_000); // unbounded, it would run for hours
    const fine = await t.request('POST', '/api/v2/users', { body: { user: { name: 'Bo', user_fields: { code: 'aaaa' } } } });
    expect(fine.statusCode).toBe(201);
  });

  it('refuses invalid values with a 422 whose details name each field key, writing nothing', async () => {
    await field({ key: 'plan', type: 'dropdown', title: 'Plan', custom_field_options: [{ name: 'Gold', value: 'gold' }] });
    await field({ key: 'seats', type: 'integer', title: 'Seats' });
    await field({ key: 'since', type: 'date', title: 'Since' });
    await field({ key: 'code', type: 'regexp', title: 'Code', regexp_for_validation: '^[A-Z]{3}$' });
    await field({ key: 'vip', type: 'checkbox', title: 'VIP' });
    const response = await t.request('POST', '/api/v2/users', { body: { user: { name: 'Ann', user_fields: { plan: 'platinum', seats: '1.5', since: '2023-02-30', code: 'abc', vip: 'maybe', nope: 1 } } } });
    expect(response.statusCode).toBe(422);
    expect(response.json().error).toBe('RecordInvalid');
    expect(Object.keys(response.json().details).sort()).toEqual(['user_fields.code', 'user_fields.nope', 'user_fields.plan', 'user_fields.seats', 'user_fields.since', 'user_fields.vip']);
    expect(JSON.stringify(response.json())).not.toContain('platinum');
    expect((await t.request('GET', '/api/v2/users/count')).json().count.value).toBe(1);
  });

  it('validates on update, merges with stored values, null unsets, and an inactive field hides its value', async () => {
    const nick = await field({ key: 'nick', title: 'Nick' });
    await field({ key: 'seats', type: 'integer', title: 'Seats' });
    const user = await t.user({ role: 'end-user' });
    expect((await setFields(user.id, { nick: 'Bo', seats: 3 })).json().user.user_fields).toEqual({ nick: 'Bo', seats: 3 });
    expect((await setFields(user.id, { seats: null })).json().user.user_fields).toEqual({ nick: 'Bo', seats: null });
    expect((await setFields(user.id, { seats: 'many' })).json().details['user_fields.seats'][0].error).toBe('InvalidValue');
    await t.request('PUT', `/api/v2/user_fields/${nick.id}`, { body: { user_field: { active: false } } });
    expect((await t.request('GET', `/api/v2/users/${user.id}`)).json().user.user_fields).toEqual({ seats: null });
    expect((await setFields(user.id, { nick: 'Again' })).statusCode).toBe(422);
    await t.request('PUT', `/api/v2/user_fields/${nick.id}`, { body: { user_field: { active: true } } });
    expect((await t.request('GET', `/api/v2/users/${user.id}`)).json().user.user_fields).toEqual({ nick: 'Bo', seats: null });
  });

  it('validates values in bulk jobs per item', async () => {
    await field({ key: 'seats', type: 'integer', title: 'Seats' });
    const response = await t.request('POST', '/api/v2/users/create_many', { body: { users: [{ name: 'A', user_fields: { seats: 2 } }, { name: 'B', user_fields: { seats: 'x' } }] } });
    const job = await t.waitForJob(response.json().job_status.id);
    const results = job.results as Array<Record<string, unknown>>;
    expect(results[0]).toMatchObject({ success: true });
    expect(results[1]).toMatchObject({ success: false, error: 'RecordInvalid' });
    expect(String(results[1]?.details)).toContain('user_fields.seats');
  });
});

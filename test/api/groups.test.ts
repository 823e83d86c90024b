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

async function group(name: string, extra: Record<string, unknown> = {}, as: Caller = t.owner): Promise<number> {
  const response = await t.request('POST', '/api/v2/groups', { as, body: { group: { name, ...extra } } });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().group.id as number;
}

async function member(userId: number, groupId: number, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const response = await t.request('POST', '/api/v2/group_memberships', { body: { group_membership: { user_id: userId, group_id: groupId, ...extra } } });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().group_membership;
}

async function agentWithRole(configuration: Record<string, unknown>): Promise<Caller> {
  const role = await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: { name: `R${Math.random()}`, configuration } } });
  return t.user({ role: 'agent', custom_role_id: role.json().custom_role.id });
}

async function defaultGroupOf(userId: number): Promise<number | null> {
  return (await t.request('GET', `/api/v2/users/${userId}`)).json().user.default_group_id;
}

describe('POST /api/v2/groups', () => {
  it('creates a group (201, Location); the first one is the account default', async () => {
    const response = await t.request('POST', '/api/v2/groups', { body: { group: { name: 'Support', description: 'Front line', is_public: false } } });
    expect(response.statusCode).toBe(201);
    const created = response.json().group;
    expect(created).toMatchObject({ name: 'Support', description: 'Front line', is_public: false, deleted: false, default: true });
    expect(response.headers.location).toBe(`http://localhost:80/api/v2/groups/${created.id}.json`);
    const second = (await t.request('POST', '/api/v2/groups', { body: { group: { name: 'Billing' } } })).json().group;
    expect(second).toMatchObject({ default: false, is_public: true, description: '' });
  });

  it('refuses a blank, missing, malformed or duplicate name (422), a missing wrapper (400)', async () => {
    expect((await t.request('POST', '/api/v2/groups', { body: { group: { name: ' ' } } })).json().details.name[0].error).toBe('BlankValue');
    expect((await t.request('POST', '/api/v2/groups', { body: { group: {} } })).statusCode).toBe(422);
    expect((await t.request('POST', '/api/v2/groups', { body: { group: { name: ['x'] } } })).statusCode).toBe(422);
    expect((await t.request('POST', '/api/v2/groups', { body: { group: { name: 'x', is_public: 'no' } } })).json().details.is_public).toBeDefined();
    await group('Support');
    expect((await t.request('POST', '/api/v2/groups', { body: { group: { name: 'SUPPORT' } } })).json().details.name[0].error).toBe('DuplicateValue');
    expect((await t.request('POST', '/api/v2/groups', { body: { name: 'x' } })).statusCode).toBe(400);
  });

  it('is for admins and agents with group_access; others get 403 naming group_access', async () => {
    const agent = await t.user({ role: 'agent' });
    const denied = await t.request('POST', '/api/v2/groups', { as: agent, body: { group: { name: 'Mine' } } });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().description).toContain('group_access');
    const manager = await agentWithRole({ group_access: true });
    expect((await t.request('POST', '/api/v2/groups', { as: manager, body: { group: { name: 'Mine' } } })).statusCode).toBe(201);
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('POST', '/api/v2/groups', { as: endUser, body: { group: { name: 'Theirs' } } })).statusCode).toBe(403);
  });
});

describe('GET /api/v2/groups', () => {
  it('lists live groups with offset and cursor pagination, counts them, shows one', async () => {
    const ids = [await group('A'), await group('B'), await group('C')];
    const agent = await t.user({ role: 'agent' });
    const list = await t.request('GET', '/api/v2/groups?per_page=2', { as: agent });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({ count: 3, previous_page: null });
    expect(list.json().groups.map((g: { id: number }) => g.id)).toEqual(ids.slice(0, 2));
    expect(list.json().next_page).toContain('page=2');
    const cursor = await t.request('GET', '/api/v2/groups?page[size]=2', { as: agent });
    expect(cursor.json().meta.has_more).toBe(true);
    const next = await t.request('GET', `/api/v2/groups?page[size]=2&page[after]=${cursor.json().meta.after_cursor}`, { as: agent });
    expect(next.json().groups.map((g: { id: number }) => g.id)).toEqual([ids[2]]);
    expect((await t.request('GET', '/api/v2/groups/count', { as: agent })).json().count.value).toBe(3);
    expect((await t.request('GET', `/api/v2/groups/${ids[1]}`, { as: agent })).json().group.name).toBe('B');
    expect((await t.request('GET', '/api/v2/groups/999999', { as: agent })).statusCode).toBe(404);
  });

  it('is refused to end users (403)', async () => {
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('GET', '/api/v2/groups', { as: endUser })).statusCode).toBe(403);
    expect((await t.request('GET', '/api/v2/groups/count', { as: endUser })).statusCode).toBe(403);
  });

  it('lists a user\'s groups, and only their own groups as assignable to a restricted agent', async () => {
    const a = await group('A');
    const b = await group('B');
    const restricted = await agentWithRole({ ticket_access: 'within-groups' });
    await member(restricted.id, a);
    expect((await t.request('GET', `/api/v2/users/${restricted.id}/groups`)).json().groups.map((g: { id: number }) => g.id)).toEqual([a]);
    expect((await t.request('GET', '/api/v2/groups/assignable', { as: restricted })).json().groups.map((g: { id: number }) => g.id)).toEqual([a]);
    const plain = await t.user({ role: 'agent' });
    expect((await t.request('GET', '/api/v2/groups/assignable', { as: plain })).json().groups.map((g: { id: number }) => g.id)).toEqual([a, b]);
    expect((await t.request('GET', '/api/v2/users/999999/groups')).statusCode).toBe(404);
    const users = await t.request('GET', `/api/v2/groups/${a}/users`);
    expect(users.json()).toMatchObject({ count: 1 });
    expect(users.json().users.map((u: { id: number }) => u.id)).toEqual([restricted.id]);
    expect((await t.request('GET', `/api/v2/groups/${a}/users?page[size]=1`)).json().users).toHaveLength(1);
    expect((await t.request('GET', '/api/v2/groups/999999/users')).statusCode).toBe(404);
    const noList = await agentWithRole({ end_user_list_access: 'none' });
    expect((await t.request('GET', `/api/v2/groups/${a}/users`, { as: noList })).json().description).toContain('end_user_list_access');
    expect((await t.request('GET', `/api/v2/users/${restricted.id}/groups/count`)).json().count.value).toBe(1);
    expect((await t.request('GET', '/api/v2/users/999999/groups/count')).statusCode).toBe(404);
    // A group's assignable memberships: none for an agent outside it whose access is limited to their groups.
    const outsider = await agentWithRole({ ticket_access: 'within-groups' });
    expect((await t.request('GET', `/api/v2/groups/${a}/memberships/assignable`, { as: restricted })).json().group_memberships).toHaveLength(1);
    expect((await t.request('GET', `/api/v2/groups/${a}/memberships/assignable`, { as: outsider })).json().group_memberships).toEqual([]);
    expect((await t.request('GET', '/api/v2/groups/999999/memberships/assignable')).statusCode).toBe(404);
  });
});

describe('PUT /api/v2/groups/:id', () => {
  it('renames and describes a group, and makes a public group private but not back', async () => {
    const id = await group('Old');
    const response = await t.request('PUT', `/api/v2/groups/${id}`, { body: { group: { name: 'New', description: 'd', is_public: false } } });
    expect(response.statusCode).toBe(200);
    expect(response.json().group).toMatchObject({ name: 'New', description: 'd', is_public: false });
    const back = await t.request('PUT', `/api/v2/groups/${id}`, { body: { group: { is_public: true } } });
    expect(back.statusCode).toBe(422);
    expect(back.json().details.is_public).toBeDefined();
  });

  it('refuses a taken name (422), unknown or deleted groups (404), agents without group_access (403)', async () => {
    const id = await group('One');
    await group('Two');
    expect((await t.request('PUT', `/api/v2/groups/${id}`, { body: { group: { name: 'two' } } })).statusCode).toBe(422);
    expect((await t.request('PUT', '/api/v2/groups/999999', { body: { group: { name: 'x' } } })).statusCode).toBe(404);
    const agent = await t.user({ role: 'agent' });
    expect((await t.request('PUT', `/api/v2/groups/${id}`, { as: agent, body: { group: { name: 'x' } } })).statusCode).toBe(403);
    await t.request('DELETE', `/api/v2/groups/${id}`);
    expect((await t.request('PUT', `/api/v2/groups/${id}`, { body: { group: { name: 'x' } } })).statusCode).toBe(404);
  });
});

describe('DELETE /api/v2/groups/:id', () => {
  it('soft-deletes: shown with deleted: true, gone from the list, memberships removed, defaults moved', async () => {
    const a = await group('A');
    const b = await group('B');
    const agent = await t.user({ role: 'agent' });
    await member(agent.id, a);
    await member(agent.id, b);
    expect(await defaultGroupOf(agent.id)).toBe(a);
    expect((await t.request('DELETE', `/api/v2/groups/${a}`)).statusCode).toBe(204);
    const shown = (await t.request('GET', `/api/v2/groups/${a}`)).json().group;
    expect(shown).toMatchObject({ deleted: true, default: false });
    expect((await t.request('GET', '/api/v2/groups')).json().groups.map((g: { id: number }) => g.id)).toEqual([b]);
    expect((await t.request('GET', '/api/v2/groups?exclude_deleted=false')).json().groups.map((g: { id: number }) => g.id)).toEqual([a, b]);
    expect((await t.request('GET', `/api/v2/groups/${b}`)).json().group.default).toBe(true);
    expect(await defaultGroupOf(agent.id)).toBe(b);
    const memberships = (await t.request('GET', `/api/v2/users/${agent.id}/group_memberships`)).json().group_memberships;
    expect(memberships).toEqual([expect.objectContaining({ group_id: b, default: true })]);
    expect((await t.request('DELETE', `/api/v2/groups/${a}`)).statusCode).toBe(404);
  });

  it('is refused to agents without group_access', async () => {
    const id = await group('A');
    const agent = await t.user({ role: 'agent' });
    expect((await t.request('DELETE', `/api/v2/groups/${id}`, { as: agent })).statusCode).toBe(403);
  });
});

describe('Group memberships', () => {
  it('creates memberships (201); the first is the default and sets default_group_id', async () => {
    const a = await group('A');
    const b = await group('B');
    const agent = await t.user({ role: 'agent' });
    const first = await member(agent.id, a);
    expect(first).toMatchObject({ user_id: agent.id, group_id: a, default: true });
    const second = await member(agent.id, b);
    expect(second.default).toBe(false);
    expect(await defaultGroupOf(agent.id)).toBe(a);
    const viaUser = await t.request('POST', `/api/v2/users/${t.owner.id}/group_memberships`, { body: { group_membership: { group_id: b } } });
    expect(viaUser.statusCode).toBe(201);
    expect(viaUser.json().group_membership.user_id).toBe(t.owner.id);
  });

  it('refuses end users, unknown users and groups, deleted groups and duplicates (422)', async () => {
    const a = await group('A');
    const endUser = await t.user({ role: 'end-user' });
    const agent = await t.user({ role: 'agent' });
    const post = (body: Record<string, unknown>) => t.request('POST', '/api/v2/group_memberships', { body: { group_membership: body } });
    expect((await post({ user_id: endUser.id, group_id: a })).json().details.user_id[0].error).toBe('InvalidValue');
    expect((await post({ user_id: 999999, group_id: a })).statusCode).toBe(422);
    expect((await post({ user_id: agent.id, group_id: 999999 })).json().details.group_id).toBeDefined();
    expect((await post({ user_id: 'x', group_id: null })).statusCode).toBe(422);
    await member(agent.id, a);
    expect((await post({ user_id: agent.id, group_id: a })).json().details.user_id[0].error).toBe('DuplicateValue');
    const b = await group('B');
    await t.request('DELETE', `/api/v2/groups/${b}`);
    expect((await post({ user_id: agent.id, group_id: b })).statusCode).toBe(422);
    expect((await t.request('POST', '/api/v2/group_memberships', { body: {} })).statusCode).toBe(400);
    expect((await t.request('POST', '/api/v2/users/999999/group_memberships', { body: { group_membership: { group_id: a } } })).statusCode).toBe(404);
  });

  it('lists all, per user, per group and assignable; shows one (also under its user)', async () => {
    const a = await group('A');
    const b = await group('B');
    const agent = await t.user({ role: 'agent' });
    const m1 = await member(agent.id, a);
    await member(t.owner.id, b);
    const viewer = await t.user({ role: 'agent' });
    expect((await t.request('GET', '/api/v2/group_memberships', { as: viewer })).json().count).toBe(2);
    expect((await t.request('GET', `/api/v2/users/${agent.id}/group_memberships`, { as: viewer })).json().group_memberships).toHaveLength(1);
    expect((await t.request('GET', `/api/v2/groups/${b}/memberships`, { as: viewer })).json().group_memberships[0].user_id).toBe(t.owner.id);
    expect((await t.request('GET', '/api/v2/group_memberships/assignable', { as: viewer })).json().group_memberships).toHaveLength(2);
    expect((await t.request('GET', `/api/v2/group_memberships/${m1.id}`, { as: viewer })).json().group_membership.group_id).toBe(a);
    expect((await t.request('GET', `/api/v2/users/${agent.id}/group_memberships/${m1.id}`, { as: viewer })).statusCode).toBe(200);
    expect((await t.request('GET', `/api/v2/users/${t.owner.id}/group_memberships/${m1.id}`, { as: viewer })).statusCode).toBe(404);
    expect((await t.request('GET', '/api/v2/group_memberships/999999', { as: viewer })).statusCode).toBe(404);
    expect((await t.request('GET', '/api/v2/groups/999999/memberships', { as: viewer })).statusCode).toBe(404);
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('GET', '/api/v2/group_memberships', { as: endUser })).statusCode).toBe(403);
  });

  it('deletes a membership (204); the default passes to the oldest remaining one', async () => {
    const a = await group('A');
    const b = await group('B');
    const agent = await t.user({ role: 'agent' });
    const m1 = await member(agent.id, a);
    await member(agent.id, b);
    expect((await t.request('DELETE', `/api/v2/group_memberships/${m1.id}`)).statusCode).toBe(204);
    expect(await defaultGroupOf(agent.id)).toBe(b);
    const m2 = (await t.request('GET', `/api/v2/users/${agent.id}/group_memberships`)).json().group_memberships[0];
    expect((await t.request('DELETE', `/api/v2/users/${t.owner.id}/group_memberships/${m2.id}`)).statusCode).toBe(404);
    expect((await t.request('DELETE', `/api/v2/users/${agent.id}/group_memberships/${m2.id}`)).statusCode).toBe(204);
    expect(await defaultGroupOf(agent.id)).toBeNull();
    expect((await t.request('DELETE', `/api/v2/group_memberships/${m1.id}`)).statusCode).toBe(404);
    const plain = await t.user({ role: 'agent' });
    const m3 = await member(agent.id, a);
    expect((await t.request('DELETE', `/api/v2/group_memberships/${m3.id}`, { as: plain })).statusCode).toBe(403);
  });

  it('make_default moves default_group_id; an agent may choose their own default, not someone else\'s', async () => {
    const a = await group('A');
    const b = await group('B');
    const agent = await t.user({ role: 'agent' });
    await member(agent.id, a);
    const m2 = await member(agent.id, b);
    const response = await t.request('PUT', `/api/v2/users/${agent.id}/group_memberships/${m2.id}/make_default`, { as: agent });
    expect(response.statusCode).toBe(200);
    expect(response.json().group_memberships.map((m: { group_id: number; default: boolean }) => [m.group_id, m.default])).toEqual([[a, false], [b, true]]);
    expect(await defaultGroupOf(agent.id)).toBe(b);
    const other = await t.user({ role: 'agent' });
    expect((await t.request('PUT', `/api/v2/users/${agent.id}/group_memberships/${m2.id}/make_default`, { as: other })).statusCode).toBe(403);
    expect((await t.request('PUT', `/api/v2/users/${agent.id}/group_memberships/999999/make_default`)).statusCode).toBe(404);
  });

  it('default_group_id on a user moves the default, joining the group when needed (group managers only)', async () => {
    const a = await group('A');
    const b = await group('B');
    const agent = await t.user({ role: 'agent' });
    await member(agent.id, a);
    const moved = await t.request('PUT', `/api/v2/users/${agent.id}`, { as: agent, body: { user: { default_group_id: a } } });
    expect(moved.statusCode).toBe(200);
    // Joining a group is a group manager's call, not the agent's own.
    const joinDenied = await t.request('PUT', `/api/v2/users/${agent.id}`, { as: agent, body: { user: { default_group_id: b } } });
    expect(joinDenied.statusCode).toBe(403);
    expect(joinDenied.json().description).toContain('group_access');
    const joined = await t.request('PUT', `/api/v2/users/${agent.id}`, { body: { user: { default_group_id: b } } });
    expect(joined.json().user.default_group_id).toBe(b);
    expect((await t.request('GET', `/api/v2/users/${agent.id}/group_memberships`)).json().group_memberships.map((m: { group_id: number; default: boolean }) => [m.group_id, m.default])).toEqual([[a, false], [b, true]]);
    expect((await t.request('PUT', `/api/v2/users/${agent.id}`, { as: agent, body: { user: { default_group_id: a } } })).json().user.default_group_id).toBe(a);
    // Created with a default group: a member of it from the start.
    const created = await t.request('POST', '/api/v2/users', { body: { user: { name: 'New Agent', role: 'agent', default_group_id: b } } });
    expect(created.statusCode).toBe(201);
    expect(created.json().user.default_group_id).toBe(b);
  });

  it('refuses a default group that is unknown, deleted, on an end user, or null while in groups (422)', async () => {
    const a = await group('A');
    const agent = await t.user({ role: 'agent' });
    const endUser = await t.user({ role: 'end-user' });
    const put = (id: number, value: unknown) => t.request('PUT', `/api/v2/users/${id}`, { body: { user: { default_group_id: value } } });
    expect((await put(agent.id, 999999)).json().details.default_group_id).toBeDefined();
    expect((await put(agent.id, 'x')).statusCode).toBe(422);
    expect((await put(endUser.id, a)).statusCode).toBe(422);
    expect((await put(agent.id, null)).statusCode).toBe(200);
    await member(agent.id, a);
    expect((await put(agent.id, null)).statusCode).toBe(422);
    const b = await group('B');
    await t.request('DELETE', `/api/v2/groups/${b}`);
    expect((await put(agent.id, b)).statusCode).toBe(422);
  });

  it('removes an agent who becomes an end user from every group', async () => {
    const a = await group('A');
    const agent = await t.user({ role: 'agent' });
    await member(agent.id, a);
    await t.request('PUT', `/api/v2/users/${agent.id}`, { body: { user: { role: 'end-user' } } });
    expect((await t.request('GET', `/api/v2/users/${agent.id}/group_memberships`)).json().group_memberships).toEqual([]);
    expect(await defaultGroupOf(agent.id)).toBeNull();
  });

  it('create_many and destroy_many run as jobs with per-item results', async () => {
    const a = await group('A');
    const agent = await t.user({ role: 'agent' });
    const endUser = await t.user({ role: 'end-user' });
    const created = await t.request('POST', '/api/v2/group_memberships/create_many', {
      body: { group_memberships: [{ user_id: agent.id, group_id: a }, { user_id: endUser.id, group_id: a }] },
    });
    expect(created.statusCode).toBe(200);
    const job = await t.waitForJob(created.json().job_status.id);
    const results = job.results as Array<Record<string, unknown>>;
    expect(results[0]).toMatchObject({ index: 0, success: true, status: 'Created' });
    expect(results[1]).toMatchObject({ index: 1, success: false, error: 'RecordInvalid' });
    const id = results[0]?.id as number;
    const destroyed = await t.request('DELETE', `/api/v2/group_memberships/destroy_many?ids=${id},999999`);
    expect(destroyed.statusCode).toBe(200);
    const destroyJob = await t.waitForJob(destroyed.json().job_status.id);
    expect((destroyJob.results as Array<Record<string, unknown>>).map((r) => r.success)).toEqual([true, false]);
    expect((await t.request('GET', `/api/v2/group_memberships/${id}`)).statusCode).toBe(404);
  });

  it('refuses bulk requests without group_access (403) or ids (400)', async () => {
    const agent = await t.user({ role: 'agent' });
    expect((await t.request('POST', '/api/v2/group_memberships/create_many', { as: agent, body: { group_memberships: [] } })).statusCode).toBe(403);
    expect((await t.request('DELETE', '/api/v2/group_memberships/destroy_many?ids=1', { as: agent })).statusCode).toBe(403);
    expect((await t.request('DELETE', '/api/v2/group_memberships/destroy_many')).statusCode).toBe(400);
    expect((await t.request('POST', '/api/v2/group_memberships/create_many', { body: { group_memberships: 'x' } })).statusCode).toBe(400);
  });
});

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

async function role(configuration: Record<string, unknown>, name = `Role ${Math.random().toString(36).slice(2, 8)}`): Promise<number> {
  const response = await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: { name, configuration } } });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().custom_role.id as number;
}

async function agentWith(configuration: Record<string, unknown>): Promise<Caller> {
  return t.user({ role: 'agent', custom_role_id: await role(configuration) });
}

function expectForbidden(response: { statusCode: number; json(): Record<string, unknown> }, naming: string): void {
  expect(response.statusCode).toBe(403);
  expect(response.json().error).toBe('Forbidden');
  expect(String(response.json().description)).toContain(naming);
}

describe('POST /api/v2/custom_roles', () => {
  it('creates a role with a complete configuration (defaults filled in), role_type 0 and no members', async () => {
    const response = await t.request('POST', '/api/v2/custom_roles', {
      body: { custom_role: { name: 'Tier 1', description: 'Front line', configuration: { end_user_profile_access: 'edit', ticket_access: 'within-groups', chat_access: true } } },
    });
    expect(response.statusCode).toBe(200);
    const created = response.json().custom_role;
    expect(created).toMatchObject({ name: 'Tier 1', description: 'Front line', role_type: 0, team_member_count: 0 });
    expect(created.configuration).toMatchObject({
      end_user_profile_access: 'edit',
      ticket_access: 'within-groups',
      end_user_deletion: false,
      end_user_list_access: 'full',
      manage_user_fields: false,
      group_access: false,
      create_end_users_when_restricted: false,
      chat_access: true,
    });
    expect(response.headers.location).toBe(`http://localhost:80/api/v2/custom_roles/${created.id}.json`);
  });

  it('defaults end_user_deletion to true with full profile access, and lets a role keep full access without deletion', async () => {
    const full = (await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: { name: 'Full', configuration: { end_user_profile_access: 'full' } } } })).json().custom_role;
    expect(full.configuration.end_user_deletion).toBe(true);
    const noDelete = (await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: { name: 'No delete', configuration: { end_user_profile_access: 'full', end_user_deletion: false } } } })).json().custom_role;
    expect(noDelete.configuration).toMatchObject({ end_user_profile_access: 'full', end_user_deletion: false });
  });

  it('refuses an unknown configuration key or value with a 422 naming the key', async () => {
    const unknownKey = await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: { name: 'X', configuration: { fly: true } } } });
    expect(unknownKey.statusCode).toBe(422);
    expect(unknownKey.json().details['configuration.fly'][0].error).toBe('InvalidValue');
    const badValue = await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: { name: 'X', configuration: { ticket_access: 'some', bulk_actions: 'yes' } } } });
    expect(badValue.statusCode).toBe(422);
    expect(Object.keys(badValue.json().details).sort()).toEqual(['configuration.bulk_actions', 'configuration.ticket_access']);
    const notObject = await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: { name: 'X', configuration: [1] } } });
    expect(notObject.statusCode).toBe(422);
    expect(notObject.json().details.configuration).toBeDefined();
  });

  it('refuses a blank, missing or duplicate name (case-insensitively)', async () => {
    expect((await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: { name: '  ' } } })).json().details.name[0].error).toBe('BlankValue');
    expect((await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: {} } })).statusCode).toBe(422);
    await role({}, 'Advisor');
    const duplicate = await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: { name: 'ADVISOR' } } });
    expect(duplicate.statusCode).toBe(422);
    expect(duplicate.json().details.name[0].error).toBe('DuplicateValue');
  });

  it('answers 400 without the custom_role wrapper, and 403 to agents and end users', async () => {
    expect((await t.request('POST', '/api/v2/custom_roles', { body: { role: {} } })).statusCode).toBe(400);
    const agent = await t.user({ role: 'agent' });
    expectForbidden(await t.request('POST', '/api/v2/custom_roles', { as: agent, body: { custom_role: { name: 'Mine' } } }), 'admins');
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('POST', '/api/v2/custom_roles', { as: endUser, body: { custom_role: { name: 'Mine' } } })).statusCode).toBe(403);
  });
});

describe('GET /api/v2/custom_roles', () => {
  it('lists and shows roles to agents, with their member count; not to end users', async () => {
    const id = await role({ ticket_access: 'assigned-only' }, 'Light');
    await t.user({ role: 'agent', custom_role_id: id });
    await t.user({ role: 'agent', custom_role_id: id });
    const agent = await t.user({ role: 'agent' });
    const list = await t.request('GET', '/api/v2/custom_roles', { as: agent });
    expect(list.statusCode).toBe(200);
    expect(list.json().custom_roles).toEqual([expect.objectContaining({ id, name: 'Light', team_member_count: 2 })]);
    const show = await t.request('GET', `/api/v2/custom_roles/${id}`, { as: agent });
    expect(show.json().custom_role.configuration.ticket_access).toBe('assigned-only');
    expect((await t.request('GET', '/api/v2/custom_roles/999999')).statusCode).toBe(404);
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('GET', '/api/v2/custom_roles', { as: endUser })).statusCode).toBe(403);
  });
});

describe('PUT /api/v2/custom_roles/:id', () => {
  it('changes name, description and configuration, keeping the keys not sent', async () => {
    const id = await role({ manage_user_fields: true, chat_access: true }, 'Ops');
    const response = await t.request('PUT', `/api/v2/custom_roles/${id}`, { body: { custom_role: { name: 'Operations', description: 'd', configuration: { group_access: true } } } });
    expect(response.statusCode).toBe(200);
    expect(response.json().custom_role).toMatchObject({ name: 'Operations', description: 'd' });
    expect(response.json().custom_role.configuration).toMatchObject({ manage_user_fields: true, group_access: true, chat_access: true });
  });

  it('takes effect on the role\'s agents at their next request', async () => {
    const id = await role({ end_user_list_access: 'full' });
    const agent = await t.user({ role: 'agent', custom_role_id: id });
    expect((await t.request('GET', '/api/v2/users', { as: agent })).statusCode).toBe(200);
    await t.request('PUT', `/api/v2/custom_roles/${id}`, { body: { custom_role: { configuration: { end_user_list_access: 'none' } } } });
    expectForbidden(await t.request('GET', '/api/v2/users', { as: agent }), 'end_user_list_access');
  });

  it('refuses bad values (422), unknown roles (404), a taken name (422) and non-admins (403)', async () => {
    const id = await role({}, 'One');
    await role({}, 'Two');
    expect((await t.request('PUT', `/api/v2/custom_roles/${id}`, { body: { custom_role: { configuration: { end_user_profile_access: 'everything' } } } })).json().details['configuration.end_user_profile_access']).toBeDefined();
    expect((await t.request('PUT', `/api/v2/custom_roles/${id}`, { body: { custom_role: { name: 'two' } } })).statusCode).toBe(422);
    expect((await t.request('PUT', '/api/v2/custom_roles/424242', { body: { custom_role: { name: 'x' } } })).statusCode).toBe(404);
    const agent = await t.user({ role: 'agent' });
    expect((await t.request('PUT', `/api/v2/custom_roles/${id}`, { as: agent, body: { custom_role: { name: 'x' } } })).statusCode).toBe(403);
  });
});

describe('DELETE /api/v2/custom_roles/:id', () => {
  it('deletes a role nobody holds, and refuses one with members (422)', async () => {
    const used = await role({}, 'Used');
    const member = await t.user({ role: 'agent', custom_role_id: used });
    const refused = await t.request('DELETE', `/api/v2/custom_roles/${used}`);
    expect(refused.statusCode).toBe(422);
    expect(refused.json().details.base[0].error).toBe('InvalidValue');
    await t.request('PUT', `/api/v2/users/${member.id}`, { body: { user: { custom_role_id: null } } });
    expect((await t.request('DELETE', `/api/v2/custom_roles/${used}`)).statusCode).toBe(204);
    expect((await t.request('GET', `/api/v2/custom_roles/${used}`)).statusCode).toBe(404);
    expect((await t.request('DELETE', `/api/v2/custom_roles/${used}`)).statusCode).toBe(404);
  });

  it('is for admins only', async () => {
    const id = await role({});
    const agent = await t.user({ role: 'agent' });
    expect((await t.request('DELETE', `/api/v2/custom_roles/${id}`, { as: agent })).statusCode).toBe(403);
  });
});

describe('Role-derived user fields', () => {
  it('derives role_type, custom_role_id, restricted_agent, ticket_restriction and only_private_comments from the role', async () => {
    const restricted = await role({ ticket_access: 'within-groups', ticket_comment_access: 'none' });
    const created = await t.request('POST', '/api/v2/users', { body: { user: { name: 'Res', email: 'res@roster.test', role: 'agent', custom_role_id: restricted } } });
    expect(created.statusCode).toBe(201);
    expect(created.json().user).toMatchObject({ role: 'agent', role_type: 0, custom_role_id: restricted, restricted_agent: true, ticket_restriction: 'groups', only_private_comments: true });

    const plain = (await t.request('POST', '/api/v2/users', { body: { user: { name: 'Plain', role: 'agent' } } })).json().user;
    expect(plain).toMatchObject({ role_type: null, custom_role_id: null, restricted_agent: false, ticket_restriction: null, only_private_comments: false });
    const admin = (await t.request('POST', '/api/v2/users', { body: { user: { name: 'Adm', role: 'admin' } } })).json().user;
    expect(admin).toMatchObject({ role_type: 4, custom_role_id: null, restricted_agent: false, ticket_restriction: null });
    const endUser = (await t.request('POST', '/api/v2/users', { body: { user: { name: 'End', ticket_restriction: 'organization' } } })).json().user;
    expect(endUser).toMatchObject({ role_type: null, restricted_agent: false, ticket_restriction: 'organization' });
    const defaultEndUser = (await t.request('POST', '/api/v2/users', { body: { user: { name: 'End2' } } })).json().user;
    expect(defaultEndUser.ticket_restriction).toBe('requested');
  });

  it('follows a change of the role\'s configuration', async () => {
    const id = await role({ ticket_access: 'all' });
    const agent = await t.user({ role: 'agent', custom_role_id: id });
    expect((await t.request('GET', `/api/v2/users/${agent.id}`)).json().user.restricted_agent).toBe(false);
    await t.request('PUT', `/api/v2/custom_roles/${id}`, { body: { custom_role: { configuration: { ticket_access: 'assigned-only' } } } });
    expect((await t.request('GET', `/api/v2/users/${agent.id}`)).json().user).toMatchObject({ restricted_agent: true, ticket_restriction: 'assigned' });
  });

  it('refuses a custom role that does not exist, or on a non-agent (422), and from a non-admin (403)', async () => {
    const id = await role({});
    expect((await t.request('POST', '/api/v2/users', { body: { user: { name: 'A', role: 'agent', custom_role_id: 987654 } } })).json().details.custom_role_id[0].error).toBe('InvalidValue');
    expect((await t.request('POST', '/api/v2/users', { body: { user: { name: 'E', custom_role_id: id } } })).statusCode).toBe(422);
    expect((await t.request('POST', '/api/v2/users', { body: { user: { name: 'Ad', role: 'admin', custom_role_id: id } } })).statusCode).toBe(422);
    expect((await t.request('POST', '/api/v2/users', { body: { user: { name: 'E', role: 'agent', custom_role_id: 'x' } } })).statusCode).toBe(422);
    const agent = await t.user({ role: 'agent' });
    const target = await t.user({ role: 'agent' });
    expectForbidden(await t.request('PUT', `/api/v2/users/${target.id}`, { as: agent, body: { user: { custom_role_id: id } } }), 'admins');
  });

  it('refuses a ticket_restriction on an agent: their ticket access comes from the role', async () => {
    const response = await t.request('POST', '/api/v2/users', { body: { user: { name: 'A', role: 'agent', ticket_restriction: 'groups' } } });
    expect(response.statusCode).toBe(422);
    expect(response.json().details.ticket_restriction).toBeDefined();
  });

  it('drops the custom role when an agent becomes an end user or an admin', async () => {
    const id = await role({});
    const agent = await t.user({ role: 'agent', custom_role_id: id });
    const updated = await t.request('PUT', `/api/v2/users/${agent.id}`, { body: { user: { role: 'end-user' } } });
    expect(updated.json().user).toMatchObject({ role: 'end-user', custom_role_id: null });
    const row = await t.runtime.database.db.selectFrom('users').select('custom_role_id').where('id', '=', agent.id).executeTakeFirstOrThrow();
    expect(row.custom_role_id).toBeNull();
  });

  it('lets a client write a user back as it read it: an unchanged role or custom role needs no right to change it', async () => {
    const agent = await t.user({ role: 'agent' });
    const endUser = await t.user({ role: 'end-user' });
    const read = (await t.request('GET', `/api/v2/users/${endUser.id}`, { as: agent })).json().user;
    const written = await t.request('PUT', `/api/v2/users/${endUser.id}`, { as: agent, body: { user: { ...read, notes: 'round trip' } } });
    expect(written.statusCode, written.body).toBe(200);
    expect((await t.request('PUT', `/api/v2/users/${agent.id}`, { as: agent, body: { user: { role: 'agent', custom_role_id: null, alias: 'me' } } })).statusCode).toBe(200);
    expect((await t.request('PUT', `/api/v2/users/${endUser.id}`, { as: endUser, body: { user: { role: 'end-user', name: 'Me' } } })).statusCode).toBe(200);
  });

  it('lets nobody change their own role or custom role', async () => {
    const admin = await t.user({ role: 'admin' });
    expectForbidden(await t.request('PUT', `/api/v2/users/${admin.id}`, { as: admin, body: { user: { role: 'agent' } } }), 'own role');
    const id = await role({});
    expect((await t.request('PUT', `/api/v2/users/${admin.id}`, { as: admin, body: { user: { custom_role_id: id } } })).statusCode).toBe(403);
  });
});

describe('Permissions of agents', () => {
  it('plain agents create, edit and list end users but not agents or admins', async () => {
    const agent = await t.user({ role: 'agent' });
    const created = await t.request('POST', '/api/v2/users', { as: agent, body: { user: { name: 'Cust', email: 'cust@roster.test' } } });
    expect(created.statusCode).toBe(201);
    expect((await t.request('PUT', `/api/v2/users/${created.json().user.id}`, { as: agent, body: { user: { notes: 'n' } } })).statusCode).toBe(200);
    expect((await t.request('GET', '/api/v2/users', { as: agent })).statusCode).toBe(200);
    expectForbidden(await t.request('POST', '/api/v2/users', { as: agent, body: { user: { name: 'Ag', role: 'agent' } } }), 'admins');
    const other = await t.user({ role: 'agent' });
    expectForbidden(await t.request('PUT', `/api/v2/users/${other.id}`, { as: agent, body: { user: { notes: 'n' } } }), 'end users only');
  });

  it('end_user_profile_access edit: edits end users but cannot create them', async () => {
    const agent = await agentWith({ end_user_profile_access: 'edit' });
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('PUT', `/api/v2/users/${endUser.id}`, { as: agent, body: { user: { notes: 'ok' } } })).statusCode).toBe(200);
    expectForbidden(await t.request('POST', '/api/v2/users', { as: agent, body: { user: { name: 'New' } } }), 'end_user_profile_access');
    expectForbidden(await t.request('POST', '/api/v2/users/create_or_update', { as: agent, body: { user: { name: 'New', email: 'brand-new@roster.test' } } }), 'end_user_profile_access');
  });

  it('end_user_profile_access readonly: cannot edit end users or their identities', async () => {
    const agent = await agentWith({ end_user_profile_access: 'readonly' });
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('GET', `/api/v2/users/${endUser.id}`, { as: agent })).statusCode).toBe(200);
    expectForbidden(await t.request('PUT', `/api/v2/users/${endUser.id}`, { as: agent, body: { user: { notes: 'no' } } }), 'end_user_profile_access');
    expectForbidden(await t.request('POST', `/api/v2/users/${endUser.id}/identities`, { as: agent, body: { identity: { type: 'email', value: 'x2@roster.test' } } }), 'end_user_profile_access');
    // Their own profile stays theirs to edit.
    expect((await t.request('PUT', `/api/v2/users/${agent.id}`, { as: agent, body: { user: { alias: 'me' } } })).statusCode).toBe(200);
  });

  it('end_user_profile_access edit-within-org: edits only end users sharing an organization', async () => {
    const agent = await agentWith({ end_user_profile_access: 'edit-within-org' });
    const inside = await t.user({ role: 'end-user' });
    const outside = await t.user({ role: 'end-user' });
    const db = t.runtime.database.db;
    const org = await db.insertInto('organizations').values({ account_id: t.account.id, name: 'Shared Org' }).returning('id').executeTakeFirstOrThrow();
    await db.insertInto('organization_memberships').values([
      { account_id: t.account.id, user_id: agent.id, organization_id: org.id },
      { account_id: t.account.id, user_id: inside.id, organization_id: org.id },
    ]).execute();
    expect((await t.request('PUT', `/api/v2/users/${inside.id}`, { as: agent, body: { user: { notes: 'ok' } } })).statusCode).toBe(200);
    expectForbidden(await t.request('PUT', `/api/v2/users/${outside.id}`, { as: agent, body: { user: { notes: 'no' } } }), 'end_user_profile_access');
  });

  it('end_user_list_access none: cannot list, count or show many users, but can show one', async () => {
    const agent = await agentWith({ end_user_list_access: 'none' });
    const endUser = await t.user({ role: 'end-user' });
    expectForbidden(await t.request('GET', '/api/v2/users', { as: agent }), 'end_user_list_access');
    expectForbidden(await t.request('GET', '/api/v2/users/count', { as: agent }), 'end_user_list_access');
    expectForbidden(await t.request('GET', `/api/v2/users/show_many?ids=${endUser.id}`, { as: agent }), 'end_user_list_access');
    expect((await t.request('GET', `/api/v2/users/${endUser.id}`, { as: agent })).statusCode).toBe(200);
  });

  it('restricted agents cannot create or edit end users (seed 001) unless granted create_end_users_when_restricted', async () => {
    const restricted = await agentWith({ ticket_access: 'within-groups' });
    const endUser = await t.user({ role: 'end-user' });
    expectForbidden(await t.request('POST', '/api/v2/users', { as: restricted, body: { user: { name: 'Caller' } } }), 'create_end_users_when_restricted');
    expectForbidden(await t.request('PUT', `/api/v2/users/${endUser.id}`, { as: restricted, body: { user: { notes: 'x' } } }), 'create_end_users_when_restricted');
    const granted = await agentWith({ ticket_access: 'within-groups', create_end_users_when_restricted: true });
    expect((await t.request('POST', '/api/v2/users', { as: granted, body: { user: { name: 'Caller' } } })).statusCode).toBe(201);
    expect((await t.request('PUT', `/api/v2/users/${endUser.id}`, { as: granted, body: { user: { notes: 'x' } } })).statusCode).toBe(200);
  });

  it('bulk_actions false: no create_many, create_or_update_many or update_many', async () => {
    const agent = await agentWith({ bulk_actions: false });
    expectForbidden(await t.request('POST', '/api/v2/users/create_many', { as: agent, body: { users: [{ name: 'A' }] } }), 'bulk_actions');
    expectForbidden(await t.request('POST', '/api/v2/users/create_or_update_many', { as: agent, body: { users: [{ name: 'A' }] } }), 'bulk_actions');
    expectForbidden(await t.request('PUT', '/api/v2/users/update_many?ids=1', { as: agent, body: { user: { notes: 'x' } } }), 'bulk_actions');
  });

  it('a job runs under its starter\'s permissions: items an edit-only agent may not create fail', async () => {
    const agent = await agentWith({ end_user_profile_access: 'edit' });
    const response = await t.request('POST', '/api/v2/users/create_many', { as: agent, body: { users: [{ name: 'A' }] } });
    expect(response.statusCode).toBe(200);
    const job = await t.waitForJob(response.json().job_status.id);
    expect(job.status).toBe('completed');
    expect((job.results as Array<Record<string, unknown>>)[0]).toMatchObject({ success: false, error: 'Forbidden' });
  });
});

describe('Admins and the owner', () => {
  it('only the owner changes an admin\'s email or password', async () => {
    const admin = await t.user({ role: 'admin' });
    const other = await t.user({ role: 'admin' });
    expectForbidden(await t.request('PUT', `/api/v2/users/${other.id}`, { as: admin, body: { user: { email: 'new-admin@roster.test' } } }), 'owner');
    expectForbidden(await t.request('POST', `/api/v2/users/${other.id}/password`, { as: admin, body: { password: 'a long password 1' } }), 'owner');
    expect((await t.request('PUT', `/api/v2/users/${other.id}`, { body: { user: { email: 'new-admin@roster.test' } } })).statusCode).toBe(200);
    expect((await t.request('POST', `/api/v2/users/${other.id}/password`, { body: { password: 'a long password 1' } })).statusCode).toBe(200);
    // Admins still manage agents.
    const agent = await t.user({ role: 'agent' });
    expect((await t.request('PUT', `/api/v2/users/${agent.id}`, { as: admin, body: { user: { email: 'agent-new@roster.test' } } })).statusCode).toBe(200);
  });

  it('end users see and change only themselves', async () => {
    const endUser = await t.user({ role: 'end-user' });
    const other = await t.user({ role: 'end-user' });
    expect((await t.request('GET', `/api/v2/users/${endUser.id}`, { as: endUser })).statusCode).toBe(200);
    expectForbidden(await t.request('GET', `/api/v2/users/${other.id}`, { as: endUser }), 'only their own');
    expectForbidden(await t.request('PUT', `/api/v2/users/${other.id}`, { as: endUser, body: { user: { name: 'x' } } }), 'only their own');
    expect((await t.request('PUT', `/api/v2/users/${endUser.id}`, { as: endUser, body: { user: { name: 'Me' } } })).statusCode).toBe(200);
    expect((await t.request('PUT', `/api/v2/users/${endUser.id}`, { as: endUser, body: { user: { notes: 'x' } } })).statusCode).toBe(403);
  });
});

describe('PUT /api/v2/account/owner', () => {
  it('transfers the ownership to an admin; the old owner becomes a plain admin', async () => {
    const admin = await t.user({ role: 'admin' });
    const response = await t.request('PUT', '/api/v2/account/owner', { body: { owner: { user_id: admin.id } } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ owner: { user_id: admin.id, previous_owner_id: t.owner.id } });
    const owners = await t.runtime.database.db.selectFrom('users').select('id').where('account_id', '=', t.account.id).where('is_owner', '=', true).execute();
    expect(owners).toEqual([{ id: admin.id }]);
    // The former owner can no longer transfer it, nor change an admin's password; the new one can.
    expectForbidden(await t.request('PUT', '/api/v2/account/owner', { body: { owner: { user_id: t.owner.id } } }), 'owner');
    expect((await t.request('POST', `/api/v2/users/${t.owner.id}/password`, { as: admin, body: { password: 'another password 2' } })).statusCode).toBe(200);
    expect((await t.request('PUT', '/api/v2/account/owner', { as: admin, body: { owner: { user_id: t.owner.id } } })).statusCode).toBe(200);
  });

  it('refuses non-owners (403), a non-admin or the owner themselves (422), unknown users (404) and a missing body (400)', async () => {
    const admin = await t.user({ role: 'admin' });
    const agent = await t.user({ role: 'agent' });
    expectForbidden(await t.request('PUT', '/api/v2/account/owner', { as: admin, body: { owner: { user_id: admin.id } } }), 'owner');
    expect((await t.request('PUT', '/api/v2/account/owner', { body: { owner: { user_id: agent.id } } })).statusCode).toBe(422);
    expect((await t.request('PUT', '/api/v2/account/owner', { body: { owner: { user_id: t.owner.id } } })).statusCode).toBe(422);
    expect((await t.request('PUT', '/api/v2/account/owner', { body: { owner: { user_id: 'abc' } } })).statusCode).toBe(422);
    expect((await t.request('PUT', '/api/v2/account/owner', { body: { owner: { user_id: 999999 } } })).statusCode).toBe(404);
    expect((await t.request('PUT', '/api/v2/account/owner', { body: {} })).statusCode).toBe(400);
  });

  it('cannot be taken by changing roles: the owner\'s role is fixed and admins cannot demote them', async () => {
    const admin = await t.user({ role: 'admin' });
    expect((await t.request('PUT', `/api/v2/users/${t.owner.id}`, { as: admin, body: { user: { role: 'agent' } } })).statusCode).toBe(403);
  });
});

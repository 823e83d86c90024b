import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkDeletable } from '../../src/lifecycle/soft-delete-user.ts';
import { ADMIN_PERMISSIONS } from '../../src/roles/permissions.ts';
import { findUser } from '../../src/users/users.repository.ts';
import { basic, createTestApp, OWNER_EMAIL, OWNER_PASSWORD, type TestApp } from '../helpers.ts';
import { customRole, DAY, detailsBase, ticketFor } from './lifecycle-helpers.ts';

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

describe('DELETE /api/v2/users/:id (soft delete)', () => {
  it('answers 200 with the user, active false; GET still returns it; it can no longer sign in', async () => {
    const user = await t.user({ name: 'Dora Deleted', email: 'dora@roster.test' });
    await ticketFor(t, user.id, 'closed');
    expect((await t.request('GET', '/api/v2/users/me', { as: user })).json().user.id).toBe(user.id);
    const response = await t.request('DELETE', `/api/v2/users/${user.id}`);
    expect(response.statusCode).toBe(200);
    expect(response.json().user).toMatchObject({ id: user.id, active: false, name: 'Dora Deleted' });
    const shown = await t.request('GET', `/api/v2/users/${user.id}`);
    expect(shown.statusCode).toBe(200);
    expect(shown.json().user.active).toBe(false);
    // Locked out at once (the credential cache is invalidated by the audited write).
    expect((await t.request('GET', '/api/v2/users/me', { as: user })).statusCode).toBe(401);
    expect((await t.request('GET', `/api/v2/users/${user.id}`, { as: user })).statusCode).toBe(401);
    const audit = await t.runtime.database.db.selectFrom('audit_events').selectAll().where('action', '=', 'user.delete').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]?.target_id).toBe(String(user.id));
  });

  it('leaves GET /api/v2/users and its count (deleted users are under /api/v2/deleted_users)', async () => {
    const user = await t.user({});
    const before = (await t.request('GET', '/api/v2/users/count')).json().count.value as number;
    await t.request('DELETE', `/api/v2/users/${user.id}`);
    expect((await t.request('GET', '/api/v2/users/count')).json().count.value).toBe(before - 1);
    const listed = (await t.request('GET', '/api/v2/users')).json();
    expect(listed.users.map((u: { id: number }) => u.id)).not.toContain(user.id);
    expect(listed.count).toBe(before - 1);
  });

  it('keeps its name on its closed tickets', async () => {
    const user = await t.user({ name: 'Named Requester' });
    const ticket = await ticketFor(t, user.id, 'closed');
    expect((await t.request('DELETE', `/api/v2/users/${user.id}`)).statusCode).toBe(200);
    const shown = await t.request('GET', `/api/v2/tickets/${ticket}`);
    expect(shown.json().ticket.requester_id).toBe(user.id);
    expect((await t.request('GET', `/api/v2/users/${user.id}`)).json().user.name).toBe('Named Requester');
  });

  it('a deleted user who writes in again gets a new profile (its address matches nobody)', async () => {
    const user = await t.user({ name: 'Returning', email: 'returning@roster.test', external_id: 'ret-1' });
    expect((await t.request('DELETE', `/api/v2/users/${user.id}`)).statusCode).toBe(200);
    const ticket = await t.request('POST', '/api/v2/tickets', { body: { ticket: { comment: { body: 'Me again' }, requester: { name: 'Returning', email: 'returning@roster.test' } } } });
    expect(ticket.statusCode).toBe(201);
    const requester = ticket.json().ticket.requester_id as number;
    expect(requester).not.toBe(user.id);
    expect((await t.request('GET', `/api/v2/users/${requester}`)).json().user).toMatchObject({ email: 'returning@roster.test', active: true });
    // The external id is free again as well.
    const again = await t.request('POST', '/api/v2/users', { body: { user: { name: 'Other', external_id: 'ret-1' } } });
    expect(again.statusCode).toBe(201);
  });

  it('a deleted user takes no new identity (its address must stay free, a purged user holds none)', async () => {
    const user = await t.user({});
    expect((await t.request('DELETE', `/api/v2/users/${user.id}`)).statusCode).toBe(200);
    const response = await t.request('POST', `/api/v2/users/${user.id}/identities`, { body: { identity: { type: 'email', value: 'late@roster.test' } } });
    expect(response.statusCode).toBe(422);
    expect(detailsBase(response.json())).toBe('Deleted users cannot be given identities');
    expect((await t.request('PUT', `/api/v2/users/${user.id}`, { body: { user: { notes: 'x' } } })).statusCode).toBe(422);
  });

  it("deleting an agent unassigns their tickets that are not closed (group kept); closed tickets keep them; audited without values", async () => {
    const agent = await t.user({ role: 'agent', name: 'Leaving Agent' });
    const requester = await t.user({});
    const open = await ticketFor(t, requester.id, 'open', { assignee_id: agent.id });
    const solved = await ticketFor(t, requester.id, 'solved', { assignee_id: agent.id });
    const closed = await ticketFor(t, requester.id, 'closed', { assignee_id: agent.id });
    const groupBefore = (await t.request('GET', `/api/v2/tickets/${open}`)).json().ticket.group_id as number | null;
    expect((await t.request('DELETE', `/api/v2/users/${agent.id}`)).statusCode).toBe(200);
    const shown = async (id: number) => (await t.request('GET', `/api/v2/tickets/${id}`)).json().ticket as { assignee_id: number | null; group_id: number | null; status: string };
    expect(await shown(open)).toMatchObject({ assignee_id: null, group_id: groupBefore, status: 'open' });
    expect((await shown(solved)).assignee_id).toBeNull();
    expect((await shown(closed)).assignee_id).toBe(agent.id);
    const audit = await t.runtime.database.db.selectFrom('audit_events').select(['target_id', 'changed_fields']).where('action', '=', 'ticket.update').where('target_id', 'in', [String(open), String(solved), String(closed)]).execute();
    expect(audit.map((a) => a.target_id).sort()).toEqual([String(open), String(solved)].sort());
    for (const entry of audit) expect(entry.changed_fields).toEqual(['assignee_id']);
  });

  it('lets an agent (full profile access, end_user_deletion, all tickets) delete an end user', async () => {
    const agent = await t.user({ role: 'agent' });
    const user = await t.user({});
    expect((await t.request('DELETE', `/api/v2/users/${user.id}`, { as: agent })).statusCode).toBe(200);
  });

  it('refuses to delete oneself', async () => {
    const admin = await t.user({ role: 'admin' });
    const response = await t.request('DELETE', `/api/v2/users/${admin.id}`, { as: admin });
    expect(response.statusCode).toBe(403);
    expect(response.json().description).toBe('Nobody can delete themselves');
  });

  it('refuses to delete the account owner', async () => {
    const admin = await t.user({ role: 'admin' });
    const response = await t.request('DELETE', `/api/v2/users/${t.owner.id}`, { as: admin });
    expect(response.statusCode).toBe(403);
    expect(response.json().description).toBe('The account owner cannot be deleted; transfer the ownership first');
  });

  it('refuses an agent deleting an agent', async () => {
    const agent = await t.user({ role: 'agent' });
    const other = await t.user({ role: 'agent' });
    const response = await t.request('DELETE', `/api/v2/users/${other.id}`, { as: agent });
    expect(response.statusCode).toBe(403);
    expect(response.json().description).toBe('Agents delete end users only; agents and admins are deleted by admins');
  });

  it('refuses an agent whose role lacks end_user_deletion', async () => {
    const role = await customRole(t, 'No deletion', { end_user_profile_access: 'full', end_user_deletion: false });
    const agent = await t.user({ role: 'agent', custom_role_id: role });
    const user = await t.user({});
    const response = await t.request('DELETE', `/api/v2/users/${user.id}`, { as: agent });
    expect(response.statusCode).toBe(403);
    expect(response.json().description).toBe('You do not have the end_user_deletion permission to do this');
  });

  it('refuses an agent without access to all tickets', async () => {
    const role = await customRole(t, 'Groups only', { ticket_access: 'within-groups', end_user_deletion: true, create_end_users_when_restricted: true });
    const agent = await t.user({ role: 'agent', custom_role_id: role });
    const user = await t.user({});
    const response = await t.request('DELETE', `/api/v2/users/${user.id}`, { as: agent });
    expect(response.statusCode).toBe(403);
    expect(response.json().description).toBe('You do not have the ticket_access permission to do this');
  });

  it('refuses an end user', async () => {
    const endUser = await t.user({});
    const other = await t.user({});
    const response = await t.request('DELETE', `/api/v2/users/${other.id}`, { as: endUser });
    expect(response.statusCode).toBe(403);
    expect(response.json().description).toBe('Only agents and admins can do this');
  });

  it('refuses a requester of tickets that are not closed (422 RecordInvalid, details.base)', async () => {
    const user = await t.user({});
    await ticketFor(t, user.id, 'open');
    await ticketFor(t, user.id, 'solved');
    await ticketFor(t, user.id, 'closed');
    const response = await t.request('DELETE', `/api/v2/users/${user.id}`);
    expect(response.statusCode).toBe(422);
    expect(response.json().error).toBe('RecordInvalid');
    expect(detailsBase(response.json())).toBe('User is requester on 2 tickets that are not closed.');
    expect((await t.request('GET', `/api/v2/users/${user.id}`)).json().user.active).toBe(true);
  });

  it('refuses a ticket-sharing placeholder user (shared: true)', async () => {
    const user = await t.user({});
    await sql`UPDATE users SET shared = true WHERE id = ${user.id}`.execute(t.runtime.database.db);
    const response = await t.request('DELETE', `/api/v2/users/${user.id}`);
    expect(response.statusCode).toBe(422);
    expect(detailsBase(response.json())).toBe('Users created by ticket sharing cannot be deleted');
  });

  it('refuses to delete the last admin (defence in depth: the owner is an admin, so only a domain call can reach it)', async () => {
    const db = t.runtime.database.db;
    // An account whose owner flag was lost leaves one admin; a job's actor is re-read, not trusted.
    await sql`UPDATE users SET is_owner = false WHERE id = ${t.owner.id}`.execute(db);
    const owner = await findUser(db, t.account.id, t.owner.id);
    if (!owner) throw new Error('no owner');
    const actor = { id: 0, role: 'admin' as const, is_owner: false, active: true, suspended: false, permissions: ADMIN_PERMISSIONS };
    const refusal = await checkDeletable(db, t.account, actor, owner).then(() => undefined, (error: { details?: Record<string, Array<{ description: string }>> }) => detailsBase(error));
    expect(refusal).toBe('The last admin of the account cannot be deleted');
  });

  it('answers 404 for a user already deleted and for another account\'s user', async () => {
    const user = await t.user({});
    expect((await t.request('DELETE', `/api/v2/users/${user.id}`)).statusCode).toBe(200);
    expect((await t.request('DELETE', `/api/v2/users/${user.id}`)).statusCode).toBe(404);
    expect((await t.request('DELETE', '/api/v2/users/999999')).statusCode).toBe(404);
  });

  it('an admin deletes an agent; the owner signs in as before', async () => {
    const agent = await t.user({ role: 'agent' });
    expect((await t.request('DELETE', `/api/v2/users/${agent.id}`)).statusCode).toBe(200);
    expect((await t.request('GET', '/api/v2/users/me', { as: { ...t.owner, headers: basic(OWNER_EMAIL, OWNER_PASSWORD) } })).json().user.id).toBe(t.owner.id);
  });
});

describe('Deleted users', () => {
  it('lists soft-deleted users with deletion date and purge_at (offset and cursor), shows and counts them', async () => {
    const a = await t.user({ name: 'Alpha', email: 'alpha@roster.test' });
    const b = await t.user({ name: 'Beta' });
    for (const user of [a, b]) expect((await t.request('DELETE', `/api/v2/users/${user.id}`)).statusCode).toBe(200);
    const list = await t.request('GET', '/api/v2/deleted_users');
    expect(list.statusCode).toBe(200);
    const body = list.json();
    expect(body.count).toBe(2);
    const alpha = body.deleted_users.find((user: { id: number }) => user.id === a.id);
    expect(alpha).toMatchObject({ name: 'Alpha', email: 'alpha@roster.test', active: false, state: 'pending_purge', restorable: true });
    expect(new Date(alpha.purge_at).getTime() - new Date(alpha.deleted_at).getTime()).toBe(30 * DAY);
    const cursor = await t.request('GET', '/api/v2/deleted_users?page[size]=1');
    expect(cursor.json().deleted_users).toHaveLength(1);
    expect(cursor.json().meta.has_more).toBe(true);
    expect((await t.request('GET', `/api/v2/deleted_users/${a.id}`)).json().deleted_user.id).toBe(a.id);
    expect((await t.request('GET', '/api/v2/deleted_users/count')).json().count.value).toBe(2);
    expect((await t.request('GET', '/api/v2/deleted_users?state=purged')).json().deleted_users).toHaveLength(0);
    expect((await t.request('GET', '/api/v2/deleted_users?state=bogus')).statusCode).toBe(400);
    // A live user is not a deleted user.
    expect((await t.request('GET', `/api/v2/deleted_users/${t.owner.id}`)).statusCode).toBe(404);
  });

  it('refuses agents without view_deleted_users', async () => {
    const agent = await t.user({ role: 'agent' });
    const response = await t.request('GET', '/api/v2/deleted_users', { as: agent });
    expect(response.statusCode).toBe(403);
    expect(response.json().description).toBe('You do not have the view_deleted_users permission to do this');
  });

  it('permanent delete: only after a soft delete, admins only; every personal datum goes, tickets stay', async () => {
    const db = t.runtime.database.db;
    const org = (await t.request('POST', '/api/v2/organizations', { body: { organization: { name: 'Purge Org' } } })).json().organization.id as number;
    const user = await t.user({ name: 'Pat Private', email: 'pat.private@roster.test', phone: '+15551234567', notes: 'secret notes', details: 'secret details', external_id: 'pat-ext', organization_id: org });
    const ticket = await ticketFor(t, user.id, 'closed');
    const suspend = await t.request('PUT', `/api/v2/users/${user.id}`, { body: { user: { suspended: true, suspension_reason: { category: 'objection', text: 'asked to stop' } } } });
    expect(suspend.statusCode).toBe(200);

    const early = await t.request('DELETE', `/api/v2/deleted_users/${user.id}`);
    expect(early.statusCode).toBe(422);
    expect(detailsBase(early.json())).toBe('Only a deleted user can be permanently deleted: delete the user first');
    expect((await t.request('DELETE', `/api/v2/users/${user.id}`)).statusCode).toBe(200);
    const agent = await t.user({ role: 'agent' });
    const refused = await t.request('DELETE', `/api/v2/deleted_users/${user.id}`, { as: agent });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().description).toBe('Only admins can permanently delete or restore deleted users');

    const purged = await t.request('DELETE', `/api/v2/deleted_users/${user.id}`);
    expect(purged.statusCode).toBe(200);
    expect(purged.json().deleted_user).toMatchObject({ name: 'Permanently Deleted User', email: null, phone: null, state: 'purged', restorable: false });
    expect((await t.request('GET', `/api/v2/users/${user.id}`)).json().user).toMatchObject({ name: 'Permanently Deleted User', email: null, phone: null, notes: null, details: null, external_id: null });
    expect((await t.request('GET', `/api/v2/tickets/${ticket}`)).json().ticket).toMatchObject({ id: ticket, requester_id: user.id, status: 'closed' });
    // No copy of the name, address, phone or notes remains in any table.
    for (const needle of ['Pat Private', 'pat.private', '5551234567', 'secret notes', 'pat-ext', 'asked to stop']) {
      const { rows } = await sql<{ n: number }>`
        SELECT (SELECT count(*) FROM users u WHERE u::text LIKE ${`%${needle}%`})
             + (SELECT count(*) FROM user_identities i WHERE i::text LIKE ${`%${needle}%`})
             + (SELECT count(*) FROM user_deletions d WHERE d::text LIKE ${`%${needle}%`})
             + (SELECT count(*) FROM user_suspensions s WHERE s::text LIKE ${`%${needle}%`})
             + (SELECT count(*) FROM audit_events a WHERE a::text LIKE ${`%${needle}%`})
             + (SELECT count(*) FROM job_statuses j WHERE j::text LIKE ${`%${needle}%`}) AS n`.execute(db);
      expect(Number(rows[0]?.n), needle).toBe(0);
    }
    expect((await t.request('GET', `/api/v2/organizations/${org}/organization_memberships`)).json().organization_memberships ?? []).toHaveLength(0);
    expect((await t.request('GET', '/api/v2/deleted_users?state=purged')).json().deleted_users.map((u: { id: number }) => u.id)).toEqual([user.id]);
    expect((await t.request('DELETE', `/api/v2/deleted_users/${user.id}`)).statusCode).toBe(404);
    const audit = await db.selectFrom('audit_events').select(['action', 'changed_fields']).where('target_id', '=', String(user.id)).where('action', '=', 'user.purge').execute();
    expect(audit).toHaveLength(1);
  });
});

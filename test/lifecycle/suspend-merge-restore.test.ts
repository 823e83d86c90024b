import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sweepDeletedUsers } from '../../src/lifecycle/purge-deleted-users.ts';
import { createTestApp, type TestApp } from '../helpers.ts';
import { DAY, detailsBase, ticketFor } from './lifecycle-helpers.ts';

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

const suspend = (id: number, reason: unknown, as = t.owner) => t.request('PUT', `/api/v2/users/${id}`, { as, body: { user: { suspended: true, ...(reason === undefined ? {} : { suspension_reason: reason }) } } });

describe('Suspension', () => {
  it('requires a reason', async () => {
    const user = await t.user({});
    const response = await suspend(user.id, undefined);
    expect(response.statusCode).toBe(422);
    expect(response.json().details.suspension_reason[0].description).toBe('Suspending a user needs a suspension_reason: one of objection, abuse, spam, fraud, security, legal, other (and an optional text)');
    expect((await t.request('GET', `/api/v2/users/${user.id}`)).json().user.suspended).toBe(false);
  });

  it('refuses an unknown category and a text carrying personal data', async () => {
    const user = await t.user({});
    expect((await suspend(user.id, 'grumpy')).json().details.suspension_reason[0].description).toBe('The category must be one of objection, abuse, spam, fraud, security, legal, other');
    const withEmail = await suspend(user.id, { category: 'abuse', text: 'wrote from x@evil.test' });
    expect(withEmail.statusCode).toBe(422);
    expect(withEmail.json().details.suspension_reason[0].description).toBe('The text must not contain personal data such as email addresses or phone numbers');
    expect((await suspend(user.id, { category: 'abuse', text: 'called +1 555 123 4567' })).statusCode).toBe(422);
  });

  it('keeps the reason in user_suspensions, the audit log records the action and field names only; the user is locked out', async () => {
    const user = await t.user({});
    expect((await t.request('GET', '/api/v2/users/me', { as: user })).json().user.id).toBe(user.id);
    const response = await suspend(user.id, { category: 'objection', text: 'objected to processing' });
    expect(response.statusCode).toBe(200);
    expect(response.json().user.suspended).toBe(true);
    expect((await t.request('GET', '/api/v2/users/me', { as: user })).statusCode).toBe(401);
    const history = (await t.request('GET', `/api/v2/users/${user.id}/suspensions`)).json().suspensions;
    expect(history).toEqual([expect.objectContaining({ category: 'objection', text: 'objected to processing', suspended_by_id: t.owner.id, lifted_at: null })]);
    const audit = await t.runtime.database.db.selectFrom('audit_events').selectAll().where('action', '=', 'user.suspend').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]?.changed_fields).toEqual(['suspended', 'suspension_reason']);
    expect(JSON.stringify(audit)).not.toContain('objected');

    const lifted = await t.request('PUT', `/api/v2/users/${user.id}`, { body: { user: { suspended: false } } });
    expect(lifted.json().user.suspended).toBe(false);
    expect((await t.request('GET', `/api/v2/users/${user.id}/suspensions`)).json().suspensions[0].lifted_by_id).toBe(t.owner.id);
    expect((await t.request('GET', '/api/v2/users/me', { as: user })).json().user.id).toBe(user.id);
  });

  it('a user created suspended needs a reason too', async () => {
    const refused = await t.request('POST', '/api/v2/users', { body: { user: { name: 'Born Suspended', suspended: true } } });
    expect(refused.statusCode).toBe(422);
    expect(Object.keys(refused.json().details)).toEqual(['suspension_reason']);
    const created = await t.request('POST', '/api/v2/users', { body: { user: { name: 'Born Suspended', suspended: true, suspension_reason: 'spam' } } });
    expect(created.statusCode).toBe(201);
    expect(created.json().user.suspended).toBe(true);
    expect((await t.request('GET', `/api/v2/users/${created.json().user.id}/suspensions`)).json().suspensions[0].category).toBe('spam');
  });

  it('agents suspend end users but not agents; admins suspend agents; nobody suspends themselves', async () => {
    const agent = await t.user({ role: 'agent' });
    const other = await t.user({ role: 'agent' });
    const endUser = await t.user({});
    expect((await suspend(endUser.id, 'spam', agent)).statusCode).toBe(200);
    const refused = await suspend(other.id, 'spam', agent);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().description).toBe('Agents manage end users only; agents and admins are managed by admins');
    expect((await suspend(other.id, 'security')).statusCode).toBe(200);
    const self = await suspend(agent.id, 'other', agent);
    expect(self.statusCode).toBe(403);
    expect(self.json().description).toBe('Nobody can suspend themselves');
  });

  it('a suspended user\'s new request becomes a suspended ticket', async () => {
    const user = await t.user({});
    await suspend(user.id, 'abuse');
    const response = await t.request('POST', '/api/v2/tickets', { body: { ticket: { comment: { body: 'Hi' }, requester_id: user.id } } });
    expect(response.statusCode).toBe(201);
    expect(response.json().suspended_ticket).toBeDefined();
  });
});

describe('PUT /api/v2/users/:id/merge', () => {
  async function pair() {
    const org = (await t.request('POST', '/api/v2/organizations', { body: { organization: { name: `Org ${Math.random()}` } } })).json().organization.id as number;
    const source = await t.user({ name: 'Sam Source', email: 'sam@roster.test', notes: 'source notes', organization_id: org });
    const target = await t.user({ name: 'Tina Target', email: 'tina@roster.test', notes: 'target notes' });
    const cc = await t.user({ name: 'Carl CC' });
    const requested = await ticketFor(t, source.id, 'open', { email_cc_ids: [] });
    const ccd = await ticketFor(t, cc.id, 'open', { email_cc_ids: [source.id] });
    return { org, source, target, requested, ccd };
  }

  it('previews what moves and the conflicting fields', async () => {
    const { source, target, org } = await pair();
    const response = await t.request('GET', `/api/v2/users/${source.id}/merge_preview?target_id=${target.id}`);
    expect(response.statusCode).toBe(200);
    const preview = response.json().merge_preview;
    expect(preview).toMatchObject({ source_id: source.id, target_id: target.id, tickets_requested: 1, tickets_ccd: 1, organization_memberships: 1 });
    expect(preview.identities).toEqual([expect.objectContaining({ type: 'email', primary_after: false })]);
    expect(preview.conflicts.map((c: { field: string }) => c.field).sort()).toEqual(['name', 'notes']);
    expect(org).toBeGreaterThan(0);
  });

  it('moves tickets, CCs, identities and memberships, keeps the chosen fields, deletes the source; undo puts everything back', async () => {
    const { org, source, target, requested, ccd } = await pair();
    const merged = await t.request('PUT', `/api/v2/users/${source.id}/merge`, { body: { user: { id: target.id, keep: { name: 'source' } } } });
    expect(merged.statusCode).toBe(200);
    expect(merged.json().user).toMatchObject({ id: target.id, name: 'Sam Source', notes: 'target notes', email: 'tina@roster.test', organization_id: org });
    expect(merged.json().merge.undo_until).not.toBeNull();
    expect((await t.request('GET', `/api/v2/tickets/${requested}`)).json().ticket.requester_id).toBe(target.id);
    expect((await t.request('GET', `/api/v2/tickets/${ccd}`)).json().ticket.email_cc_ids).toEqual([target.id]);
    const identities = (await t.request('GET', `/api/v2/users/${target.id}/identities`)).json().identities.map((i: { value: string }) => i.value).sort();
    expect(identities).toEqual(['sam@roster.test', 'tina@roster.test']);
    expect((await t.request('GET', `/api/v2/users/${source.id}`)).json().user.active).toBe(false);
    // Inbound mail from the source's address now finds the survivor.
    const inbound = await t.request('POST', '/api/v2/tickets', { body: { ticket: { comment: { body: 'x' }, requester: { name: 'Sam', email: 'sam@roster.test' } } } });
    expect(inbound.json().ticket.requester_id).toBe(target.id);

    // A merged user comes back through the merge's undo, not as a plain deleted user.
    expect((await t.request('GET', `/api/v2/deleted_users/${source.id}`)).json().deleted_user).toMatchObject({ merged_into_id: target.id, restorable: false });
    const restore = await t.request('PUT', `/api/v2/deleted_users/${source.id}/restore`);
    expect(detailsBase(restore.json())).toBe(`This user was merged into user ${target.id}: undo the merge instead (PUT /api/v2/users/${source.id}/merge/undo)`);

    const undone = await t.request('PUT', `/api/v2/users/${source.id}/merge/undo`);
    expect(undone.statusCode).toBe(200);
    expect(undone.json().user).toMatchObject({ id: source.id, active: true, email: 'sam@roster.test', organization_id: org });
    expect((await t.request('GET', `/api/v2/users/${target.id}`)).json().user).toMatchObject({ name: 'Tina Target', organization_id: null });
    expect((await t.request('GET', `/api/v2/tickets/${requested}`)).json().ticket.requester_id).toBe(source.id);
    expect((await t.request('GET', `/api/v2/tickets/${ccd}`)).json().ticket.email_cc_ids).toEqual([source.id]);
    expect((await t.request('GET', `/api/v2/users/${target.id}/identities`)).json().identities.map((i: { value: string }) => i.value)).toEqual(['tina@roster.test']);
    expect((await t.request('PUT', `/api/v2/users/${source.id}/merge/undo`)).statusCode).toBe(404);
  });

  it('cannot be undone after the restore window; the snapshot is gone', async () => {
    const { source, target } = await pair();
    expect((await t.request('PUT', `/api/v2/users/${source.id}/merge`, { body: { user: { id: target.id } } })).statusCode).toBe(200);
    await sweepDeletedUsers(t.runtime.database.db, new Date(Date.now() + 31 * DAY), t.runtime.storage);
    const snapshots = await t.runtime.database.db.selectFrom('user_merges').select('snapshot').execute();
    expect(snapshots.every((row) => row.snapshot === null)).toBe(true);
    const response = await t.request('PUT', `/api/v2/users/${source.id}/merge/undo`);
    expect(response.statusCode).toBe(422);
    expect(detailsBase(response.json())).toBe('The restore window of this merge has ended: it cannot be undone');
  });

  it('refuses self-merge, agents, the owner, another account\'s user and shared users', async () => {
    const user = await t.user({});
    const other = await t.user({});
    const agent = await t.user({ role: 'agent' });
    const self = await t.request('PUT', `/api/v2/users/${user.id}/merge`, { body: { user: { id: user.id } } });
    expect(detailsBase(self.json())).toBe('A user cannot be merged into themselves');
    const intoAgent = await t.request('PUT', `/api/v2/users/${user.id}/merge`, { body: { user: { id: agent.id } } });
    expect(intoAgent.statusCode).toBe(422);
    expect(detailsBase(intoAgent.json())).toBe('Only end users can be merged: agents and admins cannot');
    const owner = await t.request('PUT', `/api/v2/users/${user.id}/merge`, { body: { user: { id: t.owner.id } } });
    expect(detailsBase(owner.json())).toBe('The account owner cannot be merged');
    const foreign = await t.request('PUT', `/api/v2/users/${user.id}/merge`, { body: { user: { id: 999999 } } });
    expect(foreign.statusCode).toBe(422);
    expect(foreign.json().details.id[0].description).toBe('There is no user with this id to merge into');
    await sql`UPDATE users SET shared = true WHERE id = ${other.id}`.execute(t.runtime.database.db);
    expect(detailsBase((await t.request('PUT', `/api/v2/users/${user.id}/merge`, { body: { user: { id: other.id } } })).json())).toBe('Users created by ticket sharing cannot be merged');
    const byEndUser = await t.request('PUT', `/api/v2/users/${user.id}/merge`, { as: other, body: { user: { id: agent.id } } });
    expect(byEndUser.statusCode).toBe(403);
  });
});

describe('PUT /api/v2/deleted_users/:id/restore', () => {
  it('brings a soft-deleted user back with its identities and memberships', async () => {
    const org = (await t.request('POST', '/api/v2/organizations', { body: { organization: { name: 'Restore Org' } } })).json().organization.id as number;
    const user = await t.user({ name: 'Rita', email: 'rita@roster.test', external_id: 'rita-1', organization_id: org });
    expect((await t.request('DELETE', `/api/v2/users/${user.id}`)).statusCode).toBe(200);
    const restored = await t.request('PUT', `/api/v2/deleted_users/${user.id}/restore`);
    expect(restored.statusCode).toBe(200);
    expect(restored.json().user).toMatchObject({ id: user.id, active: true, email: 'rita@roster.test', external_id: 'rita-1', organization_id: org });
    expect((await t.request('GET', '/api/v2/users/me', { as: user })).json().user.id).toBe(user.id);
    expect((await t.request('GET', '/api/v2/deleted_users/count')).json().count.value).toBe(0);
  });

  it('refuses (422, naming the conflict) when another user claimed its email meanwhile', async () => {
    const user = await t.user({ email: 'claimed@roster.test' });
    await t.request('DELETE', `/api/v2/users/${user.id}`);
    const claimant = await t.user({ email: 'claimed@roster.test' });
    const response = await t.request('PUT', `/api/v2/deleted_users/${user.id}/restore`);
    expect(response.statusCode).toBe(422);
    expect(response.json().details.email[0]).toEqual({ error: 'DuplicateValue', description: `This user's email identity now belongs to user ${claimant.id}` });
    expect((await t.request('GET', `/api/v2/users/${user.id}`)).json().user.active).toBe(false);
  });

  it('refuses when the restore window is off (irreversible deletion) and after the purge', async () => {
    const kept = await t.user({});
    await t.request('DELETE', `/api/v2/users/${kept.id}`);
    expect((await t.request('PUT', '/api/v2/account/settings', { body: { settings: { user_restore_window: false } } })).statusCode).toBe(200);
    const off = await t.request('PUT', `/api/v2/deleted_users/${kept.id}/restore`);
    expect(detailsBase(off.json())).toBe('The restore window is off for this account: deletion is irreversible');
    const gone = await t.user({ email: 'gone@roster.test' });
    await t.request('DELETE', `/api/v2/users/${gone.id}`);
    // Nothing was kept: no copy of the address waits for a restore.
    const stash = await t.runtime.database.db.selectFrom('user_deletions').select('stash').where('user_id', '=', gone.id).executeTakeFirstOrThrow();
    expect(stash.stash).toBeNull();
    await t.request('PUT', '/api/v2/account/settings', { body: { settings: { user_restore_window: true } } });
    expect(detailsBase((await t.request('PUT', `/api/v2/deleted_users/${gone.id}/restore`)).json())).toBe('This user was deleted while the restore window was off and cannot be restored');
    await t.request('DELETE', `/api/v2/deleted_users/${kept.id}`);
    expect(detailsBase((await t.request('PUT', `/api/v2/deleted_users/${kept.id}/restore`)).json())).toBe('This user was permanently deleted and cannot be restored');
  });

  it('is for admins only', async () => {
    const user = await t.user({});
    await t.request('DELETE', `/api/v2/users/${user.id}`);
    const agent = await t.user({ role: 'agent' });
    const response = await t.request('PUT', `/api/v2/deleted_users/${user.id}/restore`, { as: agent });
    expect(response.statusCode).toBe(403);
  });
});

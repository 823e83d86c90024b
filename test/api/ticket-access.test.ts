import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type Caller, type TestApp } from '../helpers.ts';

/**
 * Ticket access (issue 5 item 4): an agent whose custom role restricts ticket_access sees, on
 * every route and in every list, only the tickets of their scope; end users only their own
 * requests (and their organization's when it shares tickets).
 */
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

async function created(path: string, key: string, body: unknown): Promise<number> {
  const response = await t.request('POST', path, { body });
  // Custom roles answer 200 (as Zendesk does), everything else 201.
  expect([200, 201], response.body).toContain(response.statusCode);
  return response.json()[key].id as number;
}
const group = (name: string, isPublic = true) => created('/api/v2/groups', 'group', { group: { name, is_public: isPublic } });
const organization = (name: string) => created('/api/v2/organizations', 'organization', { organization: { name } });
const ticket = (fields: Record<string, unknown>) => created('/api/v2/tickets', 'ticket', { ticket: { subject: 'T', comment: { body: 'x' }, ...fields } });

async function agentWith(ticketAccess: string): Promise<Caller> {
  const role = await created('/api/v2/custom_roles', 'custom_role', { custom_role: { name: `Access ${ticketAccess} ${Math.random()}`, configuration: { ticket_access: ticketAccess } } });
  return t.user({ role: 'agent', custom_role_id: role });
}

async function joinGroup(userId: number, groupId: number): Promise<void> {
  expect((await t.request('POST', '/api/v2/group_memberships', { body: { group_membership: { user_id: userId, group_id: groupId } } })).statusCode).toBe(201);
}

const ids = (rows: { id: number }[]): number[] => rows.map((row) => row.id);

/** Every read and write route, for one agent and one ticket: what they answer. */
async function reach(agent: Caller, id: number): Promise<Record<string, number>> {
  return {
    show: (await t.request('GET', `/api/v2/tickets/${id}`, { as: agent })).statusCode,
    comments: (await t.request('GET', `/api/v2/tickets/${id}/comments`, { as: agent })).statusCode,
    update: (await t.request('PUT', `/api/v2/tickets/${id}`, { as: agent, body: { ticket: { priority: 'low' } } })).statusCode,
    request: (await t.request('GET', `/api/v2/requests/${id}`, { as: agent })).statusCode,
  };
}
const SEES = { show: 200, comments: 200, update: 200, request: 200 };
const BLIND = { show: 403, comments: 403, update: 403, request: 404 };

describe('within-groups', () => {
  it("sees its groups' tickets and those assigned to it, on every route and list", async () => {
    const mine = await group('Mine');
    const other = await group('Other');
    const agent = await agentWith('within-groups');
    await joinGroup(agent.id, mine);
    const colleague = await t.user({ role: 'agent' });
    await joinGroup(colleague.id, other);
    const requester = await t.user({ role: 'end-user' });
    const inMine = await ticket({ group_id: mine, requester_id: requester.id });
    const inOther = await ticket({ group_id: other, requester_id: requester.id, assignee_id: colleague.id });
    const assigned = await ticket({ assignee_id: agent.id, requester_id: requester.id });
    const noGroup = await ticket({ requester_id: requester.id });

    expect(await reach(agent, inMine)).toEqual(SEES);
    expect(await reach(agent, assigned)).toEqual(SEES);
    expect(await reach(agent, inOther)).toEqual(BLIND);
    expect(await reach(agent, noGroup)).toEqual(BLIND);
    expect((await t.request('DELETE', `/api/v2/tickets/${inOther}`, { as: agent })).statusCode).toBe(403);

    const list = (await t.request('GET', '/api/v2/tickets', { as: agent })).json();
    expect(ids(list.tickets)).toEqual([inMine, assigned]);
    expect(list.count).toBe(2);
    expect(ids((await t.request('GET', '/api/v2/tickets?page[size]=1', { as: agent })).json().tickets)).toEqual([inMine]);
    expect((await t.request('GET', '/api/v2/tickets/count', { as: agent })).json().count.value).toBe(2);
    expect(ids((await t.request('GET', `/api/v2/tickets/show_many?ids=${inMine},${inOther},${noGroup}`, { as: agent })).json().tickets)).toEqual([inMine]);
    expect(ids((await t.request('GET', `/api/v2/users/${requester.id}/tickets/requested`, { as: agent })).json().tickets)).toEqual([inMine, assigned]);
    expect(ids((await t.request('GET', `/api/v2/users/${colleague.id}/tickets/assigned`, { as: agent })).json().tickets)).toEqual([]);
    expect((await t.request('GET', `/api/v2/users/${requester.id}/related`, { as: agent })).json().user_related.requested_tickets).toBe(2);
    // The owner sees all four.
    expect((await t.request('GET', `/api/v2/users/${requester.id}/related`)).json().user_related.requested_tickets).toBe(4);
  });

  it('loses a ticket the moment it moves to another group, and destroy_many skips what it cannot see', async () => {
    const mine = await group('Mine');
    const other = await group('Other');
    const agent = await agentWith('within-groups');
    await joinGroup(agent.id, mine);
    const id = await ticket({ group_id: mine });
    const hidden = await ticket({ group_id: other });
    expect((await t.request('GET', `/api/v2/tickets/${id}`, { as: agent })).statusCode).toBe(200);
    await t.request('PUT', `/api/v2/tickets/${id}`, { body: { ticket: { group_id: other } } });
    expect((await t.request('GET', `/api/v2/tickets/${id}`, { as: agent })).statusCode).toBe(403);
    const visible = await ticket({ group_id: mine });
    const job = await t.request('DELETE', `/api/v2/tickets/destroy_many?ids=${hidden},${visible}`, { as: agent });
    const done = await t.waitForJob(job.json().job_status.id, agent);
    expect((done.results as { id: number; success: boolean }[]).map((row) => [row.id, row.success])).toEqual([[hidden, false], [visible, true]]);
    expect((await t.request('GET', `/api/v2/tickets/${hidden}`)).statusCode).toBe(200);
  });
});

describe('within-groups-and-public-groups', () => {
  it("adds public groups' tickets, never private groups' it is not in", async () => {
    const mine = await group('Mine', false);
    const open = await group('Public', true);
    const closed = await group('Private', false);
    const agent = await agentWith('within-groups-and-public-groups');
    await joinGroup(agent.id, mine);
    const a = await ticket({ group_id: mine });
    const b = await ticket({ group_id: open });
    await ticket({ group_id: closed });
    expect(ids((await t.request('GET', '/api/v2/tickets', { as: agent })).json().tickets)).toEqual([a, b]);
  });
});

describe('within-organization', () => {
  it("sees its organizations' tickets and those assigned to it", async () => {
    const org = await organization('Acme');
    const elsewhere = await organization('Elsewhere');
    const agent = await agentWith('within-organization');
    await t.request('POST', '/api/v2/organization_memberships', { body: { organization_membership: { user_id: agent.id, organization_id: org } } });
    const customer = await t.user({ role: 'end-user', organization_id: org });
    const stranger = await t.user({ role: 'end-user', organization_id: elsewhere });
    const a = await ticket({ requester_id: customer.id });
    const b = await ticket({ requester_id: stranger.id });
    const c = await ticket({ requester_id: stranger.id, assignee_id: agent.id });
    expect(ids((await t.request('GET', '/api/v2/tickets', { as: agent })).json().tickets)).toEqual([a, c]);
    expect(await reach(agent, b)).toEqual(BLIND);
    expect(ids((await t.request('GET', `/api/v2/organizations/${elsewhere}/tickets`, { as: agent })).json().tickets)).toEqual([c]);
    expect((await t.request('GET', `/api/v2/organizations/${org}/related`, { as: agent })).json().organization_related.tickets_count).toBe(1);
  });
});

describe('assigned-only', () => {
  it('sees only tickets assigned to it', async () => {
    const agent = await agentWith('assigned-only');
    const a = await ticket({ assignee_id: agent.id });
    const b = await ticket({});
    expect(ids((await t.request('GET', '/api/v2/tickets', { as: agent })).json().tickets)).toEqual([a]);
    expect(await reach(agent, b)).toEqual(BLIND);
    // Reassigned away: gone.
    await t.request('PUT', `/api/v2/tickets/${a}`, { body: { ticket: { assignee_id: t.owner.id } } });
    expect((await t.request('GET', `/api/v2/tickets/${a}`, { as: agent })).statusCode).toBe(403);
  });
});

describe('restricted agents and their own requests', () => {
  it('a restricted agent still sees the tickets they requested (GET /requests lists them)', async () => {
    const other = await group('Other');
    for (const access of ['within-groups', 'within-organization', 'assigned-only']) {
      const agent = await agentWith(access);
      const own = await ticket({ requester_id: agent.id, group_id: other });
      expect((await t.request('GET', `/api/v2/tickets/${own}`, { as: agent })).statusCode, access).toBe(200);
      expect(ids((await t.request('GET', '/api/v2/requests', { as: agent })).json().requests), access).toEqual([own]);
    }
  });
});

describe('end users', () => {
  it('see their own requests, those they are CC’d on, and their organization’s only when shared or by their own restriction', async () => {
    const org = await organization('Shared');
    const me = await t.user({ role: 'end-user', organization_id: org });
    const colleague = await t.user({ role: 'end-user', organization_id: org });
    const own = await ticket({ requester_id: me.id });
    const ccd = await ticket({ email_cc_ids: [me.id] });
    const colleagues = await ticket({ requester_id: colleague.id });
    const seen = async () => [
      (await t.request('GET', `/api/v2/requests/${own}`, { as: me })).statusCode,
      (await t.request('GET', `/api/v2/requests/${ccd}`, { as: me })).statusCode,
      (await t.request('GET', `/api/v2/requests/${colleagues}`, { as: me })).statusCode,
    ];
    expect(await seen()).toEqual([200, 200, 404]);
    // The user's own restriction "organization" opens the organization's tickets to them.
    expect((await t.request('PUT', `/api/v2/users/${me.id}`, { body: { user: { ticket_restriction: 'organization' } } })).statusCode).toBe(200);
    expect(await seen()).toEqual([200, 200, 200]);
    expect((await t.request('GET', `/api/v2/users/${me.id}/related`, { as: me })).json().user_related.requested_tickets).toBe(1);
    expect((await t.request('GET', `/api/v2/users/${colleague.id}/tickets/requested`, { as: me })).statusCode).toBe(403);
  });
});

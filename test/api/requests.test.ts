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

async function usersWithEmail(email: string): Promise<number[]> {
  const rows = await t.runtime.database.db.selectFrom('user_identities').select('user_id').where('account_id', '=', t.account.id).where('value_key', '=', email.toLowerCase()).execute();
  return rows.map((row) => row.user_id);
}

async function userCount(): Promise<number> {
  const row = await t.runtime.database.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', t.account.id).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function allowAnonymous(on: boolean): Promise<void> {
  const response = await t.request('PUT', '/api/v2/account/settings', { body: { settings: { anonymous_requests: on } } });
  expect(response.json().settings.anonymous_requests).toBe(on);
}

const submit = (body: Record<string, unknown>, as: Caller | null) => t.request('POST', '/api/v2/requests', { as, body: { request: body } });

describe('POST /api/v2/requests', () => {
  it('an end user submits a request as its requester (public comment, via web)', async () => {
    const endUser = await t.user({ role: 'end-user', name: 'Erin' });
    const response = await submit({ subject: 'My printer', comment: { body: 'It is on fire', public: false }, priority: 'urgent', status: 'solved', assignee_id: t.owner.id, tags: ['x'] }, endUser);
    expect(response.statusCode, response.body).toBe(201);
    const request = response.json().request;
    expect(request).toMatchObject({ subject: 'My printer', description: 'It is on fire', requester_id: endUser.id, status: 'new', priority: 'urgent', assignee_id: null, via: { channel: 'web' }, is_public: true });
    expect(response.headers.location).toContain(`/api/v2/requests/${request.id}.json`);
    // Staff see the ticket; the requester's comment stayed public and the staff-only fields were ignored.
    const ticket = (await t.request('GET', `/api/v2/tickets/${request.id}`)).json().ticket;
    expect(ticket).toMatchObject({ requester_id: endUser.id, submitter_id: endUser.id, tags: [] });
    const [comment] = (await t.request('GET', `/api/v2/tickets/${request.id}/comments`)).json().comments;
    expect(comment.public).toBe(true);
  });

  it('takes the subject from the first line of the description when none is given', async () => {
    const endUser = await t.user({ role: 'end-user' });
    const request = (await submit({ comment: { body: 'First line\nsecond line' } }, endUser)).json().request;
    expect(request.subject).toBe('First line');
  });

  it('refuses anonymous requests unless the account allows them (401)', async () => {
    const before = await userCount();
    const response = await submit({ subject: 'Hi', comment: { body: 'x' }, requester: { name: 'Anon', email: 'anon@visitor.test' } }, null);
    expect(response.statusCode).toBe(401);
    expect(await userCount()).toBe(before);
  });

  it('an anonymous visitor, when allowed, becomes a user once (any identity matches)', async () => {
    await allowAnonymous(true);
    const before = await userCount();
    const first = await submit({ subject: 'Hi', comment: { body: 'x' }, requester: { name: 'Visitor Vee', email: 'vee@visitor.test' } }, null);
    expect(first.statusCode, first.body).toBe(201);
    expect(await userCount()).toBe(before + 1);
    const [userId] = await usersWithEmail('vee@visitor.test');
    expect(first.json().request.requester_id).toBe(userId);
    expect((await t.request('GET', `/api/v2/users/${userId}`)).json().user).toMatchObject({ name: 'Visitor Vee', role: 'end-user' });
    // The same person writes again from a secondary address of theirs: matched, not duplicated.
    await t.request('POST', `/api/v2/users/${userId}/identities`, { body: { identity: { type: 'email', value: 'vee.work@visitor.test' } } });
    const second = await submit({ subject: 'Again', comment: { body: 'y' }, requester: { name: 'Vee', email: 'VEE.WORK@visitor.test' } }, null);
    expect(second.json().request.requester_id).toBe(userId);
    expect(await userCount()).toBe(before + 1);
  });

  it('an anonymous request needs requester name and email (422)', async () => {
    await allowAnonymous(true);
    const missing = await submit({ subject: 'Hi', comment: { body: 'x' } }, null);
    expect(missing.statusCode).toBe(422);
    expect(Object.keys(missing.json().details)).toEqual(['requester']);
    const bad = await submit({ subject: 'Hi', comment: { body: 'x' }, requester: { name: 'A', email: 'not-an-email' } }, null);
    expect(bad.statusCode).toBe(422);
    expect((await submit({ subject: 'Hi', comment: { body: 'x' }, requester: { name: 'A', email: 'a@visitor.test' } }, null)).statusCode).toBe(201);
  });

  it('an anonymous request cannot name a requester by id', async () => {
    await allowAnonymous(true);
    const endUser = await t.user({ role: 'end-user' });
    expect((await submit({ subject: 'Hi', comment: { body: 'x' }, requester_id: endUser.id }, null)).statusCode).toBe(422);
  });

  it('CC addresses on a request become users', async () => {
    const endUser = await t.user({ role: 'end-user' });
    const before = await userCount();
    const response = await submit({ subject: 'Hi', comment: { body: 'x' }, collaborators: ['colleague@customer.test'] }, endUser);
    expect(response.statusCode, response.body).toBe(201);
    expect(await userCount()).toBe(before + 1);
    const [colleague] = await usersWithEmail('colleague@customer.test');
    expect(response.json().request.email_cc_ids).toEqual([colleague]);
  });

  it('needs a description (422)', async () => {
    const endUser = await t.user({ role: 'end-user' });
    expect((await submit({ subject: 'Hi' }, endUser)).statusCode).toBe(422);
  });
});

describe('GET /api/v2/requests', () => {
  it("lists the caller's own requests only, with a status filter", async () => {
    const erin = await t.user({ role: 'end-user' });
    const finn = await t.user({ role: 'end-user' });
    const mine = (await submit({ subject: 'Mine', comment: { body: 'x' } }, erin)).json().request.id;
    await submit({ subject: 'Theirs', comment: { body: 'x' } }, finn);
    const solved = (await submit({ subject: 'Done', comment: { body: 'x' } }, erin)).json().request.id;
    await t.request('PUT', `/api/v2/tickets/${solved}`, { body: { ticket: { status: 'solved' } } });
    const list = (await t.request('GET', '/api/v2/requests', { as: erin })).json();
    expect(list.requests.map((row: { id: number }) => row.id)).toEqual([mine, solved]);
    expect(list.count).toBe(2);
    const open = (await t.request('GET', '/api/v2/requests?status=new,open', { as: erin })).json();
    expect(open.requests.map((row: { id: number }) => row.id)).toEqual([mine]);
    expect(open.count).toBe(1);
    expect((await t.request('GET', '/api/v2/requests?status=bogus', { as: erin })).statusCode).toBe(400);
  });

  it('shows an own request and its public comments only; another’s is a 404', async () => {
    const erin = await t.user({ role: 'end-user' });
    const finn = await t.user({ role: 'end-user' });
    const id = (await submit({ subject: 'Mine', comment: { body: 'visible' } }, erin)).json().request.id;
    await t.request('PUT', `/api/v2/tickets/${id}`, { body: { ticket: { comment: { body: 'internal note', public: false } } } });
    await t.request('PUT', `/api/v2/tickets/${id}`, { body: { ticket: { comment: { body: 'public reply' } } } });
    expect((await t.request('GET', `/api/v2/requests/${id}`, { as: erin })).json().request.id).toBe(id);
    const comments = (await t.request('GET', `/api/v2/requests/${id}/comments`, { as: erin })).json().comments;
    expect(comments.map((c: { body: string }) => c.body)).toEqual(['visible', 'public reply']);
    expect((await t.request('GET', `/api/v2/requests/${id}`, { as: finn })).statusCode).toBe(404);
    expect((await t.request('GET', `/api/v2/requests/${id}/comments`, { as: finn })).statusCode).toBe(404);
  });

  it('a CC sees the request in requests/ccd; end users cannot use the tickets API (403)', async () => {
    const erin = await t.user({ role: 'end-user' });
    const cc = await t.user({ role: 'end-user' });
    const id = (await submit({ subject: 'Mine', comment: { body: 'x' }, email_cc_ids: [cc.id] }, erin)).json().request.id;
    expect((await t.request('GET', '/api/v2/requests/ccd', { as: cc })).json().requests.map((row: { id: number }) => row.id)).toEqual([id]);
    expect((await t.request('GET', `/api/v2/requests/${id}`, { as: cc })).statusCode).toBe(200);
    expect((await t.request('GET', `/api/v2/tickets/${id}`, { as: erin })).statusCode).toBe(403);
    expect((await t.request('GET', '/api/v2/tickets', { as: erin })).statusCode).toBe(403);
    expect((await t.request('PUT', `/api/v2/tickets/${id}`, { as: erin, body: { ticket: { subject: 'x' } } })).statusCode).toBe(403);
  });

  it("an organization's requests: members see them only when the organization shares tickets", async () => {
    const org = (await t.request('POST', '/api/v2/organizations', { body: { organization: { name: 'Acme', shared_tickets: false } } })).json().organization.id;
    const erin = await t.user({ role: 'end-user', organization_id: org });
    const colleague = await t.user({ role: 'end-user', organization_id: org });
    const id = (await submit({ subject: 'Org issue', comment: { body: 'x' } }, erin)).json().request.id;
    const seen = async () => (await t.request('GET', `/api/v2/organizations/${org}/requests`, { as: colleague })).json().requests.map((row: { id: number }) => row.id);
    expect(await seen()).toEqual([]);
    expect((await t.request('GET', `/api/v2/requests/${id}`, { as: colleague })).statusCode).toBe(404);
    await t.request('PUT', `/api/v2/organizations/${org}`, { body: { organization: { shared_tickets: true } } });
    expect(await seen()).toEqual([id]);
    expect((await t.request('GET', `/api/v2/requests/${id}`, { as: colleague })).statusCode).toBe(200);
  });
});

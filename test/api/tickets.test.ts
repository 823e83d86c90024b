import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sweepSolvedTickets } from '../../src/tickets/close-solved-tickets.ts';
import { expireUploads } from '../../src/tickets/expire-uploads.ts';
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

const DAY = 24 * 60 * 60 * 1000;

async function ticket(fields: Record<string, unknown> = {}, as: Caller = t.owner): Promise<Record<string, unknown>> {
  const response = await t.request('POST', '/api/v2/tickets', { as, body: { ticket: { subject: 'Printer on fire', comment: { body: 'It is very colourful.' }, ...fields } } });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().ticket;
}

async function usersWithEmail(email: string): Promise<number[]> {
  const rows = await t.runtime.database.db
    .selectFrom('user_identities')
    .select('user_id')
    .where('account_id', '=', t.account.id)
    .where('value_key', '=', email.toLowerCase())
    .execute();
  return rows.map((row) => row.user_id);
}

async function userCount(): Promise<number> {
  const row = await t.runtime.database.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', t.account.id).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('POST /api/v2/tickets', () => {
  it('creates a ticket with its description as the first comment (201, Location, Zendesk fields)', async () => {
    const response = await t.request('POST', '/api/v2/tickets', {
      body: { ticket: { subject: 'Help', comment: { body: 'First words' }, priority: 'high', type: 'incident', tags: ['VIP', 'billing'], external_id: 'crm-1' } },
    });
    expect(response.statusCode, response.body).toBe(201);
    const created = response.json().ticket;
    expect(response.headers.location).toBe(`http://localhost:80/api/v2/tickets/${created.id}.json`);
    expect(created).toMatchObject({
      subject: 'Help',
      description: 'First words',
      status: 'new',
      priority: 'high',
      type: 'incident',
      tags: ['vip', 'billing'],
      external_id: 'crm-1',
      requester_id: t.owner.id,
      submitter_id: t.owner.id,
      assignee_id: null,
      is_public: true,
      via: { channel: 'api' },
      collaborator_ids: [],
    });
    expect(response.json().audit.events[0].type).toBe('Comment');
    // Built from the insert, the created ticket reads exactly as a later show does.
    expect((await t.request('GET', `/api/v2/tickets/${created.id}`)).json().ticket).toEqual(created);
    const comments = (await t.request('GET', `/api/v2/tickets/${created.id}/comments`)).json().comments;
    expect(comments).toHaveLength(1);
    expect(comments[0]).toMatchObject({ body: 'First words', plain_body: 'First words', public: true, author_id: t.owner.id, type: 'Comment' });
    expect(comments[0].html_body).toContain('<p>First words</p>');
  });

  it('requires a comment (422) and writes nothing', async () => {
    const before = await userCount();
    const response = await t.request('POST', '/api/v2/tickets', { body: { ticket: { subject: 'x', requester: { name: 'New', email: 'new@acme.test' } } } });
    expect(response.statusCode).toBe(422);
    expect(response.json().details.comment[0].error).toBe('BlankValue');
    expect(await userCount()).toBe(before);
  });

  it('refuses status closed (422): agents cannot close tickets by hand', async () => {
    const response = await t.request('POST', '/api/v2/tickets', { body: { ticket: { comment: { body: 'x' }, status: 'closed' } } });
    expect(response.statusCode).toBe(422);
    expect(response.json().details.status[0].error).toBe('InvalidValue');
  });

  it('opens a ticket that is assigned on creation', async () => {
    const agent = await t.user({ role: 'agent', name: 'Agent' });
    expect((await ticket({ assignee_id: agent.id })).status).toBe('open');
  });

  it('refuses an end user as assignee, an unknown group, and an organization not the requester’s (422)', async () => {
    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('POST', '/api/v2/tickets', { body: { ticket: { comment: { body: 'x' }, assignee_id: endUser.id } } })).statusCode).toBe(422);
    expect((await t.request('POST', '/api/v2/tickets', { body: { ticket: { comment: { body: 'x' }, group_id: 99999 } } })).statusCode).toBe(422);
    const org = (await t.request('POST', '/api/v2/organizations', { body: { organization: { name: 'Other' } } })).json().organization.id;
    const response = await t.request('POST', '/api/v2/tickets', { body: { ticket: { comment: { body: 'x' }, requester_id: endUser.id, organization_id: org } } });
    expect(response.statusCode).toBe(422);
    expect(Object.keys(response.json().details)).toEqual(['organization_id']);
  });

  it("takes the requester's default organization, or another of theirs", async () => {
    const a = (await t.request('POST', '/api/v2/organizations', { body: { organization: { name: 'A' } } })).json().organization.id;
    const b = (await t.request('POST', '/api/v2/organizations', { body: { organization: { name: 'B' } } })).json().organization.id;
    const requester = await t.user({ role: 'end-user', organization_id: a });
    await t.request('POST', '/api/v2/organization_memberships', { body: { organization_membership: { user_id: requester.id, organization_id: b } } });
    expect((await ticket({ requester_id: requester.id })).organization_id).toBe(a);
    expect((await ticket({ requester_id: requester.id, organization_id: b })).organization_id).toBe(b);
  });

  it('stores html_body without scripts and derives the plain body', async () => {
    const created = await ticket({ comment: { html_body: '<p>Hello <b>there</b></p><script>alert(1)</script><a href="javascript:x" onclick="y">l</a>' } });
    expect(created.description).toBe('Hello there\nl');
    const [comment] = (await t.request('GET', `/api/v2/tickets/${created.id}/comments`)).json().comments;
    expect(comment.html_body).not.toContain('script');
    expect(comment.html_body).not.toContain('onclick');
    expect(comment.html_body).not.toContain('javascript:');
  });

  it('makes an internal note when comment.public is false', async () => {
    const created = await ticket({ comment: { body: 'internal', public: false } });
    expect(created.is_public).toBe(false);
    const [comment] = (await t.request('GET', `/api/v2/tickets/${created.id}/comments`)).json().comments;
    expect(comment.public).toBe(false);
  });
});

describe('How users arrive through tickets (DOMAIN.md §2)', () => {
  it('creates the requester given by name and email, once', async () => {
    const before = await userCount();
    const first = await ticket({ requester: { name: 'Zoë Requester', email: 'zoe@customer.test' } });
    expect(await userCount()).toBe(before + 1);
    const [userId] = await usersWithEmail('zoe@customer.test');
    expect(first.requester_id).toBe(userId);
    const user = (await t.request('GET', `/api/v2/users/${userId}`)).json().user;
    expect(user).toMatchObject({ name: 'Zoë Requester', role: 'end-user', email: 'zoe@customer.test' });
    const second = await ticket({ requester: { name: 'Another Name', email: 'ZOE@customer.test' } });
    expect(second.requester_id).toBe(userId);
    expect(await userCount()).toBe(before + 1);
  });

  it('matches a secondary email identity instead of creating a duplicate', async () => {
    const person = await t.user({ role: 'end-user', email: 'primary@customer.test' });
    await t.request('POST', `/api/v2/users/${person.id}/identities`, { body: { identity: { type: 'email', value: 'second@customer.test' } } });
    const before = await userCount();
    const created = await ticket({ requester: { name: 'Same Person', email: 'second@customer.test' } });
    expect(created.requester_id).toBe(person.id);
    expect(await userCount()).toBe(before);
  });

  it('names a requester without a name after the address', async () => {
    const created = await ticket({ requester: { email: 'nameless@customer.test' } });
    expect((await t.request('GET', `/api/v2/users/${created.requester_id}`)).json().user.name).toBe('nameless');
  });

  it('turns CC addresses into users (email_ccs, collaborators) and lists them as CCs', async () => {
    const existing = await t.user({ role: 'end-user', email: 'known@customer.test' });
    const before = await userCount();
    const created = await ticket({
      collaborators: ['cc-one@customer.test', { name: 'Cc Two', email: 'cc-two@customer.test' }, existing.id],
      email_ccs: [{ user_email: 'cc-three@customer.test', user_name: 'Cc Three', action: 'put' }, { user_email: 'known@customer.test' }],
    });
    expect(await userCount()).toBe(before + 3);
    const ids = [...(await usersWithEmail('cc-one@customer.test')), ...(await usersWithEmail('cc-two@customer.test')), ...(await usersWithEmail('cc-three@customer.test')), existing.id];
    expect([...(created.email_cc_ids as number[])].sort()).toEqual([...ids].sort());
    expect([...(created.collaborator_ids as number[])].sort()).toEqual([...ids].sort());
  });

  it('a failed ticket creates no requester (one transaction)', async () => {
    const before = await userCount();
    const response = await t.request('POST', '/api/v2/tickets', { body: { ticket: { comment: { body: 'x' }, requester: { name: 'Ghost', email: 'ghost@customer.test' }, group_id: 424242 } } });
    expect(response.statusCode).toBe(422);
    expect(await userCount()).toBe(before);
    expect(await usersWithEmail('ghost@customer.test')).toEqual([]);
  });

  it('a restricted agent still brings a new requester in (the arrival path), as an end user', async () => {
    const role = (await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: { name: 'Restricted', configuration: { ticket_access: 'within-groups' } } } })).json().custom_role.id;
    const agent = await t.user({ role: 'agent', custom_role_id: role });
    const response = await t.request('POST', '/api/v2/tickets', { as: agent, body: { ticket: { comment: { body: 'x' }, requester: { name: 'Via Restricted', email: 'via-restricted@customer.test' } } } });
    expect(response.statusCode, response.body).toBe(201);
    const [userId] = await usersWithEmail('via-restricted@customer.test');
    expect((await t.request('GET', `/api/v2/users/${userId}`)).json().user.role).toBe('end-user');
  });

  it('audits the ticket and the new user without personal values', async () => {
    await ticket({ requester: { name: 'Audit Me', email: 'audit-me@customer.test' } });
    const events = await t.runtime.database.db.selectFrom('audit_events').selectAll().where('account_id', '=', t.account.id).execute();
    expect(events.map((event) => event.action)).toEqual(expect.arrayContaining(['user.create', 'ticket.create']));
    expect(JSON.stringify(events)).not.toContain('audit-me');
    expect(JSON.stringify(events)).not.toContain('Audit Me');
    expect(JSON.stringify(events)).not.toContain('colourful');
  });
});

describe('GET /api/v2/tickets/:id, show_many, lists', () => {
  it('shows a ticket; 404 for an unknown one', async () => {
    const created = await ticket();
    expect((await t.request('GET', `/api/v2/tickets/${created.id}`)).json().ticket.id).toBe(created.id);
    expect((await t.request('GET', '/api/v2/tickets/999999')).statusCode).toBe(404);
  });

  it('lists tickets with offset and cursor pagination', async () => {
    const ids: number[] = [];
    for (let index = 0; index < 5; index += 1) ids.push((await ticket({ subject: `T${index}` })).id as number);
    const offset = (await t.request('GET', '/api/v2/tickets?per_page=2&page=2')).json();
    expect(offset.count).toBe(5);
    expect(offset.tickets.map((row: { id: number }) => row.id)).toEqual(ids.slice(2, 4));
    const first = (await t.request('GET', '/api/v2/tickets?page[size]=3')).json();
    expect(first.tickets.map((row: { id: number }) => row.id)).toEqual(ids.slice(0, 3));
    expect(first.meta.has_more).toBe(true);
    const next = (await t.request('GET', first.links.next.replace('http://localhost:80', ''))).json();
    expect(next.tickets.map((row: { id: number }) => row.id)).toEqual(ids.slice(3));
    expect(next.meta.has_more).toBe(false);
  });

  it('show_many answers the tickets asked for; filters by external_id; counts', async () => {
    const a = await ticket({ external_id: 'EXT-1' });
    const b = await ticket();
    const many = (await t.request('GET', `/api/v2/tickets/show_many?ids=${a.id},${b.id},999`)).json().tickets;
    expect(many.map((row: { id: number }) => row.id)).toEqual([a.id, b.id]);
    expect((await t.request('GET', '/api/v2/tickets?external_id=ext-1')).json().tickets.map((row: { id: number }) => row.id)).toEqual([a.id]);
    expect((await t.request('GET', '/api/v2/tickets/count')).json().count.value).toBe(2);
  });

  it('lists a user’s requested, CC’d and assigned tickets and an organization’s', async () => {
    const org = (await t.request('POST', '/api/v2/organizations', { body: { organization: { name: 'Org' } } })).json().organization.id;
    const requester = await t.user({ role: 'end-user', organization_id: org });
    const cc = await t.user({ role: 'end-user' });
    const agent = await t.user({ role: 'agent' });
    const one = await ticket({ requester_id: requester.id, email_cc_ids: [cc.id], assignee_id: agent.id });
    await ticket();
    const ids = async (url: string) => (await t.request('GET', url)).json().tickets.map((row: { id: number }) => row.id);
    expect(await ids(`/api/v2/users/${requester.id}/tickets/requested`)).toEqual([one.id]);
    expect(await ids(`/api/v2/users/${cc.id}/tickets/ccd`)).toEqual([one.id]);
    expect(await ids(`/api/v2/users/${agent.id}/tickets/assigned`)).toEqual([one.id]);
    expect(await ids(`/api/v2/organizations/${org}/tickets`)).toEqual([one.id]);
    const related = (await t.request('GET', `/api/v2/users/${requester.id}/related`)).json().user_related;
    expect(related).toMatchObject({ requested_tickets: 1, ccd_tickets: 0, assigned_tickets: 0 });
    expect((await t.request('GET', `/api/v2/users/${agent.id}/related`)).json().user_related.assigned_tickets).toBe(1);
    expect((await t.request('GET', `/api/v2/organizations/${org}/related`)).json().organization_related.tickets_count).toBe(1);
  });
});

describe('PUT /api/v2/tickets/:id', () => {
  it('updates fields, adds comments (public and internal) and tags', async () => {
    const agent = await t.user({ role: 'agent' });
    const created = await ticket({ tags: ['a'] });
    const response = await t.request('PUT', `/api/v2/tickets/${created.id}`, {
      body: { ticket: { subject: 'Renamed', assignee_id: agent.id, priority: 'low', additional_tags: ['b'], comment: { body: 'A note', public: false } } },
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().ticket).toMatchObject({ subject: 'Renamed', assignee_id: agent.id, status: 'open', priority: 'low', tags: ['a', 'b'], description: 'It is very colourful.' });
    await t.request('PUT', `/api/v2/tickets/${created.id}`, { body: { ticket: { remove_tags: ['a'], comment: { body: 'Public reply', author_id: agent.id } } } });
    const comments = (await t.request('GET', `/api/v2/tickets/${created.id}/comments`)).json().comments;
    expect(comments.map((c: { body: string; public: boolean }) => [c.body, c.public])).toEqual([['It is very colourful.', true], ['A note', false], ['Public reply', true]]);
    expect(comments[2].author_id).toBe(agent.id);
    expect((await t.request('GET', `/api/v2/tickets/${created.id}`)).json().ticket.tags).toEqual(['b']);
  });

  it('replaces CCs with email_cc_ids and edits them with email_ccs actions', async () => {
    const a = await t.user({ role: 'end-user' });
    const b = await t.user({ role: 'end-user' });
    const created = await ticket({ email_cc_ids: [a.id] });
    let updated = (await t.request('PUT', `/api/v2/tickets/${created.id}`, { body: { ticket: { email_ccs: [{ user_id: a.id, action: 'delete' }, { user_id: b.id, action: 'put' }] } } })).json().ticket;
    expect(updated.email_cc_ids).toEqual([b.id]);
    updated = (await t.request('PUT', `/api/v2/tickets/${created.id}`, { body: { ticket: { email_cc_ids: [] } } })).json().ticket;
    expect(updated.email_cc_ids).toEqual([]);
  });

  it('followers must be agents (422 for an end user)', async () => {
    const agent = await t.user({ role: 'agent' });
    const endUser = await t.user({ role: 'end-user' });
    const created = await ticket();
    expect((await t.request('PUT', `/api/v2/tickets/${created.id}`, { body: { ticket: { follower_ids: [agent.id] } } })).json().ticket.follower_ids).toEqual([agent.id]);
    expect((await t.request('PUT', `/api/v2/tickets/${created.id}`, { body: { ticket: { follower_ids: [endUser.id] } } })).statusCode).toBe(422);
  });

  it('changing the requester to a new address creates that user and takes their organization', async () => {
    const created = await ticket();
    const response = await t.request('PUT', `/api/v2/tickets/${created.id}`, { body: { ticket: { requester: { name: 'Later', email: 'later@customer.test' } } } });
    expect(response.statusCode).toBe(200);
    expect(response.json().ticket.requester_id).toBe((await usersWithEmail('later@customer.test'))[0]);
  });

  it('answers 404 for an unknown ticket and 400 without a ticket object', async () => {
    expect((await t.request('PUT', '/api/v2/tickets/999999', { body: { ticket: { subject: 'x' } } })).statusCode).toBe(404);
    const created = await ticket();
    expect((await t.request('PUT', `/api/v2/tickets/${created.id}`, { body: { nope: 1 } })).statusCode).toBe(400);
  });
});

describe('Status rules', () => {
  it('refuses closed on update (422) and status new once a ticket moved on', async () => {
    const created = await ticket({ status: 'open' });
    expect((await t.request('PUT', `/api/v2/tickets/${created.id}`, { body: { ticket: { status: 'closed' } } })).statusCode).toBe(422);
    expect((await t.request('PUT', `/api/v2/tickets/${created.id}`, { body: { ticket: { status: 'new' } } })).statusCode).toBe(422);
    expect((await t.request('GET', `/api/v2/tickets/${created.id}`)).json().ticket.status).toBe('open');
  });

  it('auto-closes tickets solved more than auto_close_after_days ago (pinned clock), once', async () => {
    const solved = await ticket({ status: 'solved' });
    const open = await ticket({ status: 'open' });
    const now = Date.now();
    // Three days later: not yet (default 4 days).
    expect(await sweepSolvedTickets(t.runtime.database.db, new Date(now + 3 * DAY))).toBe(0);
    expect((await t.request('GET', `/api/v2/tickets/${solved.id}`)).json().ticket.status).toBe('solved');
    // Five days later: closed; the open ticket untouched; a second sweep finds nothing.
    expect(await sweepSolvedTickets(t.runtime.database.db, new Date(now + 5 * DAY))).toBe(1);
    expect((await t.request('GET', `/api/v2/tickets/${solved.id}`)).json().ticket.status).toBe('closed');
    expect((await t.request('GET', `/api/v2/tickets/${open.id}`)).json().ticket.status).toBe('open');
    expect(await sweepSolvedTickets(t.runtime.database.db, new Date(now + 6 * DAY))).toBe(0);
    const audits = await t.runtime.database.db.selectFrom('audit_events').selectAll().where('action', '=', 'ticket.close').execute();
    expect(audits).toHaveLength(1);
    expect(audits[0]?.actor_id).toBeNull();
  });

  it('follows the account setting and catches up a backlog in batches after downtime', async () => {
    const set = await t.request('PUT', '/api/v2/account/settings', { body: { settings: { auto_close_after_days: 1 } } });
    expect(set.json().settings.auto_close_after_days).toBe(1);
    expect((await t.request('PUT', '/api/v2/account/settings', { body: { settings: { auto_close_after_days: 0 } } })).statusCode).toBe(422);
    // A backlog larger than one batch, solved "long ago" (as after an outage): one sweep closes all.
    const first = await ticket({ status: 'solved' });
    const db = t.runtime.database.db;
    await sql`INSERT INTO tickets (account_id, subject, status, requester_id, submitter_id, solved_at)
      SELECT ${t.account.id}, 'bulk', 'solved', ${t.owner.id}, ${t.owner.id}, now() - interval '30 days' FROM generate_series(1, 520)`.execute(db);
    // The scheduled run (queued at every start, real clock) may close some of these backdated
    // tickets at the same time: between them every ticket is closed exactly once.
    await sweepSolvedTickets(db, new Date(Date.now() + 2 * DAY));
    // Rows the scheduled run had locked were skipped (SKIP LOCKED) and are its to commit: give it a moment.
    let left = await db.selectFrom('tickets').select('id').where('status', '=', 'solved').execute();
    for (let attempt = 0; attempt < 100 && left.length > 0; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      left = await db.selectFrom('tickets').select('id').where('status', '=', 'solved').execute();
    }
    expect(left).toEqual([]);
    const audits = await db.selectFrom('audit_events').select('target_id').where('action', '=', 'ticket.close').execute();
    expect(audits).toHaveLength(521);
    expect(new Set(audits.map((row) => row.target_id)).size).toBe(521);
    expect((await t.request('GET', `/api/v2/tickets/${first.id}`)).json().ticket.status).toBe('closed');
  });

  it('reopening a solved ticket stops its auto-close clock', async () => {
    const created = await ticket({ status: 'solved' });
    await t.request('PUT', `/api/v2/tickets/${created.id}`, { body: { ticket: { status: 'open' } } });
    expect(await sweepSolvedTickets(t.runtime.database.db, new Date(Date.now() + 30 * DAY))).toBe(0);
  });

  it('a closed ticket takes no update (422), not even a comment', async () => {
    const created = await ticket({ status: 'solved' });
    await sweepSolvedTickets(t.runtime.database.db, new Date(Date.now() + 5 * DAY));
    for (const body of [{ subject: 'x' }, { comment: { body: 'late' } }, { status: 'open' }, {}]) {
      const response = await t.request('PUT', `/api/v2/tickets/${created.id}`, { body: { ticket: body } });
      expect(response.statusCode, JSON.stringify(body)).toBe(422);
    }
    expect((await t.request('GET', `/api/v2/tickets/${created.id}/comments`)).json().comments).toHaveLength(1);
  });

  it('POST /api/v2/tickets/close_solved closes solved tickets now (all, or the ids given)', async () => {
    const a = await ticket({ status: 'solved' });
    const b = await ticket({ status: 'solved' });
    const open = await ticket({ status: 'open' });
    const some = await t.request('POST', '/api/v2/tickets/close_solved', { body: { ids: [a.id, open.id] } });
    expect(some.statusCode, some.body).toBe(200);
    expect(some.json()).toEqual({ closed: 1, ticket_ids: [a.id] });
    const rest = await t.request('POST', '/api/v2/tickets/close_solved');
    expect(rest.json()).toEqual({ closed: 1, ticket_ids: [b.id] });
    expect((await t.request('POST', '/api/v2/tickets/close_solved')).json().closed).toBe(0);
    const agent = await t.user({ role: 'agent' });
    expect((await t.request('POST', '/api/v2/tickets/close_solved', { as: agent })).statusCode).toBe(403);
    const audit = await t.runtime.database.db.selectFrom('audit_events').selectAll().where('action', '=', 'ticket.close').execute();
    expect(audit.map((row) => row.actor_id)).toEqual([t.owner.id, t.owner.id]);
  });
});

describe('DELETE /api/v2/tickets/:id and destroy_many', () => {
  it('soft-deletes: the ticket leaves reads and lists', async () => {
    const created = await ticket();
    expect((await t.request('DELETE', `/api/v2/tickets/${created.id}`)).statusCode).toBe(204);
    expect((await t.request('GET', `/api/v2/tickets/${created.id}`)).statusCode).toBe(404);
    expect((await t.request('GET', '/api/v2/tickets')).json().tickets).toEqual([]);
    const row = await t.runtime.database.db.selectFrom('tickets').selectAll().where('id', '=', created.id as number).executeTakeFirstOrThrow();
    expect(row.deleted_at).not.toBeNull();
    expect(row.deleted_by_id).toBe(t.owner.id);
    expect((await t.request('DELETE', `/api/v2/tickets/${created.id}`)).statusCode).toBe(404);
  });

  it('needs ticket_deletion', async () => {
    const role = (await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: { name: 'NoDelete', configuration: { ticket_deletion: false } } } })).json().custom_role.id;
    const agent = await t.user({ role: 'agent', custom_role_id: role });
    const created = await ticket();
    expect((await t.request('DELETE', `/api/v2/tickets/${created.id}`, { as: agent })).statusCode).toBe(403);
  });

  it('destroy_many deletes up to 100 as a job; failures do not stop the others', async () => {
    const a = await ticket();
    const b = await ticket();
    const response = await t.request('DELETE', `/api/v2/tickets/destroy_many?ids=${a.id},999999,${b.id}`);
    expect(response.statusCode).toBe(200);
    const job = await t.waitForJob(response.json().job_status.id);
    expect(job.status).toBe('completed');
    const results = job.results as { id: number; success: boolean }[];
    expect(results.map((row) => [row.id, row.success])).toEqual([[a.id, true], [999999, false], [b.id, true]]);
    expect((await t.request('GET', '/api/v2/tickets')).json().tickets).toEqual([]);
    const tooMany = Array.from({ length: 101 }, (_, index) => index + 1).join(',');
    expect((await t.request('DELETE', `/api/v2/tickets/destroy_many?ids=${tooMany}`)).statusCode).toBe(400);
  });
});

describe('GET /api/v2/tickets/:id/comments', () => {
  it('pages comments with cursors and offsets, ascending or descending', async () => {
    const created = await ticket();
    for (const body of ['two', 'three', 'four']) await t.request('PUT', `/api/v2/tickets/${created.id}`, { body: { ticket: { comment: { body } } } });
    const page = (await t.request('GET', `/api/v2/tickets/${created.id}/comments?page[size]=2`)).json();
    expect(page.comments.map((c: { body: string }) => c.body)).toEqual(['It is very colourful.', 'two']);
    const next = (await t.request('GET', page.links.next.replace('http://localhost:80', ''))).json();
    expect(next.comments.map((c: { body: string }) => c.body)).toEqual(['three', 'four']);
    const desc = (await t.request('GET', `/api/v2/tickets/${created.id}/comments?sort_order=desc&per_page=3`)).json();
    expect(desc.comments.map((c: { body: string }) => c.body)).toEqual(['four', 'three', 'two']);
    expect(desc.count).toBe(4);
  });
});

describe('Uploads and attachments', () => {
  it('uploads a file, attaches it to a comment by token, and serves it back', async () => {
    const upload = await t.runtime.app.inject({
      method: 'POST',
      url: '/api/v2/uploads?filename=notes%20v1.txt',
      headers: { ...t.owner.headers, 'content-type': 'text/plain' },
      payload: 'hello file',
    });
    expect(upload.statusCode, upload.body).toBe(201);
    const { token, attachment } = upload.json().upload;
    expect(attachment).toMatchObject({ file_name: 'notes v1.txt', content_type: 'text/plain', size: 10 });
    const created = await ticket({ comment: { body: 'see file', uploads: [token] } });
    const [comment] = (await t.request('GET', `/api/v2/tickets/${created.id}/comments`)).json().comments;
    expect(comment.attachments).toHaveLength(1);
    const content = await t.request('GET', `/api/v2/attachments/${comment.attachments[0].id}/content`);
    expect(content.statusCode).toBe(200);
    expect(content.body).toBe('hello file');
    expect(content.headers['content-disposition']).toContain('attachment');
    // A token attaches once.
    const again = await t.request('POST', '/api/v2/tickets', { body: { ticket: { comment: { body: 'again', uploads: [token] } } } });
    expect(again.statusCode).toBe(422);
  });

  it('takes JSON and binary bodies as files; refuses another user’s token; deletes unattached uploads', async () => {
    const agent = await t.user({ role: 'agent' });
    const upload = await t.runtime.app.inject({ method: 'POST', url: '/api/v2/uploads?filename=data.json', headers: { ...t.owner.headers, 'content-type': 'application/json' }, payload: '{"a":1}' });
    expect(upload.statusCode, upload.body).toBe(201);
    const { token, attachment } = upload.json().upload;
    expect(attachment.size).toBe(7);
    expect((await t.request('POST', '/api/v2/tickets', { as: agent, body: { ticket: { comment: { body: 'x', uploads: [token] } } } })).statusCode).toBe(422);
    const key = (await t.runtime.database.db.selectFrom('ticket_attachments').select('storage_key').where('token', '=', token).executeTakeFirstOrThrow()).storage_key;
    expect(await t.runtime.storage.get(key)).toBeDefined();
    expect((await t.request('DELETE', `/api/v2/uploads/${token}`, { as: agent })).statusCode).toBe(404);
    expect((await t.request('DELETE', `/api/v2/uploads/${token}`)).statusCode).toBe(204);
    expect(await t.runtime.storage.get(key)).toBeUndefined();
  });

  it('expires uploads never attached within three days (bytes and row), keeps attached ones (pinned clock)', async () => {
    const upload = async (): Promise<string> => {
      const response = await t.runtime.app.inject({ method: 'POST', url: '/api/v2/uploads?filename=a.txt', headers: { ...t.owner.headers, 'content-type': 'text/plain' }, payload: 'bytes' });
      return response.json().upload.token as string;
    };
    const loose = await upload();
    const attached = await upload();
    await ticket({ comment: { body: 'with file', uploads: [attached] } });
    const db = t.runtime.database.db;
    const keyOf = async (token: string) => (await db.selectFrom('ticket_attachments').select('storage_key').where('token', '=', token).executeTakeFirstOrThrow()).storage_key;
    const looseKey = await keyOf(loose);
    const attachedKey = await keyOf(attached);
    expect(await expireUploads(db, t.runtime.storage, new Date(Date.now() + 2 * DAY))).toBe(0);
    expect(await expireUploads(db, t.runtime.storage, new Date(Date.now() + 4 * DAY))).toBe(1);
    expect(await t.runtime.storage.get(looseKey)).toBeUndefined();
    expect(await db.selectFrom('ticket_attachments').select('id').where('token', '=', loose).executeTakeFirst()).toBeUndefined();
    expect(await t.runtime.storage.get(attachedKey)).toBeDefined();
    expect(await expireUploads(db, t.runtime.storage, new Date(Date.now() + 4 * DAY))).toBe(0);
  });

  it('needs a filename (400) and authentication (401)', async () => {
    expect((await t.runtime.app.inject({ method: 'POST', url: '/api/v2/uploads', headers: { ...t.owner.headers, 'content-type': 'text/plain' }, payload: 'x' })).statusCode).toBe(400);
    expect((await t.runtime.app.inject({ method: 'POST', url: '/api/v2/uploads?filename=a.txt', headers: { 'content-type': 'text/plain' }, payload: 'x' })).statusCode).toBe(401);
  });
});

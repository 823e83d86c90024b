import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type Caller, type TestApp } from '../helpers.ts';
import { agentWithRole, columnsContaining, upload } from './ticket-privacy-helpers.ts';

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

async function suspendedUser(name = 'Sam Suspended', email = `sam-${Math.random().toString(36).slice(2, 8)}@mail.test`): Promise<Caller> {
  const user = await t.user({ role: 'end-user', name, email });
  const response = await t.request('PUT', `/api/v2/users/${user.id}`, { body: { user: { suspended: true, suspension_reason: 'objection' } } });
  expect(response.statusCode, response.body).toBe(200);
  return user;
}

async function suspendedTicket(requesterId: number, fields: Record<string, unknown> = {}): Promise<Record<string, unknown> & { id: number }> {
  const response = await t.request('POST', '/api/v2/tickets', { body: { ticket: { subject: 'Please stop', requester_id: requesterId, comment: { body: 'Objection text' }, ...fields } } });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().suspended_ticket;
}

async function ticketCount(): Promise<number> {
  const row = await t.runtime.database.db.selectFrom('tickets').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('Submissions from suspended users', () => {
  it('a ticket for a suspended requester becomes a suspended ticket (201, cause recorded), not a ticket', async () => {
    const sam = await suspendedUser('Sam Suspended', 'sam@mail.test');
    const response = await t.request('POST', '/api/v2/tickets', { body: { ticket: { subject: 'Please stop', requester_id: sam.id, priority: 'high', tags: ['gdpr'], comment: { body: 'Objection text' } } } });
    expect(response.statusCode, response.body).toBe(201);
    const suspended = response.json().suspended_ticket;
    expect(suspended).toMatchObject({
      subject: 'Please stop',
      content: 'Objection text',
      cause: 'Suspended user',
      cause_id: 1,
      author: { id: sam.id, name: 'Sam Suspended', email: 'sam@mail.test' },
      ticket_id: null,
      via: { channel: 'api' },
      attachments: [],
      error_messages: null,
    });
    expect(response.headers.location).toContain(`/api/v2/suspended_tickets/${suspended.id}.json`);
    expect(await ticketCount()).toBe(0);
    const audit = await t.runtime.database.db.selectFrom('audit_events').select(['actor_id', 'target_id']).where('action', '=', 'suspended_ticket.create').execute();
    expect(audit).toEqual([{ actor_id: t.owner.id, target_id: String(suspended.id) }]);
  });

  it('matches the suspended user by any of their addresses, on tickets and anonymous requests alike', async () => {
    const sam = await suspendedUser('Sam Suspended', 'sam@mail.test');
    await t.request('POST', `/api/v2/users/${sam.id}/identities`, { body: { identity: { type: 'email', value: 'sam.second@mail.test' } } });
    const byEmail = await t.request('POST', '/api/v2/tickets', { body: { ticket: { requester: { name: 'Sam', email: 'SAM.second@mail.test' }, comment: { body: 'by address' } } } });
    expect(byEmail.statusCode, byEmail.body).toBe(201);
    expect(byEmail.json().suspended_ticket.author.id).toBe(sam.id);

    expect((await t.request('PUT', '/api/v2/account/settings', { body: { settings: { anonymous_requests: true } } })).statusCode).toBe(200);
    const request = await t.request('POST', '/api/v2/requests', { as: null, body: { request: { requester: { name: 'Sam', email: 'sam.second@mail.test' }, subject: 'Web form', comment: { body: 'from the form' } } } });
    expect(request.statusCode, request.body).toBe(201);
    expect(request.json().suspended_ticket).toMatchObject({ subject: 'Web form', content: 'from the form', cause: 'Suspended user', via: { channel: 'web' } });
    // The anonymous submitter is not told who holds the address they gave.
    expect(request.json().suspended_ticket.author).toEqual({ id: null, name: null, email: null });
    expect(request.body).not.toContain('Sam Suspended');
    expect(await ticketCount()).toBe(0);
  });

  it('keeps the uploads with the suspended ticket', async () => {
    const sam = await suspendedUser();
    const token = await upload(t, 'evidence.txt', 'EVIDENCE');
    const suspended = await suspendedTicket(sam.id, { comment: { body: 'see file', uploads: [token] } });
    expect(suspended.attachments).toEqual([expect.objectContaining({ file_name: 'evidence.txt', size: 8 })]);
  });
});

describe('GET /api/v2/suspended_tickets and /api/v2/suspended_tickets/:id', () => {
  it('lists the queue (offset and cursor, sorts) and shows one', async () => {
    const sam = await suspendedUser('Sam', 'b-sam@mail.test');
    const zoe = await suspendedUser('Zoe', 'a-zoe@mail.test');
    const first = await suspendedTicket(sam.id, { subject: 'Zulu' });
    const second = await suspendedTicket(zoe.id, { subject: 'Alpha' });
    const ids = async (query: string) => ((await t.request('GET', `/api/v2/suspended_tickets?${query}`)).json().suspended_tickets as { id: number }[]).map((row) => row.id);
    expect(await ids('')).toEqual([first.id, second.id]);
    expect(await ids('sort_by=subject')).toEqual([second.id, first.id]);
    expect(await ids('sort_by=author_email&sort_order=desc')).toEqual([first.id, second.id]);
    expect(await ids('sort_by=created_at&sort_order=desc')).toEqual([second.id, first.id]);
    const cursor = (await t.request('GET', '/api/v2/suspended_tickets?page[size]=1')).json();
    expect(cursor.suspended_tickets.map((row: { id: number }) => row.id)).toEqual([first.id]);
    expect(cursor.meta.has_more).toBe(true);
    expect((await t.request('GET', '/api/v2/suspended_tickets?per_page=1')).json()).toMatchObject({ count: 2 });
    expect((await t.request('GET', '/api/v2/suspended_tickets?sort_by=subject&page[size]=1')).statusCode).toBe(400);
    expect((await t.request('GET', '/api/v2/suspended_tickets?sort_by=nope')).statusCode).toBe(400);

    const shown = await t.request('GET', `/api/v2/suspended_tickets/${first.id}`);
    expect(shown.statusCode).toBe(200);
    expect(shown.json().suspended_ticket).toEqual(first);
    expect((await t.request('GET', '/api/v2/suspended_tickets/999999')).statusCode).toBe(404);
  });

  it('is for admins and agents with access to all tickets', async () => {
    const endUser = await t.user({ role: 'end-user', name: 'End User' });
    const restricted = await agentWithRole(t, 'Restricted', { ticket_access: 'within-groups' });
    const agent = await t.user({ role: 'agent', name: 'Agent' });
    expect((await t.request('GET', '/api/v2/suspended_tickets', { as: endUser })).statusCode).toBe(403);
    const refused = await t.request('GET', '/api/v2/suspended_tickets', { as: restricted });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().description).toContain('suspended tickets');
    expect((await t.request('GET', '/api/v2/suspended_tickets', { as: agent })).statusCode).toBe(200);
    expect((await t.request('GET', '/api/v2/suspended_tickets', { as: null })).statusCode).toBe(401);
  });
});

describe('PUT /api/v2/suspended_tickets/:id/recover', () => {
  it('creates the ticket with the calling agent as requester and the author as author of its first comment; the suspended ticket is gone', async () => {
    const sam = await suspendedUser();
    const agent = await t.user({ role: 'agent', name: 'Recovering Agent' });
    const token = await upload(t, 'evidence.txt', 'EVIDENCE');
    const suspended = await suspendedTicket(sam.id, { priority: 'high', comment: { body: 'Objection text', uploads: [token] } });
    const response = await t.request('PUT', `/api/v2/suspended_tickets/${suspended.id}/recover`, { as: agent });
    expect(response.statusCode, response.body).toBe(200);
    const [ticket] = response.json().ticket;
    expect(ticket).toMatchObject({ subject: 'Please stop', description: 'Objection text', requester_id: agent.id, priority: 'high', status: 'new' });
    const [comment] = (await t.request('GET', `/api/v2/tickets/${ticket.id}/comments`)).json().comments;
    expect(comment).toMatchObject({ author_id: sam.id, body: 'Objection text', attachments: [expect.objectContaining({ file_name: 'evidence.txt' })] });
    expect((await t.request('GET', `/api/v2/attachments/${comment.attachments[0].id}/content`)).body).toBe('EVIDENCE');
    expect((await t.request('GET', `/api/v2/suspended_tickets/${suspended.id}`)).statusCode).toBe(404);
    expect((await t.request('PUT', `/api/v2/suspended_tickets/${suspended.id}/recover`)).statusCode).toBe(404);
    const audit = await t.runtime.database.db.selectFrom('audit_events').select('action').where('target_type', '=', 'suspended_ticket').where('target_id', '=', String(suspended.id)).orderBy('id').execute();
    expect(audit.map((row) => row.action)).toEqual(['suspended_ticket.create', 'suspended_ticket.recover']);
  });

  it('refuses end users and restricted agents', async () => {
    const sam = await suspendedUser();
    const suspended = await suspendedTicket(sam.id);
    const restricted = await agentWithRole(t, 'Restricted', { ticket_access: 'assigned-only' });
    expect((await t.request('PUT', `/api/v2/suspended_tickets/${suspended.id}/recover`, { as: restricted })).statusCode).toBe(403);
    expect(await ticketCount()).toBe(0);
  });
});

describe('PUT /api/v2/suspended_tickets/recover_many', () => {
  it('keeps the author as requester; while they are still suspended the ticket stays suspended, listed with error_messages', async () => {
    const sam = await suspendedUser();
    const first = await suspendedTicket(sam.id, { subject: 'First' });
    const second = await suspendedTicket(sam.id, { subject: 'Second' });
    const refused = await t.request('PUT', `/api/v2/suspended_tickets/recover_many?ids=${first.id},${second.id}`);
    expect(refused.statusCode, refused.body).toBe(200);
    expect(refused.json().tickets).toEqual([]);
    expect(refused.json().suspended_tickets).toEqual([
      expect.objectContaining({ id: first.id, error_messages: [{ error: 'InvalidValue', description: expect.stringContaining('still suspended') }] }),
      expect.objectContaining({ id: second.id, error_messages: [expect.objectContaining({ error: 'InvalidValue' })] }),
    ]);
    expect(await ticketCount()).toBe(0);

    expect((await t.request('PUT', `/api/v2/users/${sam.id}`, { body: { user: { suspended: false } } })).statusCode).toBe(200);
    const recovered = await t.request('PUT', `/api/v2/suspended_tickets/recover_many?ids=${first.id},${second.id}`);
    expect(recovered.statusCode, recovered.body).toBe(200);
    expect(recovered.json().suspended_tickets).toBeUndefined();
    expect(recovered.json().tickets.map((ticket: { subject: string; requester_id: number }) => [ticket.subject, ticket.requester_id])).toEqual([['First', sam.id], ['Second', sam.id]]);
    expect((await t.request('GET', '/api/v2/suspended_tickets')).json().suspended_tickets).toEqual([]);
  });

  it('answers 404 when an id is not in the queue, 400 without ids', async () => {
    const sam = await suspendedUser();
    const suspended = await suspendedTicket(sam.id);
    expect((await t.request('PUT', `/api/v2/suspended_tickets/recover_many?ids=${suspended.id},999999`)).statusCode).toBe(404);
    expect((await t.request('PUT', '/api/v2/suspended_tickets/recover_many')).statusCode).toBe(400);
  });
});

describe('DELETE /api/v2/suspended_tickets/:id and destroy_many', () => {
  it('deletes suspended tickets with their files, leaving no copy of their content', async () => {
    const sam = await suspendedUser();
    const token = await upload(t, 'objection-file.txt', 'OBJECTION BYTES');
    const one = await suspendedTicket(sam.id, { comment: { body: 'Unique objection words', uploads: [token] } });
    const two = await suspendedTicket(sam.id);
    const three = await suspendedTicket(sam.id);
    const db = t.runtime.database.db;
    const file = await db.selectFrom('ticket_attachments').select('storage_key').where('suspended_ticket_id', '=', one.id).executeTakeFirstOrThrow();

    expect((await t.request('DELETE', `/api/v2/suspended_tickets/${one.id}`)).statusCode).toBe(204);
    expect(await t.runtime.storage.get(file.storage_key)).toBeUndefined();
    expect(await columnsContaining(t, 'Unique objection words')).toEqual([]);
    expect(await columnsContaining(t, 'objection-file')).toEqual([]);

    // All or none.
    expect((await t.request('DELETE', `/api/v2/suspended_tickets/destroy_many?ids=${two.id},999999`)).statusCode).toBe(404);
    expect((await t.request('DELETE', `/api/v2/suspended_tickets/destroy_many?ids=${two.id},${three.id}`)).statusCode).toBe(204);
    expect((await t.request('GET', '/api/v2/suspended_tickets')).json().suspended_tickets).toEqual([]);
    expect((await t.request('DELETE', `/api/v2/suspended_tickets/${one.id}`)).statusCode).toBe(404);
    const audit = await db.selectFrom('audit_events').select('target_id').where('action', '=', 'suspended_ticket.delete').orderBy('id').execute();
    expect(audit.map((row) => Number(row.target_id))).toEqual([one.id, two.id, three.id]);
  });

  it('refuses end users and restricted agents', async () => {
    const sam = await suspendedUser();
    const suspended = await suspendedTicket(sam.id);
    const endUser = await t.user({ role: 'end-user', name: 'End User' });
    const restricted = await agentWithRole(t, 'Restricted', { ticket_access: 'within-organization' });
    expect((await t.request('DELETE', `/api/v2/suspended_tickets/${suspended.id}`, { as: endUser })).statusCode).toBe(403);
    expect((await t.request('DELETE', `/api/v2/suspended_tickets/destroy_many?ids=${suspended.id}`, { as: restricted })).statusCode).toBe(403);
    expect((await t.request('GET', `/api/v2/suspended_tickets/${suspended.id}`)).statusCode).toBe(200);
  });
});

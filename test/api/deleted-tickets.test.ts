import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';
import { agentWithRole, columnsContaining, createTicket, upload } from './ticket-privacy-helpers.ts';

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

async function deleted(fields: Record<string, unknown> = {}): Promise<number> {
  const { id } = await createTicket(t, fields);
  const response = await t.request('DELETE', `/api/v2/tickets/${id}`);
  expect(response.statusCode, response.body).toBe(204);
  return id;
}

describe('GET /api/v2/deleted_tickets', () => {
  it('lists soft-deleted tickets with who deleted them and their previous state, oldest first', async () => {
    const first = await deleted({ subject: 'Bravo' });
    const second = await deleted({ subject: 'Alpha', status: 'pending' });
    await createTicket(t, { subject: 'Live' });
    const response = await t.request('GET', '/api/v2/deleted_tickets');
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body.count).toBe(2);
    expect(body.deleted_tickets).toEqual([
      { id: first, subject: 'Bravo', deleted_at: expect.any(String), previous_state: 'new', actor: { id: t.owner.id, name: 'Olivia Owner' } },
      { id: second, subject: 'Alpha', deleted_at: expect.any(String), previous_state: 'pending', actor: { id: t.owner.id, name: 'Olivia Owner' } },
    ]);
  });

  it('sorts by id, subject or deleted_at in either order, pages by offset or cursor', async () => {
    const a = await deleted({ subject: 'Charlie' });
    const b = await deleted({ subject: 'Alpha' });
    const c = await deleted({ subject: 'Bravo' });
    const ids = async (query: string) => ((await t.request('GET', `/api/v2/deleted_tickets?${query}`)).json().deleted_tickets as { id: number }[]).map((row) => row.id);
    expect(await ids('sort_by=subject')).toEqual([b, c, a]);
    expect(await ids('sort_by=subject&sort_order=desc')).toEqual([a, c, b]);
    expect(await ids('sort_by=deleted_at&sort_order=desc')).toEqual([c, b, a]);
    expect(await ids('sort_by=id&sort_order=desc')).toEqual([c, b, a]);
    const page = await t.request('GET', '/api/v2/deleted_tickets?per_page=2&page=2');
    expect(page.json()).toMatchObject({ count: 3, deleted_tickets: [{ id: c }], next_page: null });
    const cursor = (await t.request('GET', '/api/v2/deleted_tickets?page[size]=2')).json();
    expect(cursor.deleted_tickets.map((row: { id: number }) => row.id)).toEqual([a, b]);
    expect(cursor.meta.has_more).toBe(true);
    const next = (await t.request('GET', `/api/v2/deleted_tickets?page[size]=2&page[after]=${cursor.meta.after_cursor}`)).json();
    expect(next.deleted_tickets.map((row: { id: number }) => row.id)).toEqual([c]);
    expect((await t.request('GET', '/api/v2/deleted_tickets?sort_by=name')).statusCode).toBe(400);
    expect((await t.request('GET', '/api/v2/deleted_tickets?sort_by=subject&page[size]=2')).statusCode).toBe(400);
  });

  it('needs view_deleted_tickets, and shows a restricted agent only the tickets of its scope', async () => {
    await deleted();
    const blind = await agentWithRole(t, 'No deleted view', { view_deleted_tickets: false });
    const refused = await t.request('GET', '/api/v2/deleted_tickets', { as: blind });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().description).toContain('view_deleted_tickets');
    const endUser = await t.user({ role: 'end-user', name: 'End User' });
    expect((await t.request('GET', '/api/v2/deleted_tickets', { as: endUser })).statusCode).toBe(403);
    const restricted = await agentWithRole(t, 'Restricted', { ticket_access: 'assigned-only' });
    expect((await t.request('GET', '/api/v2/deleted_tickets', { as: restricted })).json()).toMatchObject({ count: 0, deleted_tickets: [] });
  });
});

describe('PUT /api/v2/deleted_tickets/:ticket_id/restore and restore_many', () => {
  it('brings tickets back (audited), all or none', async () => {
    const one = await deleted();
    const two = await deleted();
    const three = await deleted();
    const restored = await t.request('PUT', `/api/v2/deleted_tickets/${one}/restore`);
    expect(restored.statusCode, restored.body).toBe(200);
    expect((await t.request('GET', `/api/v2/tickets/${one}`)).statusCode).toBe(200);
    // One unknown id: nothing is restored.
    expect((await t.request('PUT', `/api/v2/deleted_tickets/restore_many?ids=${two},999999`)).statusCode).toBe(404);
    expect((await t.request('GET', `/api/v2/tickets/${two}`)).statusCode).toBe(404);
    const many = await t.request('PUT', `/api/v2/deleted_tickets/restore_many?ids=${two},${three}`);
    expect(many.statusCode, many.body).toBe(200);
    expect((await t.request('GET', '/api/v2/deleted_tickets')).json().count).toBe(0);
    const audit = await t.runtime.database.db.selectFrom('audit_events').select('target_id').where('action', '=', 'ticket.restore').orderBy('id').execute();
    expect(audit.map((row) => Number(row.target_id))).toEqual([one, two, three]);
  });

  it('refuses a live ticket (404), callers without ticket_deletion (403), restore_many without bulk_actions (403) or ids (400)', async () => {
    const { id: live } = await createTicket(t);
    expect((await t.request('PUT', `/api/v2/deleted_tickets/${live}/restore`)).statusCode).toBe(404);
    const gone = await deleted();
    const noDelete = await agentWithRole(t, 'No deletion', { ticket_deletion: false });
    expect((await t.request('PUT', `/api/v2/deleted_tickets/${gone}/restore`, { as: noDelete })).statusCode).toBe(403);
    const noBulk = await agentWithRole(t, 'No bulk', { bulk_actions: false });
    expect((await t.request('PUT', `/api/v2/deleted_tickets/restore_many?ids=${gone}`, { as: noBulk })).statusCode).toBe(403);
    expect((await t.request('PUT', '/api/v2/deleted_tickets/restore_many')).statusCode).toBe(400);
    expect((await t.request('PUT', `/api/v2/deleted_tickets/restore_many?ids=${Array.from({ length: 101 }, (_, i) => i + 1).join(',')}`)).statusCode).toBe(400);
  });
});

describe('DELETE /api/v2/deleted_tickets/:ticket_id and destroy_many', () => {
  it('permanently deletes: only the anonymous record remains — no text, no people, no files', async () => {
    const requesterEmail = 'purge-requester@mail.test';
    const ccEmail = 'purge-cc@mail.test';
    const token = await upload(t, 'purge-secret-file.txt', 'PURGE FILE BYTES');
    const group = (await t.request('POST', '/api/v2/groups', { body: { group: { name: 'Purge group' } } })).json().group.id as number;
    const { id } = await createTicket(t, {
      subject: 'Purge subject words',
      requester: { name: 'Purge Requester', email: requesterEmail },
      email_ccs: [{ user_email: ccEmail }],
      group_id: group,
      status: 'pending',
      comment: { body: 'Purge body words', uploads: [token] },
    });
    await t.request('PUT', `/api/v2/tickets/${id}`, { body: { ticket: { comment: { body: 'Purge note words', public: false } } } });
    const db = t.runtime.database.db;
    const file = await db.selectFrom('ticket_attachments').select('storage_key').where('ticket_id', '=', id).executeTakeFirstOrThrow();
    const created = await db.selectFrom('tickets').select('created_at').where('id', '=', id).executeTakeFirstOrThrow();
    expect((await t.request('DELETE', `/api/v2/tickets/${id}`)).statusCode).toBe(204);

    const response = await t.request('DELETE', `/api/v2/deleted_tickets/${id}`);
    expect(response.statusCode, response.body).toBe(200);
    const job = await t.waitForJob(response.json().job_status.id);
    expect(job).toMatchObject({ status: 'completed', results: [{ index: 0, id, success: true, status: 'Deleted' }] });

    for (const text of ['Purge subject words', 'Purge body words', 'Purge note words', 'purge-secret-file', 'PURGE FILE BYTES']) {
      expect(await columnsContaining(t, text), text).toEqual([]);
    }
    expect(await t.runtime.storage.get(file.storage_key)).toBeUndefined();
    expect(await db.selectFrom('tickets').select('id').where('id', '=', id).execute()).toEqual([]);
    for (const table of ['ticket_comments', 'ticket_attachments', 'ticket_collaborators'] as const) {
      expect(await db.selectFrom(table).select('ticket_id').where('ticket_id', '=', id).execute(), table).toEqual([]);
    }
    const records = await db.selectFrom('deleted_ticket_records').selectAll().execute();
    expect(records).toEqual([
      { account_id: t.account.id, ticket_id: id, status: 'pending', via_channel: 'api', group_id: group, ticket_created_at: created.created_at, deleted_at: expect.any(Date), purged_at: expect.any(Date) },
    ]);
    // The people stay users (their own deletion is a separate step, DOMAIN.md §6), but the ticket no longer names them.
    expect((await t.request('GET', `/api/v2/tickets/${id}`)).statusCode).toBe(404);
    expect((await t.request('GET', '/api/v2/deleted_tickets')).json().count).toBe(0);
    const audit = await db.selectFrom('audit_events').selectAll().where('action', '=', 'ticket.purge').execute();
    expect(audit.map((row) => [row.target_id, row.changed_fields])).toEqual([[String(id), []]]);
  });

  it('answers 404 now for a ticket that is not soft-deleted, 403 without ticket_deletion', async () => {
    const { id } = await createTicket(t);
    expect((await t.request('DELETE', `/api/v2/deleted_tickets/${id}`)).statusCode).toBe(404);
    expect((await t.request('DELETE', '/api/v2/deleted_tickets/999999')).statusCode).toBe(404);
    const gone = await deleted();
    const noDelete = await agentWithRole(t, 'No deletion', { ticket_deletion: false });
    expect((await t.request('DELETE', `/api/v2/deleted_tickets/${gone}`, { as: noDelete })).statusCode).toBe(403);
  });

  it('destroy_many runs as a job in which a failing ticket does not stop the others', async () => {
    const one = await deleted();
    const { id: live } = await createTicket(t);
    const two = await deleted();
    const response = await t.request('DELETE', `/api/v2/deleted_tickets/destroy_many?ids=${one},${live},${two}`);
    expect(response.statusCode, response.body).toBe(200);
    const job = await t.waitForJob(response.json().job_status.id);
    expect(job.status).toBe('completed');
    expect(job.results).toEqual([
      { index: 0, id: one, success: true, status: 'Deleted', action: 'delete' },
      { index: 1, id: live, success: false, status: 'Failed', error: 'RecordNotFound', details: 'Not found' },
      { index: 2, id: two, success: true, status: 'Deleted', action: 'delete' },
    ]);
    const records = await t.runtime.database.db.selectFrom('deleted_ticket_records').select('ticket_id').orderBy('ticket_id').execute();
    expect(records.map((row) => row.ticket_id)).toEqual([one, two]);
    expect((await t.request('GET', `/api/v2/tickets/${live}`)).statusCode).toBe(200);
    const noBulk = await agentWithRole(t, 'No bulk', { bulk_actions: false });
    expect((await t.request('DELETE', `/api/v2/deleted_tickets/destroy_many?ids=${one}`, { as: noBulk })).statusCode).toBe(403);
    expect((await t.request('DELETE', `/api/v2/deleted_tickets/destroy_many?ids=${Array.from({ length: 101 }, (_, i) => i + 1).join(',')}`)).statusCode).toBe(400);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';
import { connect, isZendeskError, numberField, record, records, stringField, type ApiResponse, type ResourceClient, type Zendesk } from './zendesk-client.ts';

/**
 * The privacy side of tickets through the real node-zendesk client (v6) over TCP: its
 * `suspendedtickets.*` methods, `attachments.redactAttachmentComment` (a DELETE), and generic
 * requests for string redaction, agent-workspace redaction and the Deleted tickets view (the
 * client has no methods of its own for those). Typed as the library behaves (zendesk-client.ts).
 */
interface SuspendedTicketsClient extends ResourceClient {
  list(): Promise<unknown[]>;
  show(id: number): Promise<ApiResponse>;
  recover(id: number): Promise<ApiResponse>;
  recoverMany(ids: number[]): Promise<ApiResponse>;
  delete(id: number): Promise<ApiResponse>;
  destroyMany(ids: number[]): Promise<ApiResponse>;
  deleteMany(ids: number[]): Promise<ApiResponse>;
}
interface AttachmentsClient extends ResourceClient {
  redactAttachmentComment(ticketId: number, commentId: number, attachmentId: number): Promise<ApiResponse>;
}
interface TicketsClient extends ResourceClient {
  create(body: object): Promise<ApiResponse>;
  show(id: number): Promise<ApiResponse>;
  delete(id: number): Promise<ApiResponse>;
  getComments(id: number): Promise<unknown[]>;
}
type Client = Zendesk & { suspendedtickets: SuspendedTicketsClient; attachments: AttachmentsClient; tickets: TicketsClient };

let t: TestApp;
let client: Client;

beforeAll(async () => {
  t = await createTestApp();
  await t.runtime.app.listen({ port: 0, host: '127.0.0.1' });
  client = connect(t, { throwOriginalException: true }) as unknown as Client;
});
afterAll(async () => {
  await t?.close();
});

async function suspendedRequester(): Promise<number> {
  const user = await t.user({ role: 'end-user', name: 'Sam Suspended' });
  const response = await t.request('PUT', `/api/v2/users/${user.id}`, { body: { user: { suspended: true, suspension_reason: 'objection' } } });
  expect(response.statusCode, response.body).toBe(200);
  return user.id;
}

async function newTicket(fields: Record<string, unknown> = {}): Promise<number> {
  return numberField(record((await client.tickets.create({ ticket: { subject: 'Compat', comment: { body: 'Call me on +1 555 0100' }, ...fields } })).result, 'ticket'), 'id');
}

const rejectsWith = (status: number) => (error: unknown) => isZendeskError(error) && error.statusCode === status;

describe('node-zendesk suspendedtickets', () => {
  it('list, show, recover, recoverMany, delete and destroyMany', async () => {
    const sam = await suspendedRequester();
    const ids: number[] = [];
    for (let index = 0; index < 5; index += 1) {
      // A ticket for a suspended requester answers 201 with suspended_ticket: the tickets client hands back the body.
      const created = await client.tickets.create({ ticket: { subject: `Held ${index}`, requester_id: sam, comment: { body: 'held' } } });
      ids.push(numberField(record(record(created.result, 'created').suspended_ticket, 'suspended_ticket'), 'id'));
    }
    const listed = records(await client.suspendedtickets.list(), 'suspended tickets');
    expect(listed.map((row) => numberField(row, 'id'))).toEqual(ids);
    expect(stringField(listed[0] ?? {}, 'cause')).toBe('Suspended user');

    const shown = record((await client.suspendedtickets.show(ids[0] ?? 0)).result, 'shown');
    expect(shown).toMatchObject({ id: ids[0], subject: 'Held 0', author: { id: sam } });

    const recovered = record((await client.suspendedtickets.recover(ids[0] ?? 0)).result, 'recovered');
    const [ticket] = records(recovered.ticket, 'recovered tickets');
    expect(ticket).toMatchObject({ subject: 'Held 0', requester_id: t.owner.id });

    // The author is still suspended: recoverMany keeps them as requester, so nothing is recovered.
    const refused = records((await client.suspendedtickets.recoverMany([ids[1] ?? 0])).result, 'not recovered');
    expect(refused.map((row) => numberField(row, 'id'))).toEqual([ids[1]]);
    expect(records(refused[0]?.error_messages, 'error messages')[0]).toMatchObject({ error: 'InvalidValue' });
    await t.request('PUT', `/api/v2/users/${sam}`, { body: { user: { suspended: false } } });
    const many = record((await client.suspendedtickets.recoverMany([ids[1] ?? 0])).result, 'recovered many');
    expect(records(many.tickets, 'tickets').map((row) => numberField(row, 'requester_id'))).toEqual([sam]);

    await client.suspendedtickets.delete(ids[2] ?? 0);
    await expect(client.suspendedtickets.show(ids[2] ?? 0)).rejects.toSatisfy(rejectsWith(404));
    await client.suspendedtickets.destroyMany([ids[3] ?? 0]);
    await client.suspendedtickets.deleteMany([ids[4] ?? 0]);
    expect(await client.suspendedtickets.list()).toEqual([]);
  });

  it('surfaces a restricted agent\'s 403', async () => {
    const role = await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: { name: 'Compat restricted', configuration: { ticket_access: 'assigned-only' } } } });
    const agent = await t.user({ role: 'agent', name: 'Restricted', custom_role_id: role.json().custom_role.id });
    const restricted = connect(t, { throwOriginalException: true, username: agent.email, token: agent.token }) as unknown as Client;
    await expect(restricted.suspendedtickets.list()).rejects.toSatisfy(rejectsWith(403));
  });
});

describe('node-zendesk redaction requests', () => {
  it('redacts a string with PUT …/comments/{id}/redact and markup with PUT comment_redactions/{id}', async () => {
    const id = await newTicket();
    const [comment] = records(await client.tickets.getComments(id), 'comments');
    const commentId = numberField(comment ?? {}, 'id');
    const redacted = await client.tickets.request('PUT', ['tickets', id, 'comments', commentId, 'redact'], { text: '+1 555 0100' });
    const body = record(record(redacted.result, 'redacted').comment, 'comment');
    expect(stringField(body, 'body')).toBe('Call me on ▇▇▇▇▇▇▇▇▇▇▇');

    const html = stringField(body, 'html_body').replace('Call me', '<redact>Call me</redact>');
    const marked = await client.tickets.put(['comment_redactions', commentId], { ticket_id: id, html_body: html });
    expect(stringField(record(record(marked.result, 'marked').comment, 'comment'), 'plain_body')).toBe('▇▇▇▇▇▇▇ on ▇▇▇▇▇▇▇▇▇▇▇');
  });

  it('redacts an attachment with attachments.redactAttachmentComment (DELETE)', async () => {
    const upload = await t.runtime.app.inject({ method: 'POST', url: '/api/v2/uploads?filename=scan.txt', headers: { ...t.owner.headers, 'content-type': 'text/plain' }, payload: 'SCAN' });
    const id = await newTicket({ comment: { body: 'scan', uploads: [upload.json().upload.token] } });
    const [comment] = records(await client.tickets.getComments(id), 'comments');
    const attachment = records(comment?.attachments, 'attachments')[0] ?? {};
    const result = record((await client.attachments.redactAttachmentComment(id, numberField(comment ?? {}, 'id'), numberField(attachment, 'id'))).result, 'redacted attachment');
    expect(record(result.attachment, 'attachment')).toMatchObject({ file_name: 'redacted.txt', size: 0 });
  });

  it('surfaces a plain agent\'s 403 (no redact permission)', async () => {
    const id = await newTicket();
    const [comment] = records(await client.tickets.getComments(id), 'comments');
    const agent = await t.user({ role: 'agent', name: 'Plain Agent' });
    const plain = connect(t, { throwOriginalException: true, username: agent.email, token: agent.token }) as unknown as Client;
    await expect(plain.tickets.request('PUT', ['tickets', id, 'comments', numberField(comment ?? {}, 'id'), 'redact'], { text: 'Call' })).rejects.toSatisfy(rejectsWith(403));
  });
});

describe('node-zendesk deleted tickets requests', () => {
  it('lists, restores and permanently deletes (a job the client watches)', async () => {
    const ids = [await newTicket(), await newTicket(), await newTicket()];
    for (const id of ids) await client.tickets.delete(id);
    // getAll pages with page[size]=100 (deleted_tickets is a cursor endpoint for the client) and yields each page's body.
    const pages = records(await client.tickets.getAll(['deleted_tickets']), 'pages');
    const listed = pages.flatMap((page) => records(page.deleted_tickets, 'deleted tickets'));
    expect(listed.map((row) => numberField(row, 'id'))).toEqual(ids);
    const sorted = records(record((await client.tickets.get(['deleted_tickets', { sort_by: 'id', sort_order: 'desc' }])).result, 'sorted').deleted_tickets, 'sorted');
    expect(sorted.map((row) => numberField(row, 'id'))).toEqual([...ids].reverse());

    await client.tickets.put(['deleted_tickets', ids[0] ?? 0, 'restore']);
    expect(numberField(record((await client.tickets.show(ids[0] ?? 0)).result, 'restored'), 'id')).toBe(ids[0]);
    await client.tickets.put(['deleted_tickets', 'restore_many', { ids: String(ids[1]) }]);

    const purge = record(record((await client.tickets.request('DELETE', ['deleted_tickets', 'destroy_many', { ids: `${ids[2]}` }])).result, 'purge').job_status, 'job status');
    const done = record(await client.jobstatuses.watch(stringField(purge, 'id'), 100, 5), 'watched job');
    expect(done).toMatchObject({ status: 'completed', results: [{ id: ids[2], success: true }] });
    await expect(client.tickets.request('DELETE', ['deleted_tickets', ids[2] ?? 0])).rejects.toSatisfy(rejectsWith(404));

    await client.tickets.delete(ids[1] ?? 0);
    const single = record(record((await client.tickets.request('DELETE', ['deleted_tickets', ids[1] ?? 0])).result, 'single').job_status, 'job status');
    expect(record(await client.jobstatuses.watch(stringField(single, 'id'), 100, 5), 'watched')).toMatchObject({ status: 'completed' });
    const left = await t.runtime.database.db.selectFrom('deleted_ticket_records').select('ticket_id').orderBy('ticket_id').execute();
    expect(left.map((row) => row.ticket_id)).toEqual([ids[1], ids[2]]);
  });
});

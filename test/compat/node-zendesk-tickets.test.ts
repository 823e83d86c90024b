import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';
import { connect, endpointUri, isZendeskError, numberField, record, records, type ApiResponse, type ResourceClient, type Zendesk } from './zendesk-client.ts';

/**
 * Tickets and requests through the real node-zendesk client (v6) over TCP. The clients are typed
 * as the library behaves at run time (dist/index.js): `create`/`update` post their argument as
 * the body; results come unwrapped from `ticket`/`tickets`/`comments`; list calls page with getAll.
 */
interface TicketsClient extends ResourceClient {
  list(): Promise<unknown[]>;
  listAssigned(userId: number): Promise<unknown[]>;
  listByUserRequested(userId: number): Promise<unknown[]>;
  listByUserCCD(userId: number): Promise<unknown[]>;
  listByOrganization(organizationId: number): Promise<unknown[]>;
  show(id: number): Promise<ApiResponse>;
  showMany(ids: number[]): Promise<ApiResponse>;
  create(body: object): Promise<ApiResponse>;
  update(id: number, body: object): Promise<ApiResponse>;
  delete(id: number): Promise<ApiResponse>;
  deleteMany(ids: number[]): Promise<ApiResponse>;
  getComments(id: number): Promise<unknown[]>;
}

interface RequestsClient extends ResourceClient {
  list(): Promise<unknown[]>;
  show(id: number): Promise<ApiResponse>;
  create(body: object): Promise<ApiResponse>;
}

type Client = Zendesk & { tickets: TicketsClient; requests: RequestsClient };

let t: TestApp;
let client: Client;

beforeAll(async () => {
  t = await createTestApp();
  await t.runtime.app.listen({ port: 0, host: '127.0.0.1' });
  // With throwOriginalException a refusal arrives as the client's error carrying status and body.
  client = connect(t, { throwOriginalException: true }) as unknown as Client;
});

afterAll(async () => {
  await t?.close();
});

describe('node-zendesk tickets against a listening Roster server', () => {
  it('tickets.create with a new requester, tickets.show, tickets.update, tickets.delete', async () => {
    const { response, result } = await client.tickets.create({
      ticket: { subject: 'My printer is on fire!', comment: { body: 'The smoke is very colorful.' }, priority: 'urgent', requester: { name: 'Compat Requester', email: 'compat-requester@compat.test' } },
    });
    expect(response.status).toBe(201);
    const created = record(result, 'created ticket');
    const id = numberField(created, 'id');
    expect(created).toMatchObject({ subject: 'My printer is on fire!', description: 'The smoke is very colorful.', priority: 'urgent', status: 'new' });
    expect(response.headers.get('location')).toBe(`${endpointUri(t)}/tickets/${id}.json`);
    const requester = record((await client.users.show(numberField(created, 'requester_id'))).result, 'requester');
    expect(requester).toMatchObject({ name: 'Compat Requester', email: 'compat-requester@compat.test', role: 'end-user' });

    const shown = record((await client.tickets.show(id)).result, 'shown ticket');
    expect(shown).toEqual(created);

    const updated = await client.tickets.update(id, { ticket: { status: 'solved', comment: { body: 'Extinguished.', public: true } } });
    expect(updated.response.status).toBe(200);
    expect(record(updated.result, 'updated ticket')).toMatchObject({ id, status: 'solved' });
    const comments = records(await client.tickets.getComments(id), 'comments');
    expect(comments.map((comment) => comment.body)).toEqual(['The smoke is very colorful.', 'Extinguished.']);

    const deleted = await client.tickets.delete(id);
    expect(deleted.response.status).toBe(204);
    await expect(client.tickets.show(id)).rejects.toSatisfy((error: unknown) => isZendeskError(error) && error.statusCode === 404);
  });

  it('tickets.update refuses status closed with a 422 the client surfaces', async () => {
    const created = record((await client.tickets.create({ ticket: { subject: 'x', comment: { body: 'y' } } })).result, 'created ticket');
    await expect(client.tickets.update(numberField(created, 'id'), { ticket: { status: 'closed' } })).rejects.toSatisfy(
      (error: unknown) => isZendeskError(error) && error.statusCode === 422 && Object.keys(record(record(error.result, 'error body').details, 'details')).includes('status'),
    );
  });

  it('tickets.list, listByUserRequested and showMany page through what exists', async () => {
    const requester = record((await client.users.create({ user: { name: 'Lister', email: 'lister@compat.test' } })).result, 'user');
    const requesterId = numberField(requester, 'id');
    const ids: number[] = [];
    for (let index = 0; index < 3; index += 1) {
      ids.push(numberField(record((await client.tickets.create({ ticket: { subject: `L${index}`, comment: { body: 'x' }, requester_id: requesterId } })).result, 'ticket'), 'id'));
    }
    const all = records(await client.tickets.list(), 'tickets');
    expect(all.map((ticket) => ticket.id)).toEqual(expect.arrayContaining(ids));
    const byTwos = records(await client.tickets.getAll(['tickets', { 'page[size]': 2 }]), 'tickets by twos');
    expect(byTwos.map((ticket) => ticket.id)).toEqual(all.map((ticket) => ticket.id));
    expect(records(await client.tickets.listByUserRequested(requesterId), 'requested').map((ticket) => ticket.id)).toEqual(ids);
    const many = records((await client.tickets.showMany(ids.slice(0, 2))).result, 'show_many');
    expect(many.map((ticket) => ticket.id)).toEqual(ids.slice(0, 2));
  });

  it('tickets.deleteMany runs a job the client can watch', async () => {
    const id = numberField(record((await client.tickets.create({ ticket: { subject: 'bulk', comment: { body: 'x' } } })).result, 'ticket'), 'id');
    const { result } = await client.tickets.deleteMany([id]);
    // The tickets client does not unwrap job_status (not among its jsonAPINames): the body arrives whole.
    const jobId = record(record(result, 'body').job_status, 'job_status').id;
    const job = record(await client.jobstatuses.watch(String(jobId), 100, 5), 'watched job');
    expect(job.status).toBe('completed');
  });

  it('requests.create and requests.list for an end user', async () => {
    const endUser = await t.user({ role: 'end-user', name: 'Compat End User' });
    const asEndUser = connect(t, { username: endUser.email, token: endUser.token }) as unknown as Client;
    const { response, result } = await asEndUser.requests.create({ request: { subject: 'Help', comment: { body: 'Please' } } });
    expect(response.status).toBe(201);
    const request = record(result, 'request');
    expect(request).toMatchObject({ subject: 'Help', requester_id: endUser.id });
    expect(records(await asEndUser.requests.list(), 'requests').map((row) => row.id)).toEqual([request.id]);
    expect(record((await asEndUser.requests.show(numberField(request, 'id'))).result, 'shown request').id).toBe(request.id);
  });
});

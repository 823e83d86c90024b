import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';
import { connect, isZendeskError, numberField, record, records, type ApiResponse, type ResourceClient, type Zendesk } from './zendesk-client.ts';

/**
 * Search through the real node-zendesk client (v6) over TCP. Typed as the library behaves at run
 * time (dist/index.js): `search.query` GETs search?query= and resolves to `{ response, result }`
 * with `result` the `results` array; `queryAll` follows `next_page` and resolves to the flattened
 * results; `showResultsCount` answers `{ count }`; `exportResults(query, type, size)` follows
 * `links.next`; `users.search(params)` pages through users/search and resolves to the users.
 */
interface SearchClient extends ResourceClient {
  query(query: string): Promise<ApiResponse>;
  queryAll(query: string): Promise<unknown[]>;
  showResultsCount(query: string): Promise<ApiResponse>;
  exportResults(query: string, type: string, pageSize?: number): Promise<unknown[]>;
}

type Client = Zendesk & {
  search: SearchClient;
  users: Zendesk['users'] & { search(params: Record<string, string>): Promise<unknown[]> };
  organizations: ResourceClient & { create(body: object): Promise<ApiResponse> };
};

let t: TestApp;
let client: Client;
const run = crypto.randomBytes(3).toString('hex');

beforeAll(async () => {
  t = await createTestApp();
  await t.runtime.app.listen({ port: 0, host: '127.0.0.1' });
  client = connect(t) as unknown as Client;
});

afterAll(async () => {
  await t?.close();
});

async function createUser(fields: Record<string, unknown>): Promise<number> {
  const { result } = await client.users.create({ user: { email: `${crypto.randomBytes(4).toString('hex')}@compat.test`, ...fields } });
  return numberField(record(result, 'created user'), 'id');
}

describe('node-zendesk search against a listening Roster server', () => {
  it('finds users without an organization with search.query (seed 000: type:user organization:none)', async () => {
    const loner = await createUser({ name: `Loner ${run}` });
    const { result: organization } = await client.organizations.create({ organization: { name: `Compat Search Org ${run}` } });
    const member = await createUser({ name: `Member ${run}`, organization_id: numberField(record(organization, 'organization'), 'id') });
    const { response, result } = await client.search.query(`type:user organization:none name:${run}`);
    expect(response.status).toBe(200);
    const results = records(result, 'results');
    expect(results.map((r) => r.id)).toEqual([loner]);
    expect(results[0]).toMatchObject({ result_type: 'user', name: `Loner ${run}` });
    const withOrganization = records((await client.search.query(`type:user -organization:none name:${run}`)).result, 'results');
    expect(withOrganization.map((r) => r.id)).toEqual([member]);
  });

  it('pages through every result with search.queryAll, mixed users and organizations', async () => {
    const word = `qa${run}`;
    const ids: number[] = [];
    for (let index = 0; index < 5; index += 1) ids.push(await createUser({ name: `Many ${index}`, notes: word }));
    await client.organizations.create({ organization: { name: `Org ${word}` } });
    // per_page is ours to choose: 2 per page makes queryAll follow next_page three times.
    const all = records(await client.search.getAll(['search', { query: word, per_page: 2 }]), 'all results');
    expect(all).toHaveLength(6);
    expect(all.filter((r) => r.result_type === 'user').map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(all.filter((r) => r.result_type === 'organization')).toHaveLength(1);
    expect(records(await client.search.queryAll(word), 'queryAll')).toHaveLength(6);
    const { result: count } = await client.search.showResultsCount(word);
    expect(count).toEqual({ count: 6 });
  });

  it('exports with search.exportResults, following links.next', async () => {
    const word = `ex${run}`;
    for (let index = 0; index < 3; index += 1) await createUser({ name: `Exported ${index}`, details: word });
    const exported = records(await client.search.exportResults(word, 'user', 2), 'exported');
    expect(exported).toHaveLength(3);
    expect(exported.every((r) => r.result_type === 'user')).toBe(true);
  });

  it('searches users with users.search (query and external_id)', async () => {
    const id = await createUser({ name: `Searchable ${run}`, external_id: `compat-${run}` });
    const byQuery = records(await client.users.search({ query: `searchable ${run}` }), 'users');
    expect(byQuery.map((user) => user.id)).toEqual([id]);
    expect(byQuery[0]).not.toHaveProperty('result_type');
    const byExternalId = records(await client.users.search({ external_id: `COMPAT-${run}` }), 'users');
    expect(byExternalId.map((user) => user.id)).toEqual([id]);
  });

  it('finds tickets with search.query (type:ticket), in the tickets API shape', async () => {
    const requester = await createUser({ name: `Requester ${run}` });
    const created = await t.request('POST', '/api/v2/tickets', {
      body: { ticket: { subject: `Compat ticket ${run}`, requester_id: requester, priority: 'high', comment: { body: `Conversation word w${run}` } } },
    });
    expect(created.statusCode).toBe(201);
    const id = created.json().ticket.id as number;
    const { response, result } = await client.search.query(`type:ticket priority>normal subject:${run}`);
    expect(response.status).toBe(200);
    const results = records(result, 'results');
    expect(results.map((r) => r.id)).toEqual([id]);
    expect(results[0]).toMatchObject({ result_type: 'ticket', subject: `Compat ticket ${run}`, requester_id: requester, priority: 'high', status: 'new' });
    const byComment = records((await client.search.query(`type:ticket w${run}`)).result, 'results');
    expect(byComment.map((r) => r.id)).toEqual([id]);
    const { result: counted } = await client.search.showResultsCount(`type:ticket requester:${requester}`);
    expect(counted).toEqual({ count: 1 });
  });

  it('surfaces a malformed query as a 400 the client reports', async () => {
    const failure = await client.search.query('name:"unclosed').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toContain('400');
    const raw = connect(t, { throwOriginalException: true }) as unknown as Client;
    const original = await raw.search.query('type:ticket status:opened').then(
      () => undefined,
      (error: unknown) => error,
    );
    if (!isZendeskError(original)) throw new Error('expected the client to throw its HTTP error');
    expect(original.statusCode).toBe(400);
    expect(record(original.result, 'error body')).toMatchObject({ error: 'InvalidParameter' });
  });
});

import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, OWNER_PASSWORD, type TestApp } from '../helpers.ts';
import {
  connect,
  endpointUri,
  isZendeskError,
  numberField,
  record,
  records,
  stringField,
  type ResourceClient,
  type Zendesk,
} from './zendesk-client.ts';

/**
 * Compatibility with the real node-zendesk client (v6) over a real TCP socket: the server must
 * answer what the client, written against Zendesk itself, expects — envelopes, status codes,
 * pagination links it follows verbatim, job statuses it polls, error bodies it carries.
 */

let t: TestApp;
let client: Zendesk;

beforeAll(async () => {
  t = await createTestApp();
  await t.runtime.app.listen({ port: 0, host: '127.0.0.1' });
  client = connect(t);
});

afterAll(async () => {
  await t?.close();
});

const byNumber = (a: number, b: number): number => a - b;
const unique = (label: string): string => `${label}-${crypto.randomBytes(4).toString('hex')}@compat.test`;

async function createUser(fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const { response, result } = await client.users.create({ user: { name: 'Compat User', email: unique('user'), ...fields } });
  expect(response.status).toBe(201);
  return record(result, 'created user');
}

/** Waits for a job through node-zendesk's own poller (`jobstatuses.watch`). */
async function watchJob(id: string): Promise<Record<string, unknown>> {
  return record(await client.jobstatuses.watch(id, 100, 5), 'watched job status');
}

/** Starts a create_many job for `users` through node-zendesk and waits for it to finish. */
async function createMany(users: Record<string, unknown>[]): Promise<Record<string, unknown>> {
  const { result } = await client.users.createMany({ users });
  const started = record(record(result, 'create_many result').job_status, 'job_status');
  return watchJob(stringField(started, 'id'));
}

/** Every URL node-zendesk requests while `run` runs, as the client itself reports them. */
async function requestedUris(on: ResourceClient, run: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  let recording = true;
  on.on('debug::request', (event) => {
    if (recording) seen.push(event.detail.uri);
  });
  try {
    await run();
  } finally {
    recording = false;
  }
  return seen;
}

/** Runs `call`, expecting it to fail; returns what it threw. */
async function failure(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('the call was expected to fail but succeeded');
}

describe('node-zendesk against a listening Roster server', () => {
  it('creates a user with users.create and reads the same user back with users.show', async () => {
    const email = unique('ada');
    const { response, result } = await client.users.create({
      user: { name: 'Ada Lovelace', email, role: 'end-user', external_id: `ext-${email}`, tags: ['compat'] },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const created = record(result, 'created user');
    const id = numberField(created, 'id');
    expect(created).toMatchObject({ name: 'Ada Lovelace', email, role: 'end-user', external_id: `ext-${email}`, tags: ['compat'], active: true });
    expect(response.headers.get('location')).toBe(`${endpointUri(t)}/users/${id}.json`);
    expect(created.url).toBe(`${endpointUri(t)}/users/${id}.json`);

    const shown = await client.users.show(id);
    expect(shown.response.status).toBe(200);
    expect(record(shown.result, 'shown user')).toEqual(created);
  });

  it('adds identities with useridentities.create and lists them with useridentities.list', async () => {
    const user = await createUser();
    const userId = numberField(user, 'id');
    const secondEmail = unique('second');

    const added = await client.useridentities.create(userId, { type: 'email', value: secondEmail });
    expect(added.response.status).toBe(201);
    const email = record(added.result, 'created identity');
    expect(email).toMatchObject({ user_id: userId, type: 'email', value: secondEmail, primary: false });

    const phone = record((await client.useridentities.create(userId, { identity: { type: 'phone_number', value: '+15551234567' } })).result, 'phone identity');
    expect(phone).toMatchObject({ user_id: userId, type: 'phone_number', value: '+15551234567' });

    const shown = record((await client.useridentities.show(userId, numberField(email, 'id'))).result, 'shown identity');
    expect(shown).toEqual(email);

    const listed = records(await client.useridentities.list(userId), 'identities');
    expect(listed).toHaveLength(3);
    expect(listed[0]).toMatchObject({ type: 'email', value: user.email, primary: true });
    expect(listed.map((identity) => identity.id)).toEqual(expect.arrayContaining([email.id, phone.id]));
    for (const identity of listed) expect(identity.user_id).toBe(userId);
  });

  it("makes a secondary email primary with useridentities.makePrimary and the user's email follows", async () => {
    const user = await createUser();
    const userId = numberField(user, 'id');
    const newEmail = unique('primary');
    const identity = record((await client.useridentities.create(userId, { type: 'email', value: newEmail })).result, 'identity');

    const made = await client.useridentities.makePrimary(userId, numberField(identity, 'id'));
    expect(made.response.status).toBe(200);
    const identities = records(made.result, 'make_primary identities');
    const emails = identities.filter((entry) => entry.type === 'email');
    expect(emails.filter((entry) => entry.primary === true).map((entry) => entry.value)).toEqual([newEmail]);
    expect(identities[0]).toMatchObject({ id: identity.id, primary: true });

    const shown = record((await client.users.show(userId)).result, 'user');
    expect(shown.email).toBe(newEmail);
    const listed = records(await client.useridentities.list(userId), 'identities');
    expect(listed.find((entry) => entry.value === user.email)).toMatchObject({ primary: false });
  });

  it('fetches several users at once with users.showMany', async () => {
    const first = await createUser({ name: 'Show Many One' });
    const second = await createUser({ name: 'Show Many Two' });
    const ids = [numberField(first, 'id'), numberField(second, 'id')];

    const { response, result } = await client.users.showMany(ids);
    expect(response.status).toBe(200);
    const users = records(result, 'show_many users');
    expect(users.map((user) => numberField(user, 'id')).sort(byNumber)).toEqual([...ids].sort(byNumber));
    expect(users.find((user) => user.id === first.id)).toEqual(first);
    expect(users.find((user) => user.id === second.id)).toEqual(second);
  });

  it('runs users.createMany as a job that jobstatuses.watch follows to completed, with a result per item', async () => {
    const taken = await createUser();
    const fresh = [unique('many-a'), unique('many-b')];
    const { response, result } = await client.users.createMany({
      users: [
        { name: 'Many A', email: fresh[0] },
        { name: 'Taken', email: taken.email },
        { name: 'Many B', email: fresh[1] },
      ],
    });
    expect(response.status).toBe(200);
    const started = record(record(result, 'create_many body').job_status, 'job_status');
    const jobId = stringField(started, 'id');
    expect(started).toMatchObject({ job_type: expect.any(String), total: 3, url: `${endpointUri(t)}/job_statuses/${jobId}.json` });
    expect(['queued', 'working', 'completed']).toContain(started.status);

    const job = await watchJob(jobId);
    expect(job).toMatchObject({ id: jobId, status: 'completed', total: 3, progress: 3 });
    const results = records(job.results, 'job results');
    expect(results).toHaveLength(3);
    expect(results[0]).toMatchObject({ index: 0, status: 'Created', success: true, id: expect.any(Number) });
    expect(results[1]).toMatchObject({ index: 1, success: false, error: 'RecordInvalid' });
    expect(results[2]).toMatchObject({ index: 2, status: 'Created', success: true, id: expect.any(Number) });

    const createdIds = [numberField(record(results[0]), 'id'), numberField(record(results[2]), 'id')];
    const users = records((await client.users.showMany(createdIds)).result, 'created users');
    expect(users.map((user) => user.email).sort()).toEqual([...fresh].sort());

    const shown = record(record((await client.jobstatuses.show(jobId)).result, 'job body').job_status, 'job_status');
    expect(shown).toEqual(job);
    const many = records(record((await client.jobstatuses.showMany([jobId])).result, 'show_many body').job_statuses, 'job_statuses');
    expect(many).toEqual([job]);
  });

  it('lists every user with users.list, following the cursor links across several pages', async () => {
    const batches = [100, 100, 50];
    const created: number[] = [];
    for (const [batch, size] of batches.entries()) {
      const users = Array.from({ length: size }, (_, index) => ({ name: `Paged ${batch}-${index}`, email: unique(`paged-${batch}-${index}`) }));
      const job = await createMany(users);
      expect(job.status).toBe('completed');
      const results = records(job.results, 'job results');
      expect(results.every((item) => item.success === true)).toBe(true);
      created.push(...results.map((item) => numberField(item, 'id')));
    }
    expect(created).toHaveLength(250);

    let listed: Record<string, unknown>[] = [];
    const uris = await requestedUris(client.users, async () => {
      listed = records(await client.users.list(), 'listed users');
    });
    const count = record(record((await client.users.get(['users', 'count'])).result, 'count body').count, 'count');
    const total = numberField(count, 'value');
    // node-zendesk asks for cursor pages of 100 on /users and then follows links.next verbatim,
    // one request per page and none past the last (links.next is null once has_more is false).
    expect(total).toBeGreaterThan(250);
    expect(uris).toHaveLength(Math.ceil(total / 100));
    expect(uris[0]).toContain(`${endpointUri(t)}/users.json?`);
    expect(new URL(uris[0] ?? '').searchParams.get('page[size]')).toBe('100');
    for (const uri of uris.slice(1)) {
      expect(uri.startsWith(`${endpointUri(t)}/users`)).toBe(true);
      expect(new URL(uri).searchParams.get('page[after]')).toBeTruthy();
    }

    const ids = listed.map((user) => numberField(user, 'id'));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining([...created, t.owner.id]));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids).toHaveLength(total);

    const endUsers = records(await client.users.listWithFilter('role', 'end-user'), 'end users');
    expect(endUsers.length).toBeGreaterThanOrEqual(250);
    expect(endUsers.every((user) => user.role === 'end-user')).toBe(true);
  });

  it('updates a user with users.update', async () => {
    const user = await createUser({ name: 'Before Update' });
    const id = numberField(user, 'id');
    const { response, result } = await client.users.update(id, { user: { name: 'After Update', notes: 'changed by node-zendesk', tags: ['vip'] } });
    expect(response.status).toBe(200);
    expect(record(result, 'updated user')).toMatchObject({ id, name: 'After Update', notes: 'changed by node-zendesk', tags: ['vip'], email: user.email });
    expect(record((await client.users.show(id)).result, 'user')).toMatchObject({ name: 'After Update', notes: 'changed by node-zendesk' });
  });

  it('updates many users with users.updateMany and update_many?ids=, as jobs with a result per user', async () => {
    const first = await createUser({ name: 'Bulk One' });
    const second = await createUser({ name: 'Bulk Two' });
    const ids = [numberField(first, 'id'), numberField(second, 'id')];

    // Zendesk's batch form, each user with its own id and changes (two arguments: the body goes first).
    const batch = await client.users.updateMany({ users: [{ id: ids[0], notes: 'first note' }, { id: ids[1], notes: 'second note' }] }, null);
    expect(batch.response.status).toBe(200);
    const batchJob = await watchJob(stringField(record(record(batch.result, 'update_many body').job_status, 'job_status'), 'id'));
    expect(batchJob).toMatchObject({ status: 'completed', total: 2, progress: 2 });
    expect(records(batchJob.results, 'job results').map((item) => [item.id, item.status, item.success])).toEqual([
      [ids[0], 'Updated', true],
      [ids[1], 'Updated', true],
    ]);
    const notes = records((await client.users.showMany(ids)).result, 'users').sort((a, b) => numberField(a, 'id') - numberField(b, 'id'));
    expect(notes.map((user) => [user.id, user.notes])).toEqual([
      [ids[0], 'first note'],
      [ids[1], 'second note'],
    ]);

    // One change to many ids: the client's three-argument form puts them in the query string.
    const same = await client.users.updateMany(ids, { user: { tags: ['bulk'] } }, undefined);
    expect(same.response.status).toBe(200);
    const sameJob = await watchJob(stringField(record(record(same.result, 'update_many body').job_status, 'job_status'), 'id'));
    expect(sameJob).toMatchObject({ status: 'completed', total: 2, progress: 2 });
    expect(records(sameJob.results, 'job results').every((item) => item.status === 'Updated')).toBe(true);
    expect(records((await client.users.showMany(ids)).result, 'users').map((user) => user.tags)).toEqual([['bulk'], ['bulk']]);
  });

  it('returns the authenticated owner from users.me and users.auth', async () => {
    const me = await client.users.me();
    expect(me.response.status).toBe(200);
    expect(record(me.result, 'me')).toMatchObject({ id: t.owner.id, email: t.owner.email, role: 'admin' });
    expect(record((await client.users.auth()).result, 'auth')).toMatchObject({ id: t.owner.id });
  });

  it('authenticates as node-zendesk does with an API token, a password or an OAuth bearer token', async () => {
    const byPassword = connect(t, { username: t.owner.email, password: OWNER_PASSWORD });
    expect(record((await byPassword.users.me()).result, 'me by password')).toMatchObject({ id: t.owner.id });

    const oauthClient = record(record((await client.oauthclients.create({ name: 'Compat', identifier: `compat-${crypto.randomBytes(3).toString('hex')}` })).result, 'client body').client, 'client');
    const issued = record((await client.oauthtokens.create({ token: { client_id: numberField(oauthClient, 'id'), scopes: ['read'] } })).result, 'token');
    const byOAuth = connect(t, { useOAuth: true, token: stringField(issued, 'full_token') });
    expect(record((await byOAuth.users.me()).result, 'me by oauth')).toMatchObject({ id: t.owner.id });

    const strict = connect(t, { token: 'not-the-token', throwOriginalException: true });
    const error = await failure(() => strict.users.show(t.owner.id));
    if (!isZendeskError(error)) throw error;
    expect(error.statusCode).toBe(401);
    expect(error.result).toEqual({ error: "Couldn't authenticate you" });
  });

  it('surfaces a 404 as a client error carrying Zendesk\'s RecordNotFound body', async () => {
    const strict = connect(t, { throwOriginalException: true });
    const error = await failure(() => strict.users.show(987_654_321));
    if (!isZendeskError(error)) throw error;
    expect(error.statusCode).toBe(404);
    expect(error.message).toBe('Zendesk Error (404): Item not found');
    expect(error.result).toEqual({ error: 'RecordNotFound', description: 'Not found' });

    // Without throwOriginalException the client wraps the failure in its own message.
    const wrapped = await failure(() => client.users.show(987_654_321));
    expect(wrapped).toBeInstanceOf(Error);
    expect((wrapped as Error).message).toBe('Request processing failed: Zendesk Error (404): Item not found');
  });

  it('surfaces a 422 as a client error carrying Zendesk\'s RecordInvalid body with details', async () => {
    const taken = await createUser();
    const strict = connect(t, { throwOriginalException: true });
    const error = await failure(() => strict.users.create({ user: { name: 'Duplicate', email: taken.email } }));
    if (!isZendeskError(error)) throw error;
    expect(error.statusCode).toBe(422);
    expect(error.message).toBe('Zendesk Error (422): Unprocessable Entity');
    const body = record(error.result, '422 body');
    expect(body).toMatchObject({ error: 'RecordInvalid', description: 'Record validation errors' });
    const details = records(record(body.details, 'details').email, 'details.email');
    expect(details[0]).toMatchObject({ error: 'DuplicateValue', description: expect.stringContaining('already being used') });

    const wrapped = await failure(() => client.users.create({ user: { name: 'Duplicate', email: taken.email } }));
    expect((wrapped as Error).message).toBe('Request processing failed: Zendesk Error (422): Unprocessable Entity');
  });

  it('reaches endpoints node-zendesk does not wrap through its generic request, get and getAll', async () => {
    const user = await createUser();
    const userId = numberField(user, 'id');

    const related = await client.users.request('GET', ['users', userId, 'related']);
    expect(related.response.status).toBe(200);
    expect(record(related.result, 'related body').user_related).toMatchObject({ requested_tickets: 0, assigned_tickets: 0 });

    const requirements = await client.users.get(['users', userId, 'password', 'requirements']);
    expect(requirements.response.status).toBe(200);
    expect(record(requirements.result, 'requirements body').requirements).toEqual(expect.any(Array));

    // create_or_update through a plain POST: updates the user it matches by email.
    const upserted = await client.users.request('POST', ['users', 'create_or_update'], { user: { email: user.email, name: 'Upserted' } });
    expect(upserted.response.status).toBe(200);
    expect(record(upserted.result, 'upserted user')).toMatchObject({ id: userId, name: 'Upserted' });

    // Offset pages (next_page) followed by getAll: one identity per page.
    for (const value of [unique('extra-1'), unique('extra-2')]) await client.useridentities.create(userId, { type: 'email', value });
    let identities: Record<string, unknown>[] = [];
    const identityUris = await requestedUris(client.useridentities, async () => {
      identities = records(await client.useridentities.getAll(['users', userId, 'identities', { per_page: 1 }]), 'identities');
    });
    expect(identityUris).toHaveLength(3);
    expect(identities.map((identity) => identity.user_id)).toEqual([userId, userId, userId]);
    expect(new Set(identities.map((identity) => identity.id)).size).toBe(3);

    // Cursor pages (links.next) of an endpoint node-zendesk has no pagination rule for.
    for (let index = 0; index < 3; index += 1) await createMany([{ name: `Job ${index}`, email: unique(`job-${index}`) }]);
    let pages: Record<string, unknown>[] = [];
    const jobUris = await requestedUris(client.jobstatuses, async () => {
      pages = records(await client.jobstatuses.getAll(['job_statuses', { per_page: 2 }]), 'job status pages');
    });
    expect(jobUris.length).toBeGreaterThanOrEqual(2);
    const jobs = pages.flatMap((page) => records(page.job_statuses, 'job_statuses'));
    expect(jobs.length).toBeGreaterThanOrEqual(3);
    expect(new Set(jobs.map((job) => job.id)).size).toBe(jobs.length);
    expect(jobs.every((job) => job.status === 'completed')).toBe(true);
  });
});

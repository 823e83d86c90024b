import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';
import { connect, isZendeskError, numberField, record, records, type ApiResponse, type UsersClient, type Zendesk } from './zendesk-client.ts';

/**
 * The user lifecycle through the real node-zendesk client (v6) over TCP: users.delete,
 * users.destroyMany (watched as a job), users.merge, users.suspend, and the deleted_users
 * endpoints, which node-zendesk has no methods for, through its generic requests.
 */
interface LifecycleUsersClient extends UsersClient {
  delete(id: number): Promise<ApiResponse>;
  /** node-zendesk 6.0.1: with three arguments an array first becomes `?ids=`; with two it sends the first as the body. */
  destroyMany(...args: unknown[]): Promise<ApiResponse>;
  merge(id: number, targetId: number): Promise<ApiResponse>;
  suspend(id: number): Promise<ApiResponse>;
}

type Client = Zendesk & { users: LifecycleUsersClient };

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

const newUser = async (name: string): Promise<number> => numberField(record((await client.users.create({ user: { name, email: `${name.toLowerCase().replaceAll(' ', '.')}@compat.test` } })).result, 'user'), 'id');

describe('node-zendesk user lifecycle against a listening Roster server', () => {
  it('users.delete answers the user with active false; users.show still finds it', async () => {
    const id = await newUser('Compat Delete');
    const { response, result } = await client.users.delete(id);
    expect(response.status).toBe(200);
    expect(record(result, 'deleted user')).toMatchObject({ id, active: false, name: 'Compat Delete' });
    expect(record((await client.users.show(id)).result, 'shown user')).toMatchObject({ id, active: false });
  });

  it('users.delete surfaces a refusal (open tickets) as a 422 with details.base', async () => {
    const id = await newUser('Compat Busy');
    await t.request('POST', '/api/v2/tickets', { body: { ticket: { comment: { body: 'open' }, requester_id: id } } });
    await expect(client.users.delete(id)).rejects.toSatisfy(
      (error: unknown) =>
        isZendeskError(error) && error.statusCode === 422 && JSON.stringify(record(error.result, 'error').details).includes('User is requester on 1 ticket that is not closed.'),
    );
  });

  it('users.destroyMany queues a job that jobstatuses.watch follows to completion', async () => {
    const a = await newUser('Compat Many A');
    const b = await newUser('Compat Many B');
    const { result } = await client.users.destroyMany([a, b], {}, null);
    const job = record(result, 'job_status response');
    const status = record(job.job_status ?? job, 'job_status');
    const finished = record(await client.jobstatuses.watch(String(status.id), 200, 5), 'watched job');
    expect(finished.status).toBe('completed');
    expect(records(finished.results, 'results').map((entry) => entry.success)).toEqual([true, true]);
    expect(record((await client.users.show(a)).result, 'a').active).toBe(false);
  });

  it('users.merge moves the source into the target and answers the target', async () => {
    const source = await newUser('Compat Source');
    const target = await newUser('Compat Target');
    const { response, result } = await client.users.merge(source, target);
    expect(response.status).toBe(200);
    expect(record(result, 'merged user')).toMatchObject({ id: target, active: true });
    const identities = records(await client.useridentities.list(target), 'identities').map((identity) => identity.value);
    expect(identities).toContain('compat.source@compat.test');
    expect(record((await client.users.show(source)).result, 'source').active).toBe(false);
  });

  it('users.suspend without a reason is refused (422 on suspension_reason); a generic update with one suspends', async () => {
    const id = await newUser('Compat Suspend');
    await expect(client.users.suspend(id)).rejects.toSatisfy(
      (error: unknown) => isZendeskError(error) && error.statusCode === 422 && Object.keys(record(record(error.result, 'error').details, 'details')).includes('suspension_reason'),
    );
    const updated = await client.users.update(id, { user: { suspended: true, suspension_reason: { category: 'objection' } } });
    expect(record(updated.result, 'suspended user').suspended).toBe(true);
  });

  it('deleted_users through generic requests: list (all pages), show, count, restore and permanent delete', async () => {
    const id = await newUser('Compat Deleted');
    await client.users.delete(id);
    // getAll follows next_page and returns each page's body (deleted_users is not one of the users client's keys).
    const pages = records(await client.users.getAll(['deleted_users']), 'pages');
    const listed = pages.flatMap((page) => records(page.deleted_users, 'deleted_users'));
    const mine = listed.find((user) => user.id === id);
    expect(mine).toMatchObject({ name: 'Compat Deleted', active: false, state: 'pending_purge' });
    const shown = await client.users.request('GET', ['deleted_users', id]);
    expect(record(record(shown.result, 'show').deleted_user, 'deleted_user')).toMatchObject({ id, email: 'compat.deleted@compat.test' });
    const count = await client.users.get(['deleted_users', 'count']);
    expect(numberField(record(record(count.result, 'count').count, 'count'), 'value')).toBeGreaterThanOrEqual(1);

    const restored = await client.users.put(['deleted_users', id, 'restore']);
    expect(record(restored.result, 'restored user')).toMatchObject({ id, active: true });
    await client.users.delete(id);
    const purged = await client.users.request('DELETE', ['deleted_users', id]);
    expect(record(record(purged.result, 'purge').deleted_user, 'deleted_user')).toMatchObject({ id, name: 'Permanently Deleted User', email: null, state: 'purged' });
    await expect(client.users.request('DELETE', ['deleted_users', id])).rejects.toSatisfy((error: unknown) => isZendeskError(error) && error.statusCode === 404);
  });
});

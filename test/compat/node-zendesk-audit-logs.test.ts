import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';
import { connect, isZendeskError, numberField, record, records, type Zendesk } from './zendesk-client.ts';

/**
 * The audit log through the real node-zendesk client (v6) over TCP. node-zendesk has no audit-log
 * methods; Zendesk's documentation sends GET /api/v2/audit_logs through the generic request, with
 * `filter[…]` built from a nested query object, and follows `links.next` in getAll.
 */

let t: TestApp;
let client: Zendesk;

beforeAll(async () => {
  t = await createTestApp();
  await t.runtime.app.listen({ port: 0, host: '127.0.0.1' });
  client = connect(t, { throwOriginalException: true });
});

afterAll(async () => {
  await t?.close();
});

describe('node-zendesk audit logs against a listening Roster server', () => {
  it('lists with filter[…] from a query object, shows one entry, and walks cursor pages with getAll', async () => {
    const ids: number[] = [];
    for (const name of ['Compat Audit A', 'Compat Audit B', 'Compat Audit C']) {
      ids.push(numberField(record((await client.users.create({ user: { name, email: `${name.toLowerCase().replaceAll(' ', '.')}@compat.test` } })).result, 'user'), 'id'));
    }
    await client.users.update(ids[0] ?? 0, { user: { notes: 'changed' } });

    const { response, result } = await client.users.request('GET', ['audit_logs', { filter: { source_type: 'user', action: 'create', actor_id: t.owner.id }, sort: 'created_at' }]);
    expect(response.status).toBe(200);
    const created = records(record(result, 'body').audit_logs, 'audit_logs');
    expect(created.map((e) => e.source_id)).toEqual(ids);
    expect(created.every((e) => e.action === 'create' && e.actor_id === t.owner.id && e.source_type === 'user')).toBe(true);

    const updates = records(record((await client.users.request('GET', ['audit_logs', { filter: { source_id: String(ids[0]), action: 'update' } }])).result, 'body').audit_logs, 'updates');
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({ event: 'user.update', changed_fields: ['notes'], change_description: 'Changed field: notes' });

    const shown = record(record((await client.users.request('GET', ['audit_logs', numberField(updates[0] ?? {}, 'id')])).result, 'body').audit_log, 'audit_log');
    expect(shown).toEqual(updates[0]);

    // A range goes as a query string: node-zendesk joins arrays with commas, Zendesk's filter[created_at][] repeats the key.
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const ranged = records(record((await client.users.request('GET', ['audit_logs', `?filter[created_at][]=${from}&filter[created_at][]=${to}&filter[source_type]=user`])).result, 'body').audit_logs, 'ranged');
    const everyUserEntry = records(record((await client.users.request('GET', ['audit_logs', { filter: { source_type: 'user' } }])).result, 'body').audit_logs, 'all');
    expect(everyUserEntry.length).toBeGreaterThanOrEqual(4);
    expect(ranged).toEqual(everyUserEntry);
    const outside = `?filter[created_at][]=2001-01-01T00:00:00Z&filter[created_at][]=2001-12-31T00:00:00Z`;
    expect(record((await client.users.request('GET', ['audit_logs', outside])).result, 'body').audit_logs).toEqual([]);

    const pages = records(await client.users.getAll(['audit_logs', { page: { size: 2 }, filter: { source_type: 'user' } }]), 'pages');
    expect(pages.length).toBe(Math.ceil(everyUserEntry.length / 2));
    const walked = pages.flatMap((page) => records(page.audit_logs, 'page'));
    expect(walked.map((e) => e.id)).toEqual(ranged.map((e) => e.id));
  });

  it('surfaces a non-admin caller as a 403 and a malformed filter as a 400', async () => {
    const agent = await t.user({ role: 'agent', name: 'Compat Agent' });
    const asAgent = connect(t, { throwOriginalException: true, username: agent.email, token: agent.token });
    await expect(asAgent.users.request('GET', ['audit_logs'])).rejects.toSatisfy((error: unknown) => isZendeskError(error) && error.statusCode === 403);
    await expect(client.users.request('GET', ['audit_logs', { filter: { actor_id: 'someone' } }])).rejects.toSatisfy(
      (error: unknown) => isZendeskError(error) && error.statusCode === 400,
    );
  });
});

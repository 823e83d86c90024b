import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';
import { connect, endpointUri, isZendeskError, numberField, record, stringField, type Zendesk } from './zendesk-client.ts';

/**
 * The export flows (issue 7 items 1, 2 and 8) through the real node-zendesk client over TCP. It
 * has no methods for them, so they go through its generic request: ask for the export, watch the
 * job with jobstatuses.watch, read the export, download it through the signed link.
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

/** A signed download URL as node-zendesk takes a path: segments and the query object. */
function signedPath(url: string): (string | Record<string, unknown>)[] {
  const parsed = new URL(url);
  const segments = parsed.pathname.replace(/^\/api\/v2\//, '').split('/');
  return [...segments, Object.fromEntries(parsed.searchParams.entries())];
}

describe('node-zendesk export flows against a listening Roster server', () => {
  it('personal-data export: request, watch the job, show, download the JSON document', async () => {
    const person = record((await client.users.create({ user: { name: 'Compat Person', email: 'compat.person@example.com' } })).result, 'user');
    const personId = numberField(person, 'id');
    const created = await client.users.request('POST', ['users', personId, 'personal_data_exports'], {});
    expect(created.response.status).toBe(200);
    const body = record(created.result, 'created');
    const exported = record(body.personal_data_export, 'personal_data_export');
    expect(exported).toMatchObject({ kind: 'personal_data', subject_user_id: personId, status: 'queued', download_url: null });
    const job = record(await client.jobstatuses.watch(stringField(record(body.job_status, 'job_status'), 'id'), 100, 5), 'job');
    expect(job.status).toBe('completed');

    const shown = record(record((await client.users.request('GET', ['personal_data_exports', numberField(exported, 'id')])).result, 'shown').personal_data_export, 'export');
    expect(shown.status).toBe('completed');
    const downloaded = await client.users.request('GET', signedPath(stringField(shown, 'download_url')));
    expect(downloaded.response.status).toBe(200);
    const document = record(downloaded.result, 'document');
    expect(record(document.profile, 'profile')).toMatchObject({ id: personId, name: 'Compat Person' });
    expect(JSON.stringify(document.identities)).toContain('compat.person@example.com');
  });

  it('users export: request with a date range, watch, show; the JSON-lines download works with the same credentials', async () => {
    const created = await client.users.request('POST', ['users', 'exports'], { users_export: { start_time: '2000-01-01T00:00:00Z', date_field: 'created_at' } });
    const body = record(created.result, 'created');
    const exported = record(body.users_export, 'users_export');
    expect(exported).toMatchObject({ kind: 'users', date_field: 'created_at', start_time: '2000-01-01T00:00:00.000Z' });
    await client.jobstatuses.watch(stringField(record(body.job_status, 'job_status'), 'id'), 100, 5);
    const shown = record(record((await client.users.request('GET', ['users', 'exports', numberField(exported, 'id')])).result, 'shown').users_export, 'export');
    expect(shown).toMatchObject({ status: 'completed', record_count: expect.any(Number) });
    // JSON lines are not one JSON document, so the client's JSON parsing is bypassed for the bytes themselves.
    const url = stringField(shown, 'download_url').replace(/^https?:\/\/[^/]+\/api\/v2/, endpointUri(t));
    const response = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`${t.owner.email}/token:${t.owner.token}`).toString('base64')}` } });
    expect(response.status).toBe(200);
    const lines = (await response.text()).trim().split('\n');
    expect(lines).toHaveLength(numberField(shown, 'record_count'));
    expect(JSON.parse(lines[0] ?? '{}')).toHaveProperty('identities');
  });

  it('surfaces refusals as errors: an end user exporting someone else (403), a tampered link (404)', async () => {
    const email = 'compat.enduser@example.com';
    const created = record((await client.users.create({ user: { name: 'Compat End User', email } })).result, 'user');
    const endUser = connect(t, { throwOriginalException: true, username: email, token: t.owner.token });
    await expect(endUser.users.request('POST', ['users', t.owner.id, 'personal_data_exports'], {})).rejects.toSatisfy(
      (error: unknown) => isZendeskError(error) && error.statusCode === 403 && record(error.result, 'error').error === 'Forbidden',
    );
    const own = record((await endUser.users.request('POST', ['users', 'me', 'personal_data_exports'], {})).result, 'own');
    expect(record(own.personal_data_export, 'export')).toMatchObject({ subject_user_id: numberField(created, 'id') });
    await expect(client.users.request('GET', ['data_exports', 1, 'download', { expires: '4102444800', signature: 'A'.repeat(43) }])).rejects.toSatisfy(
      (error: unknown) => isZendeskError(error) && error.statusCode === 404,
    );
  });
});

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAccount } from '../../src/accounts/bootstrap.ts';
import { issueApiToken } from '../../src/auth/api-tokens.ts';
import type { Account } from '../../src/db/tables.ts';
import { EXPORT_RETENTION_MS, exportJobs, sweepExportFiles } from '../../src/privacy/exports/data-exports.ts';
import { exportFilesFor, partFileName } from '../../src/privacy/exports/export-files.ts';
import { removeExportsHolding } from '../../src/privacy/exports/remove-exports.ts';
import { signLink } from '../../src/privacy/exports/signed-links.ts';
import { ADMIN_PERMISSIONS } from '../../src/roles/permissions.ts';
import { basic, createTestApp, OWNER_EMAIL, type Caller, type TestApp } from '../helpers.ts';
import { finishedExport, pathOf } from './export-helpers.ts';

let t: TestApp;
let acme: Account;
let acmeOwner: Caller;
const ACME_HOST = 'acme.localhost';

beforeAll(async () => {
  t = await createTestApp();
  const db = t.runtime.database.db;
  ({ account: acme } = await ensureAccount(db, 'acme', { name: 'Acme Owner', email: OWNER_EMAIL, password: 'acme password 123' }));
  const token = await issueApiToken(db, acme.id, null, 'acme tests');
  const owner = await db.selectFrom('users').select('id').where('account_id', '=', acme.id).where('is_owner', '=', true).executeTakeFirstOrThrow();
  acmeOwner = { email: OWNER_EMAIL, token: token.token, id: owner.id, headers: { ...basic(`${OWNER_EMAIL}/token`, token.token), host: ACME_HOST } };
});

afterAll(async () => {
  await t.close();
});

const files = () => exportFilesFor(t.runtime.database, 'memory://');
const lines = (body: string) => body.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);

async function usersExport(body?: unknown, as?: Caller) {
  const created = await t.request('POST', '/api/v2/users/exports', { ...(body === undefined ? {} : { body }), ...(as ? { as } : {}) });
  const result = await finishedExport(t, created, 'users_export', as, as);
  return result;
}

describe('users export (seed 002 "Exporting user data")', () => {
  it('writes every live user as one JSON line with identities, organizations and user fields — and no secrets', async () => {
    const organization = (await t.request('POST', '/api/v2/organizations', { body: { organization: { name: 'Line Org' } } })).json().organization.id as number;
    const alice = await t.user({ name: 'Alice Lines', email: 'alice.lines@example.com', phone: '+14155550199', organization_id: organization });
    const gone = await t.user({ name: 'Gone Before', email: 'gone@example.com' });
    await t.request('DELETE', `/api/v2/users/${gone.id}`);
    const result = await usersExport();
    expect(result.exported).toMatchObject({ kind: 'users', status: 'completed', date_field: 'updated_at', subject_user_id: null });
    expect(new Date(String(result.exported.expires_at)).getTime() - Date.now()).toBeGreaterThan(3 * 86_400_000);
    const download = await t.request('GET', result.downloadPath);
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toContain('application/x-ndjson');
    const users = lines(download.body);
    const count = await t.runtime.database.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', t.account.id).where('deleted_at', 'is', null).executeTakeFirstOrThrow();
    expect(users).toHaveLength(Number(count.n));
    expect(result.exported.record_count).toBe(Number(count.n));
    const line = users.find((user) => user.id === alice.id) as Record<string, unknown>;
    expect(line).toMatchObject({ name: 'Alice Lines', organizations: [{ id: organization, name: 'Line Org', is_default: true }] });
    expect((line.identities as Array<{ value: string }>).map((identity) => identity.value)).toContain('alice.lines@example.com');
    expect(users.some((user) => user.id === gone.id)).toBe(false);
    expect(download.body).not.toContain('password_hash');
    expect(download.body).not.toContain('scrypt$');
    // The file on disk is ciphertext: no address in it.
    for (const name of fs.readdirSync(files().directory)) {
      expect(fs.readFileSync(path.join(files().directory, name)).includes(Buffer.from('alice.lines@example.com'))).toBe(false);
    }
  });

  it('takes a date range on updated_at (default) or created_at', async () => {
    const before = new Date(Date.now() - 1000);
    const fresh = await t.user({ name: 'Fresh In Range' });
    const ranged = await usersExport({ users_export: { start_time: before.toISOString() } });
    const ids = lines((await t.request('GET', ranged.downloadPath)).body).map((user) => user.id);
    expect(ids).toContain(fresh.id);
    expect(ids).not.toContain(t.owner.id);
    const none = await usersExport({ users_export: { date_field: 'created_at', end_time: Math.floor(before.getTime() / 1000) - 3600 } });
    expect(none.exported.record_count).toBe(0);
    expect((await t.request('GET', none.downloadPath)).body).toBe('');
    for (const body of [{ users_export: { start_time: 'yesterday' } }, { users_export: { start_time: '2026-01-02T00:00:00Z', end_time: '2026-01-01T00:00:00Z' } }, { users_export: { date_field: 'deleted_at' } }, { users_export: { colour: 'red' } }]) {
      const refused = await t.request('POST', '/api/v2/users/exports', { body });
      expect(refused.statusCode, JSON.stringify(body)).toBe(400);
      expect(refused.json().error).toEqual(expect.any(String));
    }
  });
});

describe('signed links', () => {
  it('refuse a changed signature, expiry, export or account; an expired link is 410', async () => {
    const result = await usersExport();
    const link = new URL(result.downloadUrl);
    const id = Number(result.exported.id);
    const signature = String(link.searchParams.get('signature'));
    const expires = String(link.searchParams.get('expires'));
    expect(link.search).not.toMatch(/@|%40/);
    const flipped = `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    const tampered = [
      `${link.pathname}?expires=${expires}&signature=${flipped}`,
      `${link.pathname}?expires=${Number(expires) + 86_400}&signature=${signature}`,
      `${link.pathname}?expires=${expires}`,
      `${link.pathname}?expires=soon&signature=${signature}`,
      `/api/v2/data_exports/${id + 1000}/download?expires=${expires}&signature=${signature}`,
      `/api/v2/data_exports/${id}/attachments/1?expires=${expires}&signature=${signature}`,
    ];
    for (const url of tampered) {
      const response = await t.request('GET', url);
      expect(response.statusCode, url).toBe(404);
      expect(response.json()).toMatchObject({ error: 'RecordNotFound' });
    }
    // The same link on another account's host (its admin) is someone else's export: not found.
    expect((await t.request('GET', `${link.pathname}${link.search}`, { as: acmeOwner })).statusCode).toBe(404);

    // A correctly signed link whose time has passed.
    const key = await files().linkKey();
    const past = signLink(key, { accountId: t.account.id, exportId: id, item: 'file' }, new Date(Date.now() - 1000));
    const expired = await t.request('GET', `${link.pathname}?expires=${past.expires}&signature=${past.signature}`);
    expect(expired.statusCode).toBe(410);
    expect(expired.json()).toMatchObject({ error: 'Gone', description: expect.stringContaining('expired') });
    expect((await t.request('GET', result.downloadPath)).statusCode).toBe(200);
  });
});

describe('the exports sweep (pinned clock)', () => {
  it('expires an export after its retention, deletes its file, and the link then answers 410', async () => {
    const result = await usersExport();
    const id = Number(result.exported.id);
    const row = await t.runtime.database.db.selectFrom('data_exports').selectAll().where('account_id', '=', t.account.id).where('id', '=', id).executeTakeFirstOrThrow();
    const key = String(row.storage_key);
    const file = path.join(files().directory, partFileName(key, 0));
    expect(fs.existsSync(file)).toBe(true);
    expect(row.expires_at && row.completed_at && row.expires_at.getTime() - row.completed_at.getTime()).toBe(EXPORT_RETENTION_MS);

    // Three days on, nothing happens; past the expiry, the export goes.
    const completed = row.completed_at ?? new Date();
    await sweepExportFiles(t.runtime.database, files(), new Date(completed.getTime() + 3 * 86_400_000));
    expect(fs.existsSync(file)).toBe(true);
    const swept = await sweepExportFiles(t.runtime.database, files(), new Date(completed.getTime() + EXPORT_RETENTION_MS + 1000));
    expect(swept.expired).toBeGreaterThanOrEqual(1);
    expect(fs.existsSync(file)).toBe(false);
    const after = await t.runtime.database.db.selectFrom('data_exports').select(['status', 'storage_key']).where('account_id', '=', t.account.id).where('id', '=', id).executeTakeFirstOrThrow();
    expect(after).toEqual({ status: 'expired', storage_key: null });
    expect((await t.request('GET', result.downloadPath)).statusCode).toBe(410);
    expect((await t.request('GET', `/api/v2/users/exports/${id}`)).json().users_export).toMatchObject({ status: 'expired', download_url: null, expires_at: null });
  });

  it('removes files of deleted exports and leftovers, keeps live ones', async () => {
    const live = await usersExport();
    const person = await t.user({ name: 'To Be Purged' });
    const stray = path.join(files().directory, crypto.randomBytes(32).toString('hex'));
    fs.writeFileSync(stray, 'left by a crashed run');
    const liveRow = await t.runtime.database.db.selectFrom('data_exports').select('storage_key').where('account_id', '=', t.account.id).where('id', '=', Number(live.exported.id)).executeTakeFirstOrThrow();
    const liveFile = path.join(files().directory, partFileName(String(liveRow.storage_key), 0));
    const soon = new Date(Date.now() + 11 * 60_000);
    await sweepExportFiles(t.runtime.database, files(), soon);
    expect(fs.existsSync(stray)).toBe(false);
    expect(fs.existsSync(liveFile)).toBe(true);
    // A purge of anyone deletes every users export (each holds everyone).
    await t.runtime.database.db.transaction().execute((tx) => removeExportsHolding(tx, t.account.id, person.id));
    expect((await t.request('GET', live.downloadPath)).statusCode).toBe(410);
    await sweepExportFiles(t.runtime.database, files(), soon);
    expect(fs.existsSync(liveFile)).toBe(false);
  });
});

describe('tenant isolation', () => {
  it("an account's users export holds only its users, and its exports are not found from another account", async () => {
    const acmePerson = await t.request('POST', '/api/v2/users', { as: acmeOwner, body: { user: { name: 'Acme Only', email: 'acme.only@example.com' } } });
    expect(acmePerson.statusCode).toBe(201);
    const mine = await usersExport(undefined, acmeOwner);
    const body = (await t.request('GET', mine.downloadPath, { as: acmeOwner })).body;
    const ids = lines(body).map((user) => user.id);
    const acmeIds = (await t.runtime.database.db.selectFrom('users').select('id').where('account_id', '=', acme.id).where('deleted_at', 'is', null).execute()).map((row) => row.id);
    expect(ids.sort()).toEqual(acmeIds.sort());
    expect(body).toContain('acme.only@example.com');
    // The default account's admin, on its own host, does not reach Acme's export.
    expect((await t.request('GET', `/api/v2/users/exports/${mine.exported.id}`)).statusCode).toBe(404);
    expect((await t.request('GET', mine.downloadPath)).statusCode).toBe(404);
    // Acme's admin cannot export a user of the default account.
    expect((await t.request('POST', `/api/v2/users/${t.owner.id}/personal_data_exports`, { as: acmeOwner })).statusCode).toBe(404);
  });
});

describe('durability: a users export job resumes part by part and never writes a user twice', () => {
  it('resumes after each part, loses to a concurrent run without harm, and is idempotent once done', async () => {
    for (let index = 0; index < 7; index += 1) await t.user({ name: `Durable ${index}` });
    const database = t.runtime.database;
    const [, users] = exportJobs(database, files(), 3);
    if (!users || !('sliced' in users)) throw new Error('no users export job');
    const jobId = crypto.randomBytes(16).toString('hex');
    const row = await database.db
      .insertInto('data_exports')
      .values({ account_id: t.account.id, kind: 'users', requested_by: t.owner.id, job_id: jobId, status: 'queued', options: JSON.stringify({ base_url: 'http://localhost', date_field: 'updated_at' }) })
      .returning('id')
      .executeTakeFirstOrThrow();
    const owner = await database.db.selectFrom('users').selectAll().where('account_id', '=', t.account.id).where('id', '=', t.owner.id).executeTakeFirstOrThrow();
    const context = { account: t.account, actor: { ...owner, permissions: ADMIN_PERMISSIONS }, jobId };
    const state = async () =>
      database.db.selectFrom('data_exports').select(['status', 'options', 'record_count', 'storage_key']).where('account_id', '=', t.account.id).where('id', '=', row.id).executeTakeFirstOrThrow();

    expect(await users.runSlice(context, {})).toBe('more');
    expect((await state()).options).toMatchObject({ parts: 1 });
    // A crashed run left a half-written part behind under the next part's name: the next run replaces it.
    const key = String((await state()).storage_key);
    fs.writeFileSync(path.join(files().directory, partFileName(key, 1)), 'garbage');
    // Two runs of the same slice at once (one presumed dead but only slow): one commits, the other stands down.
    const outcomes = await Promise.all([users.runSlice(context, {}), users.runSlice(context, {})]);
    expect(outcomes.sort()).toEqual(['more', 'superseded']);
    let outcome: string;
    do outcome = await users.runSlice(context, {});
    while (outcome === 'more');
    expect(outcome).toBe('done');
    const done = await state();
    expect(done.status).toBe('completed');
    const count = await database.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', t.account.id).where('deleted_at', 'is', null).executeTakeFirstOrThrow();
    const written = lines(await text(files().read(key, Number((done.options as { parts: number }).parts))));
    expect(written).toHaveLength(Number(count.n));
    expect(new Set(written.map((user) => user.id)).size).toBe(written.length);
    expect(done.record_count).toBe(written.length);
    // Once done, another run changes nothing.
    expect(await users.runSlice(context, {})).toBe('done');
    expect(await state()).toEqual(done);
  });

  it('a users export deleted while it runs (a purge) stops at its next part; the sweep unlinks what it wrote', async () => {
    const database = t.runtime.database;
    const [, users] = exportJobs(database, files(), 2);
    if (!users || !('sliced' in users)) throw new Error('no users export job');
    const jobId = crypto.randomBytes(16).toString('hex');
    await database.db.insertInto('data_exports').values({ account_id: t.account.id, kind: 'users', requested_by: t.owner.id, job_id: jobId, status: 'queued', options: JSON.stringify({}) }).execute();
    const owner = await database.db.selectFrom('users').selectAll().where('account_id', '=', t.account.id).where('id', '=', t.owner.id).executeTakeFirstOrThrow();
    const context = { account: t.account, actor: { ...owner, permissions: ADMIN_PERMISSIONS }, jobId };
    expect(await users.runSlice(context, {})).toBe('more');
    const running = await database.db.selectFrom('data_exports').select(['id', 'storage_key']).where('account_id', '=', t.account.id).where('job_id', '=', jobId).executeTakeFirstOrThrow();
    const first = path.join(files().directory, partFileName(String(running.storage_key), 0));
    expect(fs.existsSync(first)).toBe(true);
    await database.db.transaction().execute((tx) => removeExportsHolding(tx, t.account.id, t.owner.id));
    expect(await users.runSlice(context, {})).toBe('done');
    expect(fs.existsSync(first)).toBe(true); // unreadable (its key is gone); the sweep unlinks it
    await sweepExportFiles(database, files(), new Date(Date.now() + 11 * 60_000));
    expect(fs.existsSync(first)).toBe(false);
  });
});

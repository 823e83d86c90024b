import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJobs } from '../../src/privacy/exports/data-exports.ts';
import { exportFilesFor } from '../../src/privacy/exports/export-files.ts';
import { ADMIN_PERMISSIONS } from '../../src/roles/permissions.ts';
import { createTestApp, onPostgres, type Caller, type TestApp } from '../helpers.ts';
import { personalExport } from './export-helpers.ts';

let t: TestApp;
let person: Caller;
let agent: Caller;
let other: Caller;
const ids: Record<string, number> = {};

async function ok(method: string, url: string, body: unknown, key: string, as?: Caller): Promise<number> {
  const response = await t.request(method, url, { body, ...(as ? { as } : {}) });
  if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
  return response.json()[key].id as number;
}

async function upload(name: string, text: string): Promise<string> {
  const response = await t.request('POST', `/api/v2/uploads?filename=${name}`, { body: text, headers: { 'content-type': 'text/plain' } });
  if (response.statusCode !== 201) throw new Error(`upload: ${response.body}`);
  return response.json().upload.token as string;
}

/**
 * A rich person: two identities, an organization, a user field, a ticket they requested (a public
 * reply with an attachment and a private note), a ticket they are CC'd on, a comment they wrote
 * there, a lifted suspension, a merge of a duplicate into them, an outbox message, a one-time
 * token and an erasure receipt about them.
 */
beforeAll(async () => {
  t = await createTestApp();
  const db = t.runtime.database.db;
  await ok('POST', '/api/v2/user_fields', { user_field: { key: 'favourite_colour', title: 'Favourite colour', type: 'text' } }, 'user_field');
  ids.organization = await ok('POST', '/api/v2/organizations', { organization: { name: 'Person Org', notes: 'organization notes stay out' } }, 'organization');
  person = await t.user({ name: 'Petra Person', email: 'petra@example.com', phone: '+14155550123', organization_id: ids.organization, user_fields: { favourite_colour: 'teal' }, notes: 'VIP customer' });
  agent = await t.user({ name: 'Andy Agent', role: 'agent' });
  other = await t.user({ name: 'Olga Other', email: 'olga@example.com' });

  ids.requested = await ok('POST', '/api/v2/tickets', { ticket: { subject: 'My printer is on fire', requester_id: person.id, comment: { body: 'Help, my printer burns' } } }, 'ticket');
  await t.request('PUT', `/api/v2/tickets/${ids.requested}`, { body: { ticket: { comment: { body: 'Public reply with a file', public: true, uploads: [await upload('reply.txt', 'reply bytes')] } } } });
  await t.request('PUT', `/api/v2/tickets/${ids.requested}`, { body: { ticket: { comment: { body: 'PRIVATE NOTE about Petra', public: false } } } });
  ids.ccd = await ok('POST', '/api/v2/tickets', { ticket: { subject: "Olga's ticket", requester_id: other.id, email_cc_ids: [person.id], comment: { body: 'Olga writes' } } }, 'ticket');
  const token = await t.request('POST', '/api/v2/uploads?filename=petra.txt', { as: person, body: 'petra bytes', headers: { 'content-type': 'text/plain' } });
  const added = await t.request('POST', '/api/v2/requests', { as: person, body: { request: { subject: 'Petra asks herself', comment: { body: 'Petra adds a word', uploads: [token.json().upload.token] } } } });
  if (added.statusCode !== 201) throw new Error(`person request: ${added.statusCode} ${added.body}`);
  ids.own = added.json().request.id as number;
  ids.unrelated = await ok('POST', '/api/v2/tickets', { ticket: { subject: 'Unrelated ticket', requester_id: other.id, comment: { body: 'Nothing to do with Petra' } } }, 'ticket');

  for (const suspended of [true, false]) {
    const response = await t.request('PUT', `/api/v2/users/${person.id}`, { body: { user: { suspended, ...(suspended ? { suspension_reason: { category: 'abuse', text: 'Shouted at the printer' } } : {}) } } });
    if (response.statusCode !== 200) throw new Error(`suspend: ${response.body}`);
  }
  const duplicate = await t.user({ name: 'Petra Duplicate', email: 'petra.old@example.com' });
  const merged = await t.request('PUT', `/api/v2/users/${duplicate.id}/merge`, { body: { user: { id: person.id } } });
  if (merged.statusCode !== 200) throw new Error(`merge: ${merged.body}`);
  ids.duplicate = duplicate.id;

  await db.insertInto('outbox_messages').values({ account_id: t.account.id, user_id: person.id, recipient: 'petra@example.com', template: 'welcome', locale: 'en-US', subject: 'Welcome Petra', text_body: 'Hello Petra', html_body: '<p>Hello Petra</p>' }).execute();
  await db.insertInto('user_tokens').values({ account_id: t.account.id, user_id: person.id, purpose: 'set_password', token_hash: 'f'.repeat(64), expires_at: new Date(Date.now() + 86_400_000) }).execute();
  await db.insertInto('erasure_requests').values({ account_id: t.account.id, user_id: person.id, actor_id: t.owner.id, status: 'completed', counts: JSON.stringify({ tickets: 0 }), identifier_hashes: ['hash-should-not-show'] }).execute();
  // A rich fixture on a shared, loaded machine: more than the default hook time.
}, 300_000);

afterAll(async () => {
  await t.close();
});

type Doc = Record<string, unknown>;
const list = (document: Doc, key: string) => document[key] as Doc[];

describe('personal-data export of a rich person', () => {
  let document: Doc;

  beforeAll(async () => {
    ({ document } = await personalExport(t, person.id));
  }, 120_000);

  it('has the profile with titled user fields, and no password hash', () => {
    const profile = document.profile as Doc;
    expect(profile).toMatchObject({ id: person.id, name: 'Petra Person', notes: 'VIP customer', role: 'end-user' });
    expect(profile.user_fields).toEqual([{ key: 'favourite_colour', title: 'Favourite colour', type: 'text', value: 'teal' }]);
    expect(JSON.stringify(document)).not.toContain('password_hash');
    expect(document.export).toMatchObject({ format: 'roster.personal_data.v1', user_id: person.id });
  });

  it('has every identity (the merged duplicate\'s too) and the organization membership with its name only', () => {
    const values = list(document, 'identities').map((identity) => identity.value);
    expect(values).toEqual(expect.arrayContaining(['petra@example.com', 'petra.old@example.com']));
    expect(values.some((value) => String(value).includes('4155550123'))).toBe(true);
    expect(list(document, 'identities').every((identity) => !('value_key' in identity))).toBe(true);
    const [membership] = list(document, 'organization_memberships');
    expect(membership).toMatchObject({ organization_id: ids.organization, organization: { id: ids.organization, name: 'Person Org' } });
    expect(JSON.stringify(document)).not.toContain('organization notes stay out');
  });

  it('has the tickets requested and CC\'d with only the comments an end user sees, and none other', () => {
    const tickets = list(document, 'tickets');
    expect(tickets.map((ticket) => ticket.id).sort()).toEqual([ids.requested, ids.ccd, ids.own].sort());
    const requested = tickets.find((ticket) => ticket.id === ids.requested) as Doc;
    expect(requested.relations).toEqual(['requester']);
    const bodies = (requested.comments as Doc[]).map((comment) => comment.body);
    expect(bodies).toEqual(['Help, my printer burns', 'Public reply with a file']);
    expect(JSON.stringify(document)).not.toContain('PRIVATE NOTE');
    expect(JSON.stringify(document)).not.toContain('Nothing to do with Petra');
    const ccd = tickets.find((ticket) => ticket.id === ids.ccd) as Doc;
    expect(ccd.relations).toContain('email_cc');
  });

  it('has attachment metadata with signed links that download the bytes', async () => {
    const requested = list(document, 'tickets').find((ticket) => ticket.id === ids.requested) as Doc;
    const reply = (requested.comments as Doc[])[1] as Doc;
    const [attachment] = reply.attachments as Doc[];
    expect(attachment).toMatchObject({ file_name: 'reply.txt', content_type: 'text/plain' });
    expect(attachment).not.toHaveProperty('storage_key');
    expect(attachment).not.toHaveProperty('token');
    const link = new URL(String(attachment?.download_url));
    expect(link.search).toMatch(/^\?expires=\d+&signature=[\w-]+$/);
    const bytes = await t.request('GET', `${link.pathname}${link.search}`);
    expect(bytes.statusCode).toBe(200);
    expect(bytes.body).toBe('reply bytes');
    // Uploaded by the person.
    expect(list(document, 'attachments').map((row) => row.file_name)).toEqual(['petra.txt']);
  });

  it('has the comments they authored, the suspension with its reason, the merge, outbox, tokens and receipts', () => {
    expect(list(document, 'comments_authored').map((comment) => comment.body)).toContain('Petra adds a word');
    const [suspension] = list(document, 'suspensions');
    expect(suspension).toMatchObject({ category: 'abuse', reason: 'Shouted at the printer' });
    expect(suspension?.lifted_at).toEqual(expect.any(String));
    expect(list(document, 'merges')).toEqual([expect.objectContaining({ source_id: ids.duplicate, target_id: person.id })]);
    expect(list(document, 'merges')[0]).not.toHaveProperty('snapshot');
    // The mail feature may have queued its own messages to her as well.
    expect(list(document, 'outbox_messages')).toContainEqual(expect.objectContaining({ subject: 'Welcome Petra', text_body: 'Hello Petra', recipient: 'petra@example.com' }));
    expect(list(document, 'one_time_tokens')).toContainEqual(expect.objectContaining({ purpose: 'set_password' }));
    expect(JSON.stringify(document.one_time_tokens)).not.toContain('ffff');
    expect(list(document, 'erasure_receipts')).toEqual([expect.objectContaining({ status: 'completed', counts: { tickets: 0 } })]);
    expect(JSON.stringify(document)).not.toContain('hash-should-not-show');
    expect(document.deletion).toBeNull();
  });

  it('has audit events about them (field names only) and the export requests about them', () => {
    const about = list(document, 'audit_events_about_them');
    expect(about.map((event) => event.action)).toEqual(expect.arrayContaining(['user.create', 'user.suspend']));
    expect(list(document, 'audit_events_by_them').length).toBeGreaterThan(0);
    expect(list(document, 'data_exports').length).toBeGreaterThanOrEqual(1);
  });
});

describe('whose export shows what', () => {
  it("an end user's own export (POST /users/me/…) is theirs to read and download, without the permission", async () => {
    const { document, result } = await personalExport(t, 'me', person);
    expect((document.profile as Doc).id).toBe(person.id);
    expect(JSON.stringify(document)).not.toContain('PRIVATE NOTE');
    expect(result.exported).toMatchObject({ kind: 'personal_data', subject_user_id: person.id, requested_by: person.id, status: 'completed' });
    // Someone else may not read it, nor download it even with its signed link.
    expect((await t.request('GET', `/api/v2/personal_data_exports/${result.exported.id}`, { as: other })).statusCode).toBe(403);
    expect((await t.request('GET', result.downloadPath, { as: other })).statusCode).toBe(403);
    expect((await t.request('GET', result.downloadPath, { as: null })).statusCode).toBe(401);
    // Admins and the person may.
    expect((await t.request('GET', result.downloadPath)).statusCode).toBe(200);
  });

  it("staff see their own tickets' private comments, and their group memberships", async () => {
    const group = await ok('POST', '/api/v2/groups', { group: { name: 'Support Tier 2' } }, 'group');
    await ok('POST', '/api/v2/group_memberships', { group_membership: { user_id: agent.id, group_id: group } }, 'group_membership');
    const ticket = await ok('POST', '/api/v2/tickets', { ticket: { subject: 'Agent asks', requester_id: agent.id, comment: { body: 'Agent question' } } }, 'ticket');
    await t.request('PUT', `/api/v2/tickets/${ticket}`, { body: { ticket: { comment: { body: 'Internal for staff', public: false } } } });
    const { document } = await personalExport(t, agent.id);
    const mine = list(document, 'tickets').find((row) => row.id === ticket) as Doc;
    expect((mine.comments as Doc[]).map((comment) => comment.body)).toContain('Internal for staff');
    expect(list(document, 'group_memberships')).toEqual([expect.objectContaining({ group_id: group, group: { id: group, name: 'Support Tier 2' } })]);
  });

  it('a soft-deleted person\'s export has their deletion record', async () => {
    const leaving = await t.user({ name: 'Lena Leaving', email: 'lena@example.com' });
    expect((await t.request('DELETE', `/api/v2/users/${leaving.id}`)).statusCode).toBe(200);
    const { document } = await personalExport(t, leaving.id);
    expect(document.deletion).toMatchObject({ user_id: leaving.id });
    expect(JSON.stringify(document.deletion)).toContain('lena@example.com');
  });
});

describe('permissions', () => {
  it('export_personal_data: admins yes; agents only by a custom role, and for end users only', async () => {
    const plain = await t.user({ name: 'Plain Agent', role: 'agent' });
    const refused = await t.request('POST', `/api/v2/users/${person.id}/personal_data_exports`, { as: plain });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().description).toContain('export_personal_data');

    const role = await ok('POST', '/api/v2/custom_roles', { custom_role: { name: 'Privacy officer', configuration: { export_personal_data: true } } }, 'custom_role');
    const officer = await t.user({ name: 'Privacy Officer', role: 'agent', custom_role_id: role });
    const { document, result } = await personalExport(t, person.id, officer);
    expect((document.profile as Doc).id).toBe(person.id);
    expect(result.exported).toMatchObject({ requested_by: officer.id });
    // Agents' and admins' data is for admins to export.
    expect((await t.request('POST', `/api/v2/users/${agent.id}/personal_data_exports`, { as: officer })).statusCode).toBe(403);
    // The officer reads their own request; a plain agent does not.
    expect((await t.request('GET', `/api/v2/personal_data_exports/${result.exported.id}`, { as: plain })).statusCode).toBe(403);
    expect((await t.request('GET', `/api/v2/personal_data_exports/${result.exported.id}`, { as: officer })).statusCode).toBe(200);
    // And the person it is about may read and download it.
    expect((await t.request('GET', `/api/v2/personal_data_exports/${result.exported.id}`, { as: person })).statusCode).toBe(200);
    expect((await t.request('GET', result.downloadPath, { as: person })).statusCode).toBe(200);
  });

  it('end users export only themselves; all users is admins\'; unknown ids are 404 and malformed ones 400', async () => {
    expect((await t.request('POST', `/api/v2/users/${other.id}/personal_data_exports`, { as: person })).statusCode).toBe(403);
    expect((await t.request('POST', `/api/v2/users/${person.id}/personal_data_exports`, { as: person })).statusCode).toBe(200);
    for (const as of [person, agent]) expect((await t.request('POST', '/api/v2/users/exports', { as })).statusCode).toBe(403);
    expect((await t.request('POST', '/api/v2/users/999999/personal_data_exports')).statusCode).toBe(404);
    expect((await t.request('POST', '/api/v2/users/abc/personal_data_exports')).statusCode).toBe(400);
    expect((await t.request('GET', '/api/v2/personal_data_exports/999999')).statusCode).toBe(404);
    expect((await t.request('GET', '/api/v2/data_exports/1/download')).statusCode).toBe(404);
    // A users export is not shown as a personal one, nor the other way round.
    const users = (await t.request('POST', '/api/v2/users/exports')).json().users_export.id as number;
    expect((await t.request('GET', `/api/v2/personal_data_exports/${users}`)).statusCode).toBe(404);
  });

  it('a job whose requester lost the permission fails the export instead of making it', async () => {
    const role = await ok('POST', '/api/v2/custom_roles', { custom_role: { name: 'Briefly allowed', configuration: { export_personal_data: true } } }, 'custom_role');
    const briefly = await t.user({ name: 'Briefly Allowed', role: 'agent', custom_role_id: role });
    await t.runtime.jobs.stop();
    let exportId = 0;
    try {
      const created = await t.request('POST', `/api/v2/users/${person.id}/personal_data_exports`, { as: briefly });
      expect(created.statusCode).toBe(200);
      exportId = created.json().personal_data_export.id as number;
      expect((await t.request('PUT', `/api/v2/custom_roles/${role}`, { body: { custom_role: { configuration: { export_personal_data: false } } } })).statusCode).toBe(200);
    } finally {
      await t.runtime.jobs.start();
    }
    let status = 'queued';
    for (let attempt = 0; attempt < 100 && (status === 'queued' || status === 'working'); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await t.request('GET', `/api/v2/personal_data_exports/${exportId}`)).json().personal_data_export.status as string;
    }
    expect(status).toBe('failed');
  });
});

describe('durability of a personal-data export', () => {
  it('is made once: a second run of its job changes nothing, and its file reads back the same', async () => {
    const { result } = await personalExport(t, other.id);
    const db = t.runtime.database.db;
    const before = await db.selectFrom('data_exports').selectAll().where('account_id', '=', t.account.id).where('id', '=', Number(result.exported.id)).executeTakeFirstOrThrow();
    const [personal] = exportJobs(t.runtime.database, exportFilesFor(t.runtime.database, 'memory://'));
    if (!personal || !('sliced' in personal) || !before.job_id) throw new Error('no personal export job');
    const owner = await db.selectFrom('users').selectAll().where('account_id', '=', t.account.id).where('id', '=', t.owner.id).executeTakeFirstOrThrow();
    expect(await personal.runSlice({ account: t.account, actor: { ...owner, permissions: ADMIN_PERMISSIONS }, jobId: before.job_id }, {})).toBe('done');
    const after = await db.selectFrom('data_exports').selectAll().where('account_id', '=', t.account.id).where('id', '=', before.id).executeTakeFirstOrThrow();
    expect(after).toEqual(before);
    expect((await t.request('GET', result.downloadPath)).statusCode).toBe(200);
  });
});

describe("pg-boss's schema (left out of the personal-data map)", () => {
  it('holds only ids in the data of the export jobs that ran', async () => {
    const db = t.runtime.database.db;
    const { rows: [current] } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db);
    const boss = onPostgres ? `${current?.schema}_boss` : 'pgboss';
    const { rows } = await sql<{ data: unknown }>`SELECT data FROM ${sql.table(`${boss}.job`)} WHERE name = 'roster-item-jobs'`.execute(db);
    expect(rows.length).toBeGreaterThan(5);
    for (const { data } of rows) expect(Object.keys(data as object).sort()).toEqual(['accountId', 'jobId']);
    const text = JSON.stringify(rows);
    for (const value of ['petra', 'Petra', 'example.com', '4155550123']) expect(text).not.toContain(value);
  });
});

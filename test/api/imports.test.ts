import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type Caller, type TestApp } from '../helpers.ts';

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

function multipart(csv: string | Buffer, fields: Record<string, string> = {}, fileField = 'file'): { body: Buffer; headers: Record<string, string> } {
  const boundary = '----rosterimport7b3f';
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${fileField}"; filename="users.csv"\r\nContent-Type: text/csv\r\n\r\n`));
  parts.push(Buffer.isBuffer(csv) ? csv : Buffer.from(csv));
  parts.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

async function postCsv(csv: string | Buffer, query = '', as?: Caller | null) {
  return t.runtime.app.inject({
    method: 'POST',
    url: `/api/v2/imports/users${query}`,
    headers: { ...(as === undefined ? t.owner.headers : as ? as.headers : {}), 'content-type': 'text/csv' },
    payload: csv,
  });
}

async function postMultipart(csv: string | Buffer, fields: Record<string, string> = {}, query = '') {
  const { body, headers } = multipart(csv, fields);
  return t.runtime.app.inject({ method: 'POST', url: `/api/v2/imports/users${query}`, headers: { ...t.owner.headers, ...headers }, payload: body });
}

interface ReportRow {
  row: number;
  status: string;
  user_id: number | null;
  error: string | null;
  columns: string[];
  description: string | null;
}

async function finished(response: { statusCode: number; body: string; json(): Record<string, unknown> }): Promise<{ import: Record<string, unknown>; rows: ReportRow[] }> {
  expect(response.statusCode, response.body).toBe(200);
  const created = response.json() as { import: { id: number }; job_status: { id: string } };
  const job = await t.waitForJob(created.job_status.id);
  expect(job.status).toBe('completed');
  const shown = await t.request('GET', `/api/v2/imports/${created.import.id}`);
  const rows: ReportRow[] = [];
  let url: string | null = `/api/v2/imports/${created.import.id}/rows?page[size]=2`;
  while (url) {
    const page = await t.request('GET', url);
    expect(page.statusCode, page.body).toBe(200);
    const body = page.json() as { rows: ReportRow[]; links: { next: string | null } };
    rows.push(...body.rows);
    url = body.links.next ? new URL(body.links.next).pathname + new URL(body.links.next).search : null;
  }
  return { import: shown.json().import, rows };
}

const userByEmail = async (email: string) => {
  const response = await t.request('GET', `/api/v2/users/search?query=${encodeURIComponent(`email:${email}`)}`);
  return (response.json().users as Array<Record<string, unknown>>)[0];
};

describe('POST /api/v2/imports/users', () => {
  it('creates users from a multipart CSV with Zendesk columns, case-insensitive headers and every column mapped', async () => {
    const field = await t.request('POST', '/api/v2/user_fields', { body: { user_field: { key: 'plan', title: 'Plan', type: 'dropdown', custom_field_options: [{ name: 'Gold', value: 'gold' }] } } });
    expect(field.statusCode).toBe(201);
    const csv = [
      'Name,EMAIL, External_ID ,details,notes,phone,role,restriction,organization,tags,User_Fields.Plan',
      'Ann Lee,ann@roster.test,crm-1,Some details,Some notes,+1 415 555 2671,end-user,organization,Acme,"vip, big-spender",gold',
      'Zhang Wei,wei@roster.test,,,,,agent,,,,',
    ].join('\r\n');
    const { import: summary, rows } = await finished(await postMultipart(csv));
    expect(summary).toMatchObject({ status: 'completed', dry_run: false, update: false, total: 2, progress: 2, created: 2, updated: 0, unchanged: 0, rejected: 0 });
    expect(summary.columns).toEqual(['name', 'email', 'external_id', 'details', 'notes', 'phone', 'role', 'restriction', 'organization', 'tags', 'user_fields.plan']);
    expect(rows.map((r) => [r.row, r.status])).toEqual([[2, 'created'], [3, 'created']]);
    const ann = await t.request('GET', `/api/v2/users/${rows[0]?.user_id}`);
    expect(ann.json().user).toMatchObject({
      name: 'Ann Lee',
      email: 'ann@roster.test',
      external_id: 'crm-1',
      details: 'Some details',
      notes: 'Some notes',
      phone: '+1 415 555 2671',
      role: 'end-user',
      ticket_restriction: 'organization',
      tags: ['vip', 'big-spender'],
      user_fields: { plan: 'gold' },
    });
    const organization = await t.request('GET', `/api/v2/organizations/${ann.json().user.organization_id}`);
    expect(organization.json().organization.name).toBe('Acme');
    expect((await t.request('GET', `/api/v2/users/${rows[1]?.user_id}`)).json().user.role).toBe('agent');
  });

  it('takes a text/csv body and options in the query string; semicolon-separated files too', async () => {
    const { import: summary, rows } = await finished(await postCsv('name;email\nÉmile Zola;emile@roster.test\n', '?dry_run=false'));
    expect(summary).toMatchObject({ created: 1 });
    expect(rows[0]).toMatchObject({ row: 2, status: 'created' });
    expect((await userByEmail('emile@roster.test'))?.name).toBe('Émile Zola');
  });

  it('reports existing users unchanged without update, and updates only what differs with update', async () => {
    const existing = await t.user({ name: 'Old Name', email: 'old@roster.test', notes: 'kept' });
    const same = await t.user({ name: 'Same Person', email: 'same@roster.test' });
    const csv = 'name,email,notes\nNew Name,old@roster.test,\nSame Person,same@roster.test,\nFresh One,fresh@roster.test,hello\n';

    const createOnly = await finished(await postCsv(csv));
    expect(createOnly.rows.map((r) => [r.status, r.user_id === null ? null : 'id'])).toEqual([['unchanged', 'id'], ['unchanged', 'id'], ['created', 'id']]);
    expect(createOnly.rows[0]).toMatchObject({ user_id: existing.id, description: expect.stringContaining('update') });
    expect((await t.request('GET', `/api/v2/users/${existing.id}`)).json().user.name).toBe('Old Name');

    const update = await finished(await postCsv(csv, '?update=true'));
    expect(update.rows.map((r) => r.status)).toEqual(['updated', 'unchanged', 'unchanged']);
    expect(update.rows[1]?.user_id).toBe(same.id);
    const after = (await t.request('GET', `/api/v2/users/${existing.id}`)).json().user;
    // An empty cell changes nothing: the notes stay.
    expect(after).toMatchObject({ name: 'New Name', notes: 'kept' });
    // The audit log names the field that changed, never its value.
    const audit = await t.runtime.database.db.selectFrom('audit_events').selectAll().where('target_id', '=', String(existing.id)).where('action', '=', 'user.update').execute();
    expect(audit.map((a) => a.changed_fields)).toEqual([['name']]);
  });

  it('matches by external_id before email, case-insensitively', async () => {
    const user = await t.user({ name: 'Ext User', email: 'ext@roster.test', external_id: 'CRM-9' });
    const { rows } = await finished(await postCsv('name,external_id\nRenamed,crm-9\n', '?update=true'));
    expect(rows[0]).toMatchObject({ status: 'updated', user_id: user.id });
  });

  it('rejects rows with a reason naming the column, never the value', async () => {
    await t.user({ name: 'Taken', email: 'taken@roster.test' });
    await t.user({ name: 'Has Ext', email: 'hasext@roster.test', external_id: 'ext-taken' });
    const csv = [
      'name,email,phone,role,restriction,user_fields.nope,external_id',
      'Bad Email,not-an-email,,,,,',
      ',blank-name@roster.test,,,,,',
      'Bad Phone,phone@roster.test,call me maybe,,,,',
      'Bad Role,role@roster.test,,overlord,,,',
      'Agent Restricted,agentr@roster.test,,agent,organization,,',
      'Dup One,dup@roster.test,,,,,',
      'Dup Two,DUP@roster.test,,,,,',
      'Too Many,many@roster.test,,,,,,extra',
      'Ext Clash,new-ext@roster.test,,,,,ext-taken',
    ].join('\n');
    const response = await postCsv(csv);
    // An unknown user field is a column problem: refused before anything is queued.
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'InvalidColumns', description: expect.stringContaining('user_fields.nope') });

    const valid = [
      'name,email,phone,role,restriction,external_id',
      'Bad Email,not-an-email,,,,',
      ',blank-name@roster.test,,,,',
      'Bad Phone,phone@roster.test,call me maybe,,,',
      'Bad Role,role@roster.test,,overlord,,',
      'Agent Restricted,agentr@roster.test,,agent,organization,',
      'Dup One,dup@roster.test,,,,',
      'Dup Two,DUP@roster.test,,,,',
      'Too Many,many@roster.test,,,,,extra',
      'Ext Clash,new-ext@roster.test,,,,ext-taken',
    ].join('\n');
    const { import: summary, rows } = await finished(await postCsv(valid));
    const byRow = new Map(rows.map((r) => [r.row, r]));
    expect(byRow.get(2)).toMatchObject({ status: 'rejected', error: 'InvalidValue', columns: ['email'] });
    expect(byRow.get(3)).toMatchObject({ status: 'rejected', error: 'BlankValue', columns: ['name'] });
    expect(byRow.get(4)).toMatchObject({ status: 'rejected', error: 'InvalidValue', columns: ['phone'] });
    expect(byRow.get(5)).toMatchObject({ status: 'rejected', error: 'InvalidValue', columns: ['role'] });
    expect(byRow.get(6)).toMatchObject({ status: 'rejected', error: 'InvalidValue', columns: ['restriction'] });
    expect(byRow.get(7)).toMatchObject({ status: 'created' });
    expect(byRow.get(8)).toMatchObject({ status: 'rejected', error: 'DuplicateInFile', columns: ['email'], description: expect.stringContaining('row 7') });
    expect(byRow.get(9)).toMatchObject({ status: 'rejected', error: 'InvalidRow' });
    expect(byRow.get(10)).toMatchObject({ status: 'unchanged' });
    expect(summary).toMatchObject({ created: 1, rejected: 7, unchanged: 1 });
    for (const row of rows) {
      for (const secret of ['not-an-email', 'call me maybe', 'overlord', 'dup@roster.test', 'extra']) expect(row.description ?? '').not.toContain(secret);
    }
  });

  it('rejects an email another user holds when the row matches someone else by external_id', async () => {
    await t.user({ name: 'Holder', email: 'holder@roster.test' });
    await t.user({ name: 'Other', email: 'other@roster.test', external_id: 'other-1' });
    const { rows } = await finished(await postCsv('name,external_id,email\nOther,other-1,holder@roster.test\n', '?update=true'));
    expect(rows[0]).toMatchObject({ status: 'rejected', error: 'DuplicateValue', columns: ['email'] });
  });

  it("never takes the admin role away, and a non-owner admin cannot change the owner", async () => {
    const admin = await t.user({ name: 'Second Admin', email: 'admin2@roster.test', role: 'admin' });
    const { rows } = await finished(await postCsv('email,role\nadmin2@roster.test,agent\n', '?update=true'));
    expect(rows[0]).toMatchObject({ status: 'rejected', columns: ['role'] });
    expect((await t.request('GET', `/api/v2/users/${admin.id}`)).json().user.role).toBe('admin');

    const response = await t.runtime.app.inject({ method: 'POST', url: '/api/v2/imports/users?update=true', headers: { ...admin.headers, 'content-type': 'text/csv' }, payload: 'email,notes\nowner@roster.test,hello\n' });
    const report = await finished(response);
    expect(report.rows[0]).toMatchObject({ status: 'rejected', error: 'Forbidden' });
  });

  it('a dry run reports exactly what the real run then does, and changes nothing', async () => {
    await t.user({ name: 'Existing', email: 'existing@roster.test', external_id: 'e-1' });
    const lines = ['name,email,external_id,role,organization,tags'];
    for (let i = 0; i < 1200; i += 1) {
      const kind = i % 7;
      if (kind === 0) lines.push(`Person ${i},person${i}@roster.test,,end-user,Org ${i % 5},t${i % 3}`);
      else if (kind === 1) lines.push(`Bad ${i},bad${i},,,,`);
      else if (kind === 2) lines.push(`Existing Renamed ${i},existing@roster.test,,,,`);
      else if (kind === 3) lines.push(`Dup ${i},person${i - 3}@roster.test,,,,`);
      else if (kind === 4) lines.push(`Agent ${i},agent${i}@roster.test,x-${i},agent,,`);
      else if (kind === 5) lines.push(`Ext ${i},,x-${i - 1},,,`);
      else lines.push(`,,,,,`);
    }
    const csv = `${lines.join('\n')}\n`;
    const usersBefore = (await t.request('GET', '/api/v2/users/count')).json().count.value;
    const auditBefore = await t.runtime.database.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();

    const dry = await finished(await postCsv(csv, '?dry_run=true&update=true'));
    expect(dry.import).toMatchObject({ dry_run: true, status: 'completed' });
    expect((await t.request('GET', '/api/v2/users/count')).json().count.value).toBe(usersBefore);
    const auditAfterDry = await t.runtime.database.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(auditAfterDry.n)).toBe(Number(auditBefore.n));

    const real = await finished(await postCsv(csv, '?update=true'));
    const shape = (rows: ReportRow[]) => rows.map((r) => ({ ...r, user_id: r.status === 'created' ? null : r.user_id }));
    expect(shape(dry.rows)).toEqual(shape(real.rows));
    for (const key of ['total', 'created', 'updated', 'unchanged', 'rejected']) expect(dry.import[key]).toBe(real.import[key]);
    expect(real.import.created).toBeGreaterThan(100);
    expect(real.import.updated).toBe(1);
    expect((await t.request('GET', '/api/v2/users/count')).json().count.value).toBe(usersBefore + Number(real.import.created));
  });

  it('downloads the report as CSV', async () => {
    const created = await postCsv('name,email\nAnn,ann@roster.test\nBad,bad\n');
    const { import: summary } = await finished(created);
    const report = await t.request('GET', `/api/v2/imports/${summary.id}/report`);
    expect(report.statusCode).toBe(200);
    expect(report.headers['content-type']).toMatch(/^text\/csv/);
    const lines = report.body.trim().split('\n');
    expect(lines[0]).toBe('row,status,user_id,error,columns,description');
    expect(lines[1]).toMatch(/^2,created,\d+,,,$/);
    expect(lines[2]).toMatch(/^3,rejected,,InvalidValue,email,/);
    const rejected = await t.request('GET', `/api/v2/imports/${summary.id}/rows?status=rejected`);
    expect(rejected.json().rows.map((r: ReportRow) => r.row)).toEqual([3]);
    const list = await t.request('GET', '/api/v2/imports');
    expect(list.json().imports.map((i: { id: number }) => i.id)).toContain(summary.id);
  });

  it('refuses send_welcome=true with a 400 while the Help Center is off (welcome mail needs it)', async () => {
    expect((await t.request('PUT', '/api/v2/account/settings', { body: { settings: { help_center_enabled: false } } })).statusCode).toBe(200);
    const query = await postCsv('name,email\nAnn,ann@roster.test\n', '?send_welcome=true');
    expect(query.statusCode).toBe(400);
    expect(query.json()).toMatchObject({ error: 'WelcomeMailUnavailable', description: expect.stringContaining('help_center_enabled') });
    const field = await postMultipart('name,email\nAnn,ann@roster.test\n', { send_welcome: 'true' });
    expect(field.statusCode).toBe(400);
    expect((await t.request('GET', '/api/v2/imports')).json().imports).toEqual([]);
    expect(await userByEmail('ann@roster.test')).toBeUndefined();
  });

  it('refuses malformed files with a clear 400 that never quotes the file', async () => {
    const cases: Array<[string | Buffer, RegExp]> = [
      ['', /empty/],
      ['name,email\n', /no rows/],
      ['nom,courriel\nAnn,ann@roster.test\n', /Unknown columns: nom, courriel/],
      ['name,name\nAnn,Ann\n', /more than once/],
      ['details,notes\nx,y\n', /name, email or external_id/],
      ['name,email\n"Ann secret,ann@roster.test\n', /Line \d+: a quoted field is never closed/],
      ['name,email\nAnn "secret" Lee,ann@roster.test\n', /quote/],
      [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]), /NUL|UTF-8/],
      [Buffer.from('name,email\nJos\xe9,jose@roster.test\n', 'latin1'), /UTF-8/],
      [`name,email\n${'a'.repeat(300_000)},x@roster.test\n`, /longer than/],
    ];
    for (const [body, pattern] of cases) {
      const response = await postCsv(body);
      expect(response.statusCode, String(pattern)).toBe(400);
      expect(response.json().description).toMatch(pattern);
      expect(response.json().description).not.toContain('secret');
    }
    const wrongField = await postMultipart('name\nAnn\n', {}, '');
    expect(wrongField.statusCode).toBe(200);
    const json = await t.runtime.app.inject({ method: 'POST', url: '/api/v2/imports/users', headers: { ...t.owner.headers, 'content-type': 'application/json' }, payload: '{"users":[]}' });
    expect(json.statusCode).toBe(400);
    expect(json.json().error).toBe('MissingFile');
    const brokenMultipart = await t.runtime.app.inject({ method: 'POST', url: '/api/v2/imports/users', headers: { ...t.owner.headers, 'content-type': 'multipart/form-data; boundary=zzz' }, payload: '--zzz\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nname\nAnn' });
    expect(brokenMultipart.statusCode).toBe(400);
  });

  it('is for admins only', async () => {
    const agent = await t.user({ name: 'Agent', role: 'agent' });
    const endUser = await t.user({ name: 'End User' });
    for (const caller of [agent, endUser]) {
      const response = await postCsv('name\nAnn\n', '', caller);
      expect(response.statusCode).toBe(403);
      expect(response.json().description).toBe('Only admins can import users');
    }
    expect((await postCsv('name\nAnn\n', '', null)).statusCode).toBe(401);
  });
});

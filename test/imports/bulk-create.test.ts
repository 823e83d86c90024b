import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';

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

async function importCsv(csv: string): Promise<Array<{ row: number; status: string; user_id: number | null }>> {
  const response = await t.runtime.app.inject({ method: 'POST', url: '/api/v2/imports/users', headers: { ...t.owner.headers, 'content-type': 'text/csv' }, payload: csv });
  expect(response.statusCode, response.body).toBe(200);
  const created = response.json() as { import: { id: number }; job_status: { id: string } };
  expect((await t.waitForJob(created.job_status.id)).status).toBe('completed');
  return (await t.request('GET', `/api/v2/imports/${created.import.id}/rows`)).json().rows;
}

/** What a user is in the database, without what differs by construction (id, the two keys, times). */
async function stored(userId: number) {
  const db = t.runtime.database.db;
  const { id: _id, external_id: _external, created_at: _created, updated_at: _updated, ...user } = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
  const identities = (await db.selectFrom('user_identities').select(['type', 'value', 'primary', 'verified', 'verified_at', 'verification_method', 'deliverable_state']).where('user_id', '=', userId).orderBy('type').execute()).map((i) => ({
    ...i,
    value: i.type === 'email' ? i.value.replace(/^[^@]+/, '*') : i.value,
  }));
  const memberships = await db.selectFrom('organization_memberships').select(['id', 'organization_id', 'is_default', 'view_tickets']).where('user_id', '=', userId).execute();
  const userAudit = await db.selectFrom('audit_events').select(['actor_id', 'action', 'changed_fields']).where('target_type', '=', 'user').where('target_id', '=', String(userId)).where('action', '=', 'user.create').execute();
  const membershipAudit = memberships.length === 0 ? [] : await db.selectFrom('audit_events').select(['actor_id', 'action', 'changed_fields']).where('target_type', '=', 'organization_membership').where('target_id', 'in', memberships.map((m) => String(m.id))).execute();
  return { user, identities, memberships: memberships.map(({ id: _m, ...m }) => m), userAudit, membershipAudit };
}

describe('CSV import: the bulk create path', () => {
  it('creates in bulk exactly the user createUser creates from the same fields (columns, identities, membership, audit)', async () => {
    const organization = (await t.request('POST', '/api/v2/organizations', { body: { organization: { name: 'Guard Org' } } })).json().organization.id as number;
    const rows = await importCsv(
      'name,email,external_id,details,notes,phone,role,restriction,organization,tags\n' +
        'Zoë Müller,zoe.bulk@roster.test,bulk-1,Some details,A note,+33 6 12 34 56 78,end-user,organization,guard org,vip gold\n' +
        '陈伟,chen.bulk@roster.test,bulk-2,,,,agent,,,\n',
    );
    expect(rows.map((r) => r.status)).toEqual(['created', 'created']);
    const viaApi = async (user: Record<string, unknown>) => {
      const response = await t.request('POST', '/api/v2/users', { body: { user } });
      expect(response.statusCode, response.body).toBe(201);
      return response.json().user.id as number;
    };
    const first = await viaApi({ name: 'Zoë Müller', email: 'zoe.api@roster.test', external_id: 'api-1', details: 'Some details', notes: 'A note', phone: '+33 6 12 34 56 78', role: 'end-user', ticket_restriction: 'organization', organization: { name: 'guard org' }, tags: 'vip gold' });
    const second = await viaApi({ name: '陈伟', email: 'chen.api@roster.test', external_id: 'api-2', role: 'agent' });
    const imported = [await stored(rows[0]?.user_id ?? 0), await stored(rows[1]?.user_id ?? 0)];
    const created = [await stored(first), await stored(second)];
    expect(imported).toEqual(created);
    expect(imported[0]?.memberships).toEqual([{ organization_id: organization, is_default: true, view_tickets: expect.any(Boolean) }]);
    expect(imported[0]?.user.organization_id).toBe(organization);
  });
});

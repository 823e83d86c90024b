import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type Caller, type TestApp } from '../helpers.ts';

/**
 * The golden table: a fixed data set (four locales, organizations, groups, identities, custom
 * fields, pinned dates) and, for each query, the exact set of records it must find — through
 * GET /api/v2/search, /search/count and, for user queries, /users/search.
 */

let t: TestApp;
/** Record keys → ids, filled by the fixture. */
const ids = new Map<string, number>();
const key = (name: string): number => {
  const id = ids.get(name);
  if (id === undefined) throw new Error(`no fixture record ${name}`);
  return id;
};

async function post(path: string, body: unknown, as?: Caller): Promise<Record<string, unknown>> {
  const response = await t.request('POST', path, { body, ...(as ? { as } : {}) });
  if (response.statusCode !== 201 && response.statusCode !== 200) throw new Error(`${path}: ${response.statusCode} ${response.body}`);
  return response.json() as Record<string, unknown>;
}

async function organization(name: string, fields: Record<string, unknown>): Promise<void> {
  const body = await post('/api/v2/organizations', { organization: { name, ...fields } });
  ids.set(`org:${name}`, (body.organization as { id: number }).id);
}

async function user(label: string, fields: Record<string, unknown>): Promise<void> {
  const body = await post('/api/v2/users', { user: fields });
  ids.set(label, (body.user as { id: number }).id);
}

beforeAll(async () => {
  t = await createTestApp();
  ids.set('owner', t.owner.id);
  await post('/api/v2/user_fields', { user_field: { key: 'plan', type: 'dropdown', title: 'Plan', custom_field_options: [{ name: 'Gold', value: 'gold' }, { name: 'Free', value: 'free' }] } });
  await post('/api/v2/user_fields', { user_field: { key: 'seats', type: 'integer', title: 'Seats' } });
  await post('/api/v2/user_fields', { user_field: { key: 'beta', type: 'checkbox', title: 'Beta' } });
  await post('/api/v2/user_fields', { user_field: { key: 'renewal', type: 'date', title: 'Renewal' } });
  await post('/api/v2/organization_fields', { organization_field: { key: 'tier', type: 'text', title: 'Tier' } });

  await organization('Acme Corp', { tags: ['enterprise'], details: 'Rocket skates and anvils', notes: 'Priority customer', external_id: 'ORG-ACME', organization_fields: { tier: 'platinum partner' } });
  await organization('Émile & Fils', { tags: ['smb'], details: 'Boulangerie à Paris' });
  await organization('北京科技有限公司', { tags: ['enterprise', 'asia'] });

  const group = await post('/api/v2/groups', { group: { name: 'Tier Two Support' } });
  ids.set('group', (group.group as { id: number }).id);

  await user('ann', {
    name: 'Ann Lee', email: 'ann.lee@acme.test', phone: '+1 555 123 4567', organization_id: key('org:Acme Corp'), tags: ['vip', 'gold'],
    notes: 'Prefers phone calls in the morning', external_id: 'CRM-1', user_fields: { plan: 'gold', seats: 12, beta: true, renewal: '2025-03-01' },
  });
  await user('emile', { name: 'Émile Zola', email: 'emile@fils.test', organization_id: key('org:Émile & Fils'), tags: ['vip'], details: 'Lives in Paris', user_fields: { plan: 'free', seats: 3 } });
  await user('wang', { name: '王小明', email: 'wang@bj.test', organization_id: key('org:北京科技有限公司'), notes: '喜欢电话' });
  await user('joao', { name: 'João Silva', email: 'joao@br.test', tags: ['gold'], details: 'São Paulo office', external_id: 'crm-2' });
  await user('joanna', { name: 'Joanna Leeds', email: 'joanna@other.test', notes: 'Met at the Paris fair' });
  await user('agent', { name: 'Sam Agent', email: 'sam@roster.test', role: 'agent' });
  await user('admin', { name: 'Ada Admin', email: 'ada@roster.test', role: 'admin', verified: true });

  // A second, non-primary email: search matches any identity.
  await post(`/api/v2/users/${key('joanna')}/identities`, { identity: { type: 'email', value: 'jleeds@acme.test' } });
  // João belongs to a second organization? No: he has none. Ann also joins Émile & Fils (not her default).
  await post('/api/v2/organization_memberships', { organization_membership: { user_id: key('ann'), organization_id: key('org:Émile & Fils') } });
  await post('/api/v2/group_memberships', { group_membership: { user_id: key('agent'), group_id: key('group') } });
  const suspend = await t.request('PUT', `/api/v2/users/${key('joao')}`, { body: { user: { suspended: true, suspension_reason: 'objection' } } });
  expect(suspend.statusCode).toBe(200);

  // Pinned dates: created one year apart, oldest first.
  const db = t.runtime.database.db;
  const order = ['owner', 'ann', 'emile', 'wang', 'joao', 'joanna', 'agent', 'admin'];
  for (const [index, label] of order.entries()) {
    const created = new Date(Date.UTC(2019 + index, 0, 15));
    await db.updateTable('users').set({ created_at: created, updated_at: created }).where('account_id', '=', t.account.id).where('id', '=', key(label)).execute();
  }
  await sql`UPDATE users SET updated_at = now() - interval '2 hours' WHERE account_id = ${t.account.id} AND id = ${key('ann')}`.execute(db);
  for (const [index, name] of ['Acme Corp', 'Émile & Fils', '北京科技有限公司'].entries()) {
    const created = new Date(Date.UTC(2020, index * 3, 1));
    await db.updateTable('organizations').set({ created_at: created, updated_at: created }).where('account_id', '=', t.account.id).where('id', '=', key(`org:${name}`)).execute();
  }
});
afterAll(async () => {
  await t.close();
});

type Row = [query: string, expected: string[]];

/** Each query → the records it finds (users by label, organizations as `org:Name`). */
const GOLDEN: Row[] = [
  // seed 000: users without an organization
  ['type:user organization:none', ['owner', 'joao', 'joanna', 'agent', 'admin']],
  ['type:user -organization:none', ['ann', 'emile', 'wang']],
  ['organization:none', ['owner', 'joao', 'joanna', 'agent', 'admin']],
  // organization by name (any membership, not only the default), accent-insensitive, or id
  ['organization:acme', ['ann']],
  ['organization:"emile & fils"', ['ann', 'emile']],
  ['organization:Fils', ['ann', 'emile']],
  // names: words, phrases, case and accents, wildcards, CJK substrings
  ['name:ann', ['ann']],
  ['name:lee', ['ann']],
  ['name:"Ann Lee"', ['ann']],
  ['name:"lee ann"', []],
  ['name:EMILE', ['emile', 'org:Émile & Fils']],
  ['type:user name:EMILE', ['emile']],
  ['name:joão', ['joao']],
  ['name:joao', ['joao']],
  ['name:jo*', ['joao', 'joanna']],
  ['name:*ee*', ['ann', 'joanna']],
  ['name:小明', ['wang']],
  ['type:user name:王小明', ['wang']],
  // identities: any email, not only the primary; phone in any format
  ['email:ann.lee@acme.test', ['ann']],
  ['email:ANN.LEE@ACME.TEST', ['ann']],
  ['email:jleeds@acme.test', ['joanna']],
  ['email:*@acme.test', ['ann', 'joanna']],
  ['phone:+15551234567', ['ann']],
  ['phone:"+1 (555) 123-4567"', ['ann']],
  ['phone:*4567', ['ann']],
  ['type:user phone:none', ['owner', 'emile', 'wang', 'joao', 'joanna', 'agent', 'admin']],
  // roles
  ['role:agent', ['agent']],
  ['role:admin', ['owner', 'admin']],
  ['role:end-user organization:none', ['joao', 'joanna']],
  ['role:"end user" tags:vip', ['ann', 'emile']],
  // groups
  ['group:"tier two support"', ['agent']],
  ['type:user group:none role:agent', []],
  // tags on both types
  ['tags:vip', ['ann', 'emile']],
  ['tags:vip -tags:gold', ['emile']],
  ['tags:gold -tags:vip', ['joao']],
  ['tags:enterprise', ['org:Acme Corp', 'org:北京科技有限公司']],
  ['type:organization tags:none', []],
  ['type:user tags:none', ['owner', 'wang', 'joanna', 'agent', 'admin']],
  ['tags:g*', ['ann', 'joao']],
  // external ids, case-insensitive
  ['external_id:crm-1', ['ann']],
  ['external_id:CRM-*', ['ann', 'joao']],
  ['external_id:org-acme', ['org:Acme Corp']],
  // details and notes: words and phrases in that field only
  ['details:paris', ['emile', 'org:Émile & Fils']],
  ['notes:paris', ['joanna']],
  ['notes:"phone calls"', ['ann']],
  ['type:user details:"são paulo"', ['joao']],
  ['type:user details:sao', ['joao']],
  ['details:anvils', ['org:Acme Corp']],
  // dates
  ['type:user created<2020-01-01', ['owner']],
  ['type:user created>2025-01-01', ['agent', 'admin']],
  ['type:user created>=2025-01-15', ['agent', 'admin']],
  ['type:user created:2021-01-15', ['emile']],
  ['type:user created<=2020-01-15', ['owner', 'ann']],
  ['type:user updated>4hours', ['ann']],
  ['type:user updated>1hours', []],
  ['type:user updated>1day', ['ann']],
  ['type:user updated>2weeks -updated>1hour', ['ann']],
  ['type:user updated<2weeks', ['owner', 'emile', 'wang', 'joao', 'joanna', 'agent', 'admin']],
  ['type:organization created>2020-02-01', ['org:Émile & Fils', 'org:北京科技有限公司']],
  ['type:user created>2019-06-01 created<2021-06-01', ['ann', 'emile']],
  // booleans
  ['is_suspended:true', ['joao']],
  ['type:user is_suspended:false role:end-user', ['ann', 'emile', 'wang', 'joanna']],
  ['is_verified:true', ['owner', 'admin']],
  // custom fields: bare keys and user_fields.<key>
  ['plan:gold', ['ann']],
  ['user_fields.plan:free', ['emile']],
  ['seats>5', ['ann']],
  ['seats<=3', ['emile']],
  ['beta:true', ['ann']],
  ['type:user beta:false role:end-user', ['emile', 'wang', 'joao', 'joanna']],
  ['renewal<2026-01-01', ['ann']],
  ['type:user plan:none role:end-user', ['wang', 'joao', 'joanna']],
  ['tier:platinum', ['org:Acme Corp']],
  ['organization_fields.tier:"platinum partner"', ['org:Acme Corp']],
  // free text: names, notes, details, external ids, any email, phone numbers, CJK
  ['ann', ['ann']],
  ['paris', ['emile', 'joanna', 'org:Émile & Fils']],
  ['"phone calls"', ['ann']],
  ['morning ann', ['ann']],
  ['jleeds', ['joanna']],
  ['acme', ['ann', 'joanna', 'org:Acme Corp']],
  ['emile', ['emile', 'org:Émile & Fils']],
  ['+15551234567', ['ann']],
  ['小明', ['wang']],
  // CJK: names by substring (trigram index); other fields by whole 'simple' token
  ['喜欢电话', ['wang']],
  ['科技', ['org:北京科技有限公司']],
  ['joa*', ['joao', 'joanna']],
  ['-paris type:user role:end-user', ['ann', 'wang', 'joao']],
  ['type:organization anvils', ['org:Acme Corp']],
  ['type:user type:organization vip', []],
  ['nobody-has-this-word', []],
];

const expectedIds = (labels: string[]): number[] => labels.map(key).sort((a, b) => a - b);
const idsOf = (results: Array<{ id: number; result_type?: string }>, type?: string): number[] =>
  results.filter((result) => type === undefined || result.result_type === type).map((result) => result.id).sort((a, b) => a - b);

describe('GET /api/v2/search — golden table', () => {
  it.each(GOLDEN)('%s', async (query, expected) => {
    const response = await t.request('GET', `/api/v2/search?query=${encodeURIComponent(query)}`);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json() as { results: Array<{ id: number; result_type: string }>; count: number };
    const users = expected.filter((label) => !label.startsWith('org:'));
    const organizations = expected.filter((label) => label.startsWith('org:'));
    expect(idsOf(body.results, 'user')).toEqual(expectedIds(users));
    expect(idsOf(body.results, 'organization')).toEqual(expectedIds(organizations));
    expect(body.count).toBe(expected.length);
    const count = await t.request('GET', `/api/v2/search/count?query=${encodeURIComponent(query)}`);
    expect(count.json()).toEqual({ count: expected.length });
  });
});

describe('GET /api/v2/users/search — the same table, users only', () => {
  const userRows = GOLDEN.filter(([query, expected]) => !/type:|tier|organization_fields|external_id:org|anvils|科技|tags:enterprise/.test(query) && expected.every((label) => !label.startsWith('org:')));
  it.each(userRows)('%s', async (query, expected) => {
    const response = await t.request('GET', `/api/v2/users/search?query=${encodeURIComponent(query)}`);
    expect(response.statusCode, response.body).toBe(200);
    expect(idsOf(response.json().users)).toEqual(expectedIds(expected));
  });
});

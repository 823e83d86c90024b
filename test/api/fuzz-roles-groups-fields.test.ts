import { sql } from 'kysely';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';

/**
 * Property-based abuse of the custom roles, groups, group memberships and custom fields APIs,
 * in the manner of fuzz.test.ts: whatever the ids, query or body, the answer is a success or a
 * Zendesk-shaped 4xx, never a 5xx, and a refused write leaves these tables as they were.
 */

let t: TestApp;
let adminHeaders: Record<string, string> = {};
let agentHeaders: Record<string, string> = {};
const ids = { role: [] as number[], group: [] as number[], membership: [] as number[], user: [] as number[], field: [] as number[], option: [] as number[] };

beforeAll(async () => {
  t = await createTestApp();
  const admin = await t.user({ role: 'admin', name: 'Fuzz Admin' });
  const agent = await t.user({ role: 'agent', name: 'Fuzz Agent' });
  adminHeaders = admin.headers;
  agentHeaders = agent.headers;
  const role = await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: { name: 'Fuzz Role', configuration: { ticket_access: 'within-groups' } } } });
  ids.role.push(role.json().custom_role.id);
  const group = await t.request('POST', '/api/v2/groups', { body: { group: { name: 'Fuzz Group' } } });
  ids.group.push(group.json().group.id);
  const membership = await t.request('POST', '/api/v2/group_memberships', { body: { group_membership: { user_id: agent.id, group_id: ids.group[0] } } });
  ids.membership.push(membership.json().group_membership.id);
  ids.user.push(agent.id, admin.id);
  const field = await t.request('POST', '/api/v2/user_fields', { body: { user_field: { key: 'plan', type: 'dropdown', title: 'Plan', custom_field_options: [{ name: 'Gold', value: 'gold' }] } } });
  ids.field.push(field.json().user_field.id);
  ids.option.push(field.json().user_field.custom_field_options[0].id);
  const orgField = await t.request('POST', '/api/v2/organization_fields', { body: { organization_field: { key: 'tier', type: 'integer', title: 'Tier' } } });
  ids.field.push(orgField.json().organization_field.id);
});
afterAll(async () => {
  await t.close();
});

function assertWellFormed(response: LightMyRequestResponse, label: string): void {
  if (response.statusCode >= 500) throw new Error(`${label}\n→ ${response.statusCode} ${response.body.slice(0, 500)}`);
  if (response.statusCode >= 400) {
    const body = JSON.parse(response.body) as Record<string, unknown>;
    const ok = typeof body.error === 'string' && Object.keys(body).every((key) => ['error', 'description', 'details'].includes(key));
    if (!ok) throw new Error(`${label}\n→ ${response.statusCode} not a Zendesk error body: ${response.body.slice(0, 300)}`);
  }
}

async function snapshot(): Promise<string> {
  const db = t.runtime.database.db;
  const parts: string[] = [];
  for (const table of ['custom_roles', 'groups', 'group_memberships', 'custom_fields', 'custom_field_options', 'users']) {
    const rows = await sql<{ text: string }>`SELECT coalesce(json_agg(x ORDER BY x.account_id, x.id), '[]')::text AS text FROM ${sql.table(table)} x`.execute(db);
    parts.push(rows.rows[0]?.text ?? '');
  }
  const audit = await sql<{ n: string }>`SELECT count(*)::text AS n FROM audit_events`.execute(db);
  return JSON.stringify([...parts, audit.rows[0]?.n]);
}

const nasty: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.constantFrom('', ' ', 'a\u0000b', '<b>', '1e309', 'NaN', '-1', '0', 'gold', 'full', 'edit', 'none', 'all', 'within-groups', 'dropdown', 'regexp', '([', '(a+)+$', 'x'.repeat(70_000)),
  fc.integer(),
  fc.double(),
  fc.constantFrom(true, false, null, 2 ** 53, -1, 0),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.boolean()), { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 3 }),
);
const CONFIG_KEYS = ['end_user_profile_access', 'end_user_list_access', 'ticket_access', 'group_access', 'bulk_actions', 'chat_access', 'unknown_key', '__proto__'];
const roleObject = fc.record({
  name: fc.oneof(nasty, fc.integer({ min: 0, max: 1e9 }).map((n) => `Role ${n}`)),
  description: nasty,
  configuration: fc.oneof(nasty, fc.dictionary(fc.constantFrom(...CONFIG_KEYS), nasty, { maxKeys: 4 })),
}, { requiredKeys: [] });
const groupObject = fc.record({ name: fc.oneof(nasty, fc.integer({ min: 0, max: 1e9 }).map((n) => `Group ${n}`)), description: nasty, is_public: nasty }, { requiredKeys: [] });
const membershipObject = fc.record({ user_id: fc.oneof(nasty, fc.constantFrom(...[1, 2, 3, 4])), group_id: fc.oneof(nasty, fc.constant(1)), default: nasty }, { requiredKeys: [] });
const optionsValue = fc.oneof(nasty, fc.array(fc.record({ id: fc.oneof(nasty, fc.constant(null)), name: nasty, value: nasty }, { requiredKeys: [] }), { maxLength: 3 }));
const fieldObject = fc.record({
  key: fc.oneof(nasty, fc.integer({ min: 0, max: 1e9 }).map((n) => `k${n}`)),
  type: fc.oneof(nasty, fc.constantFrom('text', 'textarea', 'checkbox', 'date', 'integer', 'decimal', 'dropdown', 'regexp')),
  title: nasty,
  description: nasty,
  position: nasty,
  active: nasty,
  regexp_for_validation: nasty,
  tag: nasty,
  custom_field_options: optionsValue,
}, { requiredKeys: [] });

const wrap = (inner: fc.Arbitrary<unknown>, key: string) =>
  fc.oneof({ weight: 4, arbitrary: inner.map((value) => JSON.stringify({ [key]: value })) }, nasty.map((value) => JSON.stringify({ [key]: value })), fc.constantFrom('', 'null', '[]', '{"x":', '{"__proto__":{"a":1}}'));

interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: fc.Arbitrary<string>;
}
const ROUTES: Route[] = [
  { method: 'POST', path: '/api/v2/custom_roles', body: wrap(roleObject, 'custom_role') },
  { method: 'PUT', path: '/api/v2/custom_roles/:role', body: wrap(roleObject, 'custom_role') },
  { method: 'DELETE', path: '/api/v2/custom_roles/:role' },
  { method: 'GET', path: '/api/v2/custom_roles/:role' },
  { method: 'PUT', path: '/api/v2/account/owner', body: wrap(fc.record({ user_id: nasty }), 'owner') },
  { method: 'POST', path: '/api/v2/groups', body: wrap(groupObject, 'group') },
  { method: 'PUT', path: '/api/v2/groups/:group', body: wrap(groupObject, 'group') },
  { method: 'DELETE', path: '/api/v2/groups/:group' },
  { method: 'GET', path: '/api/v2/groups' },
  { method: 'GET', path: '/api/v2/groups/:group/memberships' },
  { method: 'POST', path: '/api/v2/group_memberships', body: wrap(membershipObject, 'group_membership') },
  { method: 'POST', path: '/api/v2/users/:user/group_memberships', body: wrap(membershipObject, 'group_membership') },
  { method: 'DELETE', path: '/api/v2/group_memberships/:membership' },
  { method: 'PUT', path: '/api/v2/users/:user/group_memberships/:membership/make_default' },
  { method: 'GET', path: '/api/v2/group_memberships' },
  { method: 'POST', path: '/api/v2/user_fields', body: wrap(fieldObject, 'user_field') },
  { method: 'PUT', path: '/api/v2/user_fields/:field', body: wrap(fieldObject, 'user_field') },
  { method: 'DELETE', path: '/api/v2/user_fields/:field' },
  { method: 'PUT', path: '/api/v2/user_fields/reorder', body: fc.oneof(nasty, fc.array(nasty, { maxLength: 3 })).map((value) => JSON.stringify({ user_field_ids: value })) },
  { method: 'POST', path: '/api/v2/user_fields/:field/options', body: wrap(fc.record({ id: nasty, name: nasty, value: nasty, position: nasty }, { requiredKeys: [] }), 'custom_field_option') },
  { method: 'DELETE', path: '/api/v2/user_fields/:field/options/:option' },
  { method: 'GET', path: '/api/v2/user_fields/:field/options/:option' },
  { method: 'POST', path: '/api/v2/organization_fields', body: wrap(fieldObject, 'organization_field') },
  { method: 'PUT', path: '/api/v2/organization_fields/:field', body: wrap(fieldObject, 'organization_field') },
  { method: 'PUT', path: '/api/v2/users/:user', body: wrap(fc.record({ user_fields: fc.oneof(nasty, fc.dictionary(fc.constantFrom('plan', 'tier', 'x'), nasty, { maxKeys: 3 })), custom_role_id: nasty }, { requiredKeys: [] }), 'user') },
];

const idSegment = (known: () => number[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(null).map(() => String(known()[0] ?? 1)) },
    fc.integer({ min: -5, max: 0 }).map(String),
    fc.constantFrom('9007199254740993', '1e3', '0x1', '%00', '%zz', 'abc', '+1', '%20', '99999999999999999999'),
  );
const query = fc.oneof(fc.constant(''), fc.constantFrom('?page=0', '?per_page=1000', '?page[size]=x', '?exclude_deleted=maybe', '?ids=a,b', '?page[after]=!!!'));

const request = fc.constantFrom(...ROUTES).chain((route) =>
  fc.record({
    role: idSegment(() => ids.role),
    group: idSegment(() => ids.group),
    membership: idSegment(() => ids.membership),
    user: idSegment(() => ids.user),
    field: idSegment(() => ids.field),
    option: idSegment(() => ids.option),
    query,
    body: route.body ?? fc.constant(undefined),
    agent: fc.boolean(),
  }).map((parts) => {
    const path = route.path
      .replace(':role', parts.role)
      .replace(':group', parts.group)
      .replace(':membership', parts.membership)
      .replace(':user', parts.user)
      .replace(':field', parts.field)
      .replace(':option', parts.option);
    const headers = { ...(parts.agent ? agentHeaders : adminHeaders), 'content-type': 'application/json' };
    return { method: route.method, url: `${path}${parts.query}`, headers, payload: parts.body };
  }),
);

describe('Fuzzing the roles, groups and custom fields APIs', () => {
  it('never answers with a 5xx, and a refused write changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const before = req.method === 'GET' ? '' : await snapshot();
        const response = await t.runtime.app.inject({ method: req.method, url: req.url, headers: req.headers, ...(req.payload === undefined ? {} : { payload: req.payload }) });
        const label = `${req.method} ${req.url} ${String(req.payload).slice(0, 300)}`;
        assertWellFormed(response, label);
        if (req.method !== 'GET' && response.statusCode >= 400 && (await snapshot()) !== before) {
          throw new Error(`${label}\n→ ${response.statusCode} but the database changed`);
        }
      }),
      { numRuns: 600 },
    );
  });
});

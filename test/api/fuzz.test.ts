import { sql } from 'kysely';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, createTestApp, type TestApp } from '../helpers.ts';

/**
 * Property-based abuse of the users and identities API: whatever the body, params, query or
 * headers, the server answers with a Zendesk-shaped 4xx (or a success), never a 5xx, and a
 * refused write leaves nothing behind.
 */

let t: TestApp;
/**
 * Users the fuzzer aims at. It acts as a plain admin, never the owner: ajv coerces ids such as
 * `+1` or ` 1` to the owner's id 1, and an owner deleting their own email would only test the fixture.
 */
let targets: number[] = [];
/** Identity ids of the targets. */
let identityIds: number[] = [];
/** Organizations and memberships the organization routes aim at. */
let organizationIds: number[] = [];
let membershipIds: number[] = [];
let ownerId = 0;
let adminHeaders: Record<string, string> = {};
let agentHeaders: Record<string, string> = {};
let endUserHeaders: Record<string, string> = {};
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

beforeAll(async () => {
  t = await createTestApp();
  ownerId = t.owner.id;
  const target = await t.user({ role: 'end-user', name: 'Fuzz Target', phone: '+15551234567', external_id: 'fuzz-target' });
  const agent = await t.user({ role: 'agent', name: 'Fuzz Agent' });
  const endUser = await t.user({ role: 'end-user', name: 'Fuzz End User' });
  adminHeaders = (await t.user({ role: 'admin', name: 'Fuzz Admin' })).headers;
  await t.request('POST', `/api/v2/users/${target.id}/identities`, { body: { identity: { type: 'twitter', value: 'fuzz_target' } } });
  await t.request('POST', `/api/v2/users/${target.id}/identities`, { body: { identity: { type: 'email', value: 'second-fuzz@roster.test' } } });
  targets = [target.id, agent.id, endUser.id];
  agentHeaders = agent.headers;
  endUserHeaders = endUser.headers;
  const rows = await t.runtime.database.db.selectFrom('user_identities').select('id').where('user_id', 'in', targets).execute();
  identityIds = rows.map((row) => row.id);
  for (const name of ['Fuzz Org', 'Fuzz Org Two']) {
    const created = await t.request('POST', '/api/v2/organizations', { body: { organization: { name, domain_names: ['fuzz.test'], external_id: name } } });
    organizationIds.push(created.json().organization.id as number);
  }
  const membership = await t.request('POST', '/api/v2/organization_memberships', { body: { organization_membership: { user_id: target.id, organization_id: organizationIds[0] } } });
  membershipIds = [membership.json().organization_membership.id as number];
});
afterAll(async () => {
  await t.close();
});

// ---------------------------------------------------------------------------------------------
// What a well-formed answer is

const ERROR_KEYS = new Set(['error', 'description', 'details']);

function describeRequest(request: FuzzRequest): string {
  const payload = request.payload === undefined ? '' : ` body=${JSON.stringify(String(request.payload).slice(0, 300))}`;
  return `${request.method} ${request.url.slice(0, 300)} headers=${JSON.stringify(request.headers).slice(0, 300)}${payload}`;
}

/** Never a 5xx; a 4xx is JSON `{error: string, description?, details?}`; a success with a body is JSON. */
function assertWellFormed(response: LightMyRequestResponse, label: string): void {
  if (response.statusCode >= 500 || response.statusCode < 200) {
    throw new Error(`${label}\n→ ${response.statusCode} ${response.body.slice(0, 500)}`);
  }
  if (response.statusCode >= 400) {
    if (!/^application\/json/.test(String(response.headers['content-type']))) {
      throw new Error(`${label}\n→ ${response.statusCode} not JSON: ${String(response.headers['content-type'])}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      throw new Error(`${label}\n→ ${response.statusCode} unparsable body ${response.body.slice(0, 300)}`);
    }
    const ok =
      body !== null &&
      typeof body === 'object' &&
      !Array.isArray(body) &&
      typeof (body as { error?: unknown }).error === 'string' &&
      Object.keys(body).every((key) => ERROR_KEYS.has(key));
    if (!ok) throw new Error(`${label}\n→ ${response.statusCode} not a Zendesk error body: ${response.body.slice(0, 300)}`);
    return;
  }
  if (response.statusCode !== 204 && response.body !== '') {
    try {
      JSON.parse(response.body);
    } catch {
      throw new Error(`${label}\n→ ${response.statusCode} unparsable success body ${response.body.slice(0, 300)}`);
    }
  }
}

interface FuzzRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

async function send(request: FuzzRequest): Promise<LightMyRequestResponse> {
  const response = await t.runtime.app.inject({
    method: request.method,
    url: request.url,
    headers: request.headers,
    ...(request.payload === undefined ? {} : { payload: request.payload }),
  });
  assertWellFormed(response, describeRequest(request));
  return response;
}

/** Everything a failed write must not have touched. */
async function snapshot(): Promise<string> {
  const db = t.runtime.database.db;
  const users = await sql<{ text: string }>`SELECT coalesce(json_agg(u ORDER BY u.account_id, u.id), '[]')::text AS text FROM users u`.execute(db);
  const identities = await sql<{ text: string }>`SELECT coalesce(json_agg(i ORDER BY i.account_id, i.id), '[]')::text AS text FROM user_identities i`.execute(db);
  const audit = await sql<{ n: string }>`SELECT count(*)::text AS n FROM audit_events`.execute(db);
  const jobs = await sql<{ n: string }>`SELECT count(*)::text AS n FROM job_statuses`.execute(db);
  const organizations = await sql<{ text: string }>`SELECT coalesce(json_agg(o ORDER BY o.account_id, o.id), '[]')::text AS text FROM organizations o`.execute(db);
  const memberships = await sql<{ text: string }>`SELECT coalesce(json_agg(m ORDER BY m.account_id, m.id), '[]')::text AS text FROM organization_memberships m`.execute(db);
  return JSON.stringify([users.rows[0]?.text, identities.rows[0]?.text, audit.rows[0]?.n, jobs.rows[0]?.n, organizations.rows[0]?.text, memberships.rows[0]?.text]);
}

async function waitForJobs(): Promise<Array<{ status: string; message: string | null }>> {
  const db = t.runtime.database.db;
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const open = await db.selectFrom('job_statuses').select('id').where('status', 'in', ['queued', 'working']).execute();
    if (open.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return db.selectFrom('job_statuses').select(['status', 'message']).execute();
}

// ---------------------------------------------------------------------------------------------
// Generators

const HUGE = 'x'.repeat(100_000);
const HUGE_MULTIBYTE = 'é'.repeat(70_000);
const TOO_LARGE_BODY = `{"user":{"name":"${'y'.repeat(10 * 1024 * 1024 + 10)}"}}`;

function nested(depth: number, leaf: unknown, asArray: boolean): unknown {
  let value = leaf;
  for (let level = 0; level < depth; level += 1) value = asArray ? [value] : { a: value };
  return value;
}

const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)), maxLength: 4 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    'null',
    'true',
    '1e309',
    '-0',
    'NaN',
    '<script>alert(1)</script>',
    "'; DROP TABLE users; --",
    '%00',
    '\u202e\u0301',
    '🙂🙂🙂',
    'user@example.com',
    'not-an-email@',
    '+15551234567',
    '+1 (555) 000-0000 x12',
    'end-user',
    'agent',
    'admin',
    'America/New_York',
    'Mars/Olympus',
    'pt-BR',
    'xx-XX',
    'organization',
    HUGE,
    HUGE_MULTIBYTE,
  ),
);

const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: nastyString },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, 1e308, -1e308, true, false, null),
  fc.array(nastyString, { maxLength: 5 }),
  fc.dictionary(nastyString, nastyString, { maxKeys: 4 }),
  fc.integer({ min: 50, max: 3000 }).chain((depth) => fc.boolean().map((asArray) => nested(depth, 'deep', asArray))),
);

const USER_FIELDS = [
  'name', 'email', 'role', 'phone', 'external_id', 'tags', 'alias', 'details', 'notes', 'signature',
  'time_zone', 'iana_time_zone', 'locale', 'locale_id', 'organization_id', 'default_group_id', 'custom_role_id',
  'shared_phone_number', 'moderator', 'only_private_comments', 'suspended', 'ticket_restriction', 'photo',
  'user_fields', 'verified', 'identities', 'skip_verify_email', 'id', 'url', 'created_at', 'active', 'is_owner',
  'password', 'account_id', 'remote_photo_url',
] as const;

/** A user object: a few fields, each possibly of the wrong type. */
const userObject = fc.dictionary(fc.constantFrom(...USER_FIELDS), nastyValue, { maxKeys: 6 });
/** Always with a name and a (fresh) email, so some creates get past validation and some writes succeed. */
const plausibleUser = fc
  .tuple(userObject, fc.constantFrom('Fuzzy', 'Ann Lee', 'Zoë'), fc.integer({ min: 0, max: 1e9 }))
  .map(([user, name, n]) => ({ name, email: `fuzz-${n}@roster.test`, ...user }));

const identityObject = fc.dictionary(
  fc.constantFrom('type', 'value', 'verified', 'primary', 'id', 'user_id', 'undeliverable_count'),
  fc.oneof(fc.constantFrom('email', 'phone_number', 'twitter', 'facebook', 'google', 'agent_forwarding', 'sdk'), nastyValue),
  { maxKeys: 4 },
);

/** A valid identity now and then, with stray or mistyped extras, so adds and updates also succeed. */
const plausibleIdentity = fc
  .tuple(
    fc.integer({ min: 0, max: 1e9 }),
    fc.constantFrom('email', 'phone_number', 'twitter', 'facebook', 'google'),
    fc.dictionary(fc.constantFrom('verified', 'primary', 'id', 'user_id', 'deliverable_state'), nastyValue, { maxKeys: 2 }),
  )
  .map(([n, type, extra]) => {
    const value = type === 'phone_number' ? `+1555${String(n).padStart(7, '0').slice(0, 7)}` : type === 'twitter' ? `fuzz_${n}` : type === 'facebook' ? `fb.${n}` : `id-${n}@roster.test`;
    return { ...extra, type, value };
  });

/** Bodies as JSON text: in the expected envelope or not at all. */
function jsonBody(inner: fc.Arbitrary<unknown>, key: string): fc.Arbitrary<string> {
  return fc
    .oneof(
      { weight: 5, arbitrary: inner.map((value) => ({ [key]: value })) },
      { weight: 1, arbitrary: fc.array(inner, { maxLength: 3 }).map((list) => ({ [`${key}s`]: list, [key]: list })) },
      { weight: 1, arbitrary: nastyValue.map((value) => ({ [key]: value })) },
      { weight: 1, arbitrary: fc.jsonValue() },
    )
    .map((value) => JSON.stringify(value));
}

/** Bodies that are not JSON at all, or JSON that must be refused as a whole. */
const rawBody: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc.constantFrom(
    Buffer.from([0x7b, 0x22, 0x75, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    Buffer.from([0xc3, 0x28]),
    Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
    '{"user":{"__proto__":{"role":"admin"},"name":"Proto"}}',
    '{"__proto__":{"isAdmin":true},"user":{"name":"Proto"}}',
    '{"user":{"constructor":{"prototype":{"polluted":true}},"name":"Ctor"}}',
    '{"identity":{"__proto__":{"verified":true},"type":"email","value":"p@roster.test"}}',
    '{"users":[{"__proto__":{"x":1},"name":"Proto"}]}',
    '{"user":{"name":"a\\u0000b"}}',
    '{"user":{"user_fields":{"k":"a\\u0000b"}}}',
    '{"users":[{"name":"a\\u0000b"}]}',
    '{"identity":{"type":"email","value":"a\\u0000b@roster.test"}}',
    '{"user": {"name": "unterminated"',
    '{"user":{"name":"x"}} trailing',
    "{'user': {'name': 'single quotes'}}",
    '{"user":{"name":"\\ud800"}}',
    '[]',
    'null',
    '0',
    '"string"',
    '',
    '   ',
    TOO_LARGE_BODY,
  ),
);

const idSegment = (known: number[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...known).map(String) },
    { weight: 2, arbitrary: fc.integer({ min: -1_000_000, max: 0 }).map(String) },
    { weight: 2, arbitrary: fc.integer({ min: 1_000_000, max: Number.MAX_SAFE_INTEGER }).map(String) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '9007199254740992', '18446744073709551616', '99999999999999999999999999999', '1e3', '0x1f', '1.5', '-0', '+1',
        '%201', '1,2', 'me', 'null', 'NaN', 'Infinity', '%D9%A1%D9%A2', '%EF%BC%91', '%00', '%FF', '%', '%zz',
        '..', '%2e%2e', '%2F', '%C3%BC', '%F0%9F%99%82', '1%0A', "1'", '1;DROP', '',
      ),
    },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }).map(encode) },
  );

const QUERY_KEYS = [
  'page', 'per_page', 'page[size]', 'page[after]', 'page[before]', 'page[size][x]', 'page[]', 'per_page[]', 'role', 'role[]',
  'role[][x]', 'ids', 'ids[]', 'external_ids', 'external_id', 'permission_set', 'type', 'type[]', 'sort', 'sort_by',
  '__proto__', '__proto__[role]', 'constructor[prototype][x]', 'a[b][c][d][e]', 'include', 'name', 'name[]',
  'query', 'query[]', 'filter[type]', 'filter', 'sort_order',
];
const cursorValue = fc.oneof(
  fc.integer({ min: -5, max: 10_000_000 }).map((n) => Buffer.from(`id:${n}`).toString('base64url')),
  fc.constantFrom(
    Buffer.from('id:99999999999999999999').toString('base64url'),
    Buffer.from('id:').toString('base64url'),
    Buffer.from('\u0000').toString('base64url'),
    '!!!',
    '====',
    'aWQ6MQ',
  ),
  fc.string(),
);
const queryValue = fc.oneof(
  fc.integer({ min: -10, max: 200 }).map(String),
  fc.constantFrom('0', '-1', '101', '1.5', '1e2', '10001', '9007199254740993', 'end-user', 'agent', 'admin', 'owner', '1,2,3', ',,,', 'a,b', `${'9,'.repeat(150)}9`),
  cursorValue,
  nastyString.filter((value) => value.length < 2000),
  // The search query language (src/search/): valid, broken and hostile queries.
  fc.constantFrom('type:user organization:none', 'name:"Ann', 'created>4hours', 'email:*@roster.test', 'user', 'organization', 'ticket', 'tags:vip -tags:gold', 'name:(a|b)[', 'notes:\\', 'phone:*', 'seats>1e999', '-', '"" x'),
);
/** Percent-encodes like a client would; a lone surrogate has no UTF-8 form, so it goes as U+FFFD. */
function encode(value: string): string {
  return encodeURIComponent(value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
}

const queryString = fc
  .array(fc.tuple(fc.constantFrom(...QUERY_KEYS), queryValue, fc.boolean()), { maxLength: 6 })
  .map((pairs) =>
    pairs
      .map(([key, value, raw]) => (raw && /^[\x21-\x7e]*$/.test(value) && !value.includes('#') ? `${key}=${value}` : `${encode(key)}=${encode(value)}`))
      .join('&'),
  );

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((code) => String.fromCharCode(code)), maxLength: 60 });
const authorization = fc.oneof(
  { weight: 6, arbitrary: fc.constant('admin') },
  fc.constant('agent'),
  fc.constant('end-user'),
  fc.constant('none'),
  printable,
  printable.map((text) => `Basic ${text}`),
  printable.map((text) => `Basic ${Buffer.from(text, 'latin1').toString('base64')}`),
  printable.map((text) => `Bearer ${text}`),
  fc.constantFrom('Basic', 'Bearer', 'Basic =', 'Basic Og==', `Basic ${'A'.repeat(4000)}`, 'Negotiate abc', 'basic\tZm9vOmJhcg=='),
);
const host = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  fc.constantFrom(
    'localhost', 'localhost:80', '127.0.0.1:3000', '[::1]:3000', '[::1', 'acme.localhost', 'nope.localhost:3000', 'LOCALHOST',
    '', ' ', 'exa mple', 'a:b:c', 'local host:80', 'localhost:99999', 'localhost:-1', 'x'.repeat(300), '..', '.localhost',
    'a..localhost', '-bad.localhost', 'user@localhost', 'localhost/path', 'localhost?x=1', 'localhost#frag', 'ünïcode.localhost',
  ),
  printable,
);
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  fc.constantFrom(
    'application/json; charset=utf-8', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'APPLICATION/JSON',
    'application/json;;', 'application/jsonx', 'application/vnd.api+json', 'text/plain', 'text/html', 'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=xyz', 'application/octet-stream', '*/*', '', 'json', ';',
  ),
  printable,
);

function headersFor(auth: string, hostHeader: string | undefined, type: string | undefined): Record<string, string> {
  const headers: Record<string, string> =
    auth === 'admin' ? { ...adminHeaders }
    : auth === 'agent' ? { ...agentHeaders }
    : auth === 'end-user' ? { ...endUserHeaders }
    : auth === 'none' ? {}
    : { authorization: auth };
  if (hostHeader !== undefined) headers.host = hostHeader;
  if (type !== undefined) headers['content-type'] = type;
  return headers;
}

/** Route templates of the users and identities API, with the body each one takes. */
interface Route {
  method: FuzzRequest['method'];
  path: string;
  body?: fc.Arbitrary<string>;
}
const userBody = jsonBody(fc.oneof(userObject, plausibleUser), 'user');
const usersBody = fc.oneof(
  fc.array(fc.oneof(userObject, plausibleUser), { maxLength: 4 }).map((users) => JSON.stringify({ users })),
  jsonBody(userObject, 'user'),
  fc.array(nastyValue, { maxLength: 3 }).map((users) => JSON.stringify({ users })),
  fc.constant(JSON.stringify({ users: Array.from({ length: 101 }, (_, index) => ({ name: `n${index}` })) })),
);
const identityBody = jsonBody(fc.oneof({ weight: 2, arbitrary: plausibleIdentity }, identityObject), 'identity');
const passwordBody = fc
  .dictionary(fc.constantFrom('password', 'previous_password'), nastyValue, { maxKeys: 2 })
  .map((value) => JSON.stringify(value));

const ORGANIZATION_FIELDS = [
  'name', 'details', 'notes', 'domain_names', 'tags', 'external_id', 'group_id', 'shared_tickets', 'shared_comments',
  'organization_fields', 'id', 'url', 'created_at',
] as const;
const organizationObject = fc.dictionary(fc.constantFrom(...ORGANIZATION_FIELDS), nastyValue, { maxKeys: 5 });
/** Always with a fresh name, so some creates and updates succeed. */
const plausibleOrganization = fc
  .tuple(organizationObject, fc.integer({ min: 0, max: 1e9 }))
  .map(([organization, n]) => ({ name: `Fuzz Org ${n}`, ...organization }));
const organizationBody = jsonBody(fc.oneof(organizationObject, plausibleOrganization), 'organization');
const organizationsBody = fc.oneof(
  fc.array(fc.oneof(organizationObject, plausibleOrganization), { maxLength: 4 }).map((organizations) => JSON.stringify({ organizations })),
  jsonBody(organizationObject, 'organization'),
  fc.array(nastyValue, { maxLength: 3 }).map((organizations) => JSON.stringify({ organizations })),
);
const membershipObject = fc.dictionary(
  fc.constantFrom('user_id', 'organization_id', 'default', 'id', 'view_tickets'),
  fc.oneof(fc.integer({ min: -2, max: 12 }), nastyValue),
  { maxKeys: 4 },
);
const membershipBody = jsonBody(membershipObject, 'organization_membership');
const membershipsBody = fc.oneof(
  fc.array(membershipObject, { maxLength: 4 }).map((list) => JSON.stringify({ organization_memberships: list })),
  fc.array(nastyValue, { maxLength: 3 }).map((list) => JSON.stringify({ organization_memberships: list })),
);
/** Merge bodies (issue 6): a target id, and which side's fields to keep. */
const mergeBody = jsonBody(
  fc.dictionary(fc.constantFrom('id', 'keep'), fc.oneof(fc.integer({ min: -2, max: 12 }), nastyValue, fc.dictionary(fc.constantFrom('name', 'phone', 'notes', 'details', 'email'), fc.oneof(fc.constantFrom('source', 'target'), nastyValue), { maxKeys: 3 })), { maxKeys: 2 }),
  'user',
);
const destroyByQueryBody = fc
  .dictionary(fc.constantFrom('query', 'dry_run'), fc.oneof(nastyValue, fc.constantFrom('tags:fuzz', 'role:end-user', 'created<', 'name:"x'), fc.boolean()), { maxKeys: 2 })
  .map((body) => JSON.stringify(body));

const SYNC_WRITES: Route[] = [
  { method: 'POST', path: '/api/v2/users', body: userBody },
  { method: 'POST', path: '/api/v2/users/create_or_update', body: userBody },
  { method: 'PUT', path: '/api/v2/users/:user', body: userBody },
  { method: 'DELETE', path: '/api/v2/users/:user' },
  { method: 'POST', path: '/api/v2/users/:user/password', body: passwordBody },
  { method: 'PUT', path: '/api/v2/users/:user/password', body: passwordBody },
  { method: 'POST', path: '/api/v2/users/:user/identities', body: identityBody },
  { method: 'PUT', path: '/api/v2/users/:user/identities/:identity', body: identityBody },
  { method: 'DELETE', path: '/api/v2/users/:user/identities/:identity' },
  { method: 'PUT', path: '/api/v2/users/:user/identities/:identity/make_primary' },
  { method: 'PUT', path: '/api/v2/users/:user/identities/:identity/verify' },
  { method: 'PUT', path: '/api/v2/users/:user/identities/:identity/request_verification' },
  { method: 'POST', path: '/api/v2/organizations', body: organizationBody },
  { method: 'POST', path: '/api/v2/organizations/create_or_update', body: organizationBody },
  { method: 'PUT', path: '/api/v2/organizations/:organization', body: organizationBody },
  { method: 'DELETE', path: '/api/v2/organizations/:organization' },
  { method: 'POST', path: '/api/v2/organization_memberships', body: membershipBody },
  { method: 'POST', path: '/api/v2/users/:user/organization_memberships', body: membershipBody },
  { method: 'DELETE', path: '/api/v2/organization_memberships/:membership' },
  { method: 'DELETE', path: '/api/v2/users/:user/organization_memberships/:membership' },
  { method: 'DELETE', path: '/api/v2/users/:user/organizations/:organization' },
  { method: 'PUT', path: '/api/v2/users/:user/organization_memberships/:membership/make_default' },
  { method: 'PUT', path: '/api/v2/users/:user/organizations/:organization/make_default' },
  { method: 'PUT', path: '/api/v2/users/:user/merge', body: mergeBody },
  { method: 'PUT', path: '/api/v2/users/:user/merge/undo' },
  { method: 'PUT', path: '/api/v2/deleted_users/:user/restore' },
  { method: 'DELETE', path: '/api/v2/deleted_users/:user' },
];
const READS: Route[] = [
  { method: 'GET', path: '/api/v2/users' },
  { method: 'GET', path: '/api/v2/users/count' },
  { method: 'GET', path: '/api/v2/users/show_many' },
  { method: 'GET', path: '/api/v2/users/me' },
  { method: 'GET', path: '/api/v2/users/:user' },
  { method: 'GET', path: '/api/v2/users/:user/related' },
  { method: 'GET', path: '/api/v2/users/:user/password/requirements' },
  { method: 'GET', path: '/api/v2/users/:user/identities' },
  { method: 'GET', path: '/api/v2/users/:user/identities/:identity' },
  { method: 'GET', path: '/api/v2/organizations' },
  { method: 'GET', path: '/api/v2/organizations/count' },
  { method: 'GET', path: '/api/v2/organizations/show_many' },
  { method: 'GET', path: '/api/v2/organizations/search' },
  { method: 'GET', path: '/api/v2/organizations/autocomplete' },
  { method: 'GET', path: '/api/v2/search' },
  { method: 'GET', path: '/api/v2/search/count' },
  { method: 'GET', path: '/api/v2/search/export' },
  { method: 'GET', path: '/api/v2/users/search' },
  { method: 'GET', path: '/api/v2/users/autocomplete' },
  { method: 'GET', path: '/api/v2/organizations/:organization' },
  { method: 'GET', path: '/api/v2/organizations/:organization/related' },
  { method: 'GET', path: '/api/v2/organizations/:organization/users' },
  { method: 'GET', path: '/api/v2/organizations/:organization/organization_memberships' },
  { method: 'GET', path: '/api/v2/users/:user/organizations' },
  { method: 'GET', path: '/api/v2/users/:user/organization_memberships' },
  { method: 'GET', path: '/api/v2/users/:user/organization_memberships/:membership' },
  { method: 'GET', path: '/api/v2/organization_memberships' },
  { method: 'GET', path: '/api/v2/organization_memberships/:membership' },
  { method: 'GET', path: '/api/v2/users/:user/merge_preview' },
  { method: 'GET', path: '/api/v2/users/:user/suspensions' },
  { method: 'GET', path: '/api/v2/deleted_users' },
  { method: 'GET', path: '/api/v2/deleted_users/count' },
  { method: 'GET', path: '/api/v2/deleted_users/:user' },
];
const JOB_WRITES: Route[] = [
  { method: 'POST', path: '/api/v2/users/create_many', body: usersBody },
  { method: 'POST', path: '/api/v2/users/create_or_update_many', body: usersBody },
  { method: 'PUT', path: '/api/v2/users/update_many', body: fc.oneof(usersBody, userBody) },
  { method: 'POST', path: '/api/v2/organizations/create_many', body: organizationsBody },
  { method: 'PUT', path: '/api/v2/organizations/update_many', body: fc.oneof(organizationsBody, organizationBody) },
  { method: 'DELETE', path: '/api/v2/organizations/destroy_many' },
  { method: 'POST', path: '/api/v2/organization_memberships/create_many', body: membershipsBody },
  { method: 'DELETE', path: '/api/v2/organization_memberships/destroy_many' },
  { method: 'DELETE', path: '/api/v2/users/destroy_many' },
  { method: 'POST', path: '/api/v2/users/destroy_by_query', body: destroyByQueryBody },
];

/** Built inside a test: the fixture ids exist only once `beforeAll` ran. */
function requestFor(routes: Route[], options: { headers?: boolean; raw?: boolean } = {}): fc.Arbitrary<FuzzRequest> {
  const userId = idSegment(targets);
  const identityId = idSegment(identityIds);
  const organizationId = idSegment(organizationIds);
  const membershipId = idSegment(membershipIds);
  return fc.constantFrom(...routes).chain((route) =>
    fc
      .record({
        user: userId,
        identity: identityId,
        organization: organizationId,
        membership: membershipId,
        query: fc.oneof({ weight: 2, arbitrary: fc.constant('') }, queryString),
        body: route.body === undefined ? fc.constant(undefined) : options.raw ? fc.oneof({ weight: 3, arbitrary: route.body }, rawBody) : route.body,
        auth: options.headers ? authorization : fc.constant('admin'),
        host: options.headers ? host : fc.constant(undefined),
        type: options.headers ? contentType : fc.constant(undefined),
        method: options.headers ? fc.oneof({ weight: 8, arbitrary: fc.constant(route.method) }, fc.constantFrom<FuzzRequest['method']>('GET', 'POST', 'PUT', 'DELETE')) : fc.constant(route.method),
      })
      .map(({ user, identity, organization, membership, query, body, auth, host: hostHeader, type, method }) => {
        const path = route.path.replace(':user', user).replace(':identity', identity).replace(':organization', organization).replace(':membership', membership);
        const headers = headersFor(auth, hostHeader, body === undefined ? type : (type ?? 'application/json'));
        return { method, url: query ? `${path}?${query}` : path, headers, ...(body === undefined ? {} : { payload: body }) };
      }),
  );
}

// ---------------------------------------------------------------------------------------------

describe('Fuzzing the users, identities and organizations API', () => {
  it('never answers a malformed synchronous write with a 5xx, and a refused write changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(requestFor(SYNC_WRITES, { raw: true }), async (request) => {
        const before = await snapshot();
        const response = await send(request);
        if (response.statusCode >= 400) {
          const after = await snapshot();
          if (after !== before) throw new Error(`${describeRequest(request)}\n→ ${response.statusCode} but the database changed`);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses a create with a malformed field without creating a user', async () => {
    const broken = fc
      .tuple(fc.constantFrom(...USER_FIELDS.filter((field) => !['id', 'url', 'created_at', 'active', 'is_owner', 'password', 'account_id', 'remote_photo_url', 'skip_verify_email'].includes(field))), fc.oneof(
        fc.constant({}),
        fc.constant([{}]),
        fc.constant(nested(500, 1, true)),
        fc.constant(HUGE),
        fc.constant('a\u0000b'),
        fc.constant(-1e308),
      ), fc.integer({ min: 0, max: 1e9 }))
      .map(([field, value, n]) => ({ name: 'Broken', email: `broken-${n}@roster.test`, [field]: value }));
    await fc.assert(
      fc.asyncProperty(broken, async (user) => {
        const before = await snapshot();
        const request: FuzzRequest = { method: 'POST', url: '/api/v2/users', headers: { ...adminHeaders, 'content-type': 'application/json' }, payload: JSON.stringify({ user }) };
        const response = await send(request);
        if (response.statusCode === 201) return; // some fields accept these (e.g. tags as text)
        expect([400, 413, 422], describeRequest(request)).toContain(response.statusCode);
        expect(await snapshot(), describeRequest(request)).toBe(before);
      }),
      { numRuns: 200 },
    );
  });

  it('never answers garbage ids, query strings or headers on reads with a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(requestFor(READS, { headers: true }), async (request) => {
        await send(request);
      }),
      { numRuns: 1500 },
    );
  });

  it('never answers garbage headers, content types or bodies on writes with a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(requestFor(SYNC_WRITES, { headers: true, raw: true }), async (request) => {
        await send(request);
      }),
      { numRuns: 800 },
    );
  });

  it('never answers a malformed bulk request with a 5xx, and its jobs all finish', async () => {
    await fc.assert(
      fc.asyncProperty(requestFor(JOB_WRITES, { raw: true }), async (request) => {
        await send(request);
      }),
      { numRuns: 300 },
    );
    const jobs = await waitForJobs();
    expect(jobs.length).toBeGreaterThan(0);
    // Malformed items fail one by one inside a completed job; a failed job means one crashed it.
    expect(jobs.filter((job) => job.status !== 'completed')).toEqual([]);
  });

  it.each<[string, 'refused' | 'harmless', FuzzRequest['method'], string, Record<string, string>?, string?]>([
    ['an undecodable path', 'refused', 'GET', '/api/v2/users/%E0%A4%A'],
    ['a bad escape in an identity path', 'refused', 'DELETE', '/api/v2/users/1/identities/%zz'],
    ['a path longer than any id', 'refused', 'GET', `/api/v2/users/${'1'.repeat(5000)}`],
    ['a thousand query parameters', 'harmless', 'GET', `/api/v2/users?${Array.from({ length: 1000 }, (_, index) => `k${index}=${index}`).join('&')}`],
    ['page[size] repeated past the array limit', 'refused', 'GET', `/api/v2/users?${'page[size]=1&'.repeat(300)}`],
    ['101 ids', 'refused', 'GET', `/api/v2/users/show_many?ids=${Array.from({ length: 101 }, (_, index) => index + 1).join(',')}`],
    ['a 20 000 character external id', 'harmless', 'GET', `/api/v2/users/show_many?external_ids=${'a'.repeat(20_000)}`],
    ['an offset past the window', 'refused', 'GET', '/api/v2/users?page=101&per_page=100'],
    ['ids as an object', 'refused', 'PUT', '/api/v2/users/update_many?ids[a]=1', { 'content-type': 'application/json' }, '{"user":{"name":"x"}}'],
    ['external_ids nested', 'refused', 'GET', '/api/v2/users/show_many?external_ids[a][b]=1'],
    ['a huge permission_set', 'refused', 'GET', '/api/v2/users?permission_set=99999999999999999999'],
    ['type as an object', 'refused', 'GET', '/api/v2/users/1/identities?type[a]=email'],
    ['a Content-Length that lies', 'refused', 'POST', '/api/v2/users', { 'content-type': 'application/json', 'content-length': '5' }, '{"user":{"name":"x"}}'],
    ['an id written +1 that coerces to the owner', 'refused', 'DELETE', '/api/v2/users/+1/identities/+1'],
    ['an unrouted method', 'refused', 'PATCH', '/api/v2/users/1', { 'content-type': 'application/json' }, '{}'],
    ['a NUL byte in a user field value', 'refused', 'POST', '/api/v2/users', { 'content-type': 'application/json' }, '{"user":{"name":"F","user_fields":{"k":"a\\u0000b"}}}'],
    ['a NUL byte in a bulk item', 'refused', 'POST', '/api/v2/users/create_or_update_many', { 'content-type': 'application/json' }, '{"users":[{"name":"a\\u0000b"}]}'],
  ])('handles %s (%s), writing nothing', async (_label, outcome, method, url, headers, payload) => {
    const before = await snapshot();
    const response = await send({ method, url, headers: { ...adminHeaders, ...(headers ?? {}) }, ...(payload === undefined ? {} : { payload }) });
    if (outcome === 'refused') expect(response.statusCode).toBeGreaterThanOrEqual(400);
    else expect(response.statusCode).toBe(200);
    expect(await snapshot()).toBe(before);
  });

  it('leaves the owner able to work and Object.prototype untouched', async () => {
    const me = await send({ method: 'GET', url: '/api/v2/users/me', headers: t.owner.headers });
    expect(JSON.parse(me.body).user.id).toBe(ownerId);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
    const polluted = await t.runtime.database.db.selectFrom('users').select('id').where('role', '=', 'admin').where('name', 'in', ['Proto', 'Ctor']).execute();
    expect(polluted).toEqual([]);
    const login = await send({ method: 'GET', url: '/api/v2/users', headers: basic('fuzz-nobody@roster.test', 'x') });
    expect(login.statusCode).toBe(401);
  });
});

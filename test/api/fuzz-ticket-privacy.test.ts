import { sql } from 'kysely';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';

/**
 * Property-based abuse of the redaction, deleted-tickets and suspended-tickets APIs, in the
 * manner of fuzz.test.ts: whatever the ids, query or body, the answer is a success or a
 * Zendesk-shaped 4xx, never a 5xx, and a refused write leaves the ticket tables as they were.
 */

let t: TestApp;
let adminHeaders: Record<string, string> = {};
let agentHeaders: Record<string, string> = {};
const ids = { ticket: [] as number[], comment: [] as number[], attachment: [] as number[], deleted: [] as number[], suspended: [] as number[] };

beforeAll(async () => {
  t = await createTestApp();
  adminHeaders = (await t.user({ role: 'admin', name: 'Fuzz Admin' })).headers;
  agentHeaders = (await t.user({ role: 'agent', name: 'Fuzz Agent' })).headers;
  const suspended = await t.user({ role: 'end-user', name: 'Fuzz Suspended' });
  await t.request('PUT', `/api/v2/users/${suspended.id}`, { body: { user: { suspended: true, suspension_reason: 'objection' } } });
  for (let index = 0; index < 3; index += 1) {
    const upload = await t.runtime.app.inject({ method: 'POST', url: '/api/v2/uploads?filename=f.txt', headers: { ...t.owner.headers, 'content-type': 'text/plain' }, payload: 'fuzz file' });
    const token = upload.json().upload.token as string;
    const created = await t.request('POST', '/api/v2/tickets', { body: { ticket: { subject: 'Fuzz', comment: { html_body: '<p>Fuzz <b>secret</b> 1234</p>', uploads: [token] } } } });
    const id = created.json().ticket.id as number;
    const comment = (await t.request('GET', `/api/v2/tickets/${id}/comments`)).json().comments[0];
    ids.ticket.push(id);
    ids.comment.push(comment.id);
    ids.attachment.push(comment.attachments[0].id);
    const gone = await t.request('POST', '/api/v2/tickets', { body: { ticket: { subject: 'Gone', comment: { body: 'to delete' } } } });
    ids.deleted.push(gone.json().ticket.id);
    await t.request('DELETE', `/api/v2/tickets/${gone.json().ticket.id}`);
    const held = await t.request('POST', '/api/v2/tickets', { body: { ticket: { requester_id: suspended.id, comment: { body: 'held' } } } });
    ids.suspended.push(held.json().suspended_ticket.id);
  }
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

/** Permanent deletions run as jobs: let earlier ones finish, so the snapshot sees only this request's effect. */
async function settleJobs(): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const open = await sql<{ n: number }>`SELECT count(*)::int AS n FROM job_statuses WHERE status IN ('queued', 'working')`.execute(t.runtime.database.db);
    if ((open.rows[0]?.n ?? 0) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('jobs did not finish');
}

async function snapshot(): Promise<string> {
  await settleJobs();
  const db = t.runtime.database.db;
  const parts: string[] = [];
  for (const table of ['tickets', 'ticket_comments', 'ticket_attachments', 'suspended_tickets', 'deleted_ticket_records']) {
    const rows = await sql<{ text: string }>`SELECT coalesce(json_agg(x ORDER BY x), '[]')::text AS text FROM ${sql.table(table)} x`.execute(db);
    parts.push(rows.rows[0]?.text ?? '');
  }
  const audit = await sql<{ n: string }>`SELECT count(*)::text AS n FROM audit_events`.execute(db);
  return JSON.stringify([...parts, audit.rows[0]?.n]);
}

const nasty: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.constantFrom('', ' ', 'a\u0000b', '<redact>', '</redact>', '<redact>secret</redact>', '&amp;', '&#0;', '&#x110000;', '▇', 'secret', '1234', 'x'.repeat(70_000)),
  fc.integer(),
  fc.double(),
  fc.constantFrom(true, false, null, 2 ** 53, -1, 0),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.boolean()), { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 3 }),
);
const markup = fc.oneof(
  nasty,
  fc.constantFrom('<p>Fuzz <b><redact>secret</redact></b> 1234</p>', '<p>Fuzz <b>secret</b> <redact>1234</redact></p>', '<p redact>Fuzz <b>secret</b> 1234</p>', '<p>Fuzz <b>secret</b> 1234'),
);
const body = (record: fc.Arbitrary<unknown>) => fc.oneof({ weight: 4, arbitrary: record.map((value) => JSON.stringify(value)) }, nasty.map((value) => JSON.stringify(value)), fc.constantFrom('', 'null', '[]', '{"x":', '{"__proto__":{"a":1}}'));

interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: fc.Arbitrary<string>;
}
const ROUTES: Route[] = [
  { method: 'PUT', path: '/api/v2/tickets/:ticket/comments/:comment/make_private' },
  { method: 'PUT', path: '/api/v2/tickets/:ticket/comments/:comment/redact', body: body(fc.record({ text: nasty }, { requiredKeys: [] })) },
  { method: 'PUT', path: '/api/v2/comment_redactions/:comment', body: body(fc.record({ ticket_id: fc.oneof(nasty, fc.constant(1)), html_body: markup, external_attachment_urls: fc.oneof(nasty, fc.array(fc.oneof(nasty, fc.constant('http://localhost/api/v2/attachments/1/content')), { maxLength: 3 })) }, { requiredKeys: [] })) },
  { method: 'PUT', path: '/api/v2/tickets/:ticket/comments/:comment/attachments/:attachment/redact' },
  { method: 'DELETE', path: '/api/v2/tickets/:ticket/comments/:comment/attachments/:attachment/redact', body: body(nasty) },
  { method: 'GET', path: '/api/v2/deleted_tickets' },
  { method: 'PUT', path: '/api/v2/deleted_tickets/:deleted/restore' },
  { method: 'PUT', path: '/api/v2/deleted_tickets/restore_many' },
  { method: 'DELETE', path: '/api/v2/deleted_tickets/:deleted' },
  { method: 'DELETE', path: '/api/v2/deleted_tickets/destroy_many' },
  { method: 'GET', path: '/api/v2/suspended_tickets' },
  { method: 'GET', path: '/api/v2/suspended_tickets/:suspended' },
  { method: 'PUT', path: '/api/v2/suspended_tickets/:suspended/recover', body: body(nasty) },
  { method: 'PUT', path: '/api/v2/suspended_tickets/recover_many' },
  { method: 'DELETE', path: '/api/v2/suspended_tickets/:suspended' },
  { method: 'DELETE', path: '/api/v2/suspended_tickets/destroy_many' },
];

const idSegment = (known: () => number[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.nat({ max: 2 }).map((index) => String(known()[index] ?? 1)) },
    fc.integer({ min: -5, max: 0 }).map(String),
    fc.constantFrom('9007199254740993', '1e3', '0x1', '%00', '%zz', 'abc', '+1', '%20', '99999999999999999999'),
  );
const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom('?page=0', '?per_page=1000', '?page[size]=x', '?page[after]=!!!', '?sort_by=subject&page[size]=2', '?sort_by=x', '?sort_order=sideways', '?sort_by[]=id', '?ids=', '?ids=a,b', '?ids=1,2,3', '?ids=0', `?ids=${Array.from({ length: 101 }, (_, i) => i + 1).join(',')}`),
  fc.nat({ max: 2 }).map((index) => `?ids=${ids.deleted[index] ?? 1},${ids.suspended[index] ?? 1}`),
);

const request = fc.constantFrom(...ROUTES).chain((route) =>
  fc.record({
    ticket: idSegment(() => ids.ticket),
    comment: idSegment(() => ids.comment),
    attachment: idSegment(() => ids.attachment),
    deleted: idSegment(() => ids.deleted),
    suspended: idSegment(() => ids.suspended),
    query,
    body: route.body ?? fc.constant(undefined),
    agent: fc.boolean(),
  }).map((parts) => {
    const path = route.path
      .replace(':ticket', parts.ticket)
      .replace(':comment', parts.comment)
      .replace(':attachment', parts.attachment)
      .replace(':deleted', parts.deleted)
      .replace(':suspended', parts.suspended);
    const headers = { ...(parts.agent ? agentHeaders : adminHeaders), 'content-type': 'application/json' };
    return { method: route.method, url: `${path}${parts.query}`, headers, payload: parts.body };
  }),
);

describe('Fuzzing the redaction, deleted tickets and suspended tickets APIs', () => {
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
      { numRuns: 400 },
    );
  });
});

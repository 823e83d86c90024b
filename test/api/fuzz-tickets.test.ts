import { sql } from 'kysely';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createTestApp, type Caller, type TestApp } from '../helpers.ts';

/**
 * Property-based abuse of the tickets, requests and uploads routes: whatever the body, ids or
 * query, the answer is a success or a Zendesk-shaped 4xx, never a 5xx, and a refused write leaves
 * no ticket, comment, user or audit entry behind.
 */
let t: TestApp;
let agent: Caller;
let endUser: Caller;
let ticketId = 0;
let userId = 0;
let organizationId = 0;

beforeAll(async () => {
  t = await createTestApp();
  agent = await t.user({ role: 'agent', name: 'Fuzz Agent' });
  endUser = await t.user({ role: 'end-user', name: 'Fuzz End User' });
  userId = endUser.id;
  organizationId = (await t.request('POST', '/api/v2/organizations', { body: { organization: { name: 'Fuzz Org' } } })).json().organization.id;
  ticketId = (await t.request('POST', '/api/v2/tickets', { body: { ticket: { subject: 'Fuzz', comment: { body: 'x' }, requester_id: endUser.id } } })).json().ticket.id;
  await t.request('PUT', '/api/v2/account/settings', { body: { settings: { anonymous_requests: true } } });
});
afterAll(async () => {
  await t.close();
});

const ERROR_KEYS = new Set(['error', 'description', 'details']);

function assertWellFormed(response: LightMyRequestResponse, label: string): void {
  if (response.statusCode >= 500) throw new Error(`${label}\n→ ${response.statusCode} ${response.body.slice(0, 500)}`);
  if (response.statusCode >= 400) {
    const body = JSON.parse(response.body) as Record<string, unknown>;
    if (typeof body.error !== 'string' || !Object.keys(body).every((key) => ERROR_KEYS.has(key))) {
      throw new Error(`${label}\n→ ${response.statusCode} not a Zendesk error body: ${response.body.slice(0, 300)}`);
    }
  }
}

async function counts(): Promise<string> {
  const { rows } = await sql<{ text: string }>`SELECT json_build_array(
    (SELECT count(*) FROM tickets), (SELECT count(*) FROM ticket_comments), (SELECT count(*) FROM users),
    (SELECT count(*) FROM ticket_collaborators), (SELECT count(*) FROM audit_events))::text AS text`.execute(t.runtime.database.db);
  return rows[0]?.text ?? '';
}

const scalar = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom('closed', 'solved', 'new', 'urgent', 'a@b.test', '-1', '1e309', '\u0000', '99999999999999999999'));
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 12 }), tie('node'), { maxKeys: 4 })),
})).node;
const ticketKey = fc.constantFrom(
  'subject', 'comment', 'requester', 'requester_id', 'submitter_id', 'assignee_id', 'assignee_email', 'group_id', 'organization_id', 'status', 'priority', 'type',
  'tags', 'additional_tags', 'remove_tags', 'external_id', 'due_at', 'recipient', 'collaborators', 'collaborator_ids', 'email_cc_ids', 'email_ccs', 'follower_ids', 'followers', 'additional_collaborators',
);
const commentValue = fc.record({ body: value, html_body: value, public: value, author_id: value, uploads: value }, { requiredKeys: [] });
const ticketBody = fc.dictionary(ticketKey, fc.oneof(value, commentValue), { maxKeys: 6 });

describe('fuzzed ticket routes', () => {
  it('POST /api/v2/tickets and PUT /api/v2/tickets/:id never answer 5xx; refused writes leave nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), ticketBody, fc.constantFrom<Caller | 'owner'>('owner', agent, endUser), async (update, body, who) => {
        const before = await counts();
        const as = who === 'owner' ? t.owner : who;
        const response = await t.request(update ? 'PUT' : 'POST', update ? `/api/v2/tickets/${ticketId}` : '/api/v2/tickets', { as, body: { ticket: body } });
        assertWellFormed(response, `${update ? 'PUT' : 'POST'} ${JSON.stringify(body).slice(0, 400)}`);
        if (response.statusCode >= 400 && (await counts()) !== before) throw new Error(`a refused write changed the database: ${JSON.stringify(body).slice(0, 400)}`);
      }),
      { numRuns: 150 },
    );
  });

  it('POST /api/v2/requests (signed in and anonymous) never answers 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), ticketBody, async (anonymous, body) => {
        const response = await t.request('POST', '/api/v2/requests', { as: anonymous ? null : endUser, body: { request: body } });
        assertWellFormed(response, `POST /requests ${JSON.stringify(body).slice(0, 400)}`);
      }),
      { numRuns: 100 },
    );
  });

  it('list, show and comment routes never answer 5xx for any id or query', async () => {
    const id = fc.oneof(fc.constantFrom(String(ticketId), String(userId), String(organizationId), '0', '-1', 'abc', '1.5', '99999999999999999999', '%00'), fc.string({ maxLength: 8 }).map(encodeURIComponent));
    const query = fc.dictionary(
      fc.constantFrom('page', 'per_page', 'page[size]', 'page[after]', 'page[before]', 'ids', 'external_id', 'sort_order', 'status', 'filename'),
      fc.oneof(fc.string({ maxLength: 12 }), fc.integer().map(String)),
      { maxKeys: 3 },
    ).map((entries) => new URLSearchParams(entries).toString());
    const path = fc.constantFrom(
      '/api/v2/tickets', '/api/v2/tickets/count', '/api/v2/tickets/show_many', '/api/v2/tickets/:id', '/api/v2/tickets/:id/comments',
      '/api/v2/users/:id/tickets/requested', '/api/v2/users/:id/tickets/ccd', '/api/v2/users/:id/tickets/assigned', '/api/v2/organizations/:id/tickets',
      '/api/v2/requests', '/api/v2/requests/ccd', '/api/v2/requests/:id', '/api/v2/requests/:id/comments', '/api/v2/organizations/:id/requests',
      '/api/v2/attachments/:id', '/api/v2/attachments/:id/content',
    );
    await fc.assert(
      fc.asyncProperty(path, id, query, fc.constantFrom<Caller | 'owner'>('owner', agent, endUser), async (route, rawId, search, who) => {
        const url = `${route.replace(':id', rawId)}${search ? `?${search}` : ''}`;
        const response = await t.request('GET', url, { as: who === 'owner' ? t.owner : who });
        assertWellFormed(response, `GET ${url}`);
      }),
      { numRuns: 300 },
    );
  });

  it('uploads, close_solved and destroy_many never answer 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 64 }), fc.constantFrom('text/plain', 'application/json', 'application/binary', 'image/png', '', 'x/y;;'), value, fc.string({ maxLength: 20 }), async (filename, bytes, type, closeBody, ids) => {
        const upload = await t.runtime.app.inject({ method: 'POST', url: `/api/v2/uploads?filename=${encodeURIComponent(filename)}`, headers: { ...t.owner.headers, ...(type ? { 'content-type': type } : {}) }, payload: Buffer.from(bytes) });
        assertWellFormed(upload, `upload ${filename} ${type}`);
        const close = await t.request('POST', '/api/v2/tickets/close_solved', { body: closeBody === undefined ? {} : closeBody });
        assertWellFormed(close, `close_solved ${JSON.stringify(closeBody)}`);
        const destroy = await t.request('DELETE', `/api/v2/tickets/destroy_many?ids=${encodeURIComponent(ids)}`, { as: agent });
        assertWellFormed(destroy, `destroy_many ${ids}`);
      }),
      { numRuns: 80 },
    );
  });
});

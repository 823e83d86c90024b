import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';

/**
 * Random query strings at the two read-only privacy endpoints of issue 7 items 3 and 6: whatever
 * arrives, the answer is a 200 or a Zendesk-shaped 4xx, never a 5xx.
 */

let t: TestApp;
let ticketId = 0;
beforeAll(async () => {
  t = await createTestApp();
  for (let i = 0; i < 5; i++) {
    const created = await t.request('POST', '/api/v2/users', { body: { user: { name: `Fuzz ${i}`, email: `fuzz${i}@example.com` } } });
    expect(created.statusCode).toBe(201);
  }
  const ticket = await t.request('POST', '/api/v2/tickets', { body: { ticket: { subject: 'Fuzz', comment: { html_body: '<p>Card <b>4111 1111</b> 1111 1111 &amp; fuzz0@example.com<br>+1 415 555 2671</p>' } } } });
  expect(ticket.statusCode, ticket.body).toBe(201);
  ticketId = ticket.json().ticket.id as number;
});
afterAll(async () => {
  await t.close();
});

const KEYS = [
  'filter[actor_id]', 'filter[action]', 'filter[source_type]', 'filter[source_id]', 'filter[created_at][]', 'filter[created_at]', 'filter[created_at][0]',
  'filter', 'filter[]', 'filter[other]', 'filter[actor_id][]', 'sort', 'sort_by', 'sort_order', 'page', 'page[size]', 'page[after]', 'page[before]', 'per_page',
  'default_country', 'default_country[]',
];
const value = fc.oneof(
  fc.constantFrom('', '0', '1', '-1', '2', '100', '101', '1e3', '9007199254740993', 'created_at', '-created_at', 'asc', 'desc', 'update', 'destroy', 'user', 'user.update', 'FR', 'br', 'XX', 'null', '[]', '{}'),
  fc.constantFrom('2020-01-01T00:00:00Z', '2030-12-31', '2024-02-30T00:00:00Z', 'yesterday', '0000-00-00', '9999-12-31T23:59:59+14:00'),
  fc.integer({ min: 1, max: 60 }).map((id) => Buffer.from(`id:${id}`).toString('base64url')),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.constant('x'.repeat(5000)),
);
const query = fc.array(fc.tuple(fc.constantFrom(...KEYS), value), { maxLength: 6 }).map((pairs) => pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'));

describe('fuzzing the audit log and redaction suggestions', () => {
  it('never answers a 5xx, and every refusal is a Zendesk-shaped 400', async () => {
    await fc.assert(
      fc.asyncProperty(query, fc.constantFrom('/api/v2/audit_logs', '/api/v2/audit_logs/1', 'suggestions'), async (q, path) => {
        const url = path === 'suggestions' ? `/api/v2/tickets/${ticketId}/redaction_suggestions` : path;
        const response = await t.request('GET', `${url}?${q}`);
        expect(response.statusCode, `${url}?${q}: ${response.body}`).toBeLessThan(500);
        if (response.statusCode >= 400) {
          expect([400, 404]).toContain(response.statusCode);
          expect(typeof response.json().error).toBe('string');
        }
      }),
      { numRuns: 300 },
    );
  });
});

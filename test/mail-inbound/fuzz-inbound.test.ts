import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';
import { corpus, postMail, SUPPORT } from './mail-helpers.ts';

let t: TestApp;

beforeAll(async () => {
  process.env.INBOUND_MAIL_MAX_BYTES = String(64 * 1024);
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

/** Records inbound mail must never leave behind half-written. */
async function invariants(): Promise<void> {
  const db = t.runtime.database.db;
  const orphans = await sql<{ kind: string; n: string }>`
    SELECT 'ticket without comment' AS kind, count(*) AS n FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM ticket_comments c WHERE c.account_id = t.account_id AND c.ticket_id = t.id)
    UNION ALL SELECT 'attachment attached to nothing', count(*) FROM ticket_attachments WHERE uploader_id IS NULL AND comment_id IS NULL AND suspended_ticket_id IS NULL
    UNION ALL SELECT 'thread record without comment', count(*) FROM ticket_mail_messages WHERE comment_id IS NULL`.execute(db);
  for (const row of orphans.rows) expect(Number(row.n), row.kind).toBe(0);
  // Every attachment row's bytes exist (stored before the transaction, removed when it failed).
  const keys = await db.selectFrom('ticket_attachments').select('storage_key').execute();
  for (const { storage_key } of keys) expect(await t.runtime.storage.get(storage_key)).toBeDefined();
}

const headerValue = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('=?UTF-8?B?5L2g5aW9?=', '=?ISO-8859-1?Q?caf=E9?=', '=?bogus?X?zz?=', '<a@b>', '', 'multipart/mixed; boundary=x'));
const headerName = fc.constantFrom('From', 'To', 'Cc', 'Subject', 'Message-ID', 'In-Reply-To', 'References', 'Content-Type', 'Content-Transfer-Encoding', 'Auto-Submitted', 'X-Anything');
const structured = fc
  .tuple(
    fc.constantFrom('Fuzz <fuzz@customer.test>', 'fuzz@customer.test', '', 'not an address', '=?UTF-8?B?5L2g?= <zh@customer.test>'),
    fc.array(fc.tuple(headerName, headerValue), { maxLength: 8 }),
    fc.uint8Array({ maxLength: 2048 }),
  )
  .map(([from, headers, body]) => Buffer.concat([
    Buffer.from([`From: ${from}`, `To: ${SUPPORT}`, ...headers.map(([name, value]) => `${name}: ${value}`), '', ''].join('\r\n'), 'latin1'),
    Buffer.from(body),
  ]));
// Real corpus messages with some bytes overwritten: deep inside MIME structure.
const mutated = fc
  .tuple(fc.constantFrom('multipart-alternative.eml', 'attachments.eml', 'cc-list.eml', 'subject-chinese.eml', 'subject-french.eml'), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }))
  .map(([file, edits]) => {
    const bytes = Buffer.from(corpus(file));
    for (const [at, value] of edits) bytes[at % bytes.length] = value;
    return bytes;
  });

describe('POST /api/v2/inbound_email under arbitrary input', () => {
  it('arbitrary bytes, mangled headers and mutated corpus messages: never a 500, never a half-written record', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 4096 }).map((bytes) => Buffer.from(bytes)), structured, mutated), async (raw) => {
        const response = await postMail(t, raw);
        expect([200, 201, 400, 413, 422], `status ${response.statusCode}: ${response.body}`).toContain(response.statusCode);
        const body = response.json() as Record<string, unknown>;
        if (response.statusCode >= 400) expect(typeof body.error).toBe('string');
        else expect(body.inbound_email).toBeDefined();
        await invariants();
      }),
      { numRuns: 150 },
    );
  });
});

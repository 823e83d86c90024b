import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';
import { agentWithRole, upload } from '../api/ticket-privacy-helpers.ts';
import { ticketFor } from '../lifecycle/lifecycle-helpers.ts';
import { comment, createSubject, erase, eraseAndWait, needles, ticketAs } from './erasure-helpers.ts';
import { findMentions, personTerms } from '../../src/privacy/erasure/person-terms.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
}, 120_000);

afterAll(async () => {
  await t?.close();
});

const MARK = '▇';

describe('Mention matching (exact, case-insensitive, accent-aware)', () => {
  const terms = personTerms({
    name: 'Zoë Quintana',
    identifiers: [
      { type: 'email', value: 'Zoe.Q@Example.org', value_key: 'zoe.q@example.org' },
      { type: 'phone_number', value: '+1 415 555 0100', value_key: '+14155550100' },
    ],
  });
  const found = (text: string) => findMentions(text, terms).map((m) => text.slice(m.start, m.end));

  it('finds the name in any case, with or without accents, composed or decomposed, over line breaks', () => {
    expect(found('hello ZOË QUINTANA!')).toEqual(['ZOË QUINTANA']);
    expect(found('from zoe quintana')).toEqual(['zoe quintana']);
    expect(found('from Zoe\u0308 Quintana')).toEqual(['Zoe\u0308 Quintana']);
    expect(found('Zoë\nQuintana')).toEqual(['Zoë\nQuintana']);
  });

  it('does not find it inside a longer word', () => {
    expect(found('Zoë Quintanas')).toEqual([]);
    expect(found('XZoë Quintana')).toEqual([]);
  });

  it('finds the email in any case and the phone in its usual spellings, not inside longer numbers', () => {
    expect(found('mail ZOE.Q@EXAMPLE.ORG now')).toEqual(['ZOE.Q@EXAMPLE.ORG']);
    for (const form of ['+1 415 555 0100', '(415) 555-0100', '415.555.0100', '+14155550100', '4155550100', '001 415 555 0100']) {
      expect(found(`call ${form} today`), form).toEqual([form]);
    }
    expect(found('order 941555501009')).toEqual([]);
  });
});

describe('POST /api/v2/users/{id}/erasure', () => {
  it('dry run: a plan of tickets, spans and attachments whose counts equal the real run\'s receipt; nothing changes until then', async () => {
    const subject = await createSubject(t);
    const agent = await t.user({ role: 'agent', name: 'Agent Plan' });
    const other = await t.user({ name: 'Other Requester' });
    // Requested (open), one closed, a CC on someone else's ticket, a comment by them, mentions by others.
    const open = await ticketAs(t, { subject: `Help for ${subject.name}`, comment: { body: `Reach me at ${subject.phoneForms[2]}` }, requester_id: subject.id });
    const closed = await ticketFor(t, subject.id, 'closed');
    const token = await upload(t, 'contacts.txt', `contact: ${subject.emails[1].toUpperCase()}`);
    const elsewhere = await ticketAs(t, { subject: 'Unrelated', comment: { body: 'Nothing here', uploads: [token] }, requester_id: other.id, email_cc_ids: [subject.id] });
    await comment(t, elsewhere, { body: `Spoke with ${subject.name.toLowerCase()} (${subject.emails[0]})`, public: false }, agent);
    const before = await t.request('GET', `/api/v2/tickets/${open}`);

    const plan = await erase(t, subject.id, { dry_run: true, open_tickets: 'close' });
    expect(plan.statusCode, plan.body).toBe(200);
    const body = plan.json().erasure_plan;
    expect(body.tickets.requested).toEqual([open, closed]);
    expect(body.tickets.email_cc).toEqual([elsewhere]);
    expect(body.tickets.mentioned).toEqual(expect.arrayContaining([open, elsewhere]));
    expect(body.open_tickets).toEqual({ action: 'close', ticket_ids: [open] });
    expect(body.closed_tickets.scrub).toEqual([closed]);
    expect(body.attachments).toEqual([expect.objectContaining({ ticket_id: elsewhere, reason: 'content' })]);
    // The admin may see the spans (they can read the comments anyway).
    const texts = body.text_spans.map((span: { text: string }) => span.text.toLowerCase());
    expect(texts).toEqual(expect.arrayContaining([subject.name.toLowerCase(), subject.emails[0], subject.phoneForms[2]]));
    expect(body.counts).toMatchObject({ tickets_closed: 1, tickets_reassigned: 0, tickets_deleted: 0, email_ccs_removed: 1, redacted_attachments: 1, users_deleted: 1, identifiers: 3 });
    // Nothing changed.
    expect((await t.request('GET', `/api/v2/tickets/${open}`)).body).toBe(before.body);
    expect((await t.request('GET', `/api/v2/users/${subject.id}`)).json().user.active).toBe(true);
    const stored = await sql<{ n: number }>`SELECT count(*)::int AS n FROM erasure_requests WHERE account_id = ${t.account.id} AND user_id = ${subject.id}`.execute(t.runtime.database.db);
    expect(stored.rows[0]?.n).toBe(0);

    const receipt = await eraseAndWait(t, subject.id, { open_tickets: 'close' });
    expect(receipt.status).toBe('completed');
    expect(receipt.counts).toEqual(body.counts);
    // The open ticket is closed, its text masked; the CC is gone; the user is permanently deleted.
    const shown = (await t.request('GET', `/api/v2/tickets/${open}`)).json().ticket;
    expect(shown.status).toBe('closed');
    expect(shown.subject).toBe(`Help for ${MARK.repeat([...subject.name].length)}`);
    const elsewhereShown = (await t.request('GET', `/api/v2/tickets/${elsewhere}`)).json().ticket;
    expect(elsewhereShown.email_cc_ids).toEqual([]);
    const comments = (await t.request('GET', `/api/v2/tickets/${elsewhere}/comments`)).json().comments;
    expect(comments[1].body).toBe(`Spoke with ${MARK.repeat([...subject.name].length)} (${MARK.repeat(subject.emails[0].length)})`);
    expect(comments[0].attachments[0]).toMatchObject({ file_name: 'redacted.txt', size: 0 });
    const deleted = (await t.request('GET', `/api/v2/deleted_users/${subject.id}`)).json().deleted_user;
    expect(deleted).toMatchObject({ name: 'Permanently Deleted User', state: 'purged' });
    // A second dry run of anyone else finds none of the person's text left.
    const rest = JSON.stringify((await t.request('GET', `/api/v2/tickets/${open}/comments`)).json());
    for (const needle of needles(subject)) expect(rest.toLowerCase()).not.toContain(needle.toLowerCase());
  });

  it('the receipt holds ids, counts and keyed hashes only — no personal data; listed newest first', async () => {
    const subject = await createSubject(t);
    const receipt = await eraseAndWait(t, subject.id);
    const text = JSON.stringify(receipt).toLowerCase();
    for (const needle of needles(subject)) expect(text).not.toContain(needle.toLowerCase());
    expect(Object.keys(receipt).sort()).toEqual(['actor_id', 'completed_at', 'counts', 'created_at', 'id', 'identifier_hashes', 'job_status_id', 'options', 'started_at', 'status', 'step', 'url', 'user_id']);
    expect(receipt).toMatchObject({ user_id: subject.id, actor_id: t.owner.id, status: 'completed', step: 'done' });
    expect(receipt.identifier_hashes).toHaveLength(3);
    for (const hash of receipt.identifier_hashes as string[]) expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const list = await t.request('GET', '/api/v2/erasure_receipts');
    expect(list.statusCode).toBe(200);
    expect(list.json().erasure_receipts[0].id).toBe(receipt.id);
    const cursor = await t.request('GET', '/api/v2/erasure_receipts?page[size]=1');
    expect(cursor.json().erasure_receipts).toHaveLength(1);
    expect(cursor.json().meta.has_more).toBe(list.json().count > 1);
    // Audit entries name actions and fields, never values.
    const audit = await sql<{ row: string }>`SELECT a::text AS row FROM audit_events a WHERE account_id = ${t.account.id}`.execute(t.runtime.database.db);
    const auditText = audit.rows.map((row) => row.row).join('\n').toLowerCase();
    for (const needle of needles(subject)) expect(auditText).not.toContain(needle.toLowerCase());
    expect(auditText).toContain('erasure.complete');
  });

  it('open tickets: refused without open_tickets (naming the count), closed, reassigned to the placeholder, or deleted', async () => {
    const refused = await createSubject(t);
    await ticketFor(t, refused.id, 'open');
    await ticketFor(t, refused.id, 'open');
    for (const body of [{}, { dry_run: true }]) {
      const response = await erase(t, refused.id, body);
      expect(response.statusCode).toBe(422);
      expect(response.json().details.open_tickets[0].description).toContain('User is requester on 2 tickets that are not closed');
    }

    const reassigned = await createSubject(t);
    const ticket = await ticketFor(t, reassigned.id, 'open');
    const plan = (await erase(t, reassigned.id, { dry_run: true, open_tickets: 'reassign_to_placeholder' })).json().erasure_plan;
    const receipt = await eraseAndWait(t, reassigned.id, { open_tickets: 'reassign_to_placeholder' });
    expect(receipt.counts).toEqual(plan.counts);
    expect((receipt.counts as Record<string, number>).tickets_reassigned).toBe(1);
    const shown = (await t.request('GET', `/api/v2/tickets/${ticket}`)).json().ticket;
    expect(shown.status).toBe('open');
    const placeholder = (await t.request('GET', `/api/v2/users/${shown.requester_id}`)).json().user;
    expect(placeholder).toMatchObject({ name: 'Forgotten user', shared: true, email: null });
    // One placeholder per account; it cannot be erased or deleted.
    const again = await createSubject(t);
    const second = await ticketFor(t, again.id, 'open');
    await eraseAndWait(t, again.id, { open_tickets: 'reassign_to_placeholder' });
    expect((await t.request('GET', `/api/v2/tickets/${second}`)).json().ticket.requester_id).toBe(placeholder.id);
    const placeholderErasure = await erase(t, placeholder.id, { open_tickets: 'close' });
    expect(placeholderErasure.statusCode).toBe(422);
    expect(placeholderErasure.json().details.base[0].description).toContain('ticket sharing');

    const deleted = await createSubject(t);
    const openTicket = await ticketFor(t, deleted.id, 'open');
    const closedTicket = await ticketFor(t, deleted.id, 'closed');
    const deletePlan = (await erase(t, deleted.id, { dry_run: true, open_tickets: 'delete', closed_tickets: 'delete' })).json().erasure_plan;
    expect(deletePlan.closed_tickets).toEqual({ scrub: [], delete: [closedTicket] });
    const deleteReceipt = await eraseAndWait(t, deleted.id, { open_tickets: 'delete', closed_tickets: 'delete' });
    expect(deleteReceipt.counts).toEqual(deletePlan.counts);
    expect((deleteReceipt.counts as Record<string, number>).tickets_deleted).toBe(2);
    for (const id of [openTicket, closedTicket]) expect((await t.request('GET', `/api/v2/tickets/${id}`)).statusCode).toBe(404);
    const records = await sql<{ n: number }>`SELECT count(*)::int AS n FROM deleted_ticket_records WHERE account_id = ${t.account.id} AND ticket_id IN (${openTicket}, ${closedTicket})`.execute(t.runtime.database.db);
    expect(records.rows[0]?.n).toBe(2);
  });

  it('their suspended tickets are deleted; their own attachments are redacted with the bytes removed', async () => {
    const subject = await createSubject(t);
    const token = await upload(t, 'scan.txt', 'a scan', subject.caller);
    const own = await t.request('POST', '/api/v2/requests', { as: subject.caller, body: { request: { subject: 'Own upload', comment: { body: 'see file', uploads: [token] } } } });
    expect(own.statusCode, own.body).toBe(201);
    const ticket = own.json().request.id as number;
    await t.request('PUT', `/api/v2/tickets/${ticket}`, { body: { ticket: { status: 'solved' } } });
    await t.request('POST', '/api/v2/tickets/close_solved', { body: { ids: [ticket] } });
    const suspended = await t.request('PUT', `/api/v2/users/${subject.id}`, { body: { user: { suspended: true, suspension_reason: 'objection' } } });
    expect(suspended.statusCode, suspended.body).toBe(200);
    const held = await t.request('POST', '/api/v2/tickets', { body: { ticket: { subject: 'held', comment: { body: 'held text' }, requester_id: subject.id } } });
    expect(held.statusCode, held.body).toBeLessThan(300);
    const key = (await sql<{ storage_key: string }>`SELECT storage_key FROM ticket_attachments WHERE account_id = ${t.account.id} AND token = ${token}`.execute(t.runtime.database.db)).rows[0]?.storage_key;
    expect(key).toBeDefined();
    const plan = (await erase(t, subject.id, { dry_run: true })).json().erasure_plan;
    expect(plan.suspended_tickets.delete).toHaveLength(1);
    expect(plan.attachments).toEqual([expect.objectContaining({ reason: 'authored' })]);
    const receipt = await eraseAndWait(t, subject.id);
    expect(receipt.counts).toEqual(plan.counts);
    expect(await t.runtime.storage.get(key ?? '')).toBeUndefined();
    const left = await sql<{ n: number }>`SELECT count(*)::int AS n FROM suspended_tickets WHERE account_id = ${t.account.id} AND author_id = ${subject.id}`.execute(t.runtime.database.db);
    expect(left.rows[0]?.n).toBe(0);
  });

  it('refuses the owner, oneself, the last admin, a deleted or unknown user, an erasure under way, and bad options', async () => {
    const owner = await erase(t, t.owner.id, { dry_run: true });
    expect(owner.statusCode).toBe(403);
    const admin = await t.user({ role: 'admin', name: 'Self Eraser' });
    const self = await erase(t, admin.id, { dry_run: true }, admin);
    expect(self.statusCode).toBe(403);
    expect(self.json().description).toContain('themselves');
    expect((await erase(t, 99_999_999, { dry_run: true })).statusCode).toBe(404);
    const gone = await createSubject(t);
    expect((await t.request('DELETE', `/api/v2/users/${gone.id}`)).statusCode).toBe(200);
    expect((await erase(t, gone.id, { dry_run: true })).statusCode).toBe(404);
    const subject = await createSubject(t);
    for (const body of [{ open_tickets: 'archive' }, { closed_tickets: 'keep' }, { erasure: 'x' }, { erasure: { dry_run: 1 } }]) {
      const response = await erase(t, subject.id, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(422);
    }
    expect((await erase(t, subject.id, { dry_run: 'yes' })).statusCode).toBe(400);
    expect((await t.request('POST', `/api/v2/users/${subject.id}/erasure`, { body: '[1]' })).statusCode).toBe(400);
    // One erasure per user at a time: a second request while the first is queued is refused.
    await t.runtime.jobs.stop();
    try {
      const first = await erase(t, subject.id, {});
      expect(first.statusCode, first.body).toBe(200);
      const second = await erase(t, subject.id, {});
      expect(second.statusCode).toBe(422);
      expect(second.json().details.base[0].description).toContain('already under way');
      const receipt = await t.request('GET', `/api/v2/erasure_receipts/${first.json().erasure_receipt.id}`);
      expect(receipt.json().erasure_receipt.status).toBe('queued');
    } finally {
      await t.runtime.jobs.start();
    }
  });

  it('permissions: end users and plain agents are refused; an agent whose custom role grants erase_users may erase end users', async () => {
    const subject = await createSubject(t);
    expect((await erase(t, subject.id, { dry_run: true }, subject.caller)).statusCode).toBe(403);
    const agent = await t.user({ role: 'agent', name: 'Plain Agent' });
    const plain = await erase(t, subject.id, { dry_run: true }, agent);
    expect(plain.statusCode).toBe(403);
    expect(plain.json().description).toContain('erase_users');
    expect((await t.request('GET', '/api/v2/erasure_receipts', { as: agent })).statusCode).toBe(403);
    const eraser = await agentWithRole(t, 'Erasers', { erase_users: true, end_user_profile_access: 'full', end_user_deletion: true, ticket_access: 'all' });
    const restricted = await agentWithRole(t, 'Restricted erasers', { erase_users: true, end_user_profile_access: 'full', end_user_deletion: true, ticket_access: 'within-groups' });
    expect((await erase(t, subject.id, { dry_run: true }, restricted)).statusCode).toBe(403);
    const otherAgent = await t.user({ role: 'agent', name: 'Protected Agent' });
    expect((await erase(t, otherAgent.id, { dry_run: true }, eraser)).statusCode).toBe(403);
    const receipt = await eraseAndWait(t, subject.id, {}, eraser);
    expect(receipt.actor_id).toBe(eraser.id);
    // Deleting tickets as part of it also takes ticket_deletion.
    const withTickets = await createSubject(t);
    await ticketFor(t, withTickets.id, 'open');
    const noDeletion = await agentWithRole(t, 'Erasers without ticket deletion', { erase_users: true, end_user_profile_access: 'full', end_user_deletion: true, ticket_access: 'all', ticket_deletion: false });
    expect((await erase(t, withTickets.id, { dry_run: true, open_tickets: 'delete' }, noDeletion)).statusCode).toBe(403);
    expect((await erase(t, withTickets.id, { dry_run: true, open_tickets: 'close' }, noDeletion)).statusCode).toBe(200);
  });
});

describe('Suppression: a forgotten identity writes in again', () => {
  it('setting forgotten_identity_policy takes new_profile or suspend only', async () => {
    expect((await t.request('GET', '/api/v2/account/settings')).json().settings.forgotten_identity_policy).toBe('new_profile');
    const bad = await t.request('PUT', '/api/v2/account/settings', { body: { settings: { forgotten_identity_policy: 'block' } } });
    expect(bad.statusCode).toBe(422);
  });

  it('new_profile (default): a new user; suspend: a suspended ticket with cause "Forgotten identity" and no profile — matched by keyed hash only', async () => {
    const subject = await createSubject(t);
    await eraseAndWait(t, subject.id);
    const db = t.runtime.database.db;
    const stored = await sql<{ row: string }>`SELECT s::text AS row FROM suppressed_identifiers s WHERE account_id = ${t.account.id}`.execute(db);
    const storedText = stored.rows.map((row) => row.row).join('\n').toLowerCase();
    for (const needle of needles(subject)) expect(storedText).not.toContain(needle.toLowerCase());

    await t.request('PUT', '/api/v2/account/settings', { body: { settings: { forgotten_identity_policy: 'suspend' } } });
    try {
      const held = await t.request('POST', '/api/v2/tickets', { body: { ticket: { subject: 'I am back', comment: { body: 'hello again' }, requester: { name: 'Back Again', email: subject.emails[1].toUpperCase() } } } });
      expect(held.statusCode, held.body).toBeLessThan(300);
      const queue = (await t.request('GET', '/api/v2/suspended_tickets')).json().suspended_tickets as Array<Record<string, unknown>>;
      expect(queue.find((row) => row.subject === 'I am back')).toMatchObject({ cause: 'Forgotten identity' });
      const users = await sql<{ n: number }>`SELECT count(*)::int AS n FROM user_identities WHERE account_id = ${t.account.id} AND value_key = ${subject.emails[1]}`.execute(db);
      expect(users.rows[0]?.n).toBe(0);
      // A web request (anonymous requests on) is held the same way.
      await t.request('PUT', '/api/v2/account/settings', { body: { settings: { anonymous_requests: true } } });
      const request = await t.request('POST', '/api/v2/requests', { as: null, body: { request: { subject: 'web again', comment: { body: 'hi' }, requester: { name: 'W', email: subject.emails[0] } } } });
      expect(request.statusCode, request.body).toBeLessThan(300);
      const after = (await t.request('GET', '/api/v2/suspended_tickets')).json().suspended_tickets as Array<Record<string, unknown>>;
      expect(after.find((row) => row.subject === 'web again')).toMatchObject({ cause: 'Forgotten identity' });
      // Someone never erased still gets a profile.
      const fresh = await t.request('POST', '/api/v2/tickets', { body: { ticket: { subject: 'new person', comment: { body: 'x' }, requester: { name: 'Fresh', email: `fresh-${subject.id}@example.org` } } } });
      expect(fresh.statusCode).toBe(201);
    } finally {
      await t.request('PUT', '/api/v2/account/settings', { body: { settings: { forgotten_identity_policy: 'new_profile', anonymous_requests: false } } });
    }
    const profile = await t.request('POST', '/api/v2/tickets', { body: { ticket: { subject: 'Profile again', comment: { body: 'hello' }, requester: { name: 'New Profile', email: subject.emails[0] } } } });
    expect(profile.statusCode, profile.body).toBe(201);
    expect(profile.json().ticket.requester_id).not.toBe(subject.id);
  });
});

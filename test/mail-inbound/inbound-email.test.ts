import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureAccount } from '../../src/accounts/bootstrap.ts';
import { issueApiToken } from '../../src/auth/api-tokens.ts';
import { ticketReplyAddress } from '../../src/mail/inbound/addresses.ts';
import { basic, createTestApp, type Caller, type TestApp } from '../helpers.ts';
import { corpus, counts, message, postMail, storedAnywhere, SUPPORT } from './mail-helpers.ts';

const LIMIT = 256 * 1024;
let t: TestApp;

beforeAll(async () => {
  // Read when the routes register: a small limit keeps the over-size case cheap.
  process.env.INBOUND_MAIL_MAX_BYTES = String(LIMIT);
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});
beforeEach(async () => {
  await t.reset();
});

async function ticket(id: number) {
  return (await t.request('GET', `/api/v2/tickets/${id}`)).json().ticket;
}
async function comments(id: number) {
  return (await t.request('GET', `/api/v2/tickets/${id}/comments`)).json().comments as Array<Record<string, unknown>>;
}
async function user(id: number) {
  return (await t.request('GET', `/api/v2/users/${id}`)).json().user;
}
async function userByEmail(email: string) {
  const found = (await t.request('GET', `/api/v2/users/search?query=${encodeURIComponent(`email:${email}`)}`)).json().users as Array<Record<string, unknown>>;
  return found;
}

describe('POST /api/v2/inbound_email: new messages', () => {
  it('multipart/alternative: a ticket by email, its requester created from the From name, HTML kept minus scripts, Message-ID recorded', async () => {
    const response = await postMail(t, corpus('multipart-alternative.eml'));
    expect(response.statusCode).toBe(201);
    const outcome = response.json().inbound_email;
    expect(outcome).toMatchObject({ status: 'ticket_created', requester_created: true });
    const shown = await ticket(outcome.ticket_id);
    expect(shown).toMatchObject({ subject: 'Cannot sign in to my account', status: 'new', via: { channel: 'email' }, recipient: SUPPORT });
    const requester = await user(shown.requester_id);
    expect(requester).toMatchObject({ name: 'Ana Lima', email: 'ana.lima@customer.test', role: 'end-user' });
    const [first] = await comments(outcome.ticket_id);
    expect(first).toMatchObject({ author_id: shown.requester_id, public: true, via: { channel: 'email' } });
    expect(first?.body).toContain('I cannot sign in since yesterday.');
    expect(first?.html_body).toContain('<b>since yesterday</b>');
    expect(first?.html_body).not.toContain('<script');
    const recorded = await t.runtime.database.db.selectFrom('ticket_mail_messages').selectAll().execute();
    expect(recorded).toEqual([expect.objectContaining({ message_id: '<first-1@customer.test>', ticket_id: outcome.ticket_id, comment_id: first?.id })]);
    // The raw message is not stored: a header that becomes nothing is nowhere in the database.
    expect(await storedAnywhere(t, 'zq-raw-header-marker-7731')).toEqual([]);
  });

  it('matches an existing user by any of their email identities (no new user)', async () => {
    const known = await t.user({ name: 'Known Person', email: 'primary@customer.test' });
    expect((await t.request('POST', `/api/v2/users/${known.id}/identities`, { body: { identity: { type: 'email', value: 'ana.lima@customer.test' } } })).statusCode).toBe(201);
    const before = await counts(t);
    const outcome = (await postMail(t, corpus('multipart-alternative.eml'))).json().inbound_email;
    expect(outcome).toMatchObject({ status: 'ticket_created', requester_created: false });
    expect((await ticket(outcome.ticket_id)).requester_id).toBe(known.id);
    expect((await counts(t)).users).toBe(before.users);
  });

  it('decodes a UTF-8 base64 encoded-word subject and body (Chinese)', async () => {
    const outcome = (await postMail(t, corpus('subject-chinese.eml'))).json().inbound_email;
    const shown = await ticket(outcome.ticket_id);
    expect(shown.subject).toBe('我的账户无法登录');
    expect(shown.description).toContain('我忘记了密码');
    expect((await user(shown.requester_id)).name).toBe('王小明');
  });

  it('decodes an ISO-8859-1 quoted-printable subject and body (French), via the <subdomain>@MAIL_DOMAIN address', async () => {
    const outcome = (await postMail(t, corpus('subject-french.eml'))).json().inbound_email;
    const shown = await ticket(outcome.ticket_id);
    expect(shown.subject).toBe('Problème de connexion à mon compte');
    expect(shown.description).toContain("Je n'arrive plus à me connecter depuis la mise à jour. Merci d'avance pour votre aide.");
    expect((await user(shown.requester_id)).name).toBe('Renée Dupré');
  });

  it('stores attachments through the attachment storage: the bytes read back through the attachment API', async () => {
    const outcome = (await postMail(t, corpus('attachments.eml'))).json().inbound_email;
    expect(outcome.status).toBe('ticket_created');
    const [first] = await comments(outcome.ticket_id);
    const attachments = first?.attachments as Array<{ id: number; file_name: string; content_type: string; size: number }>;
    expect(attachments.map((a) => [a.file_name, a.content_type])).toEqual([['invoice.pdf', 'application/pdf'], ['journal détails.txt', 'text/plain']]);
    const expected = Buffer.concat(Array.from({ length: 8 }, () => Buffer.from(Array.from({ length: 256 }, (_v, i) => i))));
    const content = await t.runtime.app.inject({ method: 'GET', url: `/api/v2/attachments/${attachments[0]?.id}/content`, headers: t.owner.headers });
    expect(content.statusCode).toBe(200);
    expect(content.rawPayload.equals(expected)).toBe(true);
    const text = await t.runtime.app.inject({ method: 'GET', url: `/api/v2/attachments/${attachments[1]?.id}/content`, headers: t.owner.headers });
    expect(text.body).toBe('line one\r\nline two');
    // The requester reads their own attachment too (a public comment of their request).
    expect(attachments[0]?.size).toBe(2048);
  });

  it('makes To and Cc addresses (not the support address, not the sender) users and email CCs', async () => {
    const known = await t.user({ name: 'Already Known', email: 'known@customer.test' });
    const before = await counts(t);
    const outcome = (await postMail(t, corpus('cc-list.eml'))).json().inbound_email;
    const shown = await ticket(outcome.ticket_id);
    const ccs = await Promise.all((shown.email_cc_ids as number[]).map(user));
    expect(ccs.map((cc) => [cc.name, cc.email]).sort()).toEqual([['Already Known', 'known@customer.test'], ['Dan Ortiz', 'dan@customer.test'], ['Eve Park', 'eve@customer.test']]);
    expect(shown.email_cc_ids).toContain(known.id);
    expect(shown.email_cc_ids).not.toContain(shown.requester_id);
    // Carla (requester), Dan and Eve are new; the support address became nobody.
    expect((await counts(t)).users).toBe((before.users ?? 0) + 3);
    expect(await userByEmail('support@default.localhost')).toEqual([]);
  });

  it("a suspended sender's mail becomes a suspended ticket, attachments and all; no ticket, no thread record", async () => {
    const sam = await t.user({ name: 'Sam Suspended', email: 'sam@customer.test' });
    expect((await t.request('PUT', `/api/v2/users/${sam.id}`, { body: { user: { suspended: true, suspension_reason: 'objection' } } })).statusCode).toBe(200);
    const before = await counts(t);
    const response = await postMail(t, corpus('suspended-sender.eml'));
    expect(response.statusCode).toBe(201);
    const outcome = response.json().inbound_email;
    expect(outcome.status).toBe('suspended');
    const suspended = (await t.request('GET', `/api/v2/suspended_tickets/${outcome.suspended_ticket_id}`)).json().suspended_ticket;
    expect(suspended).toMatchObject({ subject: 'Let me back in', cause: 'Suspended user', via: { channel: 'email' } });
    expect(suspended.content).toContain('Why was I suspended?');
    const after = await counts(t);
    expect([after.tickets, after.ticket_mail_messages, after.users]).toEqual([before.tickets, before.ticket_mail_messages, before.users]);
  });

  it('a soft-deleted user who writes in again gets a new profile (DOMAIN.md §5)', async () => {
    const old = await t.user({ name: 'Ana Old', email: 'ana.lima@customer.test' });
    expect((await t.request('DELETE', `/api/v2/users/${old.id}`)).statusCode).toBe(200);
    const outcome = (await postMail(t, corpus('multipart-alternative.eml'))).json().inbound_email;
    expect(outcome.requester_created).toBe(true);
    const shown = await ticket(outcome.ticket_id);
    expect(shown.requester_id).not.toBe(old.id);
    expect(await user(shown.requester_id)).toMatchObject({ name: 'Ana Lima', email: 'ana.lima@customer.test', active: true });
  });

  it('takes mail in whatever the anonymous-requests setting says (it governs the web form)', async () => {
    expect((await postMail(t, message({ messageId: '<anon-1@customer.test>' }))).statusCode).toBe(201);
  });
});

describe('POST /api/v2/inbound_email: replies', () => {
  it('In-Reply-To a known Message-ID: a public comment by the sender on the same ticket', async () => {
    const first = (await postMail(t, corpus('multipart-alternative.eml'))).json().inbound_email;
    const response = await postMail(t, corpus('reply.eml'));
    expect(response.statusCode).toBe(201);
    const reply = response.json().inbound_email;
    expect(reply).toMatchObject({ status: 'comment_added', ticket_id: first.ticket_id });
    const list = await comments(first.ticket_id);
    expect(list).toHaveLength(2);
    const requester = (await ticket(first.ticket_id)).requester_id;
    expect(list[1]).toMatchObject({ id: reply.comment_id, author_id: requester, public: true, via: { channel: 'email' } });
    expect(list[1]?.body).toContain('It works again, thank you!');
    // The reply's own Message-ID threads later replies too.
    const third = await postMail(t, message({ from: 'Ana Lima <ana.lima@customer.test>', messageId: '<reply-2@customer.test>', inReplyTo: '<reply-1@customer.test>', body: 'One more thing.' }));
    expect(third.json().inbound_email).toMatchObject({ status: 'comment_added', ticket_id: first.ticket_id });
  });

  it('a ticket token in the address threads without In-Reply-To; a forged token threads nothing', async () => {
    const first = (await postMail(t, corpus('multipart-alternative.eml'))).json().inbound_email;
    const address = await ticketReplyAddress(t.runtime.database.db, t.account, 'localhost', first.ticket_id);
    expect(address).toMatch(new RegExp(`^support\\+id${first.ticket_id}-[0-9a-f]{12}@default\\.localhost$`));
    const reply = await postMail(t, message({ from: 'ana.lima@customer.test', to: address, messageId: '<tok-1@customer.test>', body: 'Token reply' }));
    expect(reply.json().inbound_email).toMatchObject({ status: 'comment_added', ticket_id: first.ticket_id });
    const forged = await postMail(t, message({ from: 'ana.lima@customer.test', to: `support+id${first.ticket_id}-000000000000@default.localhost`, messageId: '<tok-2@customer.test>' }));
    expect(forged.json().inbound_email.status).toBe('ticket_created');
    expect(forged.json().inbound_email.ticket_id).not.toBe(first.ticket_id);
  });

  it("a requester's reply reopens a solved ticket; CCs on the reply join the ticket", async () => {
    const first = (await postMail(t, corpus('multipart-alternative.eml'))).json().inbound_email;
    expect((await t.request('PUT', `/api/v2/tickets/${first.ticket_id}`, { body: { ticket: { status: 'solved', comment: { body: 'Fixed.' } } } })).statusCode).toBe(200);
    const reply = await postMail(t, message({ from: 'ana.lima@customer.test', cc: 'Fay New <fay@customer.test>', messageId: '<re-3@customer.test>', inReplyTo: '<first-1@customer.test>', body: 'Still broken' }));
    expect(reply.json().inbound_email.status).toBe('comment_added');
    const shown = await ticket(first.ticket_id);
    expect(shown.status).toBe('open');
    expect((await Promise.all((shown.email_cc_ids as number[]).map(user))).map((cc) => cc.email)).toEqual(['fay@customer.test']);
  });

  it('someone outside the ticket answering its Message-ID starts a ticket of their own (never a comment on a conversation they are not in)', async () => {
    const first = (await postMail(t, corpus('multipart-alternative.eml'))).json().inbound_email;
    const outsider = await postMail(t, message({ from: 'Mallory <mallory@elsewhere.test>', messageId: '<m-1@elsewhere.test>', inReplyTo: '<first-1@customer.test>', body: 'Injected' }));
    const outcome = outsider.json().inbound_email;
    expect(outcome.status).toBe('ticket_created');
    expect(outcome.ticket_id).not.toBe(first.ticket_id);
    expect(await comments(first.ticket_id)).toHaveLength(1);
  });

  it('a staff member who sees the ticket comments by mail (public, status kept)', async () => {
    const first = (await postMail(t, corpus('multipart-alternative.eml'))).json().inbound_email;
    const agent = await t.user({ name: 'Agent Smith', email: 'agent@support.test', role: 'agent' });
    const reply = await postMail(t, message({ from: agent.email, messageId: '<ag-1@support.test>', inReplyTo: '<first-1@customer.test>', body: 'Please try again.' }));
    expect(reply.json().inbound_email).toMatchObject({ status: 'comment_added', ticket_id: first.ticket_id });
    expect((await comments(first.ticket_id))[1]).toMatchObject({ author_id: agent.id, public: true });
    expect((await ticket(first.ticket_id)).status).toBe('new');
  });

  it('a reply to a closed ticket becomes a new ticket (a follow-up, as in Zendesk)', async () => {
    const first = (await postMail(t, corpus('multipart-alternative.eml'))).json().inbound_email;
    await t.runtime.database.db.updateTable('tickets').set({ status: 'closed', solved_at: new Date(), closed_at: new Date() }).where('id', '=', first.ticket_id).execute();
    const outcome = (await postMail(t, corpus('reply.eml'))).json().inbound_email;
    expect(outcome.status).toBe('ticket_created');
    expect(outcome.ticket_id).not.toBe(first.ticket_id);
  });

  it("a suspended requester's reply becomes a suspended ticket, not a comment", async () => {
    const first = (await postMail(t, corpus('multipart-alternative.eml'))).json().inbound_email;
    const requester = (await ticket(first.ticket_id)).requester_id as number;
    expect((await t.request('PUT', `/api/v2/users/${requester}`, { body: { user: { suspended: true, suspension_reason: 'objection' } } })).statusCode).toBe(200);
    const outcome = (await postMail(t, corpus('reply.eml'))).json().inbound_email;
    expect(outcome.status).toBe('suspended');
    expect(await comments(first.ticket_id)).toHaveLength(1);
  });
});

describe('POST /api/v2/inbound_email: accounts and attachments on replies', () => {
  it('a reply with an attachment stores it on the comment', async () => {
    const first = (await postMail(t, corpus('multipart-alternative.eml'))).json().inbound_email;
    const raw = corpus('attachments.eml').toString('latin1')
      .replace('From: Bea Costa <bea@customer.test>', 'From: Ana Lima <ana.lima@customer.test>')
      .replace('Message-ID: <att-1@customer.test>', 'Message-ID: <att-2@customer.test>\r\nIn-Reply-To: <first-1@customer.test>');
    const reply = (await postMail(t, Buffer.from(raw, 'latin1'))).json().inbound_email;
    expect(reply).toMatchObject({ status: 'comment_added', ticket_id: first.ticket_id });
    const list = await comments(first.ticket_id);
    expect((list[1]?.attachments as Array<{ file_name: string }>).map((a) => a.file_name)).toEqual(['invoice.pdf', 'journal détails.txt']);
  });

  it("threads within one account only: another account's Message-IDs and tokens mean nothing", async () => {
    const first = (await postMail(t, corpus('multipart-alternative.eml'))).json().inbound_email;
    const token = await ticketReplyAddress(t.runtime.database.db, t.account, 'localhost', first.ticket_id);
    const { account: acme } = await ensureAccount(t.runtime.database.db, 'acme', { name: 'Acme Owner', email: 'owner@acme.test', password: 'a long acme password' });
    const issued = await issueApiToken(t.runtime.database.db, acme.id, null, 'tests');
    const acmeOwner: Caller = { email: 'owner@acme.test', token: issued.token, id: 0, headers: { ...basic('owner@acme.test/token', issued.token), host: 'acme.localhost' } };
    const sameReply = await postMail(t, corpus('reply.eml'), acmeOwner);
    expect(sameReply.json().inbound_email.status).toBe('ticket_created');
    const viaToken = await postMail(t, message({ from: 'ana.lima@customer.test', to: token.replace('@default.', '@acme.'), messageId: '<acme-tok@customer.test>' }), acmeOwner);
    expect(viaToken.json().inbound_email.status).toBe('ticket_created');
    // The default account's ticket got nothing.
    expect(await comments(first.ticket_id)).toHaveLength(1);
    const acmeTickets = await t.runtime.database.db.selectFrom('tickets').select('id').where('account_id', '=', acme.id).execute();
    expect(acmeTickets).toHaveLength(2);
  });
});

describe('POST /api/v2/inbound_email: what is not taken in', () => {
  it.each([
    ['auto-reply.eml', 'auto_reply'],
    ['bounce.eml', 'bounce'],
  ])('%s is dropped (%s): nothing written', async (file, reason) => {
    const before = await counts(t);
    const response = await postMail(t, corpus(file));
    expect(response.statusCode).toBe(200);
    expect(response.json().inbound_email).toEqual({ status: 'dropped', reason });
    expect(await counts(t)).toEqual(before);
  });

  it('Precedence: bulk is dropped as an auto-reply', async () => {
    const response = await postMail(t, message({ headers: ['Precedence: bulk'], messageId: '<bulk-1@customer.test>' }));
    expect(response.json().inbound_email).toEqual({ status: 'dropped', reason: 'auto_reply' });
  });

  it("loop protection: mail from the account's own support address is dropped", async () => {
    const before = await counts(t);
    for (const from of ['support@default.localhost', 'Support <support+id1-abc@default.localhost>', 'default@localhost']) {
      expect((await postMail(t, message({ from }))).json().inbound_email).toEqual({ status: 'dropped', reason: 'loop' });
    }
    expect(await counts(t)).toEqual(before);
  });

  it('the same Message-ID twice is taken once', async () => {
    expect((await postMail(t, corpus('multipart-alternative.eml'))).statusCode).toBe(201);
    const before = await counts(t);
    const again = await postMail(t, corpus('multipart-alternative.eml'));
    expect(again.json().inbound_email).toEqual({ status: 'dropped', reason: 'duplicate' });
    expect(await counts(t)).toEqual(before);
  });

  it('the same message delivered twice at once makes one ticket', async () => {
    const raw = message({ messageId: '<race-1@customer.test>' });
    const outcomes = (await Promise.all([postMail(t, raw), postMail(t, raw), postMail(t, raw)])).map((response) => response.json().inbound_email.status as string);
    expect(outcomes.sort()).toEqual(['dropped', 'dropped', 'ticket_created']);
    expect((await counts(t)).tickets).toBe(1);
  });

  it('an over-size message is refused with 413 and writes nothing', async () => {
    const before = await counts(t);
    const big = message({ messageId: '<big-1@customer.test>', body: 'x'.repeat(LIMIT + 10) });
    const response = await postMail(t, big);
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ error: 'PayloadTooLarge' });
    expect(await counts(t)).toEqual(before);
  });

  it('a malformed message (no header block, no sender) is a clear 400, never a 500', async () => {
    const before = await counts(t);
    const response = await postMail(t, corpus('malformed.eml'));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'InvalidMessage', description: 'The message has no valid From address' });
    expect(await counts(t)).toEqual(before);
  });

  it('an empty body is a 400; another content type is a 415', async () => {
    expect((await postMail(t, '')).statusCode).toBe(400);
    const json = await postMail(t, JSON.stringify({ message: 'x' }), t.owner, 'application/json');
    expect(json.statusCode).toBe(415);
    expect(json.json().description).toBe('Send the raw message with Content-Type: message/rfc822');
  });

  it('error messages never echo the message: an invalid sender address is not quoted', async () => {
    const response = await postMail(t, message({ from: 'Secret Name <not-an-address>' }));
    expect(response.statusCode).toBe(400);
    expect(response.body).not.toContain('not-an-address');
    expect(response.body).not.toContain('Secret Name');
  });

  it('only admins post inbound mail', async () => {
    const agent = await t.user({ role: 'agent' });
    expect((await postMail(t, corpus('multipart-alternative.eml'), agent)).statusCode).toBe(403);
    expect((await postMail(t, corpus('multipart-alternative.eml'), null)).statusCode).toBe(401);
    expect((await counts(t)).tickets).toBe(0);
  });
});

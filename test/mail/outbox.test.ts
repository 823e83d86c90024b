import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { basic, createTestApp, type Caller, type TestApp } from '../helpers.ts';

/**
 * Mail in the embedded default (no SMTP_URL): every message stays in the outbox, where admins
 * read it. The welcome-mail switches, suppression, the outbox API, one-time links and the
 * anonymous sign-up / reset endpoints.
 */
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
afterEach(() => {
  vi.useRealTimers();
});

interface Message {
  id: number;
  user_id: number | null;
  identity_id: number | null;
  recipient: string;
  template: string;
  locale: string;
  status: string;
  suppression_reason: string | null;
  subject: string;
  text_body?: string;
  html_body?: string;
}

async function messages(query = ''): Promise<Message[]> {
  const response = await t.request('GET', `/api/v2/outbox${query}`);
  expect(response.statusCode).toBe(200);
  return response.json().messages as Message[];
}

async function settings(values: Record<string, unknown>): Promise<void> {
  const response = await t.request('PUT', '/api/v2/account/settings', { body: { settings: values } });
  expect(response.statusCode).toBe(200);
}

/** The token of the newest message to this user, read from the outbox as the owner sees it. */
async function tokenFor(userId: number, template: string): Promise<string> {
  const [message] = await messages(`?user_id=${userId}&template=${template}`);
  if (!message) throw new Error(`no ${template} message for ${userId}`);
  const full = (await t.request('GET', `/api/v2/outbox/${message.id}`)).json().message as Message;
  const token = /#token=([A-Za-z0-9_-]{43})/.exec(full.text_body ?? '')?.[1];
  if (!token) throw new Error('no token in the message');
  return token;
}

async function createUser(fields: Record<string, unknown>, as?: Caller): Promise<number> {
  const response = await t.request('POST', '/api/v2/users', { body: { user: { name: 'Mail Person', ...fields } }, ...(as ? { as } : {}) });
  expect(response.statusCode).toBe(201);
  return response.json().user.id as number;
}

describe('account settings for mail', () => {
  it('shows the defaults and validates the new switches and the locale', async () => {
    const shown = await t.request('GET', '/api/v2/account/settings');
    expect(shown.json().settings).toMatchObject({ welcome_email_on_agent_create: true, help_center_enabled: true, locale: 'en-US' });
    const bad = await t.request('PUT', '/api/v2/account/settings', { body: { settings: { locale: 'de' } } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().details.locale[0].description).toContain('en-US, fr, pt-BR, zh-CN');
    const notBool = await t.request('PUT', '/api/v2/account/settings', { body: { settings: { help_center_enabled: 'yes' } } });
    expect(notBool.statusCode).toBe(422);
    await settings({ locale: 'zh-CN', welcome_email_on_agent_create: false });
    expect((await t.request('GET', '/api/v2/account/settings')).json().settings).toMatchObject({ locale: 'zh-CN', welcome_email_on_agent_create: false, help_center_enabled: true });
  });
});

describe('the welcome-mail switch matrix (seed 000)', () => {
  const cells = [
    { welcome: true, helpCenter: true },
    { welcome: true, helpCenter: false },
    { welcome: false, helpCenter: true },
    { welcome: false, helpCenter: false },
  ];
  for (const cell of cells) {
    it(`welcome_email_on_agent_create=${cell.welcome}, help_center_enabled=${cell.helpCenter}`, async () => {
      await settings({ welcome_email_on_agent_create: cell.welcome, help_center_enabled: cell.helpCenter });
      const agent = await t.user({ role: 'agent', name: 'Agent Ada' });
      const before = (await messages()).length;

      // Created by an agent, and by an admin: a welcome mail only when both switches are on.
      const byAgent = await createUser({ email: `by-agent-${cell.welcome}-${cell.helpCenter}@roster-mail.dev` }, agent);
      const byAdmin = await createUser({ email: `by-admin-${cell.welcome}-${cell.helpCenter}@roster-mail.dev` });
      const welcomes = (await messages('?template=welcome')).filter((message) => message.user_id === byAgent || message.user_id === byAdmin);
      expect(welcomes).toHaveLength(cell.welcome && cell.helpCenter ? 2 : 0);
      for (const message of welcomes) expect(message.status).toBe('queued');

      // Self sign-up: never a welcome mail; a verification mail when the Help Center is on, else no sign-up at all.
      const signup = await t.request('POST', '/api/v2/users/signup', { as: null, body: { user: { name: 'Self Sam', email: `self-${cell.welcome}-${cell.helpCenter}@roster-mail.dev` } } });
      const all = await messages();
      if (cell.helpCenter) {
        expect(signup.statusCode).toBe(202);
        const newest = all[0];
        expect(newest).toMatchObject({ template: 'verify_email', recipient: `self-${cell.welcome}-${cell.helpCenter}@roster-mail.dev`, status: 'queued' });
        const user = (await t.request('GET', `/api/v2/users/${newest?.user_id}`)).json().user;
        expect(user).toMatchObject({ role: 'end-user', verified: false });
        expect(all.filter((message) => message.template === 'welcome' && message.user_id === newest?.user_id)).toHaveLength(0);
      } else {
        expect(signup.statusCode).toBe(403);
        expect(all.length - before).toBe(0);
      }
    });
  }
});

describe('welcome mail on every creation path', () => {
  it('create_or_update sends it only when it creates', async () => {
    const created = await t.request('POST', '/api/v2/users/create_or_update', { body: { user: { name: 'Cora', email: 'cora@roster-mail.dev' } } });
    expect(created.statusCode).toBe(201);
    const updated = await t.request('POST', '/api/v2/users/create_or_update', { body: { user: { name: 'Cora Renamed', email: 'cora@roster-mail.dev' } } });
    expect(updated.statusCode).toBe(200);
    expect(await messages('?template=welcome')).toHaveLength(1);
  });

  it('create_many and create_or_update_many jobs send it for created users only', async () => {
    await createUser({ email: 'existing@roster-mail.dev' });
    const many = await t.request('POST', '/api/v2/users/create_many', { body: { users: [{ name: 'M1', email: 'm1@roster-mail.dev' }, { name: 'M2', email: 'm2@roster-mail.dev' }, { name: 'Dup', email: 'existing@roster-mail.dev' }] } });
    await t.waitForJob(many.json().job_status.id as string);
    const upsert = await t.request('POST', '/api/v2/users/create_or_update_many', { body: { users: [{ name: 'U1', email: 'u1@roster-mail.dev' }, { name: 'Existing again', email: 'existing@roster-mail.dev' }] } });
    await t.waitForJob(upsert.json().job_status.id as string);
    const recipients = (await messages('?template=welcome')).map((message) => message.recipient).sort();
    expect(recipients).toEqual(['existing@roster-mail.dev', 'm1@roster-mail.dev', 'm2@roster-mail.dev', 'u1@roster-mail.dev']);
  });

  it('a CSV import sends it to created users only with send_welcome, never in a dry run', async () => {
    await createUser({ email: 'known@roster-mail.dev' });
    const welcomesBefore = (await messages('?template=welcome')).length;
    const csv = 'name,email\nImp One,imp1@roster-mail.dev\nKnown,known@roster-mail.dev\nImp Two,imp2@roster-mail.dev\n';
    const post = (query: string) => t.runtime.app.inject({ method: 'POST', url: `/api/v2/imports/users${query}`, headers: { ...t.owner.headers, 'content-type': 'text/csv' }, payload: csv });
    const dry = await post('?send_welcome=true&dry_run=true');
    expect(dry.statusCode).toBe(200);
    expect(dry.json().import.send_welcome).toBe(false);
    await t.waitForJob(dry.json().job_status.id as string);
    const plain = await post('?update=true');
    await t.waitForJob(plain.json().job_status.id as string);
    // Without send_welcome an import sends nothing, whatever the account switch says.
    expect((await messages('?template=welcome')).length).toBe(welcomesBefore);
    await t.request('PUT', '/api/v2/account/settings', { body: { settings: { welcome_email_on_agent_create: false } } });
    const csv2 = 'name,email\nImp Three,imp3@roster-mail.dev\nKnown,known@roster-mail.dev\n';
    const real = await t.runtime.app.inject({ method: 'POST', url: '/api/v2/imports/users?send_welcome=true', headers: { ...t.owner.headers, 'content-type': 'text/csv' }, payload: csv2 });
    expect(real.statusCode).toBe(200);
    expect(real.json().import.send_welcome).toBe(true);
    await t.waitForJob(real.json().job_status.id as string);
    const welcomes = (await messages('?template=welcome')).map((message) => message.recipient);
    expect(welcomes).toContain('imp3@roster-mail.dev');
    expect(welcomes.filter((recipient) => recipient === 'known@roster-mail.dev')).toHaveLength(1);
    expect(welcomes).toHaveLength(welcomesBefore + 1);
  });

  it('writes in the user\'s language, else the account\'s (which new users get)', async () => {
    await settings({ locale: 'zh-CN' });
    const chinese = await createUser({ email: 'li@roster-mail.dev' });
    const brazilian = await createUser({ email: 'ana@roster-mail.dev', locale: 'pt-BR' });
    const list = await messages('?template=welcome');
    expect(list.find((message) => message.user_id === chinese)).toMatchObject({ locale: 'zh-CN', subject: '欢迎加入 Roster' });
    expect(list.find((message) => message.user_id === brazilian)).toMatchObject({ locale: 'pt-BR', subject: 'Boas-vindas a Roster' });
    expect((await t.request('GET', `/api/v2/users/${chinese}`)).json().user.locale).toBe('zh-CN');
  });
});

describe('suppression', () => {
  it('never sends to reserved or undeliverable domains: suppressed with reserved_domain', async () => {
    const reserved = ['a@example.com', 'b@example.net', 'c@example.org', 'd@shop.example', 'e@x.invalid', 'f@mail.test', 'g@host.localhost', 'h@sub.example.com'];
    for (const email of reserved) await createUser({ email });
    const allowed = await createUser({ email: 'ok@example-shop.com' });
    const list = await messages('?template=welcome');
    for (const email of reserved) expect(list.find((message) => message.recipient === email)).toMatchObject({ status: 'suppressed', suppression_reason: 'reserved_domain' });
    expect(list.find((message) => message.user_id === allowed)).toMatchObject({ status: 'queued', suppression_reason: null });
    // A suppressed message carries no working link, and no token was issued for it.
    const suppressed = list.find((message) => message.recipient === 'a@example.com');
    const full = (await t.request('GET', `/api/v2/outbox/${suppressed?.id}`)).json().message as Message;
    expect(full.text_body).toContain('#token=▇');
    const tokens = await t.runtime.database.db.selectFrom('user_tokens').select('id').where('user_id', '=', suppressed?.user_id ?? 0).execute();
    expect(tokens).toHaveLength(0);
  });

  it('honours identities marked undeliverable', async () => {
    const userId = await createUser({ email: 'bounced@roster-mail.dev' });
    const identity = await t.runtime.database.db.updateTable('user_identities').set({ deliverable_state: 'undeliverable' }).where('user_id', '=', userId).returning('id').executeTakeFirstOrThrow();
    const response = await t.request('PUT', `/api/v2/users/${userId}/identities/${identity.id}/request_verification`);
    expect(response.statusCode).toBe(200);
    expect((await messages(`?template=verify_email&user_id=${userId}`))[0]).toMatchObject({ status: 'suppressed', suppression_reason: 'undeliverable' });
  });

  it('sends nothing to suspended or deleted users', async () => {
    const suspended = await createUser({ email: 'suspended@roster-mail.dev', suspended: true, suspension_reason: 'abuse' });
    expect((await messages(`?user_id=${suspended}`))[0]).toMatchObject({ status: 'suppressed', suppression_reason: 'suspended_user' });
    const reset = await t.request('POST', '/api/v2/users/password_reset', { as: null, body: { email: 'suspended@roster-mail.dev' } });
    expect(reset.statusCode).toBe(202);
    expect((await messages(`?user_id=${suspended}&template=password_reset`))[0]).toMatchObject({ status: 'suppressed', suppression_reason: 'suspended_user' });

    const deleted = await createUser({ email: 'deleted@roster-mail.dev' });
    const identity = await t.runtime.database.db.selectFrom('user_identities').select('id').where('user_id', '=', deleted).executeTakeFirstOrThrow();
    expect((await t.request('DELETE', `/api/v2/users/${deleted}`)).statusCode).toBe(200);
    const written = await t.runtime.database.db.transaction().execute((tx) => t.runtime.mail.enqueue(tx, { account: t.account, userId: deleted, template: 'password_reset' }));
    // A deleted user's addresses are put aside (kept only for a restore): either no message can be addressed, or it is suppressed.
    if (written) expect(written.status).toBe('suppressed');
    const byIdentity = await t.runtime.database.db.transaction().execute((tx) => t.runtime.mail.enqueue(tx, { account: t.account, userId: deleted, identityId: identity.id, template: 'password_reset' }));
    if (byIdentity) expect(byIdentity.status).toBe('suppressed');
    const rows = await messages(`?user_id=${deleted}&template=password_reset`);
    for (const row of rows) expect(row).toMatchObject({ status: 'suppressed', suppression_reason: 'deleted_user' });
  });
});

describe('GET /api/v2/outbox', () => {
  it('lists newest first with filters and offset or cursor pages', async () => {
    for (const name of ['one', 'two', 'three']) await createUser({ email: `${name}@roster-mail.dev` });
    await createUser({ email: 'four@example.com' });
    const all = await messages();
    expect(all.map((message) => message.recipient)).toEqual(['four@example.com', 'three@roster-mail.dev', 'two@roster-mail.dev', 'one@roster-mail.dev']);
    expect(all[0]).toMatchObject({ template: 'welcome', locale: 'en-US', status: 'suppressed' });
    expect(all[0]).toHaveProperty('created_at');
    expect(await messages('?status=queued')).toHaveLength(3);
    expect(await messages('?status=sent')).toHaveLength(0);
    expect(await messages('?template=password_reset')).toHaveLength(0);
    const page = await t.request('GET', '/api/v2/outbox?per_page=2');
    expect(page.json()).toMatchObject({ count: 4 });
    expect(page.json().next_page).toContain('page=2');
    const cursor = await t.request('GET', '/api/v2/outbox?page[size]=3');
    expect(cursor.json().messages).toHaveLength(3);
    expect(cursor.json().meta.has_more).toBe(true);
    const next = await t.request('GET', `/api/v2/outbox?page[size]=3&page[after]=${cursor.json().meta.after_cursor}`);
    expect(next.json().messages.map((message: Message) => message.recipient)).toEqual(['one@roster-mail.dev']);
    const bad = await t.request('GET', '/api/v2/outbox?status=lost');
    expect(bad.statusCode).toBe(400);
    // The list itself carries no bodies (one message at a time).
    expect(all[0]).not.toHaveProperty('text_body');
  });

  it('is for admins; a message\'s link shows only to an admin who could set that user\'s password', async () => {
    const agent = await t.user({ role: 'agent' });
    // Deliverable addresses (the helpers' own are at roster.test, a reserved domain: their welcome is suppressed).
    const admin = await t.user({ role: 'admin', email: 'second-admin@roster-mail.dev' });
    const endUser = await t.user({ role: 'end-user', email: 'customer@roster-mail.dev' });
    expect((await t.request('GET', '/api/v2/outbox', { as: agent })).statusCode).toBe(403);
    expect((await t.request('GET', '/api/v2/outbox', { as: endUser })).statusCode).toBe(403);
    expect((await t.request('GET', '/api/v2/outbox', { as: null })).statusCode).toBe(401);
    const list = await messages();
    const toEndUser = list.find((message) => message.user_id === endUser.id);
    const toAdmin = list.find((message) => message.user_id === admin.id);
    const body = async (id: number | undefined, as: Caller) => ((await t.request('GET', `/api/v2/outbox/${id}`, { as })).json().message as Message).text_body ?? '';
    expect(await body(toEndUser?.id, admin)).toMatch(/#token=[A-Za-z0-9_-]{43}/);
    expect(await body(toAdmin?.id, t.owner)).toMatch(/#token=[A-Za-z0-9_-]{43}/);
    // Another admin's link is the owner's to see: an admin cannot take over another admin through the outbox.
    const secondAdmin = await t.user({ role: 'admin' });
    expect(await body(toAdmin?.id, secondAdmin)).toContain('#token=▇');
    expect(await body(toAdmin?.id, admin)).toContain('#token=▇');
    expect((await t.request('GET', `/api/v2/outbox/${toAdmin?.id}`, { as: agent })).statusCode).toBe(403);
    expect((await t.request('GET', '/api/v2/outbox/999999')).statusCode).toBe(404);
  });
});

describe('one-time links', () => {
  it('set_password works once; the consumed link is a 410, an unknown one a 404', async () => {
    const userId = await createUser({ email: 'once@roster-mail.dev' });
    const token = await tokenFor(userId, 'welcome');
    const weak = await t.request('POST', '/api/v2/users/tokens/set_password', { as: null, body: { token, password: 'short' } });
    expect(weak.statusCode).toBe(422);
    // A refused password does not use the link up.
    const ok = await t.request('POST', '/api/v2/users/tokens/set_password', { as: null, body: { token, password: 'long enough password' } });
    expect(ok.statusCode).toBe(200);
    expect((await t.request('GET', '/api/v2/users/me', { as: null, headers: basic('once@roster-mail.dev', 'long enough password') })).statusCode).toBe(200);
    const twice = await t.request('POST', '/api/v2/users/tokens/set_password', { as: null, body: { token, password: 'long enough password 2' } });
    expect(twice.statusCode).toBe(410);
    expect(twice.json()).toMatchObject({ error: 'TokenUsed' });
    const unknown = await t.request('POST', '/api/v2/users/tokens/set_password', { as: null, body: { token: 'x'.repeat(43), password: 'long enough password' } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: 'InvalidToken' });
    // A token is for its purpose only.
    const wrongPurpose = await t.request('POST', '/api/v2/users/tokens/reset_password', { as: null, body: { token, password: 'long enough password' } });
    expect(wrongPurpose.statusCode).toBe(404);
    const badPurpose = await t.request('POST', '/api/v2/users/tokens/anything', { as: null, body: { token } });
    expect(badPurpose.statusCode).toBe(400);
    // Only the hash is stored.
    const stored = await t.runtime.database.db.selectFrom('user_tokens').select('token_hash').where('user_id', '=', userId).execute();
    expect(stored.map((row) => row.token_hash)).not.toContain(token);
  });

  it('expires: a link used after its lifetime is a 410 (clock pinned)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2027-03-01T10:00:00Z') });
    const userId = await createUser({ email: 'late@roster-mail.dev' });
    const token = await tokenFor(userId, 'welcome');
    vi.setSystemTime(new Date('2027-03-08T09:59:00Z'));
    const reset = await t.request('POST', '/api/v2/users/password_reset', { as: null, body: { email: 'late@roster-mail.dev' } });
    expect(reset.statusCode).toBe(202);
    const resetToken = await tokenFor(userId, 'password_reset');
    // Two hours later the reset link is dead; the welcome link, seven days after it was written, too.
    vi.setSystemTime(new Date('2027-03-08T12:00:00Z'));
    const expiredReset = await t.request('POST', '/api/v2/users/tokens/reset_password', { as: null, body: { token: resetToken, password: 'long enough password' } });
    expect(expiredReset.statusCode).toBe(410);
    expect(expiredReset.json().error).toBe('TokenExpired');
    const expiredWelcome = await t.request('POST', '/api/v2/users/tokens/set_password', { as: null, body: { token, password: 'long enough password' } });
    expect(expiredWelcome.statusCode).toBe(410);
    expect(expiredWelcome.json().error).toBe('TokenExpired');
  });

  it('a welcome link still works just before it expires', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2027-03-01T10:00:00Z') });
    const userId = await createUser({ email: 'intime@roster-mail.dev' });
    const token = await tokenFor(userId, 'welcome');
    vi.setSystemTime(new Date('2027-03-08T09:59:00Z'));
    const ok = await t.request('POST', '/api/v2/users/tokens/set_password', { as: null, body: { token, password: 'long enough password' } });
    expect(ok.statusCode).toBe(200);
  });

  it('a suspended user cannot use a link written before the suspension', async () => {
    const userId = await createUser({ email: 'later-suspended@roster-mail.dev' });
    const token = await tokenFor(userId, 'welcome');
    await t.request('PUT', `/api/v2/users/${userId}`, { body: { user: { suspended: true, suspension_reason: 'spam' } } });
    const refused = await t.request('POST', '/api/v2/users/tokens/set_password', { as: null, body: { token, password: 'long enough password' } });
    expect(refused.statusCode).toBe(404);
  });
});

describe('password reset and verification', () => {
  it('POST /api/v2/users/password_reset answers the same for known and unknown addresses; the link resets the password once', async () => {
    const userId = await createUser({ email: 'forgetful@roster-mail.dev', password: 'the old password' });
    const known = await t.request('POST', '/api/v2/users/password_reset', { as: null, body: { email: 'Forgetful@roster-mail.dev' } });
    const unknown = await t.request('POST', '/api/v2/users/password_reset', { as: null, body: { email: 'nobody@roster-mail.dev' } });
    expect(known.statusCode).toBe(202);
    expect(unknown.statusCode).toBe(202);
    expect(unknown.body).toBe(known.body);
    expect((await messages('?template=password_reset')).map((message) => message.user_id)).toEqual([userId]);
    const malformed = await t.request('POST', '/api/v2/users/password_reset', { as: null, body: { email: 'not an address' } });
    expect(malformed.statusCode).toBe(422);

    const first = await tokenFor(userId, 'password_reset');
    await t.request('POST', '/api/v2/users/password_reset', { as: null, body: { email: 'forgetful@roster-mail.dev' } });
    const second = await tokenFor(userId, 'password_reset');
    expect(second).not.toBe(first);
    const used = await t.request('POST', '/api/v2/users/tokens/reset_password', { as: null, body: { token: second, password: 'the new password' } });
    expect(used.statusCode).toBe(200);
    expect((await t.request('GET', '/api/v2/users/me', { as: null, headers: basic('forgetful@roster-mail.dev', 'the new password') })).statusCode).toBe(200);
    expect((await t.request('GET', '/api/v2/users/me', { as: null, headers: basic('forgetful@roster-mail.dev', 'the old password') })).statusCode).toBe(401);
    // Using one reset link retires the older ones.
    const older = await t.request('POST', '/api/v2/users/tokens/reset_password', { as: null, body: { token: first, password: 'yet another password' } });
    expect(older.statusCode).toBe(410);
  });

  it('sign-up does not reveal a known address: same answer, and the holder gets a reset mail instead', async () => {
    await createUser({ email: 'taken@roster-mail.dev' });
    const fresh = await t.request('POST', '/api/v2/users/signup', { as: null, body: { user: { name: 'New', email: 'fresh@roster-mail.dev' } } });
    const taken = await t.request('POST', '/api/v2/users/signup', { as: null, body: { user: { name: 'Imposter', email: 'TAKEN@roster-mail.dev' } } });
    expect(fresh.statusCode).toBe(202);
    expect(taken.statusCode).toBe(202);
    expect(taken.body).toBe(fresh.body);
    expect((await messages('?template=password_reset')).map((message) => message.recipient)).toEqual(['taken@roster-mail.dev']);
    const users = await t.runtime.database.db.selectFrom('user_identities').select('user_id').where('value_key', '=', 'taken@roster-mail.dev').execute();
    expect(users).toHaveLength(1);
    const extra = await t.request('POST', '/api/v2/users/signup', { as: null, body: { user: { name: 'X', email: 'x@roster-mail.dev', role: 'admin' } } });
    expect(extra.statusCode).toBe(400);
  });

  it('sign-up then the verification link: the address is verified and a password chosen', async () => {
    await t.request('POST', '/api/v2/users/signup', { as: null, body: { user: { name: 'Vera', email: 'vera@roster-mail.dev', locale: 'fr' } } });
    const [message] = await messages('?template=verify_email');
    expect(message).toMatchObject({ locale: 'fr', subject: 'Vérifiez votre adresse e-mail pour Roster' });
    const userId = message?.user_id ?? 0;
    const token = await tokenFor(userId, 'verify_email');
    const used = await t.request('POST', '/api/v2/users/tokens/verify_identity', { as: null, body: { token, password: 'vera chooses one' } });
    expect(used.statusCode).toBe(200);
    expect(used.json().token).toMatchObject({ purpose: 'verify_identity', identity_verified: true, password_set: true });
    const me = await t.request('GET', '/api/v2/users/me', { as: null, headers: basic('vera@roster-mail.dev', 'vera chooses one') });
    expect(me.json().user).toMatchObject({ id: userId, verified: true, role: 'end-user' });
  });

  it('request_verification writes to that identity; with the Help Center off it is refused', async () => {
    const userId = await createUser({ email: 'main@roster-mail.dev' });
    const added = await t.request('POST', `/api/v2/users/${userId}/identities`, { body: { identity: { type: 'email', value: 'second@roster-mail.dev' } } });
    const identityId = added.json().identity.id as number;
    expect((await t.request('PUT', `/api/v2/users/${userId}/identities/${identityId}/request_verification`)).statusCode).toBe(200);
    const [message] = await messages('?template=verify_email');
    expect(message).toMatchObject({ recipient: 'second@roster-mail.dev', identity_id: identityId, status: 'queued' });
    const token = await tokenFor(userId, 'verify_email');
    expect((await t.request('POST', '/api/v2/users/tokens/verify_identity', { as: null, body: { token } })).statusCode).toBe(200);
    expect((await t.request('GET', `/api/v2/users/${userId}/identities/${identityId}`)).json().identity.verified).toBe(true);
    await settings({ help_center_enabled: false });
    const refused = await t.request('PUT', `/api/v2/users/${userId}/identities/${identityId}/request_verification`);
    expect(refused.statusCode).toBe(422);
  });
});

describe('permanent deletion', () => {
  it('removes the user\'s outbox messages and tokens', async () => {
    const userId = await createUser({ email: 'gone@roster-mail.dev' });
    await t.request('POST', '/api/v2/users/password_reset', { as: null, body: { email: 'gone@roster-mail.dev' } });
    const other = await createUser({ email: 'stays@roster-mail.dev' });
    expect((await messages(`?user_id=${userId}`)).length).toBe(2);
    expect((await t.request('DELETE', `/api/v2/users/${userId}`)).statusCode).toBe(200);
    expect((await t.request('DELETE', `/api/v2/deleted_users/${userId}`)).statusCode).toBe(200);
    const db = t.runtime.database.db;
    expect(await db.selectFrom('outbox_messages').select('id').where('user_id', '=', userId).execute()).toHaveLength(0);
    expect(await db.selectFrom('user_tokens').select('id').where('user_id', '=', userId).execute()).toHaveLength(0);
    const leftovers = await db.selectFrom('outbox_messages').select(['recipient', 'text_body', 'html_body']).execute();
    for (const row of leftovers) expect(`${row.recipient} ${row.text_body} ${row.html_body}`).not.toContain('gone@roster-mail.dev');
    expect((await messages(`?user_id=${other}`)).length).toBe(1);
  });
});

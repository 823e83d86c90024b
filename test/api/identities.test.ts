import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';

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

interface Identity {
  id: number;
  type: string;
  value: string;
  primary: boolean;
  verified: boolean;
}

async function newUser(fields: Record<string, unknown> = {}): Promise<number> {
  const response = await t.request('POST', '/api/v2/users', { body: { user: { name: 'Ida', email: 'ida@roster.test', ...fields } } });
  return response.json().user.id as number;
}
const path = (userId: number, rest = '') => `/api/v2/users/${userId}/identities${rest}`;
const list = async (userId: number): Promise<Identity[]> => (await t.request('GET', path(userId))).json().identities;

describe('user identities', () => {
  it('adds an email identity (201, Location) as a secondary, unverified', async () => {
    const userId = await newUser();
    const response = await t.request('POST', path(userId), { body: { identity: { type: 'email', value: 'ida.work@roster.test' } } });
    expect(response.statusCode).toBe(201);
    expect(response.headers.location).toMatch(new RegExp(`/api/v2/users/${userId}/identities/\\d+\\.json$`));
    const identity = response.json().identity;
    expect(Object.keys(identity)).toEqual(['url', 'id', 'user_id', 'type', 'value', 'verified', 'primary', 'created_at', 'updated_at', 'undeliverable_count', 'deliverable_state', 'verification_method', 'verified_at']);
    expect(identity).toMatchObject({ user_id: userId, type: 'email', value: 'ida.work@roster.test', primary: false, verified: false });
  });

  it('makes an identity primary and the user\'s email follows it', async () => {
    const userId = await newUser();
    const second = (await t.request('POST', path(userId), { body: { identity: { type: 'email', value: 'second@roster.test' } } })).json().identity;
    const response = await t.request('PUT', path(userId, `/${second.id}/make_primary`));
    expect(response.statusCode).toBe(200);
    const identities: Identity[] = response.json().identities;
    expect(identities.filter((i) => i.primary).map((i) => i.value)).toEqual(['second@roster.test']);
    expect((await t.request('GET', `/api/v2/users/${userId}`)).json().user.email).toBe('second@roster.test');
  });

  it('keeps one primary per type: deleting the primary promotes the oldest remaining', async () => {
    const userId = await newUser();
    await t.request('POST', path(userId), { body: { identity: { type: 'email', value: 'b@roster.test' } } });
    const primary = (await list(userId)).find((i) => i.primary);
    expect((await t.request('DELETE', path(userId, `/${primary?.id}`))).statusCode).toBe(204);
    const after = await list(userId);
    expect(after.map((i) => [i.value, i.primary])).toEqual([['b@roster.test', true]]);
    expect((await t.request('GET', `/api/v2/users/${userId}`)).json().user.email).toBe('b@roster.test');
  });

  it('refuses an email another user holds, and one this user already has', async () => {
    const userId = await newUser();
    await t.request('POST', '/api/v2/users', { body: { user: { name: 'Other', email: 'other@roster.test' } } });
    const taken = await t.request('POST', path(userId), { body: { identity: { type: 'email', value: 'OTHER@roster.test' } } });
    expect(taken.statusCode).toBe(422);
    expect(taken.json().details.value[0].error).toBe('DuplicateValue');
    const mine = await t.request('POST', path(userId), { body: { identity: { type: 'email', value: 'ida@roster.test' } } });
    expect(mine.statusCode).toBe(422);
  });

  it('validates type and value', async () => {
    const userId = await newUser();
    expect((await t.request('POST', path(userId), { body: { identity: { type: 'pager', value: 'x' } } })).json().details.type[0].error).toBe('InvalidValue');
    expect((await t.request('POST', path(userId), { body: { identity: { type: 'email', value: 'nope' } } })).json().details.value[0].error).toBe('InvalidValue');
    expect((await t.request('POST', path(userId), { body: { identity: { type: 'phone_number', value: '' } } })).json().details.value[0].error).toBe('BlankValue');
    expect((await t.request('POST', path(userId), { body: {} })).statusCode).toBe(400);
  });

  it('allows a shared phone number on two users', async () => {
    const a = await newUser({ email: 'pa@roster.test', phone: '+4930123456' });
    const b = await newUser({ email: 'pb@roster.test' });
    const response = await t.request('POST', path(b), { body: { identity: { type: 'phone_number', value: '+49 30 123456' } } });
    expect(response.statusCode).toBe(201);
    expect(a).not.toBe(b);
  });

  it('verifies an identity (staff only) and updates a value, which unverifies it', async () => {
    const userId = await newUser();
    const [identity] = await list(userId);
    const verified = await t.request('PUT', path(userId, `/${identity?.id}/verify`));
    expect(verified.statusCode).toBe(200);
    expect(verified.json().identity.verified).toBe(true);
    expect((await t.request('GET', `/api/v2/users/${userId}`)).json().user.verified).toBe(true);
    const changed = await t.request('PUT', path(userId, `/${identity?.id}`), { body: { identity: { value: 'ida.new@roster.test' } } });
    expect(changed.json().identity).toMatchObject({ value: 'ida.new@roster.test', verified: false });
  });

  it('records a verification request for email identities only', async () => {
    const userId = await newUser({ phone: '+14155550123' });
    const identities = await list(userId);
    const email = identities.find((i) => i.type === 'email');
    const phone = identities.find((i) => i.type === 'phone_number');
    expect((await t.request('PUT', path(userId, `/${email?.id}/request_verification`))).statusCode).toBe(200);
    expect((await t.request('PUT', path(userId, `/${phone?.id}/request_verification`))).statusCode).toBe(422);
  });

  it('filters by type[] and paginates', async () => {
    const userId = await newUser({ phone: '+14155550124' });
    await t.request('POST', path(userId), { body: { identity: { type: 'twitter', value: '@ida' } } });
    const emails = (await t.request('GET', path(userId, '?type[]=email'))).json().identities;
    expect(emails.map((i: Identity) => i.type)).toEqual(['email']);
    const page = (await t.request('GET', path(userId, '?per_page=2'))).json();
    expect(page.identities).toHaveLength(2);
    expect(page.count).toBe(3);
    const cursor = (await t.request('GET', path(userId, '?page[size]=2'))).json();
    expect(cursor.meta.has_more).toBe(true);
  });

  it('answers 404 for another user\'s identity id', async () => {
    const a = await newUser({ email: 'x1@roster.test' });
    const b = await newUser({ email: 'x2@roster.test' });
    const [identity] = await list(a);
    expect((await t.request('GET', path(b, `/${identity?.id}`))).statusCode).toBe(404);
    expect((await t.request('DELETE', path(b, `/${identity?.id}`))).statusCode).toBe(404);
    expect((await t.request('GET', path(999999))).statusCode).toBe(404);
  });

  it('lets an end user add their own identity but not verify it, nor touch someone else\'s', async () => {
    const endUserId = await newUser({ email: 'self@roster.test' });
    const endUser = { email: 'self@roster.test', token: t.owner.token, id: endUserId, headers: { authorization: `Basic ${Buffer.from(`self@roster.test/token:${t.owner.token}`).toString('base64')}` } };
    const added = await t.request('POST', path(endUserId), { as: endUser, body: { identity: { type: 'email', value: 'self2@roster.test', verified: true } } });
    expect(added.statusCode).toBe(201);
    expect(added.json().identity.verified).toBe(false);
    expect((await t.request('PUT', path(endUserId, `/${added.json().identity.id}/verify`), { as: endUser })).statusCode).toBe(403);
    expect((await t.request('GET', path(t.owner.id), { as: endUser })).statusCode).toBe(403);
  });

  it('keeps another admin\'s identities to the owner', async () => {
    const admin = await t.user({ role: 'admin' });
    const other = await t.user({ role: 'admin' });
    const response = await t.request('POST', path(other.id), { as: admin, body: { identity: { type: 'email', value: 'sneaky@roster.test' } } });
    expect(response.statusCode).toBe(403);
  });

  it('audits identity changes without values', async () => {
    const userId = await newUser();
    await t.request('POST', path(userId), { body: { identity: { type: 'email', value: 'audit-me@roster.test' } } });
    const events = await t.runtime.database.db.selectFrom('audit_events').selectAll().where('target_type', '=', 'user_identity').execute();
    expect(events.map((e) => e.action)).toEqual(['identity.create']);
    expect(JSON.stringify(events)).not.toContain('audit-me');
  });
});

describe('identity rules that protect sign-in', () => {
  it('refuses to delete the only email of an agent or admin, but not of an end user', async () => {
    const agent = await t.user({ role: 'agent' });
    const [agentEmail] = await list(agent.id);
    const refused = await t.request('DELETE', path(agent.id, `/${agentEmail?.id}`));
    expect(refused.statusCode).toBe(422);
    expect(refused.json().details.base[0].error).toBe('InvalidValue');
    const endUserId = await newUser({ email: 'solo@roster.test' });
    const [endUserEmail] = await list(endUserId);
    expect((await t.request('DELETE', path(endUserId, `/${endUserEmail?.id}`))).statusCode).toBe(204);
  });
});

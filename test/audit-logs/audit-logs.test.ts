import crypto from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureAccount } from '../../src/accounts/bootstrap.ts';
import { issueApiToken } from '../../src/auth/api-tokens.ts';
import { basic, createTestApp, OWNER_EMAIL, type Caller, type TestApp } from '../helpers.ts';

/**
 * GET /api/v2/audit_logs and /api/v2/audit_logs/{id} (issue 7 item 6): admins read who changed
 * what and which fields; filters, cursor and offset pages, created_at order; never a value.
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

interface AuditLog {
  url: string;
  id: number;
  actor_id: number | null;
  action: string;
  action_label: string;
  event: string;
  source_type: string;
  source_id: number | string;
  source_label: string;
  change_description: string;
  changed_fields: string[];
  ip_address: string | null;
  created_at: string;
}

async function list(query = '', as: Caller = t.owner): Promise<{ audit_logs: AuditLog[]; meta?: { has_more: boolean; after_cursor: string | null; before_cursor: string | null }; links?: { next: string | null; prev: string | null }; count?: number; next_page?: string | null }> {
  const response = await t.request('GET', `/api/v2/audit_logs${query}`, { as });
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

/** Every entry, walking cursor pages forward. */
async function all(query = '', as: Caller = t.owner): Promise<{ entries: AuditLog[]; bodies: string[] }> {
  const entries: AuditLog[] = [];
  const bodies: string[] = [];
  let url: string | null = `/api/v2/audit_logs?page[size]=100${query}`;
  while (url) {
    const response = await t.request('GET', url, { as });
    expect(response.statusCode, response.body).toBe(200);
    bodies.push(response.body);
    const page = response.json();
    entries.push(...page.audit_logs);
    url = page.meta.has_more ? `/api/v2/audit_logs?page[size]=100${query}&page[after]=${page.meta.after_cursor}` : null;
  }
  return { entries, bodies };
}

const createUser = async (fields: Record<string, unknown>): Promise<number> => {
  const response = await t.request('POST', '/api/v2/users', { body: { user: fields } });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().user.id as number;
};

describe('GET /api/v2/audit_logs', () => {
  it('lists entries newest first in Zendesk’s shape, with change_description built from field names', async () => {
    const userId = await createUser({ name: 'Una Ulm', email: 'una@example.com' });
    const updated = await t.request('PUT', `/api/v2/users/${userId}`, { body: { user: { name: 'Una Ulmer', notes: 'vip' } } });
    expect(updated.statusCode, updated.body).toBe(200);
    const { audit_logs: logs } = await list();
    const [newest, previous] = logs;
    expect(newest).toMatchObject({
      actor_id: t.owner.id,
      action: 'update',
      action_label: 'Updated',
      event: 'user.update',
      source_type: 'user',
      source_id: userId,
      source_label: `User #${userId}`,
      changed_fields: ['name', 'notes'],
      change_description: 'Changed fields: name, notes',
      ip_address: null,
    });
    expect(newest?.url).toMatch(new RegExp(`/api/v2/audit_logs/${newest?.id}\\.json$`));
    expect(previous).toMatchObject({ action: 'create', event: 'user.create', source_id: userId });
    expect(Date.parse(newest?.created_at ?? '')).toBeGreaterThanOrEqual(Date.parse(previous?.created_at ?? ''));

    const one = await t.request('GET', `/api/v2/audit_logs/${newest?.id}`);
    expect(one.statusCode).toBe(200);
    expect(one.json().audit_log).toEqual(newest);
    expect((await t.request('GET', '/api/v2/audit_logs/999999')).statusCode).toBe(404);
    expect((await t.request('GET', '/api/v2/audit_logs/abc')).statusCode).toBe(400);
  });

  it('filters by actor, action (Zendesk verb, Roster verb or full action), source and created_at range', async () => {
    const admin = await t.user({ role: 'admin', name: 'Second Admin' });
    const a = await createUser({ name: 'Filter A', email: 'fa@example.com' });
    const b = await createUser({ name: 'Filter B', email: 'fb@example.com' });
    expect((await t.request('PUT', `/api/v2/users/${a}`, { as: admin, body: { user: { notes: 'x' } } })).statusCode).toBe(200);
    expect((await t.request('DELETE', `/api/v2/users/${b}`, { as: admin })).statusCode).toBe(200);
    const org = await t.request('POST', '/api/v2/organizations', { as: admin, body: { organization: { name: 'Filter Org' } } });
    expect(org.statusCode, org.body).toBe(201);

    const byAdmin = (await all(`&filter[actor_id]=${admin.id}`)).entries;
    expect(byAdmin.map((e) => e.event).sort()).toEqual(['organization.create', 'user.delete', 'user.update']);
    expect(byAdmin.every((e) => e.actor_id === admin.id)).toBe(true);

    expect((await all('&filter[action]=destroy')).entries.map((e) => [e.event, e.source_id])).toEqual([['user.delete', b]]);
    expect((await all('&filter[action]=user.update')).entries.map((e) => e.source_id)).toEqual([a]);
    const creates = (await all('&filter[action]=create')).entries;
    expect(creates.length).toBeGreaterThanOrEqual(4);
    expect(creates.every((e) => e.action === 'create')).toBe(true);

    const aOnly = (await all(`&filter[source_type]=user&filter[source_id]=${a}`)).entries;
    expect(aOnly.map((e) => e.event)).toEqual(['user.update', 'user.create']);
    expect((await all('&filter[source_type]=organization')).entries.map((e) => e.source_id)).toEqual([org.json().organization.id]);

    // A range: move two entries into the past and ask for exactly that window.
    const db = t.runtime.database.db;
    await db.updateTable('audit_events').set({ created_at: new Date('2020-01-01T10:00:00Z') }).where('account_id', '=', t.account.id).where('target_id', '=', String(a)).execute();
    const window = (await all('&filter[created_at][]=2020-01-01T00:00:00Z&filter[created_at][]=2020-01-02T00:00:00Z')).entries;
    expect(window.map((e) => e.event).sort()).toEqual(['user.create', 'user.update']);
    expect((await all('&filter[created_at][]=2019-01-01T00:00:00Z&filter[created_at][]=2019-12-31T23:59:59Z')).entries).toEqual([]);
  });

  it('refuses malformed filters, sorts and pages with 400, never 500', async () => {
    for (const query of [
      '?filter[actor_id]=abc',
      '?filter[actor_id]=0',
      '?filter[unknown]=1',
      '?filter=plain',
      '?filter[created_at][]=2020-01-01T00:00:00Z',
      '?filter[created_at][]=yesterday&filter[created_at][]=2020-01-01T00:00:00Z',
      '?filter[created_at][]=2021-01-01T00:00:00Z&filter[created_at][]=2020-01-01T00:00:00Z',
      '?filter[created_at]=2020-01-01T00:00:00Z',
      '?filter[created_at][]=2024-02-30T00:00:00Z&filter[created_at][]=2024-03-01T00:00:00Z',
      `?filter[action]=${'x'.repeat(300)}`,
      '?sort=name',
      '?sort_by=id',
      '?sort_order=sideways',
      '?sort=created_at&sort_order=asc',
      '?page[size]=1000',
      '?page[after]=not-a-cursor',
      '?per_page=0',
    ]) {
      const response = await t.request('GET', `/api/v2/audit_logs${query}`);
      expect(response.statusCode, `${query}: ${response.body}`).toBe(400);
      expect(typeof response.json().error).toBe('string');
    }
  });

  it('pages by cursor both ways in created_at order (asc and desc), and by offset with a count', async () => {
    for (let i = 0; i < 7; i++) await createUser({ name: `Pager ${i}`, email: `pager${i}@example.com` });
    const db = t.runtime.database.db;
    // Give created_at an order that differs from id order, so the sort is by time, not by id.
    const rows = await db.selectFrom('audit_events').select('id').where('account_id', '=', t.account.id).orderBy('id').execute();
    expect(rows.length).toBeGreaterThanOrEqual(7);
    for (const [index, row] of rows.entries()) {
      const minute = (index * 5) % rows.length;
      await db.updateTable('audit_events').set({ created_at: new Date(Date.UTC(2024, 0, 1, 0, minute)) }).where('account_id', '=', t.account.id).where('id', '=', row.id).execute();
    }
    const expected = await sql<{ id: string }>`SELECT id FROM audit_events WHERE account_id = ${t.account.id} ORDER BY created_at, id`.execute(db);
    const ascending = expected.rows.map((r) => Number(r.id));
    expect(ascending).not.toEqual([...ascending].sort((x, y) => x - y));

    for (const [query, order] of [['&sort=created_at', ascending], ['&sort_by=created_at&sort_order=desc', [...ascending].reverse()], ['', [...ascending].reverse()], ['&sort_order=asc', ascending]] as const) {
      const forward: number[] = [];
      const pages: { before: string | null }[] = [];
      let url: string | null = `/api/v2/audit_logs?page[size]=3${query}`;
      while (url) {
        const page = await list(url.replace('/api/v2/audit_logs', ''));
        forward.push(...page.audit_logs.map((e) => e.id));
        pages.push({ before: page.meta?.before_cursor ?? null });
        url = page.links?.next ? new URL(page.links.next).pathname + new URL(page.links.next).search : null;
      }
      expect(forward, query).toEqual(order);
      // Back from the last page: page[before] gives the page before it, in the same order.
      const last = pages[pages.length - 1];
      const back = await list(`?page[size]=3${query}&page[before]=${last?.before}`);
      const lastStart = Math.floor((order.length - 1) / 3) * 3;
      expect(back.audit_logs.map((e) => e.id), query).toEqual(order.slice(lastStart - 3, lastStart));
    }

    const offset = await list('?per_page=4&page=2&sort=created_at');
    expect(offset.count).toBe(ascending.length);
    expect(offset.audit_logs.map((e) => e.id)).toEqual(ascending.slice(4, 8));
  });

  it('is for admins only', async () => {
    const agent = await t.user({ role: 'agent', name: 'Agent' });
    const endUser = await t.user({ name: 'End User' });
    const admin = await t.user({ role: 'admin', name: 'Admin' });
    const id = (await list()).audit_logs[0]?.id;
    for (const who of [agent, endUser]) {
      expect((await t.request('GET', '/api/v2/audit_logs', { as: who })).statusCode).toBe(403);
      expect((await t.request('GET', `/api/v2/audit_logs/${id}`, { as: who })).statusCode).toBe(403);
    }
    expect((await t.request('GET', '/api/v2/audit_logs', { as: null })).statusCode).toBe(401);
    expect((await t.request('GET', `/api/v2/audit_logs/${id}`, { as: admin })).statusCode).toBe(200);
  });

  it('keeps accounts apart: another account’s admin sees only their own entries', async () => {
    const db = t.runtime.database.db;
    const { account: acme } = await ensureAccount(db, 'acme', { name: 'Acme Owner', email: OWNER_EMAIL, password: 'acme owner password' });
    const token = await issueApiToken(db, acme.id, null, 'acme');
    const acmeOwnerRow = await db.selectFrom('users').select('id').where('account_id', '=', acme.id).where('is_owner', '=', true).executeTakeFirstOrThrow();
    const acmeOwner: Caller = { email: OWNER_EMAIL, token: token.token, id: acmeOwnerRow.id, headers: { ...basic(`${OWNER_EMAIL}/token`, token.token), host: 'acme.localhost:3000' } };

    const ours = await createUser({ name: 'Ours', email: 'ours@example.com' });
    const theirs = await t.request('POST', '/api/v2/users', { as: acmeOwner, body: { user: { name: 'Theirs', email: 'theirs@example.com' } } });
    expect(theirs.statusCode).toBe(201);
    const theirId = theirs.json().user.id as number;

    const acmeEntries = (await all('', acmeOwner)).entries;
    expect(acmeEntries.map((e) => e.source_id)).toContain(theirId);
    expect(acmeEntries.some((e) => e.source_type === 'user' && e.source_id === ours)).toBe(false);
    const ourEntries = (await all()).entries;
    expect(ourEntries.some((e) => e.source_id === theirId && e.source_type === 'user')).toBe(false);
    const acmeIds = new Set(acmeEntries.map((e) => e.id));
    for (const entry of ourEntries) {
      expect(acmeIds.has(entry.id)).toBe(false);
      expect((await t.request('GET', `/api/v2/audit_logs/${entry.id}`, { as: acmeOwner })).statusCode).toBe(404);
    }
    expect((await all(`&filter[actor_id]=${t.owner.id}`, acmeOwner)).entries.every((e) => e.actor_id === t.owner.id)).toBe(true);
    // A cursor naming another account's entry leads nowhere.
    const foreignCursor = Buffer.from(`id:${ourEntries[0]?.id}`).toString('base64url');
    expect((await list(`?page[size]=10&page[after]=${foreignCursor}`, acmeOwner)).audit_logs).toEqual([]);
  });
});

describe('the audit log never holds personal values', () => {
  it('many user, identity and organization writes with distinctive values: none appears in any audit_logs response', async () => {
    const tag = crypto.randomBytes(3).toString('hex');
    const secrets: string[] = [];
    const secret = (label: string): string => {
      const value = `${label}${tag}Zq`;
      secrets.push(value);
      return value;
    };
    const phone = `+1415555${String(1000 + Number.parseInt(tag.slice(0, 3), 16) % 9000)}`;
    secrets.push(phone, phone.slice(1));

    for (let i = 0; i < 5; i++) {
      const email = `${secret(`mail${i}x`).toLowerCase()}@example.com`;
      secrets.push(email);
      const id = await createUser({
        name: secret(`Name${i}`),
        email,
        alias: secret(`Alias${i}`),
        details: secret(`Details${i}`),
        notes: secret(`Notes${i}`),
        external_id: secret(`Ext${i}`),
        tags: [secret(`tag${i}`).toLowerCase()],
        user_fields: {},
      });
      const renamed = await t.request('PUT', `/api/v2/users/${id}`, { body: { user: { name: secret(`Renamed${i}`), notes: secret(`MoreNotes${i}`), signature: secret(`Sig${i}`) } } });
      expect(renamed.statusCode, renamed.body).toBe(200);
      const second = `${secret(`second${i}x`).toLowerCase()}@example.org`;
      secrets.push(second);
      const identity = await t.request('POST', `/api/v2/users/${id}/identities`, { body: { identity: { type: 'email', value: second } } });
      expect(identity.statusCode, identity.body).toBe(201);
      if (i === 0) {
        const phoneIdentity = await t.request('POST', `/api/v2/users/${id}/identities`, { body: { identity: { type: 'phone_number', value: phone } } });
        expect(phoneIdentity.statusCode, phoneIdentity.body).toBe(201);
      }
      const handle = secret(`handle${i}`).toLowerCase();
      const twitter = await t.request('POST', `/api/v2/users/${id}/identities`, { body: { identity: { type: 'twitter', value: handle } } });
      expect(twitter.statusCode, twitter.body).toBe(201);
      const identityId = identity.json().identity.id as number;
      expect((await t.request('PUT', `/api/v2/users/${id}/identities/${identityId}/make_primary`)).statusCode).toBe(200);
      const password = secret(`Password${i}-long-enough`);
      const changed = await t.request('POST', `/api/v2/users/${id}/password`, { body: { password } });
      expect(changed.statusCode, changed.body).toBe(200);
      expect((await t.request('DELETE', `/api/v2/users/${id}/identities/${twitter.json().identity.id}`)).statusCode).toBe(204);

      const org = await t.request('POST', '/api/v2/organizations', {
        body: { organization: { name: secret(`Org${i}`), details: secret(`OrgDetails${i}`), notes: secret(`OrgNotes${i}`), domain_names: [`${secret(`dom${i}`).toLowerCase()}.example`] } },
      });
      expect(org.statusCode, org.body).toBe(201);
      const orgId = org.json().organization.id as number;
      const orgUpdate = await t.request('PUT', `/api/v2/organizations/${orgId}`, { body: { organization: { name: secret(`OrgRenamed${i}`), notes: secret(`OrgNotes2${i}`) } } });
      expect(orgUpdate.statusCode, orgUpdate.body).toBe(200);
      const membership = await t.request('POST', '/api/v2/organization_memberships', { body: { organization_membership: { user_id: id, organization_id: orgId } } });
      expect(membership.statusCode, membership.body).toBe(201);
      if (i % 2 === 1) expect((await t.request('DELETE', `/api/v2/users/${id}`)).statusCode).toBe(200);
    }

    const { entries, bodies } = await all();
    expect(entries.length).toBeGreaterThanOrEqual(40);
    const events = new Set(entries.map((e) => e.event));
    for (const event of ['user.create', 'user.update', 'identity.create', 'identity.make_primary', 'identity.delete', 'user.password_change', 'organization.create', 'organization.update', 'user.delete']) expect(events, event).toContain(event);
    // Every list response, both sort orders, offset pages and each entry shown alone.
    const more = [
      (await t.request('GET', '/api/v2/audit_logs?sort=created_at&per_page=100')).body,
      (await t.request('GET', '/api/v2/audit_logs?filter[source_type]=user&page[size]=100')).body,
      ...(await Promise.all(entries.map(async (e) => (await t.request('GET', `/api/v2/audit_logs/${e.id}`)).body))),
    ];
    const everything = [...bodies, ...more].join('\n').toLowerCase();
    for (const value of secrets) expect(everything.includes(value.toLowerCase()), value).toBe(false);
    expect(everything.includes(tag)).toBe(false);
    // And the table itself, read directly.
    const raw = await sql<{ row: string }>`SELECT row_to_json(a)::text AS row FROM audit_events a`.execute(t.runtime.database.db);
    expect(raw.rows.some((r) => r.row.toLowerCase().includes(tag))).toBe(false);
  });
});

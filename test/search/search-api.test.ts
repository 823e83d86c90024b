import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type Caller, type TestApp } from '../helpers.ts';

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

const search = (query: string, as?: Caller, extra = '') =>
  t.request('GET', `/api/v2/search?query=${encodeURIComponent(query)}${extra}`, as ? { as } : {});

async function agentWithRole(configuration: Record<string, unknown>): Promise<Caller> {
  const role = await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: { name: `R${Math.random()}`, configuration } } });
  expect(role.statusCode).toBeLessThan(300);
  return t.user({ role: 'agent', custom_role_id: role.json().custom_role.id });
}

async function organization(name: string): Promise<number> {
  const response = await t.request('POST', '/api/v2/organizations', { body: { organization: { name } } });
  return response.json().organization.id as number;
}

describe('GET /api/v2/search', () => {
  it('answers Zendesk\'s shape: results with result_type, facets, count, page links', async () => {
    const ann = await t.user({ name: 'Ann Lee', role: 'end-user', tags: ['vip'] });
    const org = await organization('Lee Industries');
    const response = await search('lee');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(Object.keys(body)).toEqual(['results', 'facets', 'next_page', 'previous_page', 'count']);
    expect(body).toMatchObject({ facets: null, next_page: null, previous_page: null, count: 2 });
    const byType = Object.fromEntries(body.results.map((result: { result_type: string }) => [result.result_type, result]));
    // Users exactly as the users API presents them to this caller, plus result_type.
    const shown = (await t.request('GET', `/api/v2/users/${ann.id}`)).json().user;
    expect(byType.user).toEqual({ ...shown, result_type: 'user' });
    const organizationShown = (await t.request('GET', `/api/v2/organizations/${org}`)).json().organization;
    expect(byType.organization).toEqual({ ...organizationShown, result_type: 'organization' });
  });

  it('finds a record the moment it is written, and stops finding it the moment it changes', async () => {
    const user = await t.user({ name: 'Zoë Quill', role: 'end-user' });
    expect((await search('name:zoe')).json().count).toBe(1);
    await t.request('PUT', `/api/v2/users/${user.id}`, { body: { user: { name: 'Zoë Marsh', tags: ['fresh'] } } });
    expect((await search('name:quill')).json().count).toBe(0);
    expect((await search('name:marsh tags:fresh')).json().count).toBe(1);
    const identity = await t.request('POST', `/api/v2/users/${user.id}/identities`, { body: { identity: { type: 'email', value: 'zoe.second@roster.test' } } });
    expect(identity.statusCode).toBe(201);
    expect((await search('email:zoe.second@roster.test')).json().results[0].id).toBe(user.id);
    const org = await organization('Quillworks');
    await t.request('POST', '/api/v2/organization_memberships', { body: { organization_membership: { user_id: user.id, organization_id: org } } });
    expect((await search('organization:quillworks')).json().results.map((r: { id: number }) => r.id)).toEqual([user.id]);
  });

  it('orders newest first by default; order_by, sort, sort_by and sort_order change it', async () => {
    const names = ['Ana One', 'Ana Two', 'Ana Three'];
    const ids: number[] = [];
    for (const [index, name] of names.entries()) {
      ids.push((await t.user({ name })).id);
      await t.runtime.database.db.updateTable('users').set({ created_at: new Date(Date.UTC(2024, index, 1)), updated_at: new Date(Date.UTC(2024, 5 - index, 1)) }).where('id', '=', ids[index] as number).execute();
    }
    const order = async (query: string, extra = '') => (await search(query, undefined, extra)).json().results.map((r: { id: number }) => r.id);
    expect(await order('type:user name:ana')).toEqual([ids[2], ids[1], ids[0]]);
    expect(await order('type:user name:ana sort:asc')).toEqual([ids[0], ids[1], ids[2]]);
    expect(await order('type:user name:ana order_by:updated')).toEqual([ids[0], ids[1], ids[2]]);
    expect(await order('type:user name:ana order_by:name sort:asc')).toEqual([ids[0], ids[2], ids[1]]);
    expect(await order('type:user name:ana', '&sort_by=updated_at&sort_order=asc')).toEqual([ids[2], ids[1], ids[0]]);
  });

  it('merges users and organizations by folded name, page after page', async () => {
    const beta = await t.user({ name: 'Beta Mixer' });
    const alpha = await organization('Alpha Mixer');
    const emile = await t.user({ name: 'Émile Mixer' });
    const zeta = await organization('Zeta Mixer');
    const expected = [`organization:${alpha}`, `user:${beta.id}`, `user:${emile.id}`, `organization:${zeta}`];
    const all = (await search('mixer order_by:name sort:asc')).json().results.map((r: { id: number; result_type: string }) => `${r.result_type}:${r.id}`);
    expect(all).toEqual(expected);
    const paged: string[] = [];
    for (let page = 1; page <= 4; page += 1) {
      paged.push(...(await search('mixer order_by:name sort:asc', undefined, `&per_page=1&page=${page}`)).json().results.map((r: { id: number; result_type: string }) => `${r.result_type}:${r.id}`));
    }
    expect(paged).toEqual(expected);
    const descending = (await search('mixer', undefined, '&sort_by=name&sort_order=desc')).json().results.map((r: { id: number; result_type: string }) => `${r.result_type}:${r.id}`);
    expect(descending).toEqual([...expected].reverse());
  });

  it('pages with page and per_page, links stop at the 1,000-result window, and a page beyond it is a 422', async () => {
    for (let index = 0; index < 5; index += 1) await t.user({ name: `Pager ${index}` });
    const first = (await search('name:pager', undefined, '&per_page=2')).json();
    expect(first.results).toHaveLength(2);
    expect(first.count).toBe(5);
    expect(first.next_page).toContain('page=2');
    const last = (await search('name:pager', undefined, '&per_page=2&page=3')).json();
    expect(last.results).toHaveLength(1);
    expect(last.next_page).toBeNull();
    expect(last.previous_page).toContain('page=2');
    const beyond = await search('name:pager', undefined, '&per_page=100&page=11');
    expect(beyond.statusCode).toBe(422);
    expect(beyond.json().description).toContain('/api/v2/search/export');
    expect((await search('name:pager', undefined, '&per_page=100&page=10')).statusCode).toBe(200);
    expect((await search('name:pager', undefined, '&page[size]=2')).statusCode).toBe(400);
  });

  it('answers a broken query with 400 InvalidParameter naming the term, never a 500', async () => {
    const unknown = await search('type:user colour:blue');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toEqual({ error: 'InvalidParameter', description: 'Invalid search query: unknown keyword colour (at character 11)' });
    const unterminated = await search('name:"Ann');
    expect(unterminated.json().description).toContain('at character 6');
    const ticket = await search('type:ticket status:opened');
    expect(ticket.statusCode).toBe(400);
    expect(ticket.json().description).toBe('Invalid search query: status takes new, open, pending, hold, solved, closed (in the order new < open < pending < hold < solved < closed) (at character 13)');
    expect((await t.request('GET', '/api/v2/search')).json()).toEqual({ error: 'ParameterMissing', description: 'Missing parameter: query' });
  });

  it('searches characters that unaccent turns into regex or LIKE syntax literally', async () => {
    const odd = await t.user({ name: 'Odd ＼ Name ｜ ⑴' });
    for (const query of ['name:＼', 'name:｜', 'name:⑴', 'name:"odd ＼ name"', '＼', 'name:o*＼']) {
      const response = await search(query);
      expect(response.statusCode, `${query}: ${response.body}`).toBeLessThan(500);
    }
    expect((await search('name:⑴')).json().results.map((r: { id: number }) => r.id)).toEqual([odd.id]);
    expect((await search('name:"odd ＼ name"')).json().results.map((r: { id: number }) => r.id)).toEqual([odd.id]);
    expect((await t.request('GET', `/api/v2/users/autocomplete?name=${encodeURIComponent('＼＼')}`)).statusCode).toBe(200);
    expect((await t.request('GET', `/api/v2/organizations/autocomplete?name=${encodeURIComponent('o＼')}`)).statusCode).toBe(200);
  });

  it('never answers an arbitrary query with a 5xx', async () => {
    await t.user({ name: 'Fuzz Person', tags: ['x'] });
    const word = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.constantFrom('＼', '｜', '⑴', 'ŉ', '＊', '％', '＿', '⁽', '‰', 'ß', 'Æ'), fc.constantFrom('name:', 'email:', 'phone:', 'tags:', 'created>', 'notes:', 'organization:', 'group:', 'type:', 'role:', '*', '"', '-', '(', '[', '\\', '%', '_', 'é', '王'));
    await fc.assert(
      fc.asyncProperty(fc.array(word, { minLength: 1, maxLength: 6 }).map((parts) => parts.join(fc.sample(fc.constantFrom('', ' '), 1)[0] ?? '')), async (query) => {
        for (const path of ['/api/v2/search', '/api/v2/search/count', '/api/v2/users/search']) {
          const response = await t.request('GET', `${path}?query=${encodeURIComponent(query.replace(/[\ud800-\udfff]/g, '?'))}`);
          if (response.statusCode >= 500 || (response.statusCode !== 200 && response.statusCode !== 400)) {
            throw new Error(`${path} ${JSON.stringify(query)} → ${response.statusCode} ${response.body}`);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('CJK names', () => {
  it('match by substring, two characters included, through search and autocomplete', async () => {
    const lina = await t.user({ name: '李娜' });
    const linana = await t.user({ name: '李娜娜' });
    const wang = await t.user({ name: '王小明' });
    const found = async (query: string) => (await search(`type:user ${query}`)).json().results.map((r: { id: number }) => r.id).sort();
    expect(await found('name:李娜')).toEqual([lina.id, linana.id].sort());
    expect(await found('name:小明')).toEqual([wang.id]);
    expect(await found('name:"王小明"')).toEqual([wang.id]);
    expect(await found('小明')).toEqual([wang.id]);
    expect(await found('name:李*娜')).toEqual([lina.id, linana.id].sort());
    expect((await t.request('GET', `/api/v2/users/autocomplete?name=${encodeURIComponent('李娜')}`)).json().users.map((u: { id: number }) => u.id).sort()).toEqual([lina.id, linana.id].sort());
    expect((await t.request('GET', `/api/v2/users/autocomplete?name=${encodeURIComponent('娜娜')}`)).json().users).toEqual([]);
  });
});

describe('Who may search', () => {
  it('refuses end users on every search endpoint with 403', async () => {
    const endUser = await t.user({ role: 'end-user' });
    for (const path of ['/api/v2/search?query=a', '/api/v2/search/count?query=a', '/api/v2/search/export?query=a&filter[type]=user', '/api/v2/users/search?query=a', '/api/v2/users/autocomplete?name=ab']) {
      const response = await t.request('GET', path, { as: endUser });
      expect(response.statusCode, path).toBe(403);
      expect(response.json().error).toBe('Forbidden');
    }
  });

  it('shows an agent without end_user_list_access agents, admins and organizations, never end users', async () => {
    const limited = await agentWithRole({ end_user_list_access: 'none' });
    const endUser = await t.user({ name: 'Hidden Customer', role: 'end-user', external_id: 'hid-1' });
    const colleague = await t.user({ name: 'Hidden Colleague', role: 'agent' });
    await organization('Hidden Org');
    const results = (await search('hidden', limited)).json();
    expect(results.results.map((r: { id: number; result_type: string }) => `${r.result_type}:${r.id}`).sort()).toEqual([`user:${colleague.id}`, expect.stringMatching(/^organization:/)].sort());
    expect(results.count).toBe(2);
    expect((await t.request('GET', '/api/v2/search/count?query=hidden', { as: limited })).json().count).toBe(2);
    expect((await t.request('GET', '/api/v2/users/search?external_id=hid-1', { as: limited })).json().users).toEqual([]);
    expect((await t.request('GET', '/api/v2/users/autocomplete?name=hidden', { as: limited })).json().users.map((u: { id: number }) => u.id)).toEqual([colleague.id]);
    const exported = (await t.request('GET', '/api/v2/search/export?query=hidden&filter[type]=user', { as: limited })).json();
    expect(exported.results.map((r: { id: number }) => r.id)).toEqual([colleague.id]);
    // The owner sees both.
    expect((await search('type:user hidden')).json().results.map((r: { id: number }) => r.id).sort()).toEqual([endUser.id, colleague.id].sort());
  });

  it('shows agents the staff view of users and end users nothing', async () => {
    const agent = await t.user({ role: 'agent' });
    await t.user({ name: 'Visible Person', notes: 'secret note' });
    const result = (await search('name:visible', agent)).json().results[0];
    expect(result).toMatchObject({ result_type: 'user', notes: 'secret note' });
  });

  it('never finds another account\'s records', async () => {
    const { ensureAccount } = await import('../../src/accounts/bootstrap.ts');
    const { account } = await ensureAccount(t.runtime.database.db, 'other', { name: 'Other Owner', email: 'other-owner@roster.test', password: 'another long password' });
    await t.runtime.database.db.insertInto('users').values({ account_id: account.id, name: 'Foreign Needle', role: 'end-user', tags: [], user_fields: '{}' }).execute();
    expect((await search('needle')).json().count).toBe(0);
    expect((await search('name:needle')).json().count).toBe(0);
  });
});

describe('GET /api/v2/search/count', () => {
  it('counts what the search finds', async () => {
    await t.user({ name: 'Count Me' });
    await t.user({ name: 'Count Me Too' });
    await organization('Count Org');
    expect((await t.request('GET', '/api/v2/search/count?query=count')).json()).toEqual({ count: 3 });
    expect((await t.request('GET', '/api/v2/search/count?query=type%3Auser%20count')).json()).toEqual({ count: 2 });
  });
});

describe('GET /api/v2/search/export', () => {
  it('walks every result of one type with cursors, newest first, without a window', async () => {
    const ids: number[] = [];
    for (let index = 0; index < 7; index += 1) ids.push((await t.user({ name: `Export ${index}`, tags: ['export'] })).id);
    const seen: number[] = [];
    let url: string | null = '/api/v2/search/export?query=tags%3Aexport&filter[type]=user&page[size]=3';
    let pages = 0;
    while (url) {
      const response = await t.request('GET', url.replace(/^https?:\/\/[^/]+/, ''));
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json();
      expect(Object.keys(body)).toEqual(['results', 'facets', 'meta', 'links']);
      expect(body.links.prev).toBeNull();
      seen.push(...body.results.map((r: { id: number; result_type: string }) => r.id));
      url = body.meta.has_more ? body.links.next : null;
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
  });

  it('requires filter[type] and refuses type: in the query', async () => {
    expect((await t.request('GET', '/api/v2/search/export?query=a')).json()).toEqual({ error: 'ParameterMissing', description: 'Missing parameter: filter[type]' });
    const typed = await t.request('GET', '/api/v2/search/export?query=type%3Auser&filter[type]=user');
    expect(typed.statusCode).toBe(400);
    expect(typed.json().description).toContain('leave type: out of the query');
    const ticket = await t.request('GET', '/api/v2/search/export?query=role%3Aagent&filter[type]=ticket');
    expect(ticket.statusCode).toBe(400);
    expect(ticket.json().description).toContain('role does not apply to tickets');
    expect((await t.request('GET', '/api/v2/search/export?query=a&filter[type]=group')).json().description).toBe('filter[type] must be user, organization or ticket');
    expect((await t.request('GET', '/api/v2/search/export?query=a&filter[type]=user&page[after]=bogus')).statusCode).toBe(400);
    expect((await t.request('GET', '/api/v2/search/export?query=a&filter[type]=user&page[size]=1001')).statusCode).toBe(400);
  });

  it('exports organizations', async () => {
    const first = await organization('Export Org One');
    const second = await organization('Export Org Two');
    const body = (await t.request('GET', '/api/v2/search/export?query=export&filter[type]=organization')).json();
    expect(body.results.map((r: { id: number; result_type: string }) => [r.result_type, r.id])).toEqual([['organization', second], ['organization', first]]);
  });
});

describe('GET /api/v2/users/search', () => {
  it('searches with the query language (users only) or by exact external_id', async () => {
    const ann = await t.user({ name: 'Ann Search', external_id: 'Ext-9', notes: 'likes tea' });
    await organization('Ann Search Org');
    const byQuery = (await t.request('GET', '/api/v2/users/search?query=tea')).json();
    expect(Object.keys(byQuery)).toEqual(['users', 'next_page', 'previous_page', 'count']);
    expect(byQuery.users.map((u: { id: number }) => u.id)).toEqual([ann.id]);
    expect((await t.request('GET', '/api/v2/users/search?query=ann%20search')).json().users.map((u: { id: number }) => u.id)).toEqual([ann.id]);
    expect((await t.request('GET', '/api/v2/users/search?external_id=ext-9')).json().users.map((u: { id: number }) => u.id)).toEqual([ann.id]);
    expect((await t.request('GET', '/api/v2/users/search?external_id=ext')).json().users).toEqual([]);
    expect((await t.request('GET', '/api/v2/users/search?query=type%3Aorganization')).statusCode).toBe(400);
    expect((await t.request('GET', '/api/v2/users/search?query=tier%3Agold')).json().description).toContain('unknown keyword tier');
    expect((await t.request('GET', '/api/v2/users/search')).statusCode).toBe(400);
  });
});

describe('GET /api/v2/users/autocomplete', () => {
  it('finds names by their start, case- and accent-insensitively, in name order', async () => {
    const emile = await t.user({ name: 'Émile Zola' });
    const emma = await t.user({ name: 'emma stone' });
    await t.user({ name: 'Jeremy Emil' });
    const body = (await t.request('GET', '/api/v2/users/autocomplete?name=EM')).json();
    expect(body.users.map((u: { id: number }) => u.id)).toEqual([emile.id, emma.id]);
    expect(body.count).toBe(2);
    expect((await t.request('GET', '/api/v2/users/autocomplete?name=emi')).json().users.map((u: { id: number }) => u.id)).toEqual([emile.id]);
    expect((await t.request('GET', '/api/v2/users/autocomplete?name=e')).statusCode).toBe(400);
    expect((await t.request('GET', '/api/v2/users/autocomplete?name=e%25')).json().users).toEqual([]);
    expect((await t.request('GET', '/api/v2/users/autocomplete')).statusCode).toBe(400);
  });
});

describe('GET /api/v2/organizations/autocomplete', () => {
  it('folds names as search does (unaccent: Æ is ae, ß is ss)', async () => {
    const aeble = await organization('Æble Cider');
    const strasse = await organization('Straße Works');
    expect((await t.request('GET', '/api/v2/organizations/autocomplete?name=aeb')).json().organizations.map((o: { id: number }) => o.id)).toEqual([aeble]);
    expect((await t.request('GET', '/api/v2/organizations/autocomplete?name=strass')).json().organizations.map((o: { id: number }) => o.id)).toEqual([strasse]);
    expect((await search('type:organization name:strasse')).json().results.map((o: { id: number }) => o.id)).toEqual([strasse]);
  });
});

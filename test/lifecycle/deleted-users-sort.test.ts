import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';
import { DAY } from './lifecycle-helpers.ts';

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

interface Listed {
  id: number;
  name: string;
  deleted_at: string;
  purge_at: string;
}

/** Five deleted users whose name, deletion date and purge date orders all differ from the id order; two share a deletion date. */
async function deletedFive(): Promise<Listed[]> {
  const db = t.runtime.database.db;
  const names = ['Delta', 'alpha', 'Charlie', 'bravo', 'Echo'];
  // Days ago each was deleted: Delta and bravo on the same instant (ties break by id).
  const daysAgo = [3, 1, 10, 3, 7];
  const ids: number[] = [];
  for (const name of names) {
    const user = await t.user({ name });
    expect((await t.request('DELETE', `/api/v2/users/${user.id}`)).statusCode).toBe(200);
    ids.push(user.id);
  }
  const base = Date.parse('2026-11-20T12:00:00.123456Z');
  for (const [index, id] of ids.entries()) {
    await db.updateTable('user_deletions').set({ deleted_at: new Date(base - (daysAgo[index] ?? 0) * DAY) }).where('user_id', '=', id).execute();
  }
  // Charlie was purged early (an admin's permanent delete): its purge_at is when that happened.
  await db.updateTable('user_deletions').set({ purged_at: new Date(base - 9 * DAY) }).where('user_id', '=', ids[2] ?? 0).execute();
  return ((await t.request('GET', '/api/v2/deleted_users')).json().deleted_users as Listed[]);
}

const namesOf = (users: Listed[]) => users.map((user) => user.name);

async function walk(first: string, direction: 'next' | 'prev'): Promise<number[][]> {
  const pages: number[][] = [];
  let url: string | null = first;
  while (url) {
    const response = await t.request('GET', url.replace(/^https?:\/\/[^/]+/, ''));
    expect(response.statusCode).toBe(200);
    const body = response.json();
    pages.push((body.deleted_users as Listed[]).map((user) => user.id));
    url = body.links[direction] as string | null;
    if (pages.length > 10) throw new Error('the cursor walk does not end');
  }
  return pages;
}

describe('GET /api/v2/deleted_users sorted by column', () => {
  it('sorts by name (case-insensitively), either way, with sort_by/sort_order or Zendesk\'s sort=-field', async () => {
    await deletedFive();
    const ascending = (await t.request('GET', '/api/v2/deleted_users?sort_by=name')).json();
    expect(namesOf(ascending.deleted_users)).toEqual(['alpha', 'bravo', 'Charlie', 'Delta', 'Echo']);
    expect(ascending.count).toBe(5);
    expect(namesOf((await t.request('GET', '/api/v2/deleted_users?sort_by=name&sort_order=desc')).json().deleted_users)).toEqual(['Echo', 'Delta', 'Charlie', 'bravo', 'alpha']);
    expect(namesOf((await t.request('GET', '/api/v2/deleted_users?sort=-name')).json().deleted_users)).toEqual(['Echo', 'Delta', 'Charlie', 'bravo', 'alpha']);
    // Offset pages follow the order.
    const second = (await t.request('GET', '/api/v2/deleted_users?sort_by=name&per_page=2&page=2')).json();
    expect(namesOf(second.deleted_users)).toEqual(['Charlie', 'Delta']);
    expect(second.next_page).toContain('page=3');
  });

  it('sorts by deletion date (ties by id) and by purge date (a purged user by when it was purged)', async () => {
    const listed = await deletedFive();
    const byId = new Map(listed.map((user) => [user.name, user.id]));
    const tie = [byId.get('Delta') ?? 0, byId.get('bravo') ?? 0].sort((a, b) => a - b);
    const newestFirst = (await t.request('GET', '/api/v2/deleted_users?sort=-deleted_at')).json().deleted_users as Listed[];
    expect(newestFirst.map((user) => user.id)).toEqual([byId.get('alpha'), ...[...tie].reverse(), byId.get('Echo'), byId.get('Charlie')]);
    const oldestFirst = (await t.request('GET', '/api/v2/deleted_users?sort_by=deleted_at&sort_order=asc')).json().deleted_users as Listed[];
    expect(oldestFirst.map((user) => user.id)).toEqual([byId.get('Charlie'), byId.get('Echo'), ...tie, byId.get('alpha')]);
    const byPurge = (await t.request('GET', '/api/v2/deleted_users?sort_by=purge_at')).json().deleted_users as Listed[];
    const expected = [...listed].sort((a, b) => Date.parse(a.purge_at) - Date.parse(b.purge_at) || a.id - b.id).map((user) => user.id);
    expect(byPurge.map((user) => user.id)).toEqual(expected);
    // Charlie was deleted first but purged 9 days ago, after nobody else is due: still first; Echo next.
    expect(byPurge[0]?.name).toBe('Charlie');
  });

  it('cursor pages carry the sort key: walking forward and back gives the same order as one page, ties included', async () => {
    await deletedFive();
    for (const sort of ['-deleted_at', 'deleted_at', 'name', '-name', 'purge_at']) {
      const whole = ((await t.request('GET', `/api/v2/deleted_users?sort=${sort}`)).json().deleted_users as Listed[]).map((user) => user.id);
      const forward = await walk(`/api/v2/deleted_users?sort=${sort}&page[size]=2`, 'next');
      expect(forward.flat()).toEqual(whole);
      expect(forward.map((page) => page.length)).toEqual([2, 2, 1]);
      // From the last page back to the first.
      const lastPage = await t.request('GET', `/api/v2/deleted_users?sort=${sort}&page[size]=2`);
      let url: string | null = lastPage.json().links.next;
      let last = lastPage.json();
      while (url) {
        last = (await t.request('GET', url.replace(/^https?:\/\/[^/]+/, ''))).json();
        url = last.links.next;
        if (last.meta.has_more === false) break;
      }
      const backward = await walk(`/api/v2/deleted_users?sort=${sort}&page[size]=2&page[before]=${last.meta.before_cursor}`, 'prev');
      expect([...backward].reverse().flat()).toEqual(whole.slice(0, 4));
    }
  });

  it('refuses an unknown column, a bad order, both forms at once, and a cursor made for another order', async () => {
    await deletedFive();
    for (const query of ['sort_by=email', 'sort=-email', 'sort_by=name&sort_order=up', 'sort=name&sort_by=name', 'sort_order=desc']) {
      const response = await t.request('GET', `/api/v2/deleted_users?${query}`);
      expect(response.statusCode, query).toBe(400);
    }
    const byName = (await t.request('GET', '/api/v2/deleted_users?sort=name&page[size]=2')).json();
    const misused = await t.request('GET', `/api/v2/deleted_users?sort=-deleted_at&page[size]=2&page[after]=${byName.meta.after_cursor}`);
    expect(misused.statusCode).toBe(400);
    expect(misused.json().description).toBe('page[after] is not a valid cursor for this order');
    // An id cursor (the unsorted list's) is not one either, nor garbage.
    const plain = (await t.request('GET', '/api/v2/deleted_users?page[size]=2')).json();
    expect((await t.request('GET', `/api/v2/deleted_users?sort=name&page[size]=2&page[after]=${plain.meta.after_cursor}`)).statusCode).toBe(400);
    expect((await t.request('GET', '/api/v2/deleted_users?sort=name&page[size]=2&page[after]=%%%')).statusCode).toBe(400);
  });
});

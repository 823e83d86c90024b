import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type Caller, type TestApp } from '../helpers.ts';

/**
 * Ticket search: a golden table of ticket keywords over a fixed set of tickets (statuses,
 * priorities, types, people, groups, organizations, tags, comments in several scripts, pinned
 * dates), through GET /api/v2/search and /search/count; the ticket shape of the results; the
 * ticket-access rules of restricted agents; soft-deleted tickets; redaction seen at once.
 */

let t: TestApp;
const ids = new Map<string, number>();
const key = (name: string): number => {
  const id = ids.get(name);
  if (id === undefined) throw new Error(`no fixture record ${name}`);
  return id;
};

async function post(path: string, body: unknown, as?: Caller): Promise<Record<string, unknown>> {
  const response = await t.request('POST', path, { body, ...(as ? { as } : {}) });
  if (response.statusCode !== 201 && response.statusCode !== 200) throw new Error(`${path}: ${response.statusCode} ${response.body}`);
  return response.json() as Record<string, unknown>;
}

async function ticket(label: string, fields: Record<string, unknown>): Promise<void> {
  const body = await post('/api/v2/tickets', { ticket: fields });
  ids.set(label, (body.ticket as { id: number }).id);
}

async function addComment(label: string, comment: Record<string, unknown>, as?: Caller): Promise<void> {
  const response = await t.request('PUT', `/api/v2/tickets/${key(label)}`, { body: { ticket: { comment } }, ...(as ? { as } : {}) });
  expect(response.statusCode, response.body).toBe(200);
}

let sam: Caller;

beforeAll(async () => {
  t = await createTestApp();
  const billing = await post('/api/v2/groups', { group: { name: 'Billing' } });
  ids.set('group:billing', (billing.group as { id: number }).id);
  const tierTwo = await post('/api/v2/groups', { group: { name: 'Tier Two' } });
  ids.set('group:tier', (tierTwo.group as { id: number }).id);
  const acme = await post('/api/v2/organizations', { organization: { name: 'Acme Corp' } });
  ids.set('org:acme', (acme.organization as { id: number }).id);

  const ann = await post('/api/v2/users', { user: { name: 'Ann Lee', email: 'ann@acme.test', organization_id: key('org:acme') } });
  ids.set('ann', (ann.user as { id: number }).id);
  const bob = await post('/api/v2/users', { user: { name: 'Bob Brown', email: 'bob@x.test' } });
  ids.set('bob', (bob.user as { id: number }).id);
  sam = await t.user({ name: 'Sam Agent', email: 'sam@roster.test', role: 'agent' });
  ids.set('sam', sam.id);
  await post('/api/v2/group_memberships', { group_membership: { user_id: sam.id, group_id: key('group:billing') } });

  await ticket('fire', {
    subject: 'Printer on fire', requester_id: key('ann'), assignee_id: sam.id, group_id: key('group:billing'), organization_id: key('org:acme'),
    status: 'open', priority: 'urgent', type: 'incident', tags: ['hardware', 'vip'], external_id: 'EXT-1', email_cc_ids: [key('bob')],
    comment: { body: 'The printer in room 12 is smoking. Call me at 555 0100.' },
  });
  await ticket('refund', {
    subject: 'Refund request', requester_id: key('bob'), group_id: key('group:tier'), status: 'pending', priority: 'low', type: 'question', tags: ['billing'],
    comment: { body: 'Please refund order 4411 — signed, Émile' },
  });
  await addComment('refund', { body: 'Refund approved for order 4411', public: false }, sam);
  await ticket('invoice', { subject: 'Question about invoices', requester_id: key('ann'), priority: 'normal', type: 'task', comment: { body: 'Invoice 2024-07 is missing' } });
  await ticket('cjk', { subject: '打印机问题', requester_id: key('bob'), comment: { body: '打印机坏了，请帮忙' } });
  await ticket('deleted', { subject: 'Printer deleted', requester_id: key('bob'), comment: { body: 'printer smoking again' } });
  expect((await t.request('DELETE', `/api/v2/tickets/${key('deleted')}`)).statusCode).toBe(204);

  const db = t.runtime.database.db;
  const pin = async (label: string, created: Date) =>
    db.updateTable('tickets').set({ created_at: created, updated_at: created }).where('account_id', '=', t.account.id).where('id', '=', key(label)).execute();
  await pin('fire', new Date(Date.UTC(2024, 0, 10)));
  await pin('refund', new Date(Date.UTC(2024, 5, 1)));
  await pin('invoice', new Date(Date.UTC(2025, 0, 1)));
  await sql`UPDATE tickets SET created_at = now() - interval '2 hours', updated_at = now() - interval '2 hours' WHERE account_id = ${t.account.id} AND id = ${key('cjk')}`.execute(db);
  // Solved on a pinned day (the status change itself is the tickets API's business).
  await db.updateTable('tickets').set({ status: 'solved', solved_at: new Date(Date.UTC(2025, 0, 2)) }).where('account_id', '=', t.account.id).where('id', '=', key('invoice')).execute();
});
afterAll(async () => {
  await t.close();
});

/** `{label}` in a query stands for a fixture id. */
const fill = (query: string): string => query.replace(/\{([a-z:]+)\}/g, (_, label: string) => String(key(label)));

async function found(query: string, as?: Caller): Promise<string[]> {
  const response = await t.request('GET', `/api/v2/search?query=${encodeURIComponent(fill(query))}&per_page=100`, as ? { as } : {});
  expect(response.statusCode, `${query}: ${response.body}`).toBe(200);
  const body = response.json() as { results: Array<{ id: number; result_type: string }>; count: number };
  expect(body.count, query).toBe(body.results.length);
  const labels = new Map([...ids].map(([label, id]) => [id, label]));
  return body.results.map((result) => {
    expect(result.result_type, query).toBe('ticket');
    return labels.get(result.id) ?? `?${result.id}`;
  }).sort();
}

type Row = [query: string, expected: string[]];
const GOLDEN: Row[] = [
  ['type:ticket', ['cjk', 'fire', 'invoice', 'refund']],
  // statuses and priorities, ordered as Zendesk orders them
  ['type:ticket status:open', ['fire']],
  ['status:pending', ['refund']],
  ['type:ticket status<solved', ['cjk', 'fire', 'refund']],
  ['type:ticket status<=pending', ['cjk', 'fire', 'refund']],
  ['type:ticket status>=pending', ['invoice', 'refund']],
  ['type:ticket status>solved', []],
  ['type:ticket -status:solved', ['cjk', 'fire', 'refund']],
  ['priority:urgent', ['fire']],
  ['priority>normal', ['fire']],
  ['priority>=normal', ['fire', 'invoice']],
  ['priority<normal', ['refund']],
  ['priority:none', ['cjk']],
  ['ticket_type:incident', ['fire']],
  ['ticket_type:QUESTION', ['refund']],
  ['ticket_type:none', ['cjk']],
  // people: email, name, id, none
  ['requester:ann@acme.test', ['fire', 'invoice']],
  ['requester:"Ann Lee"', ['fire', 'invoice']],
  ['requester:{bob}', ['cjk', 'refund']],
  ['requester:*@x.test', ['cjk', 'refund']],
  ['submitter:owner@roster.test', ['cjk', 'fire', 'invoice', 'refund']],
  ['assignee:sam@roster.test', ['fire']],
  ['assignee:sam', ['fire']],
  ['type:ticket assignee:none', ['cjk', 'invoice', 'refund']],
  ['cc:bob@x.test', ['fire']],
  ['cc:"Bob Brown"', ['fire']],
  ['type:ticket cc:none', ['cjk', 'invoice', 'refund']],
  ['commenter:sam@roster.test', ['refund']],
  ['commenter:{sam}', ['refund']],
  // groups and organizations: name, id, none
  ['type:ticket group:billing', ['fire']],
  ['type:ticket group:"tier two"', ['refund']],
  ['type:ticket group:{group:tier}', ['refund']],
  ['type:ticket group:none', ['cjk', 'invoice']],
  ['type:ticket organization:acme', ['fire', 'invoice']],
  ['type:ticket organization:{org:acme}', ['fire', 'invoice']],
  ['type:ticket organization:none', ['cjk', 'refund']],
  ['type:ticket -organization:none', ['fire', 'invoice']],
  // tags, channel, external id
  ['type:ticket tags:vip', ['fire']],
  ['type:ticket tags:billing', ['refund']],
  ['type:ticket tags:vip -tags:hardware', []],
  ['type:ticket -tags:vip', ['cjk', 'invoice', 'refund']],
  ['type:ticket tags:none', ['cjk', 'invoice']],
  ['via:api', ['cjk', 'fire', 'invoice', 'refund']],
  ['via:email', []],
  ['type:ticket external_id:ext-1', ['fire']],
  ['type:ticket external_id:EXT*', ['fire']],
  // text: subject, description (first comment), any comment, free text
  ['subject:printer', ['fire']],
  ['subject:"on fire"', ['fire']],
  ['subject:"fire on"', []],
  ['subject:fir*', ['fire']],
  ['subject:打印', ['cjk']],
  ['description:smoking', ['fire']],
  ['description:approved', []],
  ['comment:approved', ['refund']],
  ['comment:"order 4411"', ['refund']],
  ['type:ticket smoking', ['fire']],
  ['type:ticket 4411', ['refund']],
  ['type:ticket refund', ['refund']],
  ['type:ticket emile', ['refund']],
  ['type:ticket ÉMILE', ['refund']],
  ['type:ticket "555 0100"', ['fire']],
  ['type:ticket invoic*', ['invoice']],
  ['type:ticket 坏了', ['cjk']],
  ['type:ticket ext-1', ['fire']],
  ['type:ticket printer -status:open', []],
  ['printer', ['fire']],
  // dates, absolute and relative
  ['type:ticket created<2024-03-01', ['fire']],
  ['type:ticket created:2024-06-01', ['refund']],
  ['type:ticket created>2024-12-31', ['cjk', 'invoice']],
  ['type:ticket created>1day', ['cjk']],
  ['type:ticket updated<1day', ['fire', 'invoice', 'refund']],
  ['solved:2025-01-02', ['invoice']],
  ['type:ticket solved<2025-01-01', []],
  ['type:ticket due_date:none', ['cjk', 'fire', 'invoice', 'refund']],
  ['has_attachment:true', []],
  ['type:ticket has_attachment:false', ['cjk', 'fire', 'invoice', 'refund']],
];

describe('ticket keywords: the golden table', () => {
  it.each(GOLDEN)('%s', async (query, expected) => {
    expect(await found(query)).toEqual([...expected].sort());
    const count = await t.request('GET', `/api/v2/search/count?query=${encodeURIComponent(fill(query))}`);
    expect(count.json()).toEqual({ count: expected.length });
  });

  it('assignee:me and requester:me are the searcher', async () => {
    expect(await found('assignee:me', sam)).toEqual(['fire']);
    expect(await found('type:ticket requester:me')).toEqual([]);
  });
});

describe('results', () => {
  it('are tickets as the tickets API shows them, plus result_type, among users and organizations', async () => {
    const response = await t.request('GET', `/api/v2/search?query=${encodeURIComponent('external_id:ext-1')}`);
    const body = response.json();
    expect(body.count).toBe(1);
    const shown = (await t.request('GET', `/api/v2/tickets/${key('fire')}`)).json().ticket;
    expect(body.results[0]).toEqual({ ...shown, result_type: 'ticket' });
    // Free text reaches users, organizations and tickets at once: "acme" is an organization's name,
    // a user's email word and nothing of a ticket's text.
    const mixed = (await t.request('GET', '/api/v2/search?query=acme')).json();
    expect(mixed.results.map((r: { result_type: string }) => r.result_type).sort()).toEqual(['organization', 'user']);
    const tickets = (await t.request('GET', '/api/v2/search?query=bob')).json();
    expect(tickets.results.map((r: { result_type: string }) => r.result_type).sort()).toEqual(['user']);
  });

  it('order by status, priority or ticket type, tickets only', async () => {
    const byPriority = (await t.request('GET', `/api/v2/search?query=${encodeURIComponent('type:ticket order_by:priority sort:desc')}`)).json();
    expect(byPriority.results.map((r: { id: number }) => r.id)).toEqual([key('fire'), key('invoice'), key('refund'), key('cjk')]);
    const byStatus = (await t.request('GET', `/api/v2/search?query=type:ticket&sort_by=status&sort_order=asc`)).json();
    expect(byStatus.results.map((r: { id: number }) => r.id)).toEqual([key('cjk'), key('fire'), key('refund'), key('invoice')]);
    const mixed = await t.request('GET', `/api/v2/search?query=${encodeURIComponent('printer order_by:priority')}`);
    expect(mixed.statusCode).toBe(400);
    expect(mixed.json().description).toMatch(/tickets only.*type:ticket/);
  });

  it('exports tickets with a cursor', async () => {
    const first = (await t.request('GET', '/api/v2/search/export?query=status%3Cclosed&filter[type]=ticket&page[size]=3')).json();
    expect(first.results.map((r: { id: number }) => r.id)).toEqual([key('cjk'), key('invoice'), key('refund')]);
    expect(first.meta.has_more).toBe(true);
    const next = (await t.request('GET', first.links.next.replace(/^https?:\/\/[^/]+/, ''))).json();
    expect(next.results.map((r: { id: number }) => r.id)).toEqual([key('fire')]);
  });
});

describe('errors name the term', () => {
  it.each([
    ['type:ticket status:bogus', /status takes new, open, pending, hold, solved, closed.*at character 13/],
    ['type:ticket priority:none<', /priority/],
    ['priority<none', /priority takes/],
    ['ticket_type:bug', /ticket_type takes question, incident, problem, task/],
    ['type:user status:open', /status does not apply to users.*at character 11/],
    ['brand:acme', /brand is a Zendesk ticket keyword for brands, which Roster does not have/],
    ['type:ticket via:"e mail"', /via takes a channel/],
    ['type:ticket requester:!!', /requester takes a user id/],
    ['type:ticket commenter:none', /commenter takes/],
    ['type:ticket subject:"  "', /needs a value/],
    ['type:ticket has_attachment:maybe', /has_attachment must be true or false/],
    ['type:ticket solved>yesterday', /solved takes a date/],
    ['printer order_by:status', /tickets only/],
  ])('%s', async (query, message) => {
    const response = await t.request('GET', `/api/v2/search?query=${encodeURIComponent(query)}`);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().description).toMatch(message);
  });
});

describe('what a searcher may see', () => {
  it('a restricted agent finds only the tickets of their scope; end users get 403', async () => {
    const role = await post('/api/v2/custom_roles', { custom_role: { name: 'Tier two only', configuration: { ticket_access: 'within-groups' } } });
    const restricted = await t.user({ role: 'agent', custom_role_id: (role.custom_role as { id: number }).id });
    await post('/api/v2/group_memberships', { group_membership: { user_id: restricted.id, group_id: key('group:tier') } });
    expect(await found('type:ticket', restricted)).toEqual(['refund']);
    expect(await found('printer', restricted)).toEqual([]);
    expect(await found('type:ticket refund', restricted)).toEqual(['refund']);
    const count = await t.request('GET', '/api/v2/search/count?query=type:ticket', { as: restricted });
    expect(count.json()).toEqual({ count: 1 });
    const exported = (await t.request('GET', '/api/v2/search/export?query=status%3Cclosed&filter[type]=ticket', { as: restricted })).json();
    expect(exported.results.map((r: { id: number }) => r.id)).toEqual([key('refund')]);

    const assignedOnly = await post('/api/v2/custom_roles', { custom_role: { name: 'Assigned only', configuration: { ticket_access: 'assigned-only' } } });
    const other = await t.user({ role: 'agent', custom_role_id: (assignedOnly.custom_role as { id: number }).id });
    expect(await found('type:ticket', other)).toEqual([]);

    const endUser = await t.user({ role: 'end-user' });
    expect((await t.request('GET', '/api/v2/search?query=type:ticket', { as: endUser })).statusCode).toBe(403);
    expect((await t.request('GET', '/api/v2/search/count?query=printer', { as: endUser })).statusCode).toBe(403);
  });

  it('soft-deleted tickets are not found; restored, they are', async () => {
    expect(await found('type:ticket subject:deleted')).toEqual([]);
    expect((await t.request('PUT', `/api/v2/deleted_tickets/${key('deleted')}/restore`)).statusCode).toBe(200);
    expect(await found('type:ticket subject:deleted')).toEqual(['deleted']);
    expect((await t.request('DELETE', `/api/v2/tickets/${key('deleted')}`)).statusCode).toBe(204);
    expect(await found('type:ticket subject:deleted')).toEqual([]);
  });

  it('a redaction is reflected at once: the redacted words are no longer found', async () => {
    await ticket('secret', { subject: 'Access', requester_id: key('bob'), comment: { body: 'My passport number is ZX4471 and I live on Elm Street' } });
    expect(await found('type:ticket zx4471')).toEqual(['secret']);
    expect(await found('description:"elm street"')).toEqual(['secret']);
    const comments = (await t.request('GET', `/api/v2/tickets/${key('secret')}/comments`)).json().comments as Array<{ id: number }>;
    const commentId = comments[0]?.id;
    const redact = await t.request('PUT', `/api/v2/tickets/${key('secret')}/comments/${commentId}/redact`, { body: { text: 'ZX4471' } });
    expect(redact.statusCode, redact.body).toBe(200);
    expect(await found('type:ticket zx4471')).toEqual([]);
    expect(await found('comment:zx4471')).toEqual([]);
    expect(await found('type:ticket zx*')).toEqual([]);
    // The rest of the text is still searchable.
    expect(await found('description:"elm street"')).toEqual(['secret']);
  });

  it('has_attachment: a file on one of the comments', async () => {
    const db = t.runtime.database.db;
    const comment = await db.selectFrom('ticket_comments').select('id').where('account_id', '=', t.account.id).where('ticket_id', '=', key('refund')).orderBy('id').executeTakeFirstOrThrow();
    await db.insertInto('ticket_attachments').values({
      account_id: t.account.id, token: 'search-test-token', ticket_id: key('refund'), comment_id: comment.id, file_name: 'receipt.pdf', content_type: 'application/pdf', size: 10, storage_key: 'search-test/none',
    }).execute();
    expect(await found('has_attachment:true')).toEqual(['refund']);
    expect(await found('type:ticket -has_attachment:true status<solved')).toEqual(['cjk', 'fire', 'secret']);
  });
});

describe('counts: exact up to a limit, then estimated and flagged', () => {
  it('reads at most limit + 1 matches; beyond, walks the created_at order and estimates the count', async () => {
    const { compileSearch, searchPage } = await import('../../src/search/run-search.ts');
    const { authorizeSearch } = await import('../../src/policy/policy.ts');
    const owner = await t.runtime.database.db.selectFrom('users').select('id').where('account_id', '=', t.account.id).where('is_owner', '=', true).executeTakeFirstOrThrow();
    const actor = { id: owner.id, role: 'admin' as const, is_owner: true, active: true, suspended: false, permissions: { end_user_list_access: 'full' } } as unknown as Parameters<typeof authorizeSearch>[0];
    const visibility = authorizeSearch(actor);
    const db = t.runtime.database.db;
    const plan = await compileSearch(db, t.account.id, 'type:ticket via:api', {});
    // via: is not an ordered-index keyword, so the matches are read from their index and counted.
    const all = await searchPage(db, t.account.id, plan, visibility, { offset: 0, limit: 2 }, { concurrent: false });
    expect(all.estimated).toBe(false);
    const exact = all.count;
    expect(exact).toBeGreaterThanOrEqual(4);
    const atLimit = await searchPage(db, t.account.id, plan, visibility, { offset: 0, limit: 2 }, { concurrent: false, exactCountLimit: exact });
    expect(atLimit).toMatchObject({ count: exact, estimated: false });
    const over = await searchPage(db, t.account.id, plan, visibility, { offset: 0, limit: 2 }, { concurrent: false, exactCountLimit: 2 });
    expect(over.estimated).toBe(true);
    expect(over.count).toBeGreaterThanOrEqual(3);
    // The page itself is exact either way: newest first.
    expect(over.hits.map((hit) => hit.id)).toEqual(all.hits.map((hit) => hit.id));
    const second = await searchPage(db, t.account.id, plan, visibility, { offset: 2, limit: 2 }, { concurrent: false, exactCountLimit: 2 });
    const secondExact = await searchPage(db, t.account.id, plan, visibility, { offset: 2, limit: 2 }, { concurrent: false });
    expect(second.hits.map((hit) => hit.id)).toEqual(secondExact.hits.map((hit) => hit.id));
    // Free text and text fields never walk (a document tokenized per row): their matches are read and counted exactly.
    const text = await compileSearch(db, t.account.id, 'type:ticket refund', {});
    expect(text.walkWhenBroad).toBe(false);
    expect(await searchPage(db, t.account.id, text, visibility, { offset: 0, limit: 2 }, { concurrent: false, exactCountLimit: 0 })).toMatchObject({ count: 1, estimated: false });
    expect((await compileSearch(db, t.account.id, 'type:ticket tags:vip comment:approved', {})).walkWhenBroad).toBe(false);
    expect((await compileSearch(db, t.account.id, 'type:user name:mar* -tags:x', {})).walkWhenBroad).toBe(true);
    // /search/count stays exact, and /search answers exact counts unflagged.
    const counted = await t.request('GET', '/api/v2/search/count?query=type%3Aticket%20via%3Aapi');
    expect(counted.json()).toEqual({ count: exact });
    const body = (await t.request('GET', '/api/v2/search?query=type%3Aticket%20via%3Aapi')).json();
    expect(body.count).toBe(exact);
    expect(body).not.toHaveProperty('count_is_estimate');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/http/errors.ts';
import { planSearch, type CompileContext } from '../../src/search/compile-query.ts';
import { formatQuery, parseQuery, type Term } from '../../src/search/query-parser.ts';

/** Parses, or returns the 400 it threw; anything else thrown fails the test. */
function attempt(query: string): { ok: true; terms: Term[] } | { ok: false; error: AppError } {
  try {
    return { ok: true, terms: parseQuery(query).terms };
  } catch (error) {
    if (error instanceof AppError) return { ok: false, error };
    throw error;
  }
}

function rejected(query: string): AppError {
  const result = attempt(query);
  if (result.ok) throw new Error(`expected ${JSON.stringify(query)} to be refused`);
  return result.error;
}

const context: CompileContext = {
  accountId: 1,
  now: new Date('2026-11-22T00:00:00Z'),
  userFields: new Map([['plan', 'dropdown'], ['seats', 'integer']]),
  organizationFields: new Map([['tier', 'text']]),
};

function planError(query: string): AppError {
  try {
    planSearch(parseQuery(query), context);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(query)} to be refused`);
}

describe('parseQuery', () => {
  it('reads keywords, operators, quoted values, negation and free text', () => {
    const { terms } = parseQuery('type:user  name:"Ann Lee" -tags:vip created>=2024-01-01 hello -world "two words" Plan:Gold');
    expect(terms).toEqual([
      { kind: 'field', negated: false, keyword: 'type', operator: ':', value: 'user', quoted: false, position: 1 },
      { kind: 'field', negated: false, keyword: 'name', operator: ':', value: 'Ann Lee', quoted: true, position: 12 },
      { kind: 'field', negated: true, keyword: 'tags', operator: ':', value: 'vip', quoted: false, position: 28 },
      { kind: 'field', negated: false, keyword: 'created', operator: '>=', value: '2024-01-01', quoted: false, position: 37 },
      { kind: 'text', negated: false, value: 'hello', quoted: false, position: 57 },
      { kind: 'text', negated: true, value: 'world', quoted: false, position: 64 },
      { kind: 'text', negated: false, value: 'two words', quoted: true, position: 70 },
      { kind: 'field', negated: false, keyword: 'plan', operator: ':', value: 'Gold', quoted: false, position: 82 },
    ]);
  });

  it('keeps * in bare values (wildcards) and escaped quotes in quoted ones', () => {
    expect(parseQuery('name:jo* "say \\"hi\\""').terms.map((term) => [term.value, term.quoted])).toEqual([['jo*', false], ['say "hi"', true]]);
  });

  it('reads text that only looks like a keyword as text (a time, a bare colon)', () => {
    expect(parseQuery('12:30 :x').terms.map((term) => term.kind)).toEqual(['text', 'text']);
  });

  it.each([
    ['name:"Ann', 'a double quote is not closed (at character 6)'],
    ['name:', 'name: needs a value (at character 1)'],
    ['-', '"-" must be followed by a term'],
    ['created>>2024', 'malformed operator'],
    ['name:a"b c"', 'quote the whole value'],
    ['   ', 'the query is empty'],
    ['""', 'an empty quoted phrase'],
  ])('refuses %j with a 400 that points at the term', (query, description) => {
    const error = rejected(query);
    expect(error.status).toBe(400);
    expect(error.code).toBe('InvalidParameter');
    expect(error.description).toContain(description);
  });

  it('answers any string with a parse result or a 400, never another error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.stringMatching(/^[-a-z:<>="*\s_.]{0,40}$/)), (query) => {
        const result = attempt(query);
        if (!result.ok) expect(result.error.status).toBe(400);
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips generated queries: format then parse gives the same terms', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9À-ÿ\u4e00-\u9fa5@.+*_-]{1,12}$/).filter((text) => !text.startsWith('-') && !/^[A-Za-z][A-Za-z0-9_.]*(<=|>=|[:<>])/.test(text));
    const phrase = fc.stringMatching(/^[A-Za-z0-9 À-ÿ'"-]{1,16}$/).filter((text) => text.trim() !== '' && !text.endsWith('\\'));
    const keyword = fc.stringMatching(/^[a-z][a-z0-9_.]{0,10}$/);
    const operator = fc.constantFrom(':', '<', '>', '<=', '>=') as fc.Arbitrary<':' | '<' | '>' | '<=' | '>='>;
    const value = fc.oneof(
      word.filter((text) => !/^[:<>=]/.test(text)).map((text) => ({ value: text, quoted: false })),
      phrase.map((text) => ({ value: text, quoted: true })),
    );
    const term: fc.Arbitrary<Term> = fc.oneof(
      fc.record({ negated: fc.boolean(), keyword, operator, value }).map(({ negated, keyword: name, operator: op, value: v }) => ({ kind: 'field' as const, negated, keyword: name, operator: op, value: v.value, quoted: v.quoted, position: 0 })),
      fc.record({ negated: fc.boolean(), value }).map(({ negated, value: v }) => ({ kind: 'text' as const, negated, value: v.value, quoted: v.quoted, position: 0 })),
    );
    fc.assert(
      fc.property(fc.array(term, { minLength: 1, maxLength: 6 }), (terms) => {
        const text = formatQuery({ terms });
        const reparsed = parseQuery(text).terms.map((parsed) => ({ ...parsed, position: 0 }));
        expect(reparsed).toEqual(terms);
      }),
      { numRuns: 1500 },
    );
  });
});

describe('planSearch', () => {
  it('sends a keyword to the types that know it', () => {
    expect(planSearch(parseQuery('role:agent'), context).types).toEqual(['user']);
    expect(planSearch(parseQuery('tier:gold'), context).types).toEqual(['organization']);
    expect(planSearch(parseQuery('tags:vip'), context).types).toEqual(['user', 'organization', 'ticket']);
    expect(planSearch(parseQuery('status<solved'), context).types).toEqual(['ticket']);
    expect(planSearch(parseQuery('organization:none'), context).types).toEqual(['user', 'ticket']);
    expect(planSearch(parseQuery('type:organization'), context).types).toEqual(['organization']);
    expect(planSearch(parseQuery('-type:organization hello'), context).types).toEqual(['user', 'ticket']);
    expect(planSearch(parseQuery('-type:organization -type:ticket hello'), context).types).toEqual(['user']);
  });

  it('reads order_by and sort, and the sort_by/sort_order parameters', () => {
    expect(planSearch(parseQuery('type:user order_by:updated sort:asc'), context).order).toEqual({ field: 'updated_at', direction: 'asc' });
    expect(planSearch(parseQuery('type:user'), context, { sortBy: 'name', sortOrder: 'asc' }).order).toEqual({ field: 'name', direction: 'asc' });
    expect(planSearch(parseQuery('type:user'), context).order).toEqual({ field: 'created_at', direction: 'desc' });
  });

  it.each([
    ['foo:bar', 'unknown keyword foo (at character 1)'],
    ['type:user tier:gold', 'tier does not apply to users (at character 11)'],
    ['type:organization role:agent', 'role does not apply to organizations'],
    ['type:ticket role:agent', 'role does not apply to tickets (at character 13)'],
    ['type:user status:open', 'status does not apply to users (at character 11)'],
    ['status:later', 'status takes new, open, pending, hold, solved, closed'],
    ['type:user order_by:priority', 'order_by:priority sorts tickets only; add type:ticket (at character 11)'],
    ['brand:main', 'brand is a Zendesk ticket keyword for brands, which Roster does not have (at character 1)'],
    ['type:widget', 'type takes user, organization or ticket (at character 1)'],
    ['role:boss', 'role takes end-user, agent or admin'],
    ['role>agent', 'role takes ":"'],
    ['created>yesterdayish', 'created takes a date'],
    ['created>4fortnights', 'unknown time unit'],
    ['created:2024-02-30', 'not a calendar date'],
    ['is_suspended:maybe', 'must be true or false'],
    ['seats>lots', 'seats takes a number'],
    ['phone:abc', 'phone takes a phone number'],
    ['order_by:color type:user', 'order_by takes created, updated or name'],
    ['sort:sideways type:user', 'sort takes asc or desc'],
    ['--- ...', 'nothing to search for'],
    ['a*b', 'only at the end of a word'],
    ['order_by:name', 'give something to search for'],
    ['type:user -type:user', 'exclude every result type (at character 1)'],
  ])('refuses %j: %s', (query, description) => {
    const error = planError(query);
    expect(error.status).toBe(400);
    expect(error.description).toContain(description);
  });

  it('compiles any parsable query or refuses it with a 400', () => {
    const keyword = fc.constantFrom('name', 'email', 'phone', 'role', 'organization', 'group', 'tags', 'external_id', 'details', 'notes', 'created', 'updated', 'is_suspended', 'is_verified', 'plan', 'seats', 'tier', 'type', 'order_by', 'sort', 'status', 'user_fields.plan', 'bogus', 'priority', 'requester', 'assignee', 'cc', 'commenter', 'subject', 'description', 'comment', 'via', 'solved', 'due_date', 'has_attachment', 'ticket_type', 'brand');
    const value = fc.oneof(fc.constantFrom('none', 'true', 'agent', '2024-01-01', '4hours', 'user', 'ticket', 'open', 'high', 'me', 'a@b.c', '*', 'a*', '12', '"x y"', 'é'), fc.string({ maxLength: 8 }));
    const op = fc.constantFrom(':', '<', '>', '<=', '>=');
    const term = fc.oneof(
      fc.tuple(fc.constantFrom('', '-'), keyword, op, value).map(([sign, k, o, v]) => `${sign}${k}${o}${v}`),
      value,
    );
    fc.assert(
      fc.property(fc.array(term, { minLength: 1, maxLength: 5 }).map((terms) => terms.join(' ')), (query) => {
        try {
          planSearch(parseQuery(query), context);
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          expect(error.status).toBe(400);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

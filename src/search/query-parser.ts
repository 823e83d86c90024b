import { errors } from '../http/errors.ts';

/**
 * Zendesk's search query language, parsed by hand: a tokenizer that cuts the query into terms
 * (whitespace outside double quotes separates them) and a small recursive-descent reader for
 * each term:
 *
 *   query      := term*                          (terms are ANDed)
 *   term       := '-'? (keyword operator value | text)
 *   keyword    := letter (letter | digit | '_' | '.')*
 *   operator   := ':' | '<' | '>' | '<=' | '>='
 *   value      := quoted | bare                  (bare runs to the next whitespace)
 *   text       := quoted | bare                  (free text; '*' is a wildcard in both)
 *
 * The parser knows the syntax only. Which keywords exist, and what their values mean, is the
 * compiler's business (it depends on the result type and on the account's custom fields).
 * Every failure is a 400 InvalidParameter whose description points at the offending term by its
 * position — never quoting the caller's values back, as every other error of the API.
 */

export type Operator = ':' | '<' | '>' | '<=' | '>=';

export interface FieldTerm {
  kind: 'field';
  negated: boolean;
  /** Lower-cased, as keywords are case-insensitive. */
  keyword: string;
  operator: Operator;
  value: string;
  /** The value was written in double quotes: a phrase, and `*` inside it is literal. */
  quoted: boolean;
  /** 1-based character position of the term in the query, for error messages. */
  position: number;
}

export interface TextTerm {
  kind: 'text';
  negated: boolean;
  value: string;
  quoted: boolean;
  position: number;
}

export type Term = FieldTerm | TextTerm;

export interface ParsedQuery {
  terms: Term[];
}

export const MAX_QUERY_LENGTH = 2000;
export const MAX_TERMS = 50;

/** A 400 that names where the problem is. */
export function queryError(description: string, position?: number): Error {
  return errors.badRequest(position === undefined ? `Invalid search query: ${description}` : `Invalid search query: ${description} (at character ${position})`);
}

/** The keyword of a term, as written before its operator: ASCII letters first, then letters, digits, `_` and `.` (`user_fields.plan`). */
const KEYWORD = /^[A-Za-z][A-Za-z0-9_.]*$/;

interface Chunk {
  text: string;
  position: number;
}

const isSpace = (char: string): boolean => /\s/u.test(char);

/**
 * Cuts the query into whitespace-separated chunks; a double-quoted stretch (which may contain
 * spaces) belongs to the chunk it is in. `\"` inside quotes is a literal quote.
 */
function tokenize(query: string): Chunk[] {
  const chunks: Chunk[] = [];
  const chars = [...query];
  let index = 0;
  while (index < chars.length) {
    const char = chars[index] as string;
    if (isSpace(char)) {
      index += 1;
      continue;
    }
    const start = index;
    let text = '';
    while (index < chars.length && !isSpace(chars[index] as string)) {
      const current = chars[index] as string;
      if (current !== '"') {
        text += current;
        index += 1;
        continue;
      }
      const open = index;
      text += current;
      index += 1;
      let closed = false;
      while (index < chars.length) {
        const inner = chars[index] as string;
        if (inner === '\\' && chars[index + 1] === '"') {
          text += '\\"';
          index += 2;
          continue;
        }
        text += inner;
        index += 1;
        if (inner === '"') {
          closed = true;
          break;
        }
      }
      if (!closed) throw queryError('a double quote is not closed', open + 1);
    }
    chunks.push({ text, position: start + 1 });
  }
  return chunks;
}

/** The value part of a term: quotes removed (`\"` unescaped), and whether any part was quoted. */
function readValue(raw: string, position: number): { value: string; quoted: boolean } {
  if (!raw.includes('"')) return { value: raw, quoted: false };
  // A quoted value is one quoted stretch: `"Ann Lee"`. Text glued to a quote (`a"b c"`) is ambiguous.
  if (!(raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2)) {
    throw queryError('quote the whole value, as in name:"Ann Lee"', position);
  }
  const inner = raw.slice(1, -1);
  if (/(?<!\\)"/.test(inner)) throw queryError('quote the whole value, as in name:"Ann Lee"', position);
  return { value: inner.replaceAll('\\"', '"'), quoted: true };
}

const OPERATORS: Operator[] = ['<=', '>=', ':', '<', '>'];

function readTerm(chunk: Chunk): Term {
  let text = chunk.text;
  let negated = false;
  let position = chunk.position;
  if (text.startsWith('-')) {
    negated = true;
    text = text.slice(1);
    position += 1;
    if (text === '') throw queryError('"-" must be followed by a term, as in -tags:vip', chunk.position);
  }
  // keyword: the longest prefix before the first operator character, if it looks like one.
  const match = /^([^:<>="\s]*)(<=|>=|:|<|>)/.exec(text);
  if (match && match[1] !== undefined && match[2] !== undefined && KEYWORD.test(match[1])) {
    const keyword = match[1];
    const operator = match[2] as Operator;
    if (!OPERATORS.includes(operator)) throw queryError('unknown operator', position);
    const rest = text.slice(keyword.length + operator.length);
    if (rest === '') throw queryError(`${keyword.toLowerCase()}${operator} needs a value`, position);
    if (/^[:<>=]/.test(rest)) throw queryError(`${keyword.toLowerCase()} has a malformed operator; use :, <, >, <= or >=`, position);
    const { value, quoted } = readValue(rest, position + keyword.length + operator.length);
    if (value.trim() === '') throw queryError(`${keyword.toLowerCase()}${operator} needs a value`, position);
    return { kind: 'field', negated, keyword: keyword.toLowerCase(), operator, value, quoted, position };
  }
  const { value, quoted } = readValue(text, position);
  if (value.trim() === '') throw queryError('an empty quoted phrase', position);
  return { kind: 'text', negated, value, quoted, position };
}

/**
 * Parses a query or throws a 400 AppError. Never throws anything else: the property tests
 * (test/search/query-parser.test.ts) feed it arbitrary strings.
 */
export function parseQuery(query: string): ParsedQuery {
  if ([...query].length > MAX_QUERY_LENGTH) throw queryError(`the query is longer than ${MAX_QUERY_LENGTH} characters`);
  if (query.includes('\u0000')) throw queryError('the query contains a NUL character');
  const chunks = tokenize(query);
  if (chunks.length === 0) throw errors.badRequest('Invalid search query: the query is empty', 'InvalidParameter');
  if (chunks.length > MAX_TERMS) throw queryError(`at most ${MAX_TERMS} terms`);
  return { terms: chunks.map(readTerm) };
}

/** Writes a term back as query text, such that `parseQuery(formatTerm(t))` reads `t` again. */
export function formatTerm(term: Term): string {
  const value = term.quoted ? `"${term.value.replaceAll('"', '\\"')}"` : term.value;
  const sign = term.negated ? '-' : '';
  return term.kind === 'field' ? `${sign}${term.keyword}${term.operator}${value}` : `${sign}${value}`;
}

export function formatQuery(parsed: ParsedQuery): string {
  return parsed.terms.map(formatTerm).join(' ');
}

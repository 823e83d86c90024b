import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { queryError, type FieldTerm, type Term } from './query-parser.ts';

/**
 * SQL building blocks shared by every result type's keywords. Text is compared folded on both
 * sides by `roster_fold` (lower + unaccent, src/db/migrations/20261122030000_search_indexes.ts),
 * so `emile` finds *Émile* and `SAO` finds *São*; the trigram and full-text indexes are built on
 * the same expressions, and the planner sees the folded pattern as a constant.
 */

export type Condition = RawBuilder<SqlBool>;

/** A folded text to match against; `spaced` when CJK characters are followed by a space (names). */
export interface FoldedText {
  expression: RawBuilder<string>;
  spaced: boolean;
}

/** A column or expression, folded. */
export const fold = (expression: RawBuilder<unknown>): FoldedText => ({ expression: sql<string>`roster_fold(${expression})`, spaced: false });

/** A name, as its trigram index holds it: folded, CJK characters spaced (`roster_name_key`, see the migration). */
export const nameKey = (expression: RawBuilder<unknown>): FoldedText => ({ expression: sql<string>`roster_name_key(${expression})`, spaced: true });

/** The same character ranges as `roster_name_key` in the migration. */
const CJK_CHARACTER = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]/gu;
export const spaceCjk = (text: string): string => text.replace(CJK_CHARACTER, (char) => `${char} `);

/** A word boundary in a folded text, for regular expressions (`[[:alnum:]]` is letters and digits). */
const EDGE_START = '(^|[^[:alnum:]])';
const EDGE_END = '($|[^[:alnum:]])';
/** What `*` stands for inside a word. */
const WILDCARD = '[^[:space:]]*';

export const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (char) => `\\${char}`);

export const hasWildcard = (term: Pick<Term, 'value' | 'quoted'>): boolean => !term.quoted && term.value.includes('*');

/** Han, kana and hangul: written without spaces, so a name is one 'simple' token and words are substrings. */
export const hasCjk = (text: string): boolean => /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u.test(text);

/** Letters and digits: a term with none of them has nothing to search for. */
export const hasWordCharacter = (text: string): boolean => /[\p{L}\p{N}]/u.test(text);

/**
 * Literal text folded in SQL, then escaped for a regex or a LIKE pattern. Escaping comes after
 * folding because unaccent can turn a harmless character into a special one (fullwidth ＼ and ｜
 * become \\ and |). Everything here is IMMUTABLE with constant arguments, so the planner folds it
 * to a constant pattern and the trigram index applies.
 */
const REGEX_SPECIALS = '([\\[\\].^$*+?(){}|\\\\-])';
const REGEX_ESCAPED = '\\\\\\1';
const foldedRegexLiteral = (text: string): RawBuilder<string> => sql<string>`regexp_replace(roster_fold(${text}), ${REGEX_SPECIALS}, ${REGEX_ESCAPED}, 'g')`;
const foldedLikeLiteral = (text: string): RawBuilder<string> =>
  sql<string>`replace(replace(replace(roster_fold(${text}), ${'\\'}, ${'\\\\'}), '%', ${'\\%'}), '_', ${'\\_'})`;
const concat = (parts: RawBuilder<string>[]): RawBuilder<string> => sql<string>`(${sql.join(parts, sql` || `)})`;
const literal = (text: string): RawBuilder<string> => sql<string>`${text}::text`;

/**
 * Words or a phrase, at word boundaries, with `*` wildcards (unquoted values): `ann` matches
 * "Ann Lee" but not "Joanna"; `"ann lee"` the two words in a row; `jo*` any word starting with jo.
 */
export function wordsPattern(value: string, wildcards: boolean): RawBuilder<string> {
  const words = value.trim().split(/\s+/u).filter((word) => word !== '');
  const parts: RawBuilder<string>[] = [literal(EDGE_START)];
  words.forEach((word, index) => {
    if (index > 0) parts.push(literal('[^[:alnum:]]+'));
    const pieces = wildcards ? word.split('*') : [word];
    pieces.forEach((piece, pieceIndex) => {
      if (pieceIndex > 0) parts.push(literal(WILDCARD));
      if (piece !== '') parts.push(foldedRegexLiteral(piece));
    });
  });
  parts.push(literal(EDGE_END));
  return concat(parts);
}

/** A LIKE pattern matching `value` anywhere (`*` wildcards when unquoted), each piece folded then escaped. */
function containsPattern(value: string, wildcards: boolean, transform: (text: string) => string): RawBuilder<string> {
  const parts: RawBuilder<string>[] = [literal('%')];
  const pieces = wildcards ? value.split('*') : [value.trim()];
  pieces.forEach((piece, index) => {
    if (index > 0) parts.push(literal('%'));
    if (piece !== '') parts.push(foldedLikeLiteral(transform(piece)));
  });
  parts.push(literal('%'));
  return concat(parts);
}

/** The folded text contains the words of `term` — see `wordsPattern`. */
export function matchesWords(target: FoldedText, term: Pick<Term, 'value' | 'quoted'>): Condition {
  if (hasCjk(term.value)) {
    // No word boundaries inside CJK text: a substring (on names, of spaced characters, so that
    // even two characters give the trigram index something to look up).
    const pattern = containsPattern(term.value, hasWildcard(term), (text) => (target.spaced ? spaceCjk(text) : text));
    return sql<SqlBool>`${target.expression} LIKE ${pattern}`;
  }
  return sql<SqlBool>`${target.expression} ~ ${wordsPattern(term.value, hasWildcard(term))}`;
}

/** Case-insensitive equality, or a LIKE when the value has `*` wildcards. */
export function equalsOrLike(lowered: RawBuilder<string>, term: Pick<Term, 'value' | 'quoted'>, transform: (text: string) => string = (text) => text.toLowerCase()): Condition {
  if (hasWildcard(term)) {
    const like = term.value.split('*').map((part) => escapeLike(transform(part))).join('%');
    return sql<SqlBool>`${lowered} LIKE ${like}`;
  }
  return sql<SqlBool>`${lowered} = ${transform(term.value.trim())}`;
}

/**
 * The full-text query of a free-text term: a phrase of its words (quoted or not), or, for
 * `word*`, a prefix query. Built by PostgreSQL from the folded text so that it tokenizes the
 * query exactly as it tokenized the documents.
 */
export function textQuery(term: Pick<Term, 'value' | 'quoted' | 'position'>): RawBuilder<unknown> {
  if (!hasWildcard(term)) return sql`phraseto_tsquery('pg_catalog.simple'::regconfig, roster_fold(${term.value}))`;
  const words = term.value.split(/\s+/u).filter((word) => word !== '');
  const parts: RawBuilder<unknown>[] = [];
  for (const word of words) {
    const star = word.indexOf('*');
    if (star !== -1 && star !== word.length - 1) {
      throw queryError('in free text, * is allowed only at the end of a word (ann*); use a keyword such as name:a*n for other wildcards', term.position);
    }
    const stem = word.replace(/\*$/, '').replace(/[^\p{L}\p{N}]/gu, '');
    if (stem === '') continue;
    // quote_literal: whatever folding produces, it stays one quoted tsquery operand.
    parts.push(sql`to_tsquery('pg_catalog.simple'::regconfig, quote_literal(roster_fold(${stem}))${sql.raw(star === -1 ? '' : " || ':*'")})`);
  }
  if (parts.length === 0) throw queryError('a wildcard needs at least one letter or digit before it', term.position);
  return sql.join(parts, sql` && `);
}

/**
 * Autocomplete: `column` starts with `prefix`, folded on both sides (`emi` finds *Émile*); the
 * trigram index on the folded name serves it. Used by users/autocomplete and organizations/autocomplete.
 */
export function foldedPrefix(column: string, prefix: string): Condition {
  return sql<SqlBool>`roster_name_key(${sql.ref(column)}) LIKE ${foldedLikeLiteral(spaceCjk(prefix))} || '%'`;
}

/** `NOT`, safe for conditions that may be NULL (a NULL column would otherwise drop the row from both sides). */
export function negate(condition: Condition): Condition {
  return sql<SqlBool>`NOT coalesce((${condition}), false)`;
}

/** Boolean keyword values. */
export function booleanValue(term: FieldTerm): boolean {
  const value = term.value.trim().toLowerCase();
  if (term.operator !== ':') throw queryError(`${term.keyword} takes :true or :false`, term.position);
  if (value === 'true' || value === 'yes' || value === '1') return true;
  if (value === 'false' || value === 'no' || value === '0') return false;
  throw queryError(`${term.keyword} must be true or false`, term.position);
}

/** Refuses <, >, <=, >= on keywords whose values have no order. */
export function requireColon(term: FieldTerm): void {
  if (term.operator !== ':') throw queryError(`${term.keyword} takes ":" — only dates and numbers compare with <, >, <= and >=`, term.position);
}

export const isNone = (term: FieldTerm): boolean => !term.quoted && term.value.trim().toLowerCase() === 'none';

import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { CustomFieldType } from '../db/tables.ts';
import { dateRange } from './dates.ts';
import { queryError, type FieldTerm } from './query-parser.ts';
import { equalsOrLike, escapeLike, fold, hasCjk, hasWildcard, hasWordCharacter, isNone, matchesWords, nameKey, requireColon, textQuery, type Condition } from './text-match.ts';

/**
 * What a keyword compiles with, and the condition builders every result type's keyword table
 * (users, organizations, tickets) shares: dates, text columns, names, tags, external ids.
 */

export interface CompileContext {
  accountId: number;
  now: Date;
  /** Active custom fields by key, per owner: their keys are keywords too (`plan:gold`). */
  userFields: ReadonlyMap<string, CustomFieldType>;
  organizationFields: ReadonlyMap<string, CustomFieldType>;
  /** The searcher: `assignee:me` and the like. */
  actorId?: number | undefined;
}

export type KeywordCompiler = (term: FieldTerm, context: CompileContext) => Condition;

// ---------------------------------------------------------------------------------------------
// Keywords shared by every result type

export const column = (ref: string): RawBuilder<unknown> => sql.ref(ref);

export function dateCondition(ref: string): KeywordCompiler {
  return (term, context) => {
    const range = dateRange(term, context.now);
    const parts: Condition[] = [];
    if (range.gte) parts.push(sql<SqlBool>`${column(ref)} >= ${range.gte}`);
    if (range.gt) parts.push(sql<SqlBool>`${column(ref)} > ${range.gt}`);
    if (range.lt) parts.push(sql<SqlBool>`${column(ref)} < ${range.lt}`);
    if (range.lte) parts.push(sql<SqlBool>`${column(ref)} <= ${range.lte}`);
    return sql<SqlBool>`(${sql.join(parts, sql` AND `)})`;
  };
}

/** Words or a phrase anywhere in a folded text column; `none` for empty. */
export function textColumn(ref: string, documentRef: (alias: string) => RawBuilder<unknown>, alias: string): KeywordCompiler {
  return (term) => {
    requireColon(term);
    if (isNone(term)) return sql<SqlBool>`coalesce(${column(ref)}, '') = ''`;
    if (!hasWordCharacter(term.value)) throw queryError(`${term.keyword} needs letters or digits to search for`, term.position);
    const words = matchesWords(fold(column(ref)), term);
    if (hasWildcard(term) || hasCjk(term.value)) return words;
    // The document index narrows the rows (it holds this column's words); the pattern then
    // checks the words are in this column, in this order.
    return sql<SqlBool>`(${documentRef(alias)} @@ ${textQuery(term)} AND ${words})`;
  };
}

export function nameColumn(ref: string): KeywordCompiler {
  return (term) => {
    requireColon(term);
    if (!hasWordCharacter(term.value)) throw queryError(`${term.keyword} needs letters or digits to search for`, term.position);
    return matchesWords(nameKey(column(ref)), term);
  };
}

export function tagsColumn(ref: string): KeywordCompiler {
  return (term) => {
    requireColon(term);
    if (isNone(term)) return sql<SqlBool>`cardinality(${column(ref)}) = 0`;
    if (hasWildcard(term)) {
      const like = term.value.toLowerCase().split('*').map(escapeLike).join('%');
      return sql<SqlBool>`EXISTS (SELECT 1 FROM unnest(${column(ref)}) AS tag WHERE tag LIKE ${like})`;
    }
    // Tags are stored lower-cased; `@>` is served by the GIN index.
    return sql<SqlBool>`${column(ref)} @> ARRAY[${term.value.trim().toLowerCase()}]::text[]`;
  };
}

export function externalIdColumn(ref: string): KeywordCompiler {
  return (term) => {
    requireColon(term);
    if (isNone(term)) return sql<SqlBool>`${column(ref)} IS NULL`;
    return equalsOrLike(sql<string>`lower(${column(ref)})`, term);
  };
}


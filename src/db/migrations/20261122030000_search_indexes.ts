import { sql, type Kysely } from 'kysely';

/**
 * Search (src/search/): the extensions and the indexes the query compiler relies on. Search reads
 * the tables themselves through these indexes, so a write is searchable the moment it commits.
 *
 * - `roster_fold(text)`: lower-cased and unaccented. `unaccent()` is only STABLE (its dictionary
 *   could change), so it cannot appear in an index; the customary IMMUTABLE wrapper names the
 *   dictionary explicitly, schema-qualified, so the result does not depend on the search_path.
 * - Trigram GIN indexes on folded names (word, phrase, wildcard and CJK substring matching, and
 *   autocomplete prefixes) and on identity keys (email and phone wildcards, free text on emails).
 * - One `simple` full-text document per user and per organization (name, details, notes,
 *   external_id), for free text. 'simple' does no stemming: names in four languages stay intact.
 * - B-tree indexes for the default order (created_at) and date ranges, GIN on tags and custom fields.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Parallel test runs each migrate their own schema on one server: creating an extension twice at
  // once fails on its unique name, so creators take turns (released at the migration's commit).
  await sql`SELECT pg_advisory_xact_lock(7264390051)`.execute(db);
  // In `public`, not the first schema of the search_path: every schema of the database shares it.
  await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public`.execute(db);
  await sql`CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public`.execute(db);

  // Where the extensions really live (an installation may have had them elsewhere already), and
  // where our functions go: named explicitly so index expressions never depend on a search_path.
  const { rows } = await sql<{ trgm: string; unaccent: string; here: string }>`
    SELECT
      (SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm') AS trgm,
      (SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'unaccent') AS unaccent,
      quote_ident(current_schema()) AS here`.execute(db);
  const found = rows[0];
  if (!found) throw new Error('pg_trgm and unaccent could not be created');
  const trgm = sql.raw(found.trgm);
  const unaccentSchema = found.unaccent;
  const here = sql.raw(found.here);

  await sql`
    CREATE FUNCTION ${here}.roster_fold(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower(${sql.raw(unaccentSchema)}.unaccent(${sql.lit(`${unaccentSchema}.unaccent`)}::regdictionary, value)) $$`.execute(db);

  // Names as the trigram indexes see them: folded, and every CJK character followed by a space.
  // Chinese, Japanese and Korean names have no spaces, so a two-character name or search term
  // would have no trigram at all (a sequential scan); spaced, each character is a word of its own
  // and even a two-character term yields index trigrams. Latin text is left as roster_fold makes it.
  // PL/pgSQL, like the document below, so that the planner prices it as it costs (unaccent and a
  // regexp per row): a rare name prefix is then read from the index, not by folding every name
  // along the created_at index until a page is full.
  await sql`
    CREATE FUNCTION ${here}.roster_name_key(value text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT COST 500
    AS $$ BEGIN
      RETURN regexp_replace(${here}.roster_fold(value), '([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af])', '\\1 ', 'g');
    END $$`.execute(db);

  // The free-text document: every searchable text of the row, folded, as 'simple' tokens.
  // PL/pgSQL rather than SQL, so that it is not inlined and keeps its COST: priced as the
  // tokenizer really costs, the planner reads matches from the index (OR-ing bitmaps with the
  // email matches) instead of re-tokenizing rows along the created_at index to fill a page.
  await sql`
    CREATE FUNCTION ${here}.roster_search_document(name text, details text, notes text, external_id text) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 1000
    AS $$ BEGIN
      RETURN to_tsvector('pg_catalog.simple'::regconfig, ${here}.roster_fold(
        coalesce(name, '') || ' ' || coalesce(details, '') || ' ' || coalesce(notes, '') || ' ' || coalesce(external_id, '')));
    END $$`.execute(db);

  // Users
  await sql`CREATE INDEX users_search_name ON users USING gin (${here}.roster_name_key(name) ${trgm}.gin_trgm_ops)`.execute(db);
  await sql`CREATE INDEX users_search_document ON users USING gin (${here}.roster_search_document(name, details, notes, external_id))`.execute(db);
  await sql`CREATE INDEX users_search_tags ON users USING gin (tags)`.execute(db);
  await sql`CREATE INDEX users_search_fields ON users USING gin (user_fields jsonb_path_ops)`.execute(db);
  // Search finds live users only (`active`, as the runner asks): partial indexes let a count be
  // an index-only walk instead of a heap visit per match.
  await sql`CREATE INDEX users_search_created ON users (account_id, created_at, id) WHERE active`.execute(db);
  await sql`CREATE INDEX users_search_updated ON users (account_id, updated_at, id) WHERE active`.execute(db);
  // `organization:none` (seed 000) is a saved search admins run over the whole account: its own
  // partial index keeps both the page (newest first) and the count an index-only walk.
  await sql`CREATE INDEX users_search_no_organization ON users (account_id, created_at, id) WHERE organization_id IS NULL AND active`.execute(db);
  // Counting: one key per row of an account, which B-tree deduplication stores as a few posting
  // lists; a count walks them several times faster than the wide index above (bench/RESULTS.md).
  await sql`CREATE INDEX users_search_no_organization_count ON users (account_id) WHERE organization_id IS NULL AND active`.execute(db);
  await sql`CREATE INDEX users_search_active_count ON users (account_id) WHERE active`.execute(db);

  // Identities: email and phone wildcards, free text on email addresses.
  await sql`CREATE INDEX user_identities_search_value ON user_identities USING gin (value_key ${trgm}.gin_trgm_ops)`.execute(db);

  // Organizations
  await sql`CREATE INDEX organizations_search_name ON organizations USING gin (${here}.roster_name_key(name) ${trgm}.gin_trgm_ops)`.execute(db);
  await sql`CREATE INDEX organizations_search_document ON organizations USING gin (${here}.roster_search_document(name, details, notes, external_id))`.execute(db);
  await sql`CREATE INDEX organizations_search_tags ON organizations USING gin (tags)`.execute(db);
  await sql`CREATE INDEX organizations_search_fields ON organizations USING gin (organization_fields jsonb_path_ops)`.execute(db);
  await sql`CREATE INDEX organizations_search_created ON organizations (account_id, created_at, id)`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('Migrations are immutable once landed; write a new one instead');
}

import { sql, type Kysely } from 'kysely';

/**
 * Ticket search (src/search/ticket-keywords.ts). Only expression indexes over the text where it
 * lives — no copied text column — so a redaction (which rewrites ticket_comments.body) updates
 * the index entry in the same statement and the redacted words stop matching at its commit.
 *
 * - `roster_text_document(text)`: a 'simple' full-text document of one folded text (PL/pgSQL with
 *   a COST, as roster_search_document in 20261122030000_search_indexes.ts, so the planner reads
 *   matches from the index rather than re-tokenizing rows along another index).
 * - GIN on comment bodies (description, comment:, free text) and on subjects; GIN on tags;
 *   B-trees for the default order (created_at, updated_at) of live tickets.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{ here: string }>`SELECT quote_ident(current_schema()) AS here`.execute(db);
  const here = sql.raw(rows[0]?.here ?? 'public');
  await sql`
    CREATE FUNCTION ${here}.roster_text_document(value text) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 1000
    AS $$ BEGIN
      RETURN to_tsvector('pg_catalog.simple'::regconfig, ${here}.roster_fold(coalesce(value, '')));
    END $$`.execute(db);

  await sql`CREATE INDEX ticket_comments_search_body ON ticket_comments USING gin (${here}.roster_text_document(body))`.execute(db);
  await sql`CREATE INDEX tickets_search_subject ON tickets USING gin (${here}.roster_text_document(subject))`.execute(db);
  await sql`CREATE INDEX tickets_search_tags ON tickets USING gin (tags)`.execute(db);
  await sql`CREATE INDEX tickets_search_created ON tickets (account_id, created_at, id) WHERE deleted_at IS NULL`.execute(db);
  await sql`CREATE INDEX tickets_search_updated ON tickets (account_id, updated_at, id) WHERE deleted_at IS NULL`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('Migrations are immutable once landed; write a new one instead');
}

import { sql, type Kysely } from 'kysely';

/**
 * CSV imports of users (DOMAIN.md §2 item 5; issue 6 item 8). An import is a stored file worked
 * through by a job in batches; the job's own payload never holds the rows (a million rows do not
 * belong in job_statuses.payload): the import keeps a checkpoint instead — the byte offset of the
 * next unread record, its row number and the running counts — updated in the same transaction as
 * the batch it closes, so a resumed job starts exactly where the last committed batch ended.
 *
 * Nothing here holds personal data: the file lives on disk only until the import ends, the report
 * rows carry row numbers, statuses, user ids and column names, and the in-file duplicate registry
 * keeps keyed hashes of emails and external ids, deleted with the import's end.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE imports (
      account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      id bigserial NOT NULL,
      kind text NOT NULL DEFAULT 'users' CHECK (kind IN ('users')),
      job_id text NOT NULL,
      status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'working', 'completed', 'failed')),
      dry_run boolean NOT NULL,
      "update" boolean NOT NULL,
      -- Where the upload waits (DATA_DIR/imports); null once the import ended and it was removed.
      file_path text,
      file_bytes bigint NOT NULL,
      delimiter text NOT NULL,
      -- The header as mapped to Roster's columns (['name','email','user_fields.plan', …]).
      columns text[] NOT NULL,
      total integer NOT NULL,
      -- Checkpoint: the next record starts at byte_offset and is row next_row (the header is row 1).
      byte_offset bigint NOT NULL,
      next_row integer NOT NULL DEFAULT 2,
      processed integer NOT NULL DEFAULT 0,
      created integer NOT NULL DEFAULT 0,
      updated integer NOT NULL DEFAULT 0,
      unchanged integer NOT NULL DEFAULT 0,
      rejected integer NOT NULL DEFAULT 0,
      -- A random key for the duplicate registry's hashes, never shown.
      salt text NOT NULL,
      actor_id bigint,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      completed_at timestamptz,
      PRIMARY KEY (account_id, id)
    )`.execute(db);
  await sql`CREATE INDEX imports_job ON imports (account_id, job_id)`.execute(db);

  await sql`
    CREATE TABLE import_rows (
      account_id bigint NOT NULL,
      import_id bigint NOT NULL,
      row_number integer NOT NULL,
      status text NOT NULL CHECK (status IN ('created', 'updated', 'unchanged', 'rejected')),
      user_id bigint,
      error text,
      columns text[] NOT NULL DEFAULT '{}',
      description text,
      PRIMARY KEY (account_id, import_id, row_number),
      FOREIGN KEY (account_id, import_id) REFERENCES imports (account_id, id) ON DELETE CASCADE
    )`.execute(db);

  await sql`
    CREATE TABLE import_keys (
      account_id bigint NOT NULL,
      import_id bigint NOT NULL,
      key text NOT NULL,
      row_number integer NOT NULL,
      PRIMARY KEY (account_id, import_id, key),
      FOREIGN KEY (account_id, import_id) REFERENCES imports (account_id, id) ON DELETE CASCADE
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE import_keys`.execute(db);
  await sql`DROP TABLE import_rows`.execute(db);
  await sql`DROP TABLE imports`.execute(db);
}

import { sql, type Kysely } from 'kysely';

/**
 * The user lifecycle (DOMAIN.md §5, issue 6): suspensions with their reasons, soft deletions
 * (what a restore needs, held aside until the purge) and merges (an undo snapshot until the
 * restore window ends). Personal data lives only in `user_deletions.stash`,
 * `user_suspensions.reason` and `user_merges.snapshot`; the purge clears all three for the user.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One row per suspension; `lifted_at` is set when the user is unsuspended. The reason is kept
  // here, not in the audit log: the audit records the action and field names only.
  await sql`
    CREATE TABLE user_suspensions (
      account_id bigint NOT NULL,
      id bigserial NOT NULL,
      user_id bigint NOT NULL,
      category text NOT NULL,
      reason text,
      suspended_by bigint,
      suspended_at timestamptz NOT NULL DEFAULT now(),
      lifted_by bigint,
      lifted_at timestamptz,
      PRIMARY KEY (account_id, id),
      FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE
    )`.execute(db);
  await sql`CREATE INDEX user_suspensions_user ON user_suspensions (account_id, user_id, id)`.execute(db);

  // A soft-deleted user's identities, external id and memberships are moved here (`stash`), out
  // of the unique indexes and the inbound look-ups: the address is free for a new profile at
  // once, and a restore puts them back if nobody claimed them. `stash` is null when the restore
  // window is off (nothing kept) and after the purge. The purge date is not stored: it follows
  // from `deleted_at` and the account's current setting, so a changed setting applies to every
  // pending deletion.
  await sql`
    CREATE TABLE user_deletions (
      account_id bigint NOT NULL,
      user_id bigint NOT NULL,
      deleted_at timestamptz NOT NULL,
      deleted_by bigint,
      stash jsonb,
      purged_at timestamptz,
      PRIMARY KEY (account_id, user_id),
      FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE
    )`.execute(db);
  await sql`CREATE INDEX user_deletions_pending ON user_deletions (deleted_at, account_id, user_id) WHERE purged_at IS NULL`.execute(db);

  // A merge and its undo snapshot (what moved, and the survivor's fields before the merge).
  await sql`
    CREATE TABLE user_merges (
      account_id bigint NOT NULL,
      id bigserial NOT NULL,
      source_id bigint NOT NULL,
      target_id bigint NOT NULL,
      merged_by bigint,
      merged_at timestamptz NOT NULL,
      snapshot jsonb,
      undone_at timestamptz,
      PRIMARY KEY (account_id, id),
      FOREIGN KEY (account_id, source_id) REFERENCES users (account_id, id) ON DELETE CASCADE,
      FOREIGN KEY (account_id, target_id) REFERENCES users (account_id, id) ON DELETE CASCADE
    )`.execute(db);
  await sql`CREATE INDEX user_merges_source ON user_merges (account_id, source_id, id)`.execute(db);
  await sql`CREATE INDEX user_merges_target ON user_merges (account_id, target_id, id)`.execute(db);
  await sql`CREATE INDEX user_merges_snapshots ON user_merges (merged_at) WHERE snapshot IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE user_merges`.execute(db);
  await sql`DROP TABLE user_deletions`.execute(db);
  await sql`DROP TABLE user_suspensions`.execute(db);
}

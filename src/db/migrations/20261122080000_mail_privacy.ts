import { sql, type Kysely } from 'kysely';

/**
 * Mail (issue 8, DOMAIN.md §2 and §7) and the privacy toolkit (issue 7, DOMAIN.md §6).
 * Same conventions as before: account_id leads every key and every foreign key carries it.
 *
 * Where personal data lives, and what removes it (the zero-trace test checks all of it):
 * - outbox_messages.recipient/subject/bodies: the recipient's own messages, deleted with the
 *   user's purge or erasure (rows keyed by user_id);
 * - data_exports files (DATA_DIR/exports): deleted when they expire, and a person's erasure deletes
 *   every export file that holds them (their own exports and full users exports);
 * - nothing else added here holds personal values: tokens are hashed, erasure receipts and the
 *   suppression list keep keyed (salted) hashes of identifiers only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // A random per-account key for identifier hashes (erasure receipts, suppression). Set on first
  // use by the application; never shown.
  await sql`ALTER TABLE accounts ADD COLUMN identifier_salt text`.execute(db);

  // Every outbound message, sent or not (GET /api/v2/outbox). Without SMTP_URL this table is
  // where messages stay. Jobs carry the message id only — never the address or the text.
  await sql`
    CREATE TABLE outbox_messages (
      account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      id bigserial NOT NULL,
      user_id bigint,
      identity_id bigint,
      recipient text NOT NULL,
      template text NOT NULL,
      locale text NOT NULL,
      status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed', 'suppressed')),
      -- Why a message was not sent (reserved_domain, undeliverable, suspended_user, deleted_user, …).
      suppression_reason text,
      subject text NOT NULL,
      text_body text NOT NULL,
      html_body text NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      -- The transport's error code/class only (no addresses).
      last_error text,
      message_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      sent_at timestamptz,
      PRIMARY KEY (account_id, id),
      FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE
    )`.execute(db);
  await sql`CREATE INDEX outbox_messages_user ON outbox_messages (account_id, user_id) WHERE user_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX outbox_messages_status ON outbox_messages (account_id, status, id)`.execute(db);

  // One-time links: set password (welcome), verify an identity, reset a password. Only the hash
  // of the token is stored; a token works once and until it expires.
  await sql`
    CREATE TABLE user_tokens (
      account_id bigint NOT NULL,
      id bigserial NOT NULL,
      user_id bigint NOT NULL,
      identity_id bigint,
      purpose text NOT NULL CHECK (purpose IN ('set_password', 'verify_identity', 'reset_password')),
      token_hash text NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, id),
      UNIQUE (account_id, token_hash),
      FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE,
      FOREIGN KEY (account_id, identity_id) REFERENCES user_identities (account_id, id) ON DELETE CASCADE
    )`.execute(db);
  await sql`CREATE INDEX user_tokens_user ON user_tokens (account_id, user_id)`.execute(db);

  // Inbound mail threading: the Message-IDs of a ticket's messages (in and out), so a reply's
  // In-Reply-To / References find the ticket.
  await sql`
    CREATE TABLE ticket_mail_messages (
      account_id bigint NOT NULL,
      message_id text NOT NULL,
      ticket_id bigint NOT NULL,
      comment_id bigint,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, message_id),
      FOREIGN KEY (account_id, ticket_id) REFERENCES tickets (account_id, id) ON DELETE CASCADE,
      FOREIGN KEY (account_id, comment_id) REFERENCES ticket_comments (account_id, id) ON DELETE CASCADE
    )`.execute(db);
  await sql`CREATE INDEX ticket_mail_messages_ticket ON ticket_mail_messages (account_id, ticket_id)`.execute(db);

  // Export files: one person's data (access / portability) or all users (JSON lines). The file
  // lives under DATA_DIR/exports until expires_at; the download link is signed, not stored.
  await sql`
    CREATE TABLE data_exports (
      account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      id bigserial NOT NULL,
      kind text NOT NULL CHECK (kind IN ('personal_data', 'users')),
      subject_user_id bigint,
      requested_by bigint,
      job_id text,
      status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'working', 'completed', 'failed', 'expired', 'deleted')),
      -- Non-personal options (a date range for a users export).
      options jsonb NOT NULL DEFAULT '{}',
      storage_key text,
      size bigint,
      record_count integer,
      created_at timestamptz NOT NULL DEFAULT now(),
      completed_at timestamptz,
      expires_at timestamptz,
      PRIMARY KEY (account_id, id),
      CHECK (kind <> 'personal_data' OR subject_user_id IS NOT NULL),
      FOREIGN KEY (account_id, subject_user_id) REFERENCES users (account_id, id) ON DELETE CASCADE
    )`.execute(db);
  await sql`CREATE INDEX data_exports_subject ON data_exports (account_id, subject_user_id) WHERE subject_user_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX data_exports_expiry ON data_exports (expires_at) WHERE storage_key IS NOT NULL`.execute(db);

  // Forget user: the request, its progress and its receipt (GET /api/v2/erasure_receipts/{id}).
  // user_id is the erased user's id (the row stays as "Permanently Deleted User"); counts and
  // identifier hashes are all a receipt shows — no personal data.
  await sql`
    CREATE TABLE erasure_requests (
      account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      id bigserial NOT NULL,
      user_id bigint NOT NULL,
      actor_id bigint,
      job_id text,
      status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'working', 'completed', 'failed')),
      -- The request's choices (open_tickets: close | reassign_to_placeholder | delete).
      options jsonb NOT NULL DEFAULT '{}',
      -- The step the job reached (resumable) and the counts per kind of record.
      step text,
      counts jsonb NOT NULL DEFAULT '{}',
      identifier_hashes text[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      completed_at timestamptz,
      PRIMARY KEY (account_id, id)
    )`.execute(db);
  await sql`CREATE INDEX erasure_requests_user ON erasure_requests (account_id, user_id)`.execute(db);

  // Forgotten identifiers (suppression, issue 7 item 5): keyed hashes only.
  await sql`
    CREATE TABLE suppressed_identifiers (
      account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      identifier_hash text NOT NULL,
      erasure_id bigint,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, identifier_hash)
    )`.execute(db);

  // The audit log API filters by actor, action and time (target has its own index already).
  await sql`CREATE INDEX audit_events_actor ON audit_events (account_id, actor_id, id)`.execute(db);
  await sql`CREATE INDEX audit_events_action ON audit_events (account_id, action, id)`.execute(db);
  await sql`CREATE INDEX audit_events_created ON audit_events (account_id, created_at, id)`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('Migrations are immutable once landed; write a new one instead');
}

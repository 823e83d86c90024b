import { sql, type Kysely } from 'kysely';

/**
 * Tickets as user management needs them (DOMAIN.md §4, issue 5): tickets, their CCs and
 * followers, comments, uploaded files, suspended tickets and the anonymous record a permanently
 * deleted ticket leaves behind. Same conventions as before: account_id leads every key and every
 * foreign key carries it.
 *
 * Text lives in one place only — the comments. `description` is the first comment, never a
 * copy on the ticket row, so redacting a comment (or deleting it) leaves no second copy behind.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE tickets (
      account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      id bigserial NOT NULL,
      subject text NOT NULL DEFAULT '',
      status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'open', 'pending', 'hold', 'solved', 'closed')),
      priority text CHECK (priority IN ('urgent', 'high', 'normal', 'low')),
      type text CHECK (type IN ('problem', 'incident', 'question', 'task')),
      requester_id bigint NOT NULL,
      submitter_id bigint NOT NULL,
      assignee_id bigint,
      group_id bigint,
      organization_id bigint,
      external_id text,
      tags text[] NOT NULL DEFAULT '{}',
      -- How the ticket arrived: api, web (requests), email, … (Zendesk's via.channel).
      via_channel text NOT NULL DEFAULT 'api',
      recipient text,
      due_at timestamptz,
      -- True once any comment is public (Zendesk's is_public); kept on the row for lists.
      is_public boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      solved_at timestamptz,
      closed_at timestamptz,
      -- Soft delete (the Deleted tickets view): the ticket keeps its status for restore.
      deleted_at timestamptz,
      deleted_by_id bigint,
      PRIMARY KEY (account_id, id),
      CHECK (status <> 'closed' OR closed_at IS NOT NULL),
      FOREIGN KEY (account_id, requester_id) REFERENCES users (account_id, id),
      FOREIGN KEY (account_id, submitter_id) REFERENCES users (account_id, id),
      FOREIGN KEY (account_id, assignee_id) REFERENCES users (account_id, id) ON DELETE SET NULL (assignee_id),
      FOREIGN KEY (account_id, deleted_by_id) REFERENCES users (account_id, id) ON DELETE SET NULL (deleted_by_id),
      FOREIGN KEY (account_id, group_id) REFERENCES groups (account_id, id) ON DELETE SET NULL (group_id),
      FOREIGN KEY (account_id, organization_id) REFERENCES organizations (account_id, id) ON DELETE SET NULL (organization_id)
    )`.execute(db);
  // The list routes: each walks its own partial index in id order, live tickets only.
  await sql`CREATE INDEX tickets_requester ON tickets (account_id, requester_id, id) WHERE deleted_at IS NULL`.execute(db);
  await sql`CREATE INDEX tickets_assignee ON tickets (account_id, assignee_id, id) WHERE deleted_at IS NULL AND assignee_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX tickets_organization ON tickets (account_id, organization_id, id) WHERE deleted_at IS NULL AND organization_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX tickets_group ON tickets (account_id, group_id, id) WHERE deleted_at IS NULL AND group_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX tickets_external_id ON tickets (account_id, lower(external_id)) WHERE external_id IS NOT NULL`.execute(db);
  // The auto-close sweep looks only at solved tickets, oldest solve first.
  await sql`CREATE INDEX tickets_solved ON tickets (account_id, solved_at) WHERE status = 'solved' AND deleted_at IS NULL`.execute(db);
  await sql`CREATE INDEX tickets_deleted ON tickets (account_id, deleted_at, id) WHERE deleted_at IS NOT NULL`.execute(db);
  // "Requester on N tickets that are not closed" (user deletion) and merge move requesters.
  await sql`CREATE INDEX tickets_requester_any ON tickets (account_id, requester_id) WHERE status <> 'closed'`.execute(db);

  // CCs and followers (Zendesk's email_cc_ids / follower_ids; collaborator_ids is their union).
  await sql`
    CREATE TABLE ticket_collaborators (
      account_id bigint NOT NULL,
      ticket_id bigint NOT NULL,
      user_id bigint NOT NULL,
      kind text NOT NULL CHECK (kind IN ('email_cc', 'follower')),
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, ticket_id, kind, user_id),
      FOREIGN KEY (account_id, ticket_id) REFERENCES tickets (account_id, id) ON DELETE CASCADE,
      FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE
    )`.execute(db);
  await sql`CREATE INDEX ticket_collaborators_user ON ticket_collaborators (account_id, user_id, ticket_id)`.execute(db);

  await sql`
    CREATE TABLE ticket_comments (
      account_id bigint NOT NULL,
      id bigserial NOT NULL,
      ticket_id bigint NOT NULL,
      author_id bigint NOT NULL,
      body text NOT NULL,
      html_body text NOT NULL,
      plain_body text NOT NULL,
      public boolean NOT NULL DEFAULT true,
      via_channel text NOT NULL DEFAULT 'api',
      -- Redaction bookkeeping (no text): when the comment was last redacted.
      redacted_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, id),
      FOREIGN KEY (account_id, ticket_id) REFERENCES tickets (account_id, id) ON DELETE CASCADE,
      FOREIGN KEY (account_id, author_id) REFERENCES users (account_id, id)
    )`.execute(db);
  await sql`CREATE INDEX ticket_comments_ticket ON ticket_comments (account_id, ticket_id, id)`.execute(db);
  await sql`CREATE INDEX ticket_comments_author ON ticket_comments (account_id, author_id)`.execute(db);

  await sql`
    CREATE TABLE suspended_tickets (
      account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      id bigserial NOT NULL,
      -- Why: Zendesk's cause text and numeric cause id (e.g. 'Suspended user', …).
      cause text NOT NULL,
      cause_id integer NOT NULL,
      -- The known user, if any; name and email as the message gave them.
      author_id bigint,
      author_name text,
      author_email text,
      subject text NOT NULL DEFAULT '',
      content text NOT NULL DEFAULT '',
      recipient text,
      via_channel text NOT NULL DEFAULT 'web',
      message_id text,
      -- Whatever else the submission asked for (priority, type, tags, CC addresses, …), applied
      -- when the ticket is recovered.
      ticket_fields jsonb NOT NULL DEFAULT '{}',
      -- Set once recovered into a ticket (the suspended row is then removed or kept as history).
      ticket_id bigint,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, id),
      FOREIGN KEY (account_id, author_id) REFERENCES users (account_id, id) ON DELETE SET NULL (author_id),
      FOREIGN KEY (account_id, ticket_id) REFERENCES tickets (account_id, id) ON DELETE SET NULL (ticket_id)
    )`.execute(db);
  await sql`CREATE INDEX suspended_tickets_author ON suspended_tickets (account_id, author_id) WHERE author_id IS NOT NULL`.execute(db);

  // Uploaded files. An upload is created by POST /api/v2/uploads (comment_id NULL, found by its
  // token) and becomes a comment's attachment (or a suspended ticket's) when a comment names the
  // token. The bytes live in the storage backend under storage_key, never in the database.
  await sql`
    CREATE TABLE ticket_attachments (
      account_id bigint NOT NULL,
      id bigserial NOT NULL,
      token text NOT NULL,
      uploader_id bigint,
      ticket_id bigint,
      comment_id bigint,
      suspended_ticket_id bigint,
      file_name text NOT NULL,
      content_type text NOT NULL,
      size bigint NOT NULL,
      storage_key text NOT NULL,
      -- A redacted attachment is an empty redacted.txt and its old bytes are gone from storage.
      redacted boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, id),
      UNIQUE (account_id, token),
      FOREIGN KEY (account_id, uploader_id) REFERENCES users (account_id, id) ON DELETE SET NULL (uploader_id),
      FOREIGN KEY (account_id, ticket_id) REFERENCES tickets (account_id, id) ON DELETE CASCADE,
      FOREIGN KEY (account_id, comment_id) REFERENCES ticket_comments (account_id, id) ON DELETE CASCADE,
      FOREIGN KEY (account_id, suspended_ticket_id) REFERENCES suspended_tickets (account_id, id) ON DELETE CASCADE
    )`.execute(db);
  await sql`CREATE INDEX ticket_attachments_comment ON ticket_attachments (account_id, comment_id) WHERE comment_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX ticket_attachments_suspended ON ticket_attachments (account_id, suspended_ticket_id) WHERE suspended_ticket_id IS NOT NULL`.execute(db);
  // Unattached uploads expire: the clean-up walks them by age.
  await sql`CREATE INDEX ticket_attachments_unattached ON ticket_attachments (account_id, created_at) WHERE comment_id IS NULL AND suspended_ticket_id IS NULL`.execute(db);

  // What a permanently deleted ticket leaves for reporting: no text, no people, no files.
  await sql`
    CREATE TABLE deleted_ticket_records (
      account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      ticket_id bigint NOT NULL,
      status text NOT NULL,
      via_channel text NOT NULL,
      group_id bigint,
      ticket_created_at timestamptz NOT NULL,
      deleted_at timestamptz NOT NULL,
      purged_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, ticket_id)
    )`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('Migrations are immutable once landed; write a new one instead');
}

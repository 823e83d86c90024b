import { sql, type Kysely } from 'kysely';

// Every table carries account_id, and every key includes it (tenant isolation, Citus-ready).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE accounts (
      id bigserial PRIMARY KEY,
      subdomain text NOT NULL UNIQUE CHECK (subdomain ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
      name text NOT NULL,
      settings jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE users (
      account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      id bigserial NOT NULL,
      name text NOT NULL,
      role text NOT NULL CHECK (role IN ('end-user', 'agent', 'admin')),
      is_owner boolean NOT NULL DEFAULT false CHECK (NOT is_owner OR role = 'admin'),
      custom_role_id bigint,
      time_zone text,
      locale text NOT NULL DEFAULT 'en-US',
      organization_id bigint,
      external_id text,
      tags text[] NOT NULL DEFAULT '{}',
      alias text,
      details text,
      notes text,
      signature text,
      photo jsonb,
      shared_phone_number boolean,
      shared boolean NOT NULL DEFAULT false,
      shared_agent boolean NOT NULL DEFAULT false,
      active boolean NOT NULL DEFAULT true,
      suspended boolean NOT NULL DEFAULT false,
      moderator boolean NOT NULL DEFAULT false,
      only_private_comments boolean NOT NULL DEFAULT false,
      ticket_restriction text,
      restricted_agent boolean NOT NULL DEFAULT false,
      default_group_id bigint,
      report_csv boolean NOT NULL DEFAULT false,
      two_factor_auth_enabled boolean NOT NULL DEFAULT false,
      last_login_at timestamptz,
      password_hash text,
      user_fields jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      deleted_at timestamptz,
      PRIMARY KEY (account_id, id)
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX users_one_owner ON users (account_id) WHERE is_owner`.execute(db);
  await sql`CREATE UNIQUE INDEX users_external_id ON users (account_id, lower(external_id)) WHERE external_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX users_role ON users (account_id, role, id)`.execute(db);

  await sql`
    CREATE TABLE user_identities (
      account_id bigint NOT NULL,
      id bigserial NOT NULL,
      user_id bigint NOT NULL,
      type text NOT NULL CHECK (type IN ('email', 'phone_number', 'twitter', 'facebook', 'google')),
      value text NOT NULL,
      value_key text NOT NULL,
      "primary" boolean NOT NULL DEFAULT false,
      verified boolean NOT NULL DEFAULT false,
      verified_at timestamptz,
      verification_method text NOT NULL DEFAULT 'none',
      deliverable_state text NOT NULL DEFAULT 'deliverable',
      undeliverable_count integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, id),
      FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE
    )`.execute(db);
  // Phone numbers may be shared (a switchboard); every other identity belongs to one person.
  await sql`CREATE UNIQUE INDEX user_identities_value ON user_identities (account_id, type, value_key) WHERE type <> 'phone_number'`.execute(db);
  await sql`CREATE INDEX user_identities_phone ON user_identities (account_id, value_key) WHERE type = 'phone_number'`.execute(db);
  await sql`CREATE UNIQUE INDEX user_identities_one_primary ON user_identities (account_id, user_id, type) WHERE "primary"`.execute(db);
  await sql`CREATE INDEX user_identities_user ON user_identities (account_id, user_id, id)`.execute(db);

  await sql`
    CREATE TABLE api_tokens (
      account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      id bigserial NOT NULL,
      description text,
      token_hash text NOT NULL,
      token_hint text NOT NULL,
      active boolean NOT NULL DEFAULT true,
      created_by bigint,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, id),
      UNIQUE (account_id, token_hash)
    )`.execute(db);

  await sql`
    CREATE TABLE oauth_clients (
      account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      id bigserial NOT NULL,
      name text NOT NULL,
      identifier text NOT NULL,
      secret_hash text NOT NULL,
      user_id bigint,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, id),
      UNIQUE (account_id, identifier)
    )`.execute(db);

  await sql`
    CREATE TABLE oauth_tokens (
      account_id bigint NOT NULL,
      id bigserial NOT NULL,
      client_id bigint NOT NULL,
      user_id bigint NOT NULL,
      token_hash text NOT NULL,
      token_hint text NOT NULL,
      scopes text[] NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz,
      PRIMARY KEY (account_id, id),
      UNIQUE (account_id, token_hash),
      FOREIGN KEY (account_id, client_id) REFERENCES oauth_clients (account_id, id) ON DELETE CASCADE,
      FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE
    )`.execute(db);

  // Who did what to which record, and which fields changed: never the values themselves.
  await sql`
    CREATE TABLE audit_events (
      account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      id bigserial NOT NULL,
      actor_id bigint,
      action text NOT NULL,
      target_type text NOT NULL,
      target_id text NOT NULL,
      changed_fields text[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, id)
    )`.execute(db);
  await sql`CREATE INDEX audit_events_target ON audit_events (account_id, target_type, target_id)`.execute(db);

  await sql`
    CREATE TABLE job_statuses (
      account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      id text NOT NULL,
      seq bigserial NOT NULL,
      job_type text NOT NULL,
      status text NOT NULL CHECK (status IN ('queued', 'working', 'completed', 'failed')),
      total integer,
      progress integer NOT NULL DEFAULT 0,
      message text,
      results jsonb NOT NULL DEFAULT '[]',
      payload jsonb,
      actor_id bigint,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      completed_at timestamptz,
      PRIMARY KEY (account_id, id)
    )`.execute(db);
  await sql`CREATE INDEX job_statuses_open ON job_statuses (account_id) WHERE status IN ('queued', 'working')`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('The foundation migration cannot be reverted');
}

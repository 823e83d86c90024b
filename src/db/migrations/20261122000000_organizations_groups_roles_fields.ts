import { sql, type Kysely } from 'kysely';

/**
 * Organizations and their memberships, groups and theirs, custom agent roles, and custom field
 * definitions for users and organizations (DOMAIN.md §1). Same conventions as the foundation:
 * account_id leads every key; every foreign key carries it.
 *
 * `users.organization_id` and `users.default_group_id` stay on the user row as the *default*
 * membership's target (read on every user view, so kept beside the row rather than joined); the
 * membership tables are the truth, and the partial unique indexes below allow one default each.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE groups (
      account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      id bigserial NOT NULL,
      name text NOT NULL,
      description text NOT NULL DEFAULT '',
      is_public boolean NOT NULL DEFAULT true,
      is_default boolean NOT NULL DEFAULT false,
      deleted_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, id)
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX groups_one_default ON groups (account_id) WHERE is_default AND deleted_at IS NULL`.execute(db);

  await sql`
    CREATE TABLE group_memberships (
      account_id bigint NOT NULL,
      id bigserial NOT NULL,
      user_id bigint NOT NULL,
      group_id bigint NOT NULL,
      is_default boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, id),
      UNIQUE (account_id, user_id, group_id),
      FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE,
      FOREIGN KEY (account_id, group_id) REFERENCES groups (account_id, id) ON DELETE CASCADE
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX group_memberships_one_default ON group_memberships (account_id, user_id) WHERE is_default`.execute(db);
  await sql`CREATE INDEX group_memberships_group ON group_memberships (account_id, group_id, id)`.execute(db);

  // Zendesk's permission keys and Roster's own, as one JSON object (see src/roles/).
  await sql`
    CREATE TABLE custom_roles (
      account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      id bigserial NOT NULL,
      name text NOT NULL,
      description text NOT NULL DEFAULT '',
      role_type integer NOT NULL DEFAULT 0,
      configuration jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, id)
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX custom_roles_name ON custom_roles (account_id, lower(name))`.execute(db);

  await sql`
    CREATE TABLE organizations (
      account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      id bigserial NOT NULL,
      name text NOT NULL,
      details text,
      notes text,
      domain_names text[] NOT NULL DEFAULT '{}',
      tags text[] NOT NULL DEFAULT '{}',
      external_id text,
      group_id bigint,
      shared_tickets boolean NOT NULL DEFAULT false,
      shared_comments boolean NOT NULL DEFAULT false,
      organization_fields jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, id),
      FOREIGN KEY (account_id, group_id) REFERENCES groups (account_id, id) ON DELETE SET NULL (group_id)
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX organizations_name ON organizations (account_id, lower(name))`.execute(db);
  await sql`CREATE UNIQUE INDEX organizations_external_id ON organizations (account_id, lower(external_id)) WHERE external_id IS NOT NULL`.execute(db);
  // Domain look-ups on user create / email add: domains are stored lower-cased.
  await sql`CREATE INDEX organizations_domain_names ON organizations USING gin (domain_names)`.execute(db);

  await sql`
    CREATE TABLE organization_memberships (
      account_id bigint NOT NULL,
      id bigserial NOT NULL,
      user_id bigint NOT NULL,
      organization_id bigint NOT NULL,
      is_default boolean NOT NULL DEFAULT false,
      view_tickets boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, id),
      UNIQUE (account_id, user_id, organization_id),
      FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE,
      FOREIGN KEY (account_id, organization_id) REFERENCES organizations (account_id, id) ON DELETE CASCADE
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX organization_memberships_one_default ON organization_memberships (account_id, user_id) WHERE is_default`.execute(db);
  await sql`CREATE INDEX organization_memberships_organization ON organization_memberships (account_id, organization_id, id)`.execute(db);

  // One definition table for user fields and organization fields: same types, same validation.
  await sql`
    CREATE TABLE custom_fields (
      account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      id bigserial NOT NULL,
      owner text NOT NULL CHECK (owner IN ('user', 'organization')),
      key text NOT NULL,
      type text NOT NULL CHECK (type IN ('text', 'textarea', 'checkbox', 'date', 'integer', 'decimal', 'dropdown', 'regexp')),
      title text NOT NULL,
      description text NOT NULL DEFAULT '',
      position integer NOT NULL DEFAULT 0,
      active boolean NOT NULL DEFAULT true,
      regexp_for_validation text,
      tag text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, id),
      UNIQUE (account_id, owner, key)
    )`.execute(db);

  await sql`
    CREATE TABLE custom_field_options (
      account_id bigint NOT NULL,
      id bigserial NOT NULL,
      field_id bigint NOT NULL,
      name text NOT NULL,
      value text NOT NULL,
      position integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, id),
      UNIQUE (account_id, field_id, value),
      FOREIGN KEY (account_id, field_id) REFERENCES custom_fields (account_id, id) ON DELETE CASCADE
    )`.execute(db);

  // The user row's pointers to its defaults and its role, now that their tables exist.
  await sql`
    ALTER TABLE users
      ADD FOREIGN KEY (account_id, organization_id) REFERENCES organizations (account_id, id) ON DELETE SET NULL (organization_id),
      ADD FOREIGN KEY (account_id, default_group_id) REFERENCES groups (account_id, id) ON DELETE SET NULL (default_group_id),
      ADD FOREIGN KEY (account_id, custom_role_id) REFERENCES custom_roles (account_id, id) ON DELETE RESTRICT`.execute(db);
  await sql`CREATE INDEX users_organization ON users (account_id, organization_id, id) WHERE organization_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX users_custom_role ON users (account_id, custom_role_id) WHERE custom_role_id IS NOT NULL`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('Migrations are immutable once landed; write a new one instead');
}

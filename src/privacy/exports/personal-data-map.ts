/**
 * Where a person's data lives, in one declarative table — the personal-data export
 * (build-personal-export.ts) reads it to decide what to select and what to show, and the
 * completeness test (test/privacy-exports/completeness.test.ts) walks the database schema and
 * fails while any column that can hold a user id or a personal value is missing from it. A new
 * migration's column therefore cannot go unnoticed: it is exported, or excluded with a reason.
 *
 * Rules per column:
 * - 'export': the value is part of the export wherever a row of the table is.
 * - { finds: section }: a user reference; every row whose column holds the person is exported
 *   under `section` by one generic query (and the column is exported).
 * - { links: section }: a user reference the exporter follows with code of its own (tickets with
 *   their visible comments, memberships with names, …); the column is exported.
 * - { exportOnly: reason }: a user reference exported as a value on rows found otherwise, but not
 *   used to find rows — with the reason.
 * - { exclude: reason }: never exported, with the reason.
 *
 * Not walked: pg-boss's schema (`pgboss`, or `<schema>_boss`). Its job data carry ids only
 * ({ accountId, jobId }); the job's input lives in job_statuses.payload, which this table covers.
 */
export type GenericSection =
  | 'identities'
  | 'api_tokens_created'
  | 'oauth_clients'
  | 'oauth_tokens'
  | 'audit_events_by_them'
  | 'jobs_started'
  | 'comments_authored'
  | 'suspended_tickets'
  | 'suspensions'
  | 'deletion'
  | 'outbox_messages'
  | 'one_time_tokens'
  | 'data_exports'
  | 'erasure_receipts'
  | 'imports_started'
  | 'import_rows';

export type CustomSection = 'profile' | 'tickets' | 'attachments' | 'organization_memberships' | 'group_memberships' | 'audit_events_about_them' | 'merges';

export type ColumnRule = 'export' | { finds: GenericSection } | { links: CustomSection } | { exportOnly: string } | { exclude: string };

export interface TableRules {
  /** Order of exported rows (unique per account). */
  order: string[];
  columns: Record<string, ColumnRule>;
}

const ACCOUNT = { exclude: 'the tenant key: every row of the export is of this account' } as const;
const STAFF_ACTOR = (what: string) => ({ exportOnly: `the staff member who ${what}: an action on someone else's record; the actor's own actions are exported from audit_events` });
const SECRET_HASH = { exclude: 'a one-way hash of a secret: useless to the person and a risk if shown' } as const;
const TIMESTAMP = 'export' as const;

export const EXCLUDED_SCHEMAS: Record<string, string> = {
  pgboss: "pg-boss's queue tables: job data hold only { accountId, jobId }; inputs live in job_statuses.payload (covered)",
};

export const PERSONAL_DATA_MAP: Record<string, TableRules> = {
  accounts: {
    order: ['id'],
    columns: {
      subdomain: { exclude: 'the account, not a person' },
      name: { exclude: "the account's name, not a person" },
      settings: { exclude: 'account configuration, no personal values' },
      identifier_salt: { exclude: 'a secret key for identifier hashes' },
      inbound_mail_key: { exclude: 'a secret key for reply addresses' },
    },
  },
  users: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: { links: 'profile' },
      name: 'export', role: 'export', is_owner: 'export', custom_role_id: 'export', time_zone: 'export', locale: 'export',
      organization_id: 'export', external_id: 'export', tags: 'export', alias: 'export', details: 'export', notes: 'export',
      signature: 'export', photo: 'export', shared_phone_number: 'export', active: 'export', suspended: 'export',
      only_private_comments: 'export', ticket_restriction: 'export', restricted_agent: 'export', default_group_id: 'export',
      two_factor_auth_enabled: 'export', last_login_at: TIMESTAMP, created_at: TIMESTAMP, updated_at: TIMESTAMP, deleted_at: TIMESTAMP,
      user_fields: 'export',
      password_hash: SECRET_HASH,
    },
  },
  user_identities: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      user_id: { finds: 'identities' },
      type: 'export', value: 'export', primary: 'export', verified: 'export', verified_at: TIMESTAMP,
      verification_method: 'export', deliverable_state: 'export', undeliverable_count: 'export', created_at: TIMESTAMP, updated_at: TIMESTAMP,
      value_key: { exclude: 'a normalised copy of `value` for matching (exported as value)' },
    },
  },
  api_tokens: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      created_by: { finds: 'api_tokens_created' },
      description: 'export', active: 'export', created_at: TIMESTAMP,
      token_hash: SECRET_HASH,
      token_hint: { exclude: 'the first characters of a secret' },
    },
  },
  oauth_clients: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      user_id: { finds: 'oauth_clients' },
      name: 'export', identifier: 'export', created_at: TIMESTAMP,
      secret_hash: SECRET_HASH,
    },
  },
  oauth_tokens: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      client_id: 'export',
      user_id: { finds: 'oauth_tokens' },
      scopes: 'export', created_at: TIMESTAMP, expires_at: TIMESTAMP,
      token_hash: SECRET_HASH,
      token_hint: { exclude: 'the first characters of a secret' },
    },
  },
  audit_events: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      actor_id: { finds: 'audit_events_by_them' },
      target_id: { links: 'audit_events_about_them' },
      action: 'export', target_type: 'export', changed_fields: 'export', created_at: TIMESTAMP,
    },
  },
  job_statuses: {
    order: ['seq'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      actor_id: { finds: 'jobs_started' },
      job_type: 'export', status: 'export', total: 'export', progress: 'export', message: 'export', created_at: TIMESTAMP, completed_at: TIMESTAMP,
      results: { exclude: "per-item outcomes about other records (ids and error codes), not the starter's data" },
      payload: { exclude: 'the input of bulk work on other people; cleared as soon as the job ends' },
    },
  },
  groups: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      name: 'export',
      description: { exclude: 'describes the group, not a person' },
    },
  },
  group_memberships: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      user_id: { links: 'group_memberships' },
      group_id: 'export', is_default: 'export', created_at: TIMESTAMP,
    },
  },
  custom_roles: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      name: { exclude: "a role's definition (the person's role id is in the profile)" },
      description: { exclude: "a role's definition" },
      configuration: { exclude: "a role's permissions, no personal values" },
    },
  },
  organizations: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      name: 'export',
      details: { exclude: "the organization's own record, shared by its members; not one person's data" },
      notes: { exclude: "the organization's own record, shared by its members; not one person's data" },
      domain_names: { exclude: "the organization's domains, not a person's" },
      tags: { exclude: "the organization's tags, not a person's" },
      external_id: { exclude: "the organization's key in another system" },
      organization_fields: { exclude: "the organization's field values, not a person's" },
    },
  },
  organization_memberships: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      user_id: { links: 'organization_memberships' },
      organization_id: 'export', is_default: 'export', view_tickets: 'export', created_at: TIMESTAMP,
    },
  },
  custom_fields: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      key: 'export', type: 'export', title: 'export',
      owner: { exclude: 'a field definition' },
      description: { exclude: 'a field definition' },
      regexp_for_validation: { exclude: 'a field definition' },
      tag: { exclude: 'a field definition' },
    },
  },
  custom_field_options: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      name: { exclude: "a dropdown option's definition; the person's choice is in user_fields" },
      value: { exclude: "a dropdown option's definition; the person's choice is in user_fields" },
    },
  },
  tickets: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      requester_id: { links: 'tickets' },
      submitter_id: { links: 'tickets' },
      assignee_id: { exportOnly: "the agent assigned: the ticket is its requester's record and the account's work; the agent's own words are exported as comments_authored" },
      deleted_by_id: STAFF_ACTOR('deleted the ticket'),
      subject: 'export', status: 'export', priority: 'export', type: 'export', group_id: 'export', organization_id: 'export',
      external_id: 'export', tags: 'export', via_channel: 'export', recipient: 'export', due_at: TIMESTAMP, is_public: 'export',
      created_at: TIMESTAMP, updated_at: TIMESTAMP, solved_at: TIMESTAMP, closed_at: TIMESTAMP, deleted_at: TIMESTAMP,
    },
  },
  ticket_collaborators: {
    order: ['ticket_id', 'user_id', 'kind'],
    columns: {
      account_id: ACCOUNT,
      ticket_id: 'export',
      user_id: { links: 'tickets' },
      kind: 'export', created_at: TIMESTAMP,
    },
  },
  ticket_comments: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      ticket_id: 'export',
      author_id: { finds: 'comments_authored' },
      body: 'export', html_body: 'export', public: 'export', via_channel: 'export', redacted_at: TIMESTAMP, created_at: TIMESTAMP,
      plain_body: { exclude: 'a plain-text copy of body (exported)' },
    },
  },
  ticket_attachments: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      uploader_id: { links: 'attachments' },
      ticket_id: 'export', comment_id: 'export', suspended_ticket_id: 'export', file_name: 'export', content_type: 'export',
      size: 'export', redacted: 'export', created_at: TIMESTAMP,
      token: { exclude: 'an upload token: a secret that attaches the file to a comment' },
      storage_key: { exclude: 'where the bytes are stored; the export carries a signed download link instead' },
    },
  },
  suspended_tickets: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      author_id: { finds: 'suspended_tickets' },
      cause: 'export', cause_id: 'export', author_name: 'export', author_email: 'export', subject: 'export', content: 'export',
      recipient: 'export', via_channel: 'export', message_id: 'export', ticket_fields: 'export', ticket_id: 'export', created_at: TIMESTAMP,
    },
  },
  deleted_ticket_records: {
    order: ['ticket_id'],
    columns: {
      account_id: ACCOUNT,
      status: { exclude: 'the anonymous trace of a purged ticket: no person in it' },
      via_channel: { exclude: 'the anonymous trace of a purged ticket: no person in it' },
    },
  },
  user_suspensions: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      user_id: { finds: 'suspensions' },
      category: 'export', reason: 'export', suspended_at: TIMESTAMP, lifted_at: TIMESTAMP,
      suspended_by: STAFF_ACTOR('suspended the person'),
      lifted_by: STAFF_ACTOR('lifted the suspension'),
    },
  },
  user_deletions: {
    order: ['user_id'],
    columns: {
      account_id: ACCOUNT,
      user_id: { finds: 'deletion' },
      deleted_at: TIMESTAMP, purged_at: TIMESTAMP,
      deleted_by: STAFF_ACTOR('deleted the person'),
      stash: 'export',
    },
  },
  user_merges: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      source_id: { links: 'merges' },
      target_id: { links: 'merges' },
      merged_by: STAFF_ACTOR('merged the users'),
      merged_at: TIMESTAMP, undone_at: TIMESTAMP,
      snapshot: { exclude: "the undo copy holds BOTH users' data — another person's too; the merge itself is exported" },
    },
  },
  outbox_messages: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      user_id: { finds: 'outbox_messages' },
      identity_id: 'export', recipient: 'export', template: 'export', locale: 'export', status: 'export', suppression_reason: 'export',
      subject: 'export', text_body: 'export', html_body: 'export', attempts: 'export', last_error: 'export', message_id: 'export',
      created_at: TIMESTAMP, sent_at: TIMESTAMP,
    },
  },
  user_tokens: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      user_id: { finds: 'one_time_tokens' },
      identity_id: 'export', purpose: 'export', expires_at: TIMESTAMP, used_at: TIMESTAMP, created_at: TIMESTAMP,
      token_hash: SECRET_HASH,
    },
  },
  ticket_mail_messages: {
    order: ['message_id'],
    columns: {
      account_id: ACCOUNT,
      message_id: { exclude: "generated Message-IDs for threading a ticket's mail; the messages themselves are exported" },
    },
  },
  data_exports: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      subject_user_id: { finds: 'data_exports' },
      requested_by: STAFF_ACTOR('asked for the export'),
      kind: 'export', status: 'export', options: 'export', size: 'export', record_count: 'export', created_at: TIMESTAMP, completed_at: TIMESTAMP, expires_at: TIMESTAMP,
      job_id: { exclude: 'an internal job key' },
      storage_key: { exclude: "the export file's only encryption key" },
    },
  },
  erasure_requests: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      user_id: { finds: 'erasure_receipts' },
      actor_id: STAFF_ACTOR('asked for the erasure'),
      status: 'export', options: 'export', step: 'export', counts: 'export', created_at: TIMESTAMP, started_at: TIMESTAMP, completed_at: TIMESTAMP,
      job_id: { exclude: 'an internal job key' },
      identifier_hashes: { exclude: 'keyed hashes of erased identifiers: not readable, kept to suppress them' },
    },
  },
  suppressed_identifiers: {
    order: ['identifier_hash'],
    columns: {
      account_id: ACCOUNT,
      identifier_hash: { exclude: 'a keyed hash of a forgotten identifier: not linkable to anyone without the account key' },
    },
  },
  imports: {
    order: ['id'],
    columns: {
      account_id: ACCOUNT,
      id: 'export',
      actor_id: { finds: 'imports_started' },
      kind: 'export', status: 'export', dry_run: 'export', total: 'export', created_at: TIMESTAMP, completed_at: TIMESTAMP,
      job_id: { exclude: 'an internal job key' },
      file_path: { exclude: 'where an upload is kept while the import runs (cleared at its end)' },
      delimiter: { exclude: "a CSV file's format" },
      columns: { exclude: "a CSV file's header names, not values" },
      salt: { exclude: 'a secret key for the in-file duplicate hashes' },
    },
  },
  import_rows: {
    order: ['import_id', 'row_number'],
    columns: {
      account_id: ACCOUNT,
      import_id: 'export', row_number: 'export',
      user_id: { finds: 'import_rows' },
      status: 'export', error: 'export', columns: 'export', description: 'export',
    },
  },
  import_keys: {
    order: ['import_id', 'key'],
    columns: {
      account_id: ACCOUNT,
      key: { exclude: 'a keyed hash of an identifier in a running import; deleted when it ends' },
    },
  },
  kysely_migration: {
    order: ['name'],
    columns: {
      name: { exclude: 'schema bookkeeping' },
      timestamp: { exclude: 'schema bookkeeping' },
    },
  },
  kysely_migration_lock: {
    order: ['id'],
    columns: {
      id: { exclude: 'schema bookkeeping' },
    },
  },
};

/** The exported columns of a table: 'export', finds, links and exportOnly. */
export function exportedColumns(table: string): string[] {
  const rules = PERSONAL_DATA_MAP[table];
  if (!rules) throw new Error(`No personal-data rules for ${table}`);
  return Object.entries(rules.columns)
    .filter(([, rule]) => rule === 'export' || !('exclude' in rule))
    .map(([column]) => column);
}

/** The generic sections: for each, the table and the user-reference column that finds its rows. */
export function genericSections(): Array<{ section: GenericSection; table: string; column: string }> {
  const found: Array<{ section: GenericSection; table: string; column: string }> = [];
  for (const [table, rules] of Object.entries(PERSONAL_DATA_MAP)) {
    for (const [column, rule] of Object.entries(rules.columns)) {
      if (rule !== 'export' && 'finds' in rule) found.push({ section: rule.finds, table, column });
    }
  }
  return found;
}

/**
 * A row as the export shows it: only the exported columns, dates as ISO 8601 strings. Anything
 * the table does not list is dropped — a column added later stays out until it is classified.
 */
export function project(table: string, row: Record<string, unknown>): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const column of exportedColumns(table)) {
    if (!(column in row)) continue;
    const value = row[column];
    shown[column] = value instanceof Date ? value.toISOString() : value;
  }
  return shown;
}

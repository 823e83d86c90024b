import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string | undefined, string>;

export type Role = 'end-user' | 'agent' | 'admin';
export const identityTypes = ['email', 'phone_number', 'twitter', 'facebook', 'google'] as const;
export type IdentityType = (typeof identityTypes)[number];

export interface AccountSettings {
  /** Refuse to create a user without an email address (seed 001 comments). */
  require_email_on_create?: boolean;
  /** Days after which a solved ticket is closed by the auto-close sweep (default 4). */
  auto_close_after_days?: number;
  /** Anonymous visitors may submit requests with a name and email (default false). */
  anonymous_requests?: boolean;
  /** Days after a soft delete when the user is permanently deleted (default 30). */
  user_purge_after_days?: number;
  /** Soft-deleted users and merges can be restored until the purge (default true). */
  user_restore_window?: boolean;
  /** A forgotten (erased) person who writes in again: a new profile (default) or a suspended ticket. */
  forgotten_identity_policy?: 'new_profile' | 'suspend';
  /** Send a welcome email when an agent or admin creates a user (default true; needs help_center_enabled). */
  welcome_email_on_agent_create?: boolean;
  /** The Help Center is on: sign-up and the pages mail links open (default true). */
  help_center_enabled?: boolean;
  /** The account's language (default en-US): new users get it; mail falls back to it. */
  locale?: string;
  [key: string]: unknown;
}

export interface AccountsTable {
  id: Generated<number>;
  subdomain: string;
  name: string;
  settings: Json<AccountSettings>;
  /** Random key for identifier hashes (erasure receipts, suppression); set on first use. */
  identifier_salt: string | null;
  /** Random key for the ticket tokens in inbound reply addresses (src/mail/inbound); set on first use. */
  inbound_mail_key: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface UsersTable {
  account_id: number;
  id: Generated<number>;
  name: string;
  role: Role;
  is_owner: Generated<boolean>;
  custom_role_id: number | null;
  time_zone: string | null;
  locale: Generated<string>;
  organization_id: number | null;
  external_id: string | null;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  alias: string | null;
  details: string | null;
  notes: string | null;
  signature: string | null;
  photo: Json<Record<string, unknown> | null> | null;
  shared_phone_number: boolean | null;
  shared: Generated<boolean>;
  shared_agent: Generated<boolean>;
  active: Generated<boolean>;
  suspended: Generated<boolean>;
  moderator: Generated<boolean>;
  only_private_comments: Generated<boolean>;
  ticket_restriction: string | null;
  restricted_agent: Generated<boolean>;
  default_group_id: number | null;
  report_csv: Generated<boolean>;
  two_factor_auth_enabled: Generated<boolean>;
  last_login_at: NullableTimestamp;
  password_hash: string | null;
  user_fields: Json<Record<string, unknown>>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  deleted_at: NullableTimestamp;
}

export interface UserIdentitiesTable {
  account_id: number;
  id: Generated<number>;
  user_id: number;
  type: IdentityType;
  value: string;
  /** The value as it is matched: lower-cased emails and handles, digits-only phones. */
  value_key: string;
  primary: Generated<boolean>;
  verified: Generated<boolean>;
  verified_at: NullableTimestamp;
  verification_method: Generated<string>;
  deliverable_state: Generated<string>;
  undeliverable_count: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface ApiTokensTable {
  account_id: number;
  id: Generated<number>;
  description: string | null;
  token_hash: string;
  token_hint: string;
  active: Generated<boolean>;
  created_by: number | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface OauthClientsTable {
  account_id: number;
  id: Generated<number>;
  name: string;
  identifier: string;
  secret_hash: string;
  user_id: number | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface OauthTokensTable {
  account_id: number;
  id: Generated<number>;
  client_id: number;
  user_id: number;
  token_hash: string;
  token_hint: string;
  scopes: ColumnType<string[], string[], string[]>;
  created_at: Generated<Date>;
  expires_at: NullableTimestamp;
}

export interface AuditEventsTable {
  account_id: number;
  id: Generated<number>;
  actor_id: number | null;
  action: string;
  target_type: string;
  target_id: string;
  changed_fields: ColumnType<string[], string[] | undefined, string[]>;
  created_at: Generated<Date>;
}

export type JobState = 'queued' | 'working' | 'completed' | 'failed';

export interface JobStatusesTable {
  account_id: number;
  id: string;
  /** Creation order, for cursor pagination (ids are random). */
  seq: Generated<number>;
  job_type: string;
  status: JobState;
  total: number | null;
  progress: Generated<number>;
  message: string | null;
  results: Json<unknown[]>;
  /** The job's input; cleared as soon as the job ends so no personal data outlives it. */
  payload: Json<unknown> | null;
  actor_id: number | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  completed_at: NullableTimestamp;
}

export interface GroupsTable {
  account_id: number;
  id: Generated<number>;
  name: string;
  description: Generated<string>;
  is_public: Generated<boolean>;
  is_default: Generated<boolean>;
  deleted_at: NullableTimestamp;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface GroupMembershipsTable {
  account_id: number;
  id: Generated<number>;
  user_id: number;
  group_id: number;
  is_default: Generated<boolean>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface CustomRolesTable {
  account_id: number;
  id: Generated<number>;
  name: string;
  description: Generated<string>;
  role_type: Generated<number>;
  configuration: Json<Record<string, unknown>>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface OrganizationsTable {
  account_id: number;
  id: Generated<number>;
  name: string;
  details: string | null;
  notes: string | null;
  /** Lower-cased. */
  domain_names: ColumnType<string[], string[] | undefined, string[]>;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  external_id: string | null;
  group_id: number | null;
  shared_tickets: Generated<boolean>;
  shared_comments: Generated<boolean>;
  organization_fields: Json<Record<string, unknown>>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface OrganizationMembershipsTable {
  account_id: number;
  id: Generated<number>;
  user_id: number;
  organization_id: number;
  is_default: Generated<boolean>;
  view_tickets: Generated<boolean>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type CustomFieldOwner = 'user' | 'organization';
export const customFieldTypes = ['text', 'textarea', 'checkbox', 'date', 'integer', 'decimal', 'dropdown', 'regexp'] as const;
export type CustomFieldType = (typeof customFieldTypes)[number];

export interface CustomFieldsTable {
  account_id: number;
  id: Generated<number>;
  owner: CustomFieldOwner;
  key: string;
  type: CustomFieldType;
  title: string;
  description: Generated<string>;
  position: Generated<number>;
  active: Generated<boolean>;
  regexp_for_validation: string | null;
  tag: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface CustomFieldOptionsTable {
  account_id: number;
  id: Generated<number>;
  field_id: number;
  name: string;
  value: string;
  position: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export const ticketStatuses = ['new', 'open', 'pending', 'hold', 'solved', 'closed'] as const;
export type TicketStatus = (typeof ticketStatuses)[number];
export const ticketPriorities = ['urgent', 'high', 'normal', 'low'] as const;
export type TicketPriority = (typeof ticketPriorities)[number];
export const ticketTypes = ['problem', 'incident', 'question', 'task'] as const;
export type TicketType = (typeof ticketTypes)[number];
export type CollaboratorKind = 'email_cc' | 'follower';

export interface TicketsTable {
  account_id: number;
  id: Generated<number>;
  subject: Generated<string>;
  status: ColumnType<TicketStatus, TicketStatus | undefined, TicketStatus>;
  priority: TicketPriority | null;
  type: TicketType | null;
  requester_id: number;
  submitter_id: number;
  assignee_id: number | null;
  group_id: number | null;
  organization_id: number | null;
  external_id: string | null;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  /** How the ticket arrived (Zendesk's via.channel): api, web, email, … */
  via_channel: Generated<string>;
  recipient: string | null;
  due_at: NullableTimestamp;
  is_public: Generated<boolean>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  solved_at: NullableTimestamp;
  closed_at: NullableTimestamp;
  deleted_at: NullableTimestamp;
  deleted_by_id: number | null;
}

export interface TicketCollaboratorsTable {
  account_id: number;
  ticket_id: number;
  user_id: number;
  kind: CollaboratorKind;
  created_at: Generated<Date>;
}

export interface TicketCommentsTable {
  account_id: number;
  id: Generated<number>;
  ticket_id: number;
  author_id: number;
  body: string;
  html_body: string;
  plain_body: string;
  public: Generated<boolean>;
  via_channel: Generated<string>;
  redacted_at: NullableTimestamp;
  created_at: Generated<Date>;
}

export interface TicketAttachmentsTable {
  account_id: number;
  id: Generated<number>;
  token: string;
  uploader_id: number | null;
  ticket_id: number | null;
  comment_id: number | null;
  suspended_ticket_id: number | null;
  file_name: string;
  content_type: string;
  size: number;
  storage_key: string;
  redacted: Generated<boolean>;
  created_at: Generated<Date>;
}

export interface SuspendedTicketsTable {
  account_id: number;
  id: Generated<number>;
  cause: string;
  cause_id: number;
  author_id: number | null;
  author_name: string | null;
  author_email: string | null;
  subject: Generated<string>;
  content: Generated<string>;
  recipient: string | null;
  via_channel: Generated<string>;
  message_id: string | null;
  ticket_fields: Json<Record<string, unknown>>;
  ticket_id: number | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** The anonymous trace of a permanently deleted ticket: no text, no people. */
export interface DeletedTicketRecordsTable {
  account_id: number;
  ticket_id: number;
  status: string;
  via_channel: string;
  group_id: number | null;
  ticket_created_at: Date;
  deleted_at: Date;
  purged_at: Generated<Date>;
}

/** A suspension and its reason (src/lifecycle/suspend-user.ts); the reason is never copied into the audit log. */
export interface UserSuspensionsTable {
  account_id: number;
  id: Generated<number>;
  user_id: number;
  category: string;
  reason: string | null;
  suspended_by: number | null;
  suspended_at: Generated<Date>;
  lifted_by: number | null;
  lifted_at: NullableTimestamp;
}

/** A soft deletion (src/lifecycle/soft-delete-user.ts); `stash` holds what a restore puts back. */
export interface UserDeletionsTable {
  account_id: number;
  user_id: number;
  deleted_at: Date;
  deleted_by: number | null;
  stash: Json<unknown> | null;
  purged_at: NullableTimestamp;
}

/** A merge with its undo snapshot (src/lifecycle/merge-users.ts). */
export interface UserMergesTable {
  account_id: number;
  id: Generated<number>;
  source_id: number;
  target_id: number;
  merged_by: number | null;
  merged_at: Date;
  snapshot: Json<unknown> | null;
  undone_at: NullableTimestamp;
}

export const outboxStatuses = ['queued', 'sent', 'failed', 'suppressed'] as const;
export type OutboxStatus = (typeof outboxStatuses)[number];

/** An outbound message (GET /api/v2/outbox); jobs carry its id only. */
export interface OutboxMessagesTable {
  account_id: number;
  id: Generated<number>;
  user_id: number | null;
  identity_id: number | null;
  recipient: string;
  template: string;
  locale: string;
  status: ColumnType<OutboxStatus, OutboxStatus | undefined, OutboxStatus>;
  suppression_reason: string | null;
  subject: string;
  text_body: string;
  html_body: string;
  attempts: Generated<number>;
  last_error: string | null;
  message_id: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  sent_at: NullableTimestamp;
}

export type UserTokenPurpose = 'set_password' | 'verify_identity' | 'reset_password';

/** A one-time link's token, hashed. */
export interface UserTokensTable {
  account_id: number;
  id: Generated<number>;
  user_id: number;
  identity_id: number | null;
  purpose: UserTokenPurpose;
  token_hash: string;
  expires_at: Date;
  used_at: NullableTimestamp;
  created_at: Generated<Date>;
}

/** Message-IDs of a ticket's mail, for threading replies. */
export interface TicketMailMessagesTable {
  account_id: number;
  message_id: string;
  ticket_id: number;
  comment_id: number | null;
  created_at: Generated<Date>;
}

export type DataExportKind = 'personal_data' | 'users';
export type DataExportStatus = 'queued' | 'working' | 'completed' | 'failed' | 'expired' | 'deleted';

/** A personal-data or users export file (DATA_DIR/exports) and its job. */
export interface DataExportsTable {
  account_id: number;
  id: Generated<number>;
  kind: DataExportKind;
  subject_user_id: number | null;
  requested_by: number | null;
  job_id: string | null;
  status: ColumnType<DataExportStatus, DataExportStatus | undefined, DataExportStatus>;
  options: Json<Record<string, unknown>>;
  storage_key: string | null;
  size: number | null;
  record_count: number | null;
  created_at: Generated<Date>;
  completed_at: NullableTimestamp;
  expires_at: NullableTimestamp;
}

export type ErasureStatus = 'queued' | 'working' | 'completed' | 'failed';

/** A forget-user request, its progress and its receipt. */
export interface ErasureRequestsTable {
  account_id: number;
  id: Generated<number>;
  user_id: number;
  actor_id: number | null;
  job_id: string | null;
  status: ColumnType<ErasureStatus, ErasureStatus | undefined, ErasureStatus>;
  options: Json<Record<string, unknown>>;
  step: string | null;
  counts: Json<Record<string, number>>;
  identifier_hashes: ColumnType<string[], string[] | undefined, string[]>;
  created_at: Generated<Date>;
  started_at: NullableTimestamp;
  completed_at: NullableTimestamp;
}

/** A forgotten identifier's keyed hash (suppression). */
export interface SuppressedIdentifiersTable {
  account_id: number;
  identifier_hash: string;
  erasure_id: number | null;
  created_at: Generated<Date>;
}

export interface DB {
  accounts: AccountsTable;
  users: UsersTable;
  user_identities: UserIdentitiesTable;
  api_tokens: ApiTokensTable;
  oauth_clients: OauthClientsTable;
  oauth_tokens: OauthTokensTable;
  audit_events: AuditEventsTable;
  job_statuses: JobStatusesTable;
  groups: GroupsTable;
  group_memberships: GroupMembershipsTable;
  custom_roles: CustomRolesTable;
  organizations: OrganizationsTable;
  organization_memberships: OrganizationMembershipsTable;
  custom_fields: CustomFieldsTable;
  custom_field_options: CustomFieldOptionsTable;
  tickets: TicketsTable;
  ticket_collaborators: TicketCollaboratorsTable;
  ticket_comments: TicketCommentsTable;
  ticket_attachments: TicketAttachmentsTable;
  suspended_tickets: SuspendedTicketsTable;
  deleted_ticket_records: DeletedTicketRecordsTable;
  user_suspensions: UserSuspensionsTable;
  user_deletions: UserDeletionsTable;
  user_merges: UserMergesTable;
  outbox_messages: OutboxMessagesTable;
  user_tokens: UserTokensTable;
  ticket_mail_messages: TicketMailMessagesTable;
  data_exports: DataExportsTable;
  erasure_requests: ErasureRequestsTable;
  suppressed_identifiers: SuppressedIdentifiersTable;
}

export type Account = Selectable<AccountsTable>;
export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type IdentityRow = Selectable<UserIdentitiesTable>;
export type JobStatusRow = Selectable<JobStatusesTable>;
export type GroupRow = Selectable<GroupsTable>;
export type GroupMembershipRow = Selectable<GroupMembershipsTable>;
export type CustomRoleRow = Selectable<CustomRolesTable>;
export type OrganizationRow = Selectable<OrganizationsTable>;
export type OrganizationMembershipRow = Selectable<OrganizationMembershipsTable>;
export type CustomFieldRow = Selectable<CustomFieldsTable>;
export type CustomFieldOptionRow = Selectable<CustomFieldOptionsTable>;
export type TicketRow = Selectable<TicketsTable>;
export type TicketCommentRow = Selectable<TicketCommentsTable>;
export type TicketAttachmentRow = Selectable<TicketAttachmentsTable>;
export type SuspendedTicketRow = Selectable<SuspendedTicketsTable>;
export type DeletedTicketRecordRow = Selectable<DeletedTicketRecordsTable>;

import type { Role } from '../db/tables.ts';
import { errors, type ErrorDetails } from '../http/errors.ts';

/**
 * What an actor may do, resolved once per request from the role (and the custom role's
 * `configuration`). Keys are Zendesk's where Zendesk has one, and Roster's own for what Zendesk
 * cannot express (DOMAIN.md §1). The policy module (src/policy/policy.ts) reads only this.
 */
export interface Permissions {
  /** What the agent can do with end-user profiles: `full` adds create, delete and merge to `edit`. */
  end_user_profile_access: EndUserProfileAccess;
  /** `none`: no user lists (list, count, show_many, search). */
  end_user_list_access: 'full' | 'none';
  /** Anything but `all` makes a restricted agent. */
  ticket_access: TicketAccess;
  ticket_deletion: boolean;
  view_deleted_tickets: boolean;
  organization_editing: boolean;
  manage_user_fields: boolean;
  manage_organization_fields: boolean;
  /** Add or modify groups and group memberships. */
  group_access: boolean;
  /** Roster: delete end users, separately from editing them (defaults to true with `full`). */
  end_user_deletion: boolean;
  view_deleted_users: boolean;
  export_personal_data: boolean;
  redact: boolean;
  erase_users: boolean;
  /** create_many / update_many / destroy_many and other jobs over many records. */
  bulk_actions: boolean;
  /** Roster: a restricted agent may still create and edit end users (seed 001 comments). */
  create_end_users_when_restricted: boolean;
}

export type PermissionKey = keyof Permissions;
export const END_USER_PROFILE_ACCESS = ['readonly', 'edit', 'edit-within-org', 'full'] as const;
export type EndUserProfileAccess = (typeof END_USER_PROFILE_ACCESS)[number];
export const TICKET_ACCESS = ['all', 'within-groups', 'within-groups-and-public-groups', 'within-organization', 'assigned-only'] as const;
export type TicketAccess = (typeof TICKET_ACCESS)[number];

type Spec = { kind: 'boolean' } | { kind: 'enum'; values: readonly string[] };
const BOOLEAN: Spec = { kind: 'boolean' };
const oneOf = (...values: string[]): Spec => ({ kind: 'enum', values });

/** The keys Roster enforces, with their allowed values. */
const PERMISSION_SPECS: Record<PermissionKey, Spec> = {
  end_user_profile_access: { kind: 'enum', values: END_USER_PROFILE_ACCESS },
  end_user_list_access: oneOf('full', 'none'),
  ticket_access: { kind: 'enum', values: TICKET_ACCESS },
  ticket_deletion: BOOLEAN,
  view_deleted_tickets: BOOLEAN,
  organization_editing: BOOLEAN,
  manage_user_fields: BOOLEAN,
  manage_organization_fields: BOOLEAN,
  group_access: BOOLEAN,
  end_user_deletion: BOOLEAN,
  view_deleted_users: BOOLEAN,
  export_personal_data: BOOLEAN,
  redact: BOOLEAN,
  erase_users: BOOLEAN,
  bulk_actions: BOOLEAN,
  create_end_users_when_restricted: BOOLEAN,
};

/**
 * Zendesk's other configuration keys (chat, Guide, macros, …): accepted and stored so a
 * configuration copied from Zendesk round-trips, but they govern features Roster does not have.
 * `ticket_comment_access: none` does show as the user's `only_private_comments`.
 */
const ZENDESK_ONLY_SPECS: Record<string, Spec> = {
  assign_tickets_to_any_group: BOOLEAN,
  chat_access: BOOLEAN,
  explore_access: oneOf('edit', 'full', 'none', 'readonly'),
  forum_access: oneOf('edit-topics', 'full', 'readonly'),
  forum_access_restricted_content: BOOLEAN,
  light_agent: BOOLEAN,
  macro_access: oneOf('full', 'manage-group', 'manage-personal', 'readonly'),
  manage_business_rules: BOOLEAN,
  manage_contextual_workspaces: BOOLEAN,
  manage_dynamic_content: BOOLEAN,
  manage_extensions_and_channels: BOOLEAN,
  manage_facebook: BOOLEAN,
  manage_ticket_fields: BOOLEAN,
  manage_ticket_forms: BOOLEAN,
  moderate_forums: BOOLEAN,
  organization_notes_editing: BOOLEAN,
  report_access: oneOf('full', 'none', 'readonly'),
  side_conversation_create: BOOLEAN,
  ticket_comment_access: oneOf('public', 'none'),
  ticket_editing: BOOLEAN,
  ticket_merge: BOOLEAN,
  ticket_tag_editing: BOOLEAN,
  twitter_search_access: BOOLEAN,
  user_view_access: oneOf('full', 'manage-group', 'manage-personal', 'none', 'readonly'),
  view_access: oneOf('full', 'manage-group', 'manage-personal', 'playonly', 'readonly'),
  voice_access: BOOLEAN,
  voice_dashboard_access: BOOLEAN,
};

export const PERMISSION_KEYS = Object.keys(PERMISSION_SPECS) as PermissionKey[];

/** Admins: everything. */
export const ADMIN_PERMISSIONS: Readonly<Permissions> = Object.freeze({
  end_user_profile_access: 'full',
  end_user_list_access: 'full',
  ticket_access: 'all',
  ticket_deletion: true,
  view_deleted_tickets: true,
  organization_editing: true,
  manage_user_fields: true,
  manage_organization_fields: true,
  group_access: true,
  end_user_deletion: true,
  view_deleted_users: true,
  export_personal_data: true,
  redact: true,
  erase_users: true,
  bulk_actions: true,
  create_end_users_when_restricted: true,
});

/**
 * An agent without a custom role: Zendesk's standard agent on a plan without custom roles —
 * sees every ticket, adds, edits and deletes end users (seed 000: "Why Agents need to have that
 * option?"), edits organizations, bulk-updates users. Account configuration (fields, groups)
 * and the privacy tools (export, redaction, erasure, the deleted-users list) stay with admins
 * until a custom role grants them.
 */
export const DEFAULT_AGENT_PERMISSIONS: Readonly<Permissions> = Object.freeze({
  end_user_profile_access: 'full',
  end_user_list_access: 'full',
  ticket_access: 'all',
  ticket_deletion: true,
  view_deleted_tickets: true,
  organization_editing: true,
  manage_user_fields: false,
  manage_organization_fields: false,
  group_access: false,
  end_user_deletion: true,
  view_deleted_users: false,
  export_personal_data: false,
  redact: false,
  erase_users: false,
  bulk_actions: true,
  create_end_users_when_restricted: false,
});

/** End users (and anything unknown): no staff permission at all. */
export const NO_PERMISSIONS: Readonly<Permissions> = Object.freeze({
  end_user_profile_access: 'readonly',
  end_user_list_access: 'none',
  ticket_access: 'assigned-only',
  ticket_deletion: false,
  view_deleted_tickets: false,
  organization_editing: false,
  manage_user_fields: false,
  manage_organization_fields: false,
  group_access: false,
  end_user_deletion: false,
  view_deleted_users: false,
  export_personal_data: false,
  redact: false,
  erase_users: false,
  bulk_actions: false,
  create_end_users_when_restricted: false,
});

function valid(spec: Spec, value: unknown): boolean {
  return spec.kind === 'boolean' ? typeof value === 'boolean' : typeof value === 'string' && spec.values.includes(value);
}

/**
 * The permissions of one user. A custom role's stored configuration is complete (see
 * `parseConfiguration`), but it is read defensively: a key missing or malformed in the stored
 * JSON falls back to the default agent's value rather than granting anything new.
 */
export function resolvePermissions(role: Role, customRoleConfiguration: unknown): Permissions {
  if (role === 'admin') return ADMIN_PERMISSIONS;
  if (role !== 'agent') return NO_PERMISSIONS;
  if (customRoleConfiguration === null || typeof customRoleConfiguration !== 'object') return DEFAULT_AGENT_PERMISSIONS;
  const stored = customRoleConfiguration as Record<string, unknown>;
  const permissions: Record<string, unknown> = { ...DEFAULT_AGENT_PERMISSIONS };
  for (const key of PERMISSION_KEYS) {
    if (valid(PERMISSION_SPECS[key], stored[key])) permissions[key] = stored[key];
  }
  if (!valid(BOOLEAN, stored.end_user_deletion)) permissions.end_user_deletion = permissions.end_user_profile_access === 'full';
  return permissions as unknown as Permissions;
}

/** Restricted agent: ticket access other than all (Zendesk's `restricted_agent`). */
export function isRestricted(permissions: Permissions): boolean {
  return permissions.ticket_access !== 'all';
}

/**
 * Validates a role `configuration` from the API and completes it: keys not sent keep their
 * `previous` value (on update) or the default agent's (on create); `end_user_deletion`, unless
 * sent, follows `end_user_profile_access: full`. Unknown keys and values are a 422 naming the key.
 */
export function parseConfiguration(raw: unknown, previous?: Record<string, unknown>): Record<string, boolean | string> {
  if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) {
    throw errors.field('configuration', 'InvalidValue', 'Configuration must be an object of permission keys to values');
  }
  const input = (raw ?? {}) as Record<string, unknown>;
  const details: ErrorDetails = {};
  for (const [key, value] of Object.entries(input)) {
    const spec = (PERMISSION_SPECS as Record<string, Spec>)[key] ?? ZENDESK_ONLY_SPECS[key];
    if (!spec) {
      (details[`configuration.${/^[a-z_]{1,64}$/.test(key) ? key : 'key'}`] ??= []).push({ error: 'InvalidValue', description: 'is not a custom role permission' });
    } else if (!valid(spec, value)) {
      const expected = spec.kind === 'boolean' ? 'true or false' : `one of ${spec.values.join(', ')}`;
      (details[`configuration.${key}`] ??= []).push({ error: 'InvalidValue', description: `must be ${expected}` });
    }
  }
  if (Object.keys(details).length > 0) throw errors.invalid(details);

  const base = resolvePermissions('agent', previous ?? null);
  const result: Record<string, boolean | string> = {};
  for (const [key, value] of Object.entries(previous ?? {})) {
    if (ZENDESK_ONLY_SPECS[key] && valid(ZENDESK_ONLY_SPECS[key], value)) result[key] = value as boolean | string;
  }
  Object.assign(result, base, input);
  if (!Object.hasOwn(input, 'end_user_deletion') && Object.hasOwn(input, 'end_user_profile_access')) {
    result.end_user_deletion = input.end_user_profile_access === 'full';
  }
  // Deletion is part of `full` profile access; a narrower access cannot delete.
  if (result.end_user_profile_access !== 'full') result.end_user_deletion = false;
  return result;
}

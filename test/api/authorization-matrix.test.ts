import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAccount } from '../../src/accounts/bootstrap.ts';
import { issueApiToken } from '../../src/auth/api-tokens.ts';
import { exportFilesFor } from '../../src/privacy/exports/export-files.ts';
import { signLink } from '../../src/privacy/exports/signed-links.ts';
import { issueToken } from '../../src/mail/tokens.ts';
import { basic, createTestApp, OWNER_EMAIL, type Caller, type TestApp } from '../helpers.ts';

/**
 * The authorization matrix: every route, called by every kind of caller, answers the status in
 * its cell. One row per route (its Fastify pattern, how to fill the pattern, an optional body,
 * and the eight expected statuses); a later feature adds its rows here, and the last test
 * fails while a registered route has no row.
 *
 * Columns:
 * - anonymous: no credentials
 * - endUser: an end user
 * - restricted: an agent whose custom role limits ticket access to their groups (seed 001)
 * - agent: a plain agent (Zendesk's standard agent permissions)
 * - limited: an agent whose custom role lacks every optional permission (readonly profiles, no
 *   user lists, no bulk actions, no organization editing, no groups, no fields)
 * - admin: an admin who is not the owner
 * - owner: the account owner
 * - foreignAdmin: an admin of another account, on that account's host, aiming at this account's ids
 *
 * Ids in paths are the default account's: the foreign admin must see 404 for each one (or an
 * empty list of their own account), never this account's data. Destructive rows build a fresh
 * target per cell so the cells stay independent.
 */

const WHO = ['anonymous', 'endUser', 'restricted', 'agent', 'limited', 'admin', 'owner', 'foreignAdmin'] as const;
type Who = (typeof WHO)[number];
type Statuses = [number, number, number, number, number, number, number, number];

interface Fixture {
  callers: Record<Exclude<Who, 'anonymous'>, Caller>;
  /** An end user the rows act upon, with a secondary email identity. */
  target: number;
  targetIdentity: number;
  /** An agent in `group`, whose membership is `membership`. */
  member: number;
  group: number;
  membership: number;
  role: number;
  userField: number;
  userFieldOption: number;
  organizationField: number;
  organization: number;
  /** The organization membership of `target` in `organization`. */
  organizationMembership: number;
  job: string;
  oauthClient: number;
  fresh: {
    name(prefix: string): string;
    endUser(): Promise<number>;
    agent(): Promise<number>;
    identity(userId: number): Promise<number>;
    group(): Promise<number>;
    membership(): Promise<number>;
    role(): Promise<number>;
    field(kind: 'user' | 'organization'): Promise<number>;
    option(): Promise<number>;
    apiToken(): Promise<number>;
    oauthClient(): Promise<number>;
    oauthToken(): Promise<number>;
    organization(): Promise<number>;
    /** A membership of `target` in a fresh organization. */
    organizationMembership(): Promise<{ membership: number; organization: number }>;
    /** A ticket in no group, requested by the owner. */
    ticket(): Promise<number>;
    /** An unattached upload of the owner's: its token. */
    upload(): Promise<string>;
    /** A ticket of the owner's and its first comment. */
    comment(): Promise<{ ticket: number; comment: number }>;
    /** A ticket with an attachment on its first comment. */
    attachment(): Promise<{ ticket: number; comment: number; attachment: number }>;
    /** A soft-deleted ticket (in the Deleted tickets view). */
    deletedTicket(): Promise<number>;
    /** A suspended ticket: a ticket for a suspended end user. */
    suspendedTicket(): Promise<number>;
  };
  /** A ticket requested by the end-user caller, in no group (the restricted agent cannot see it), with an attachment. */
  ticket: number;
  attachment: number;
  /** The first comment of `ticket`, and its html_body as stored. */
  comment: number;
  commentHtml: string;
  suspendedTicket: number;
}

interface Row {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The route as registered (`:param` form), for the coverage check. */
  route: string;
  /** The concrete URL for one cell; defaults to `route` itself. */
  path?: (f: Fixture) => string | Promise<string>;
  body?: (f: Fixture) => unknown | Promise<unknown>;
  /** Extra request headers (a CSV body's content type). */
  headers?: Record<string, string>;
  expect: Statuses;
}

//                                   anon end  restr agent lim  admin owner foreign
const READ_STAFF: Statuses         = [401, 403, 200, 200, 200, 200, 200, 200];
const READ_STAFF_BY_ID: Statuses   = [401, 403, 200, 200, 200, 200, 200, 404];
const LIST_USERS: Statuses         = [401, 403, 200, 200, 403, 200, 200, 200];
const ADMIN_ONLY: Statuses         = [401, 403, 403, 403, 403, 200, 200, 200];
const ADMIN_CREATE: Statuses       = [401, 403, 403, 403, 403, 201, 201, 201];
const ADMIN_BY_ID: Statuses        = [401, 403, 403, 403, 403, 200, 200, 404];
const ADMIN_DELETE: Statuses       = [401, 403, 403, 403, 403, 204, 204, 404];
const EDIT_END_USER: Statuses      = [401, 403, 403, 200, 403, 200, 200, 404];
const CREATE_END_USER: Statuses    = [401, 403, 403, 201, 403, 201, 201, 201];
const BULK: Statuses               = [401, 403, 200, 200, 403, 200, 200, 200];
const EVERYONE: Statuses           = [200, 200, 200, 200, 200, 200, 200, 200];
const ORG_CREATE: Statuses         = [401, 403, 201, 201, 403, 201, 201, 201];
const ORG_EDIT: Statuses           = [401, 403, 200, 200, 403, 200, 200, 404];
const ORG_DELETE: Statuses         = [401, 403, 204, 204, 403, 204, 204, 404];
const TICKET_BY_ID: Statuses       = [401, 403, 403, 200, 200, 200, 200, 404];
const OWN_TICKETS: Statuses        = [401, 200, 200, 200, 200, 200, 200, 404];
const REDACT: Statuses             = [401, 403, 403, 403, 403, 200, 200, 404];
const DELETED_BY_ID: Statuses      = [401, 403, 404, 200, 200, 200, 200, 404];
const SUSPENDED_BY_ID: Statuses    = [401, 403, 403, 200, 200, 200, 200, 404];
const SIGNED_IN: Statuses          = [401, 200, 200, 200, 200, 200, 200, 200];
const REQUEST_BY_ID: Statuses      = [401, 200, 404, 200, 200, 200, 200, 404];
const EXPORT_SUBJECT: Statuses     = [401, 200, 403, 403, 403, 200, 200, 404];

const ROWS: Row[] = [
  // Documentation
  { method: 'GET', route: '/api/v2/openapi', expect: EVERYONE },

  // Users
  { method: 'GET', route: '/api/v2/users', expect: LIST_USERS },
  { method: 'GET', route: '/api/v2/users/count', expect: LIST_USERS },
  { method: 'GET', route: '/api/v2/users/show_many', path: (f) => `/api/v2/users/show_many?ids=${f.target}`, expect: LIST_USERS },
  { method: 'GET', route: '/api/v2/users/me', expect: EVERYONE },
  { method: 'GET', route: '/api/v2/users/:user_id', path: (f) => `/api/v2/users/${f.target}`, expect: READ_STAFF_BY_ID },
  { method: 'GET', route: '/api/v2/users/:user_id/related', path: (f) => `/api/v2/users/${f.target}/related`, expect: READ_STAFF_BY_ID },
  { method: 'POST', route: '/api/v2/users', body: (f) => ({ user: { name: 'New', email: `${f.fresh.name('new')}@roster.test` } }), expect: CREATE_END_USER },
  { method: 'POST', route: '/api/v2/users/create_or_update', body: (f) => ({ user: { name: 'New', email: `${f.fresh.name('cou')}@roster.test` } }), expect: CREATE_END_USER },
  { method: 'POST', route: '/api/v2/users/create_many', body: () => ({ users: [{ name: 'Bulk' }] }), expect: BULK },
  { method: 'POST', route: '/api/v2/users/create_or_update_many', body: () => ({ users: [{ name: 'Bulk' }] }), expect: BULK },
  { method: 'PUT', route: '/api/v2/users/update_many', path: (f) => `/api/v2/users/update_many?ids=${f.target}`, body: () => ({ user: { notes: 'bulk' } }), expect: BULK },
  { method: 'PUT', route: '/api/v2/users/:user_id', path: (f) => `/api/v2/users/${f.target}`, body: () => ({ user: { notes: 'edited' } }), expect: EDIT_END_USER },
  { method: 'POST', route: '/api/v2/users/:user_id/password', path: (f) => `/api/v2/users/${f.target}/password`, body: () => ({ password: 'a fine new password' }), expect: ADMIN_BY_ID },
  // Only the user themselves: the end user gets past the policy and fails on the wrong previous password.
  { method: 'PUT', route: '/api/v2/users/:user_id/password', path: (f) => `/api/v2/users/${f.callers.endUser.id}/password`, body: () => ({ previous_password: 'not it', password: 'a fine new password' }), expect: [401, 422, 403, 403, 403, 403, 403, 404] },
  { method: 'GET', route: '/api/v2/users/:user_id/password/requirements', path: (f) => `/api/v2/users/${f.target}/password/requirements`, expect: READ_STAFF_BY_ID },

  // Identities
  { method: 'GET', route: '/api/v2/users/:user_id/identities', path: (f) => `/api/v2/users/${f.target}/identities`, expect: READ_STAFF_BY_ID },
  { method: 'GET', route: '/api/v2/users/:user_id/identities/:user_identity_id', path: (f) => `/api/v2/users/${f.target}/identities/${f.targetIdentity}`, expect: READ_STAFF_BY_ID },
  { method: 'POST', route: '/api/v2/users/:user_id/identities', path: (f) => `/api/v2/users/${f.target}/identities`, body: (f) => ({ identity: { type: 'email', value: `${f.fresh.name('id')}@roster.test` } }), expect: [401, 403, 403, 201, 403, 201, 201, 404] },
  { method: 'PUT', route: '/api/v2/users/:user_id/identities/:user_identity_id', path: (f) => `/api/v2/users/${f.target}/identities/${f.targetIdentity}`, body: () => ({ identity: { verified: true } }), expect: EDIT_END_USER },
  { method: 'DELETE', route: '/api/v2/users/:user_id/identities/:user_identity_id', path: async (f) => `/api/v2/users/${f.target}/identities/${await f.fresh.identity(f.target)}`, expect: [401, 403, 403, 204, 403, 204, 204, 404] },
  { method: 'PUT', route: '/api/v2/users/:user_id/identities/:user_identity_id/make_primary', path: (f) => `/api/v2/users/${f.target}/identities/${f.targetIdentity}/make_primary`, expect: EDIT_END_USER },
  { method: 'PUT', route: '/api/v2/users/:user_id/identities/:user_identity_id/verify', path: (f) => `/api/v2/users/${f.target}/identities/${f.targetIdentity}/verify`, expect: EDIT_END_USER },
  { method: 'PUT', route: '/api/v2/users/:user_id/identities/:user_identity_id/request_verification', path: (f) => `/api/v2/users/${f.target}/identities/${f.targetIdentity}/request_verification`, expect: EDIT_END_USER },

  // Job statuses
  { method: 'GET', route: '/api/v2/job_statuses', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/job_statuses/show_many', path: (f) => `/api/v2/job_statuses/show_many?ids=${f.job}`, expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/job_statuses/:job_status_id', path: (f) => `/api/v2/job_statuses/${f.job}`, expect: READ_STAFF_BY_ID },

  // API tokens and OAuth
  { method: 'GET', route: '/api/v2/api_tokens', expect: ADMIN_ONLY },
  { method: 'POST', route: '/api/v2/api_tokens', body: () => ({ api_token: { description: 'matrix' } }), expect: ADMIN_CREATE },
  { method: 'DELETE', route: '/api/v2/api_tokens/:api_token_id', path: async (f) => `/api/v2/api_tokens/${await f.fresh.apiToken()}`, expect: ADMIN_DELETE },
  { method: 'GET', route: '/api/v2/oauth/clients', expect: ADMIN_ONLY },
  { method: 'POST', route: '/api/v2/oauth/clients', body: (f) => ({ client: { name: 'Matrix', identifier: f.fresh.name('client') } }), expect: ADMIN_CREATE },
  { method: 'DELETE', route: '/api/v2/oauth/clients/:oauth_client_id', path: async (f) => `/api/v2/oauth/clients/${await f.fresh.oauthClient()}`, expect: ADMIN_DELETE },
  // The foreign admin names a client of another account: refused as an unknown client.
  { method: 'POST', route: '/api/v2/oauth/tokens', body: (f) => ({ token: { client_id: f.oauthClient, scopes: ['read'] } }), expect: [401, 403, 403, 403, 403, 201, 201, 422] },
  { method: 'DELETE', route: '/api/v2/oauth/tokens/:oauth_token_id', path: async (f) => `/api/v2/oauth/tokens/${await f.fresh.oauthToken()}`, expect: ADMIN_DELETE },

  // Account
  { method: 'GET', route: '/api/v2/account/settings', expect: ADMIN_ONLY },
  { method: 'PUT', route: '/api/v2/account/settings', body: () => ({ settings: { require_email_on_create: false } }), expect: ADMIN_ONLY },
  // Only the owner may transfer; the owner naming themselves gets past the policy and is refused as a no-op.
  { method: 'PUT', route: '/api/v2/account/owner', body: (f) => ({ owner: { user_id: f.callers.owner.id } }), expect: [401, 403, 403, 403, 403, 403, 422, 403] },

  // Custom roles
  { method: 'GET', route: '/api/v2/custom_roles', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/custom_roles/:custom_role_id', path: (f) => `/api/v2/custom_roles/${f.role}`, expect: READ_STAFF_BY_ID },
  { method: 'POST', route: '/api/v2/custom_roles', body: (f) => ({ custom_role: { name: f.fresh.name('role') } }), expect: ADMIN_ONLY },
  { method: 'PUT', route: '/api/v2/custom_roles/:custom_role_id', path: (f) => `/api/v2/custom_roles/${f.role}`, body: () => ({ custom_role: { description: 'matrix' } }), expect: ADMIN_BY_ID },
  { method: 'DELETE', route: '/api/v2/custom_roles/:custom_role_id', path: async (f) => `/api/v2/custom_roles/${await f.fresh.role()}`, expect: ADMIN_DELETE },

  // Groups
  { method: 'GET', route: '/api/v2/groups', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/groups/count', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/groups/assignable', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/groups/:group_id', path: (f) => `/api/v2/groups/${f.group}`, expect: READ_STAFF_BY_ID },
  { method: 'GET', route: '/api/v2/groups/:group_id/users', path: (f) => `/api/v2/groups/${f.group}/users`, expect: [401, 403, 200, 200, 403, 200, 200, 404] },
  { method: 'GET', route: '/api/v2/users/:user_id/groups', path: (f) => `/api/v2/users/${f.member}/groups`, expect: READ_STAFF_BY_ID },
  { method: 'GET', route: '/api/v2/users/:user_id/groups/count', path: (f) => `/api/v2/users/${f.member}/groups/count`, expect: READ_STAFF_BY_ID },
  { method: 'POST', route: '/api/v2/groups', body: (f) => ({ group: { name: f.fresh.name('group') } }), expect: ADMIN_CREATE },
  { method: 'PUT', route: '/api/v2/groups/:group_id', path: (f) => `/api/v2/groups/${f.group}`, body: () => ({ group: { description: 'matrix' } }), expect: ADMIN_BY_ID },
  { method: 'DELETE', route: '/api/v2/groups/:group_id', path: async (f) => `/api/v2/groups/${await f.fresh.group()}`, expect: ADMIN_DELETE },

  // Group memberships
  { method: 'GET', route: '/api/v2/group_memberships', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/group_memberships/assignable', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/group_memberships/:group_membership_id', path: (f) => `/api/v2/group_memberships/${f.membership}`, expect: READ_STAFF_BY_ID },
  { method: 'GET', route: '/api/v2/users/:user_id/group_memberships', path: (f) => `/api/v2/users/${f.member}/group_memberships`, expect: READ_STAFF_BY_ID },
  { method: 'GET', route: '/api/v2/users/:user_id/group_memberships/:group_membership_id', path: (f) => `/api/v2/users/${f.member}/group_memberships/${f.membership}`, expect: READ_STAFF_BY_ID },
  { method: 'GET', route: '/api/v2/groups/:group_id/memberships', path: (f) => `/api/v2/groups/${f.group}/memberships`, expect: READ_STAFF_BY_ID },
  { method: 'GET', route: '/api/v2/groups/:group_id/memberships/assignable', path: (f) => `/api/v2/groups/${f.group}/memberships/assignable`, expect: READ_STAFF_BY_ID },
  // The foreign admin names a user of another account: refused as an unknown user.
  { method: 'POST', route: '/api/v2/group_memberships', body: async (f) => ({ group_membership: { user_id: f.member, group_id: await f.fresh.group() } }), expect: [401, 403, 403, 403, 403, 201, 201, 422] },
  { method: 'POST', route: '/api/v2/users/:user_id/group_memberships', path: (f) => `/api/v2/users/${f.member}/group_memberships`, body: async (f) => ({ group_membership: { group_id: await f.fresh.group() } }), expect: [401, 403, 403, 403, 403, 201, 201, 404] },
  { method: 'DELETE', route: '/api/v2/group_memberships/:group_membership_id', path: async (f) => `/api/v2/group_memberships/${await f.fresh.membership()}`, expect: ADMIN_DELETE },
  { method: 'DELETE', route: '/api/v2/users/:user_id/group_memberships/:group_membership_id', path: async (f) => `/api/v2/users/${f.member}/group_memberships/${await f.fresh.membership()}`, expect: ADMIN_DELETE },
  { method: 'PUT', route: '/api/v2/users/:user_id/group_memberships/:group_membership_id/make_default', path: (f) => `/api/v2/users/${f.member}/group_memberships/${f.membership}/make_default`, expect: ADMIN_BY_ID },
  { method: 'POST', route: '/api/v2/group_memberships/create_many', body: (f) => ({ group_memberships: [{ user_id: f.member, group_id: f.group }] }), expect: ADMIN_ONLY },
  { method: 'DELETE', route: '/api/v2/group_memberships/destroy_many', path: () => '/api/v2/group_memberships/destroy_many?ids=999999', expect: ADMIN_ONLY },

  // Custom fields
  { method: 'GET', route: '/api/v2/user_fields', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/user_fields/:user_field_id', path: (f) => `/api/v2/user_fields/${f.userField}`, expect: READ_STAFF_BY_ID },
  { method: 'POST', route: '/api/v2/user_fields', body: (f) => ({ user_field: { key: f.fresh.name('uf'), title: 'Matrix' } }), expect: ADMIN_CREATE },
  { method: 'PUT', route: '/api/v2/user_fields/:user_field_id', path: (f) => `/api/v2/user_fields/${f.userField}`, body: () => ({ user_field: { description: 'matrix' } }), expect: ADMIN_BY_ID },
  { method: 'DELETE', route: '/api/v2/user_fields/:user_field_id', path: async (f) => `/api/v2/user_fields/${await f.fresh.field('user')}`, expect: ADMIN_DELETE },
  // The foreign admin names fields of another account: refused as unknown ids.
  { method: 'PUT', route: '/api/v2/user_fields/reorder', body: (f) => ({ user_field_ids: [f.userField] }), expect: [401, 403, 403, 403, 403, 200, 200, 422] },
  { method: 'GET', route: '/api/v2/user_fields/:user_field_id/options', path: (f) => `/api/v2/user_fields/${f.userField}/options`, expect: READ_STAFF_BY_ID },
  { method: 'GET', route: '/api/v2/user_fields/:user_field_id/options/:option_id', path: (f) => `/api/v2/user_fields/${f.userField}/options/${f.userFieldOption}`, expect: READ_STAFF_BY_ID },
  { method: 'POST', route: '/api/v2/user_fields/:user_field_id/options', path: (f) => `/api/v2/user_fields/${f.userField}/options`, body: (f) => ({ custom_field_option: { name: 'Opt', value: f.fresh.name('opt') } }), expect: [401, 403, 403, 403, 403, 201, 201, 404] },
  { method: 'DELETE', route: '/api/v2/user_fields/:user_field_id/options/:option_id', path: async (f) => `/api/v2/user_fields/${f.userField}/options/${await f.fresh.option()}`, expect: ADMIN_DELETE },
  { method: 'GET', route: '/api/v2/organization_fields', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/organization_fields/:organization_field_id', path: (f) => `/api/v2/organization_fields/${f.organizationField}`, expect: READ_STAFF_BY_ID },
  { method: 'POST', route: '/api/v2/organization_fields', body: (f) => ({ organization_field: { key: f.fresh.name('of'), title: 'Matrix' } }), expect: ADMIN_CREATE },
  { method: 'PUT', route: '/api/v2/organization_fields/:organization_field_id', path: (f) => `/api/v2/organization_fields/${f.organizationField}`, body: () => ({ organization_field: { description: 'matrix' } }), expect: ADMIN_BY_ID },
  { method: 'DELETE', route: '/api/v2/organization_fields/:organization_field_id', path: async (f) => `/api/v2/organization_fields/${await f.fresh.field('organization')}`, expect: ADMIN_DELETE },
  { method: 'PUT', route: '/api/v2/organization_fields/reorder', body: (f) => ({ organization_field_ids: [f.organizationField] }), expect: [401, 403, 403, 403, 403, 200, 200, 422] },

  // Organizations (organization_editing: plain and restricted agents have it, the limited role does not)
  { method: 'GET', route: '/api/v2/organizations', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/organizations/count', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/organizations/show_many', path: (f) => `/api/v2/organizations/show_many?ids=${f.organization}`, expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/organizations/search', path: () => '/api/v2/organizations/search?name=org', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/organizations/autocomplete', path: () => '/api/v2/organizations/autocomplete?name=org', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/organizations/:organization_id', path: (f) => `/api/v2/organizations/${f.organization}`, expect: READ_STAFF_BY_ID },
  { method: 'GET', route: '/api/v2/organizations/:organization_id/related', path: (f) => `/api/v2/organizations/${f.organization}/related`, expect: READ_STAFF_BY_ID },
  { method: 'GET', route: '/api/v2/organizations/:organization_id/users', path: (f) => `/api/v2/organizations/${f.organization}/users`, expect: [401, 403, 200, 200, 403, 200, 200, 404] },
  { method: 'GET', route: '/api/v2/users/:user_id/organizations', path: (f) => `/api/v2/users/${f.target}/organizations`, expect: READ_STAFF_BY_ID },
  { method: 'POST', route: '/api/v2/organizations', body: (f) => ({ organization: { name: f.fresh.name('org') } }), expect: ORG_CREATE },
  { method: 'POST', route: '/api/v2/organizations/create_or_update', body: (f) => ({ organization: { name: f.fresh.name('org') } }), expect: ORG_CREATE },
  { method: 'POST', route: '/api/v2/organizations/create_many', body: (f) => ({ organizations: [{ name: f.fresh.name('org') }] }), expect: BULK },
  { method: 'PUT', route: '/api/v2/organizations/update_many', path: (f) => `/api/v2/organizations/update_many?ids=${f.organization}`, body: () => ({ organization: { details: 'bulk' } }), expect: BULK },
  { method: 'DELETE', route: '/api/v2/organizations/destroy_many', path: () => '/api/v2/organizations/destroy_many?ids=999999', expect: BULK },
  { method: 'PUT', route: '/api/v2/organizations/:organization_id', path: (f) => `/api/v2/organizations/${f.organization}`, body: () => ({ organization: { details: 'edited' } }), expect: ORG_EDIT },
  { method: 'DELETE', route: '/api/v2/organizations/:organization_id', path: async (f) => `/api/v2/organizations/${await f.fresh.organization()}`, expect: ORG_DELETE },

  // Organization memberships (an end user listing them gets their own)
  { method: 'GET', route: '/api/v2/organization_memberships', expect: [401, 200, 200, 200, 200, 200, 200, 200] },
  { method: 'GET', route: '/api/v2/organization_memberships/:organization_membership_id', path: (f) => `/api/v2/organization_memberships/${f.organizationMembership}`, expect: READ_STAFF_BY_ID },
  { method: 'GET', route: '/api/v2/users/:user_id/organization_memberships', path: (f) => `/api/v2/users/${f.target}/organization_memberships`, expect: READ_STAFF_BY_ID },
  { method: 'GET', route: '/api/v2/users/:user_id/organization_memberships/:organization_membership_id', path: (f) => `/api/v2/users/${f.target}/organization_memberships/${f.organizationMembership}`, expect: READ_STAFF_BY_ID },
  { method: 'GET', route: '/api/v2/organizations/:organization_id/organization_memberships', path: (f) => `/api/v2/organizations/${f.organization}/organization_memberships`, expect: READ_STAFF_BY_ID },
  { method: 'POST', route: '/api/v2/organization_memberships', body: async (f) => ({ organization_membership: { user_id: f.target, organization_id: await f.fresh.organization() } }), expect: [401, 403, 201, 201, 403, 201, 201, 422] },
  { method: 'POST', route: '/api/v2/users/:user_id/organization_memberships', path: (f) => `/api/v2/users/${f.target}/organization_memberships`, body: async (f) => ({ organization_membership: { organization_id: await f.fresh.organization() } }), expect: [401, 403, 201, 201, 403, 201, 201, 404] },
  { method: 'POST', route: '/api/v2/organization_memberships/create_many', body: (f) => ({ organization_memberships: [{ user_id: f.target, organization_id: f.organization }] }), expect: BULK },
  { method: 'DELETE', route: '/api/v2/organization_memberships/destroy_many', path: () => '/api/v2/organization_memberships/destroy_many?ids=999999', expect: BULK },
  { method: 'DELETE', route: '/api/v2/organization_memberships/:organization_membership_id', path: async (f) => `/api/v2/organization_memberships/${(await f.fresh.organizationMembership()).membership}`, expect: ORG_DELETE },
  { method: 'DELETE', route: '/api/v2/users/:user_id/organization_memberships/:organization_membership_id', path: async (f) => `/api/v2/users/${f.target}/organization_memberships/${(await f.fresh.organizationMembership()).membership}`, expect: ORG_DELETE },
  { method: 'DELETE', route: '/api/v2/users/:user_id/organizations/:organization_id', path: async (f) => `/api/v2/users/${f.target}/organizations/${(await f.fresh.organizationMembership()).organization}`, expect: ORG_DELETE },
  { method: 'PUT', route: '/api/v2/users/:user_id/organization_memberships/:organization_membership_id/make_default', path: (f) => `/api/v2/users/${f.target}/organization_memberships/${f.organizationMembership}/make_default`, expect: ORG_EDIT },
  { method: 'PUT', route: '/api/v2/users/:user_id/organizations/:organization_id/make_default', path: (f) => `/api/v2/users/${f.target}/organizations/${f.organization}/make_default`, expect: ORG_EDIT },

  // Search: staff search; an agent without end_user_list_access (limited) still gets 200, without end users.
  { method: 'GET', route: '/api/v2/search', path: () => '/api/v2/search?query=type%3Auser%20organization%3Anone', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/search/count', path: () => '/api/v2/search/count?query=type%3Auser', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/search/export', path: () => '/api/v2/search/export?query=role%3Aend-user&filter%5Btype%5D=user', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/users/search', path: () => '/api/v2/users/search?query=matrix', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/users/autocomplete', path: () => '/api/v2/users/autocomplete?name=ma', expect: READ_STAFF },

  // Tickets: staff, through their ticket scope (the restricted agent is in no group, so it sees none of
  // this account's tickets: 403 on one, empty lists); end users use the requests API.
  { method: 'GET', route: '/api/v2/tickets', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/tickets/count', expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/tickets/show_many', path: (f) => `/api/v2/tickets/show_many?ids=${f.ticket}`, expect: READ_STAFF },
  { method: 'GET', route: '/api/v2/tickets/:ticket_id', path: (f) => `/api/v2/tickets/${f.ticket}`, expect: TICKET_BY_ID },
  { method: 'GET', route: '/api/v2/tickets/:ticket_id/comments', path: (f) => `/api/v2/tickets/${f.ticket}/comments`, expect: TICKET_BY_ID },
  { method: 'POST', route: '/api/v2/tickets', body: () => ({ ticket: { subject: 'Matrix', comment: { body: 'Hello' } } }), expect: [401, 403, 201, 201, 201, 201, 201, 201] },
  { method: 'PUT', route: '/api/v2/tickets/:ticket_id', path: (f) => `/api/v2/tickets/${f.ticket}`, body: () => ({ ticket: { priority: 'high' } }), expect: TICKET_BY_ID },
  { method: 'DELETE', route: '/api/v2/tickets/:ticket_id', path: async (f) => `/api/v2/tickets/${await f.fresh.ticket()}`, expect: [401, 403, 403, 204, 204, 204, 204, 404] },
  { method: 'DELETE', route: '/api/v2/tickets/destroy_many', path: async (f) => `/api/v2/tickets/destroy_many?ids=${await f.fresh.ticket()}`, expect: BULK },
  { method: 'POST', route: '/api/v2/tickets/close_solved', body: () => ({ ids: [] }), expect: ADMIN_ONLY },
  { method: 'GET', route: '/api/v2/users/:user_id/tickets/requested', path: (f) => `/api/v2/users/${f.callers.endUser.id}/tickets/requested`, expect: OWN_TICKETS },
  { method: 'GET', route: '/api/v2/users/:user_id/tickets/ccd', path: (f) => `/api/v2/users/${f.callers.endUser.id}/tickets/ccd`, expect: OWN_TICKETS },
  { method: 'GET', route: '/api/v2/users/:user_id/tickets/assigned', path: (f) => `/api/v2/users/${f.callers.endUser.id}/tickets/assigned`, expect: OWN_TICKETS },
  { method: 'GET', route: '/api/v2/organizations/:organization_id/tickets', path: (f) => `/api/v2/organizations/${f.organization}/tickets`, expect: READ_STAFF_BY_ID },

  // Requests: everyone signed in (anonymous only when the account allows it); a request the caller may not see is a 404.
  { method: 'POST', route: '/api/v2/requests', body: () => ({ request: { subject: 'Matrix', comment: { body: 'Help' } } }), expect: [401, 201, 201, 201, 201, 201, 201, 201] },
  { method: 'GET', route: '/api/v2/requests', expect: SIGNED_IN },
  { method: 'GET', route: '/api/v2/requests/ccd', expect: SIGNED_IN },
  { method: 'GET', route: '/api/v2/requests/:request_id', path: (f) => `/api/v2/requests/${f.ticket}`, expect: REQUEST_BY_ID },
  { method: 'GET', route: '/api/v2/requests/:request_id/comments', path: (f) => `/api/v2/requests/${f.ticket}/comments`, expect: REQUEST_BY_ID },
  { method: 'GET', route: '/api/v2/organizations/:organization_id/requests', path: (f) => `/api/v2/organizations/${f.organization}/requests`, expect: [401, 200, 200, 200, 200, 200, 200, 404] },

  // Uploads and attachments: an upload is its uploader's (or an admin's) until a comment attaches it; then
  // whoever may read the comment reads the file.
  { method: 'POST', route: '/api/v2/uploads', path: () => '/api/v2/uploads?filename=matrix.txt', body: () => 'matrix file', expect: [401, 201, 201, 201, 201, 201, 201, 201] },
  { method: 'DELETE', route: '/api/v2/uploads/:token', path: async (f) => `/api/v2/uploads/${await f.fresh.upload()}`, expect: [401, 404, 404, 404, 404, 204, 204, 404] },
  { method: 'GET', route: '/api/v2/attachments/:attachment_id', path: (f) => `/api/v2/attachments/${f.attachment}`, expect: REQUEST_BY_ID },
  { method: 'GET', route: '/api/v2/attachments/:attachment_id/content', path: (f) => `/api/v2/attachments/${f.attachment}/content`, expect: REQUEST_BY_ID },

  // Comments and redaction: make_private is any staff member's who sees the ticket; redaction needs the
  // redact permission (admins; plain, restricted and limited agents lack it). Redacting absent text changes nothing.
  { method: 'PUT', route: '/api/v2/tickets/:ticket_id/comments/:ticket_comment_id/make_private', path: async (f) => { const { ticket, comment } = await f.fresh.comment(); return `/api/v2/tickets/${ticket}/comments/${comment}/make_private`; }, expect: TICKET_BY_ID },
  { method: 'PUT', route: '/api/v2/tickets/:ticket_id/comments/:ticket_comment_id/redact', path: (f) => `/api/v2/tickets/${f.ticket}/comments/${f.comment}/redact`, body: () => ({ text: 'not in the comment' }), expect: REDACT },
  { method: 'PUT', route: '/api/v2/comment_redactions/:ticket_comment_id', path: (f) => `/api/v2/comment_redactions/${f.comment}`, body: (f) => ({ ticket_id: f.ticket, html_body: f.commentHtml }), expect: REDACT },
  { method: 'PUT', route: '/api/v2/tickets/:ticket_id/comments/:ticket_comment_id/attachments/:attachment_id/redact', path: async (f) => { const a = await f.fresh.attachment(); return `/api/v2/tickets/${a.ticket}/comments/${a.comment}/attachments/${a.attachment}/redact`; }, expect: REDACT },
  { method: 'DELETE', route: '/api/v2/tickets/:ticket_id/comments/:ticket_comment_id/attachments/:attachment_id/redact', path: async (f) => { const a = await f.fresh.attachment(); return `/api/v2/tickets/${a.ticket}/comments/${a.comment}/attachments/${a.attachment}/redact`; }, expect: REDACT },

  // Deleted tickets: view_deleted_tickets lists, ticket_deletion restores and purges (bulk_actions for _many);
  // a ticket outside the restricted agent's scope is not in its Deleted tickets view (404).
  { method: 'GET', route: '/api/v2/deleted_tickets', expect: READ_STAFF },
  { method: 'PUT', route: '/api/v2/deleted_tickets/:ticket_id/restore', path: async (f) => `/api/v2/deleted_tickets/${await f.fresh.deletedTicket()}/restore`, expect: DELETED_BY_ID },
  { method: 'PUT', route: '/api/v2/deleted_tickets/restore_many', path: async (f) => `/api/v2/deleted_tickets/restore_many?ids=${await f.fresh.deletedTicket()}`, expect: [401, 403, 404, 200, 403, 200, 200, 404] },
  { method: 'DELETE', route: '/api/v2/deleted_tickets/:ticket_id', path: async (f) => `/api/v2/deleted_tickets/${await f.fresh.deletedTicket()}`, expect: DELETED_BY_ID },
  { method: 'DELETE', route: '/api/v2/deleted_tickets/destroy_many', path: async (f) => `/api/v2/deleted_tickets/destroy_many?ids=${await f.fresh.deletedTicket()}`, expect: BULK },

  // Suspended tickets: admins and agents with access to all tickets (not the restricted agent).
  { method: 'GET', route: '/api/v2/suspended_tickets', expect: [401, 403, 403, 200, 200, 200, 200, 200] },
  { method: 'GET', route: '/api/v2/suspended_tickets/:id', path: (f) => `/api/v2/suspended_tickets/${f.suspendedTicket}`, expect: SUSPENDED_BY_ID },
  { method: 'PUT', route: '/api/v2/suspended_tickets/:id/recover', path: async (f) => `/api/v2/suspended_tickets/${await f.fresh.suspendedTicket()}/recover`, expect: SUSPENDED_BY_ID },
  // The author is still suspended: answered 200 with the ticket listed as not recovered.
  { method: 'PUT', route: '/api/v2/suspended_tickets/recover_many', path: async (f) => `/api/v2/suspended_tickets/recover_many?ids=${await f.fresh.suspendedTicket()}`, expect: SUSPENDED_BY_ID },
  { method: 'DELETE', route: '/api/v2/suspended_tickets/:id', path: async (f) => `/api/v2/suspended_tickets/${await f.fresh.suspendedTicket()}`, expect: [401, 403, 403, 204, 204, 204, 204, 404] },
  { method: 'DELETE', route: '/api/v2/suspended_tickets/destroy_many', path: async (f) => `/api/v2/suspended_tickets/destroy_many?ids=${await f.fresh.suspendedTicket()}`, expect: [401, 403, 403, 204, 204, 204, 204, 404] },

  // Inbound mail: admins hand in raw messages (each cell a fresh Message-ID; the foreign admin's lands in their own account).
  { method: 'POST', route: '/api/v2/inbound_email', headers: { 'content-type': 'message/rfc822' }, body: (f) => `From: Matrix Mail <${f.fresh.name('mail')}@roster.test>\r\nTo: support@default.localhost\r\nSubject: Matrix\r\nMessage-ID: <${f.fresh.name('mid')}@roster.test>\r\n\r\nHello by mail\r\n`, expect: ADMIN_CREATE },

  // CSV imports: admins only (the foreign admin imports into their own account); reports of this account's import.
  { method: 'POST', route: '/api/v2/imports/users', path: () => '/api/v2/imports/users?dry_run=true', headers: { 'content-type': 'text/csv' }, body: (f) => `name,email\nMatrix Import,${f.fresh.name('import')}@roster.test\n`, expect: ADMIN_ONLY },
  { method: 'GET', route: '/api/v2/imports', expect: ADMIN_ONLY },
  { method: 'GET', route: '/api/v2/imports/:import_id', path: async () => `/api/v2/imports/${await matrixImport()}`, expect: ADMIN_BY_ID },
  { method: 'GET', route: '/api/v2/imports/:import_id/rows', path: async () => `/api/v2/imports/${await matrixImport()}/rows`, expect: ADMIN_BY_ID },
  { method: 'GET', route: '/api/v2/imports/:import_id/report', path: async () => `/api/v2/imports/${await matrixImport()}/report`, expect: ADMIN_BY_ID },

  // Data exports (issue 7 items 1-2): anyone exports their own data; someone else's takes export_personal_data (admins;
  // agents by custom role); all users is admins'. An export (here: the end-user caller's, asked for by the owner) is
  // read and downloaded by its requester, its subject and admins; downloads also need the signed link.
  { method: 'POST', route: '/api/v2/users/me/personal_data_exports', expect: SIGNED_IN },
  { method: 'POST', route: '/api/v2/users/:user_id/personal_data_exports', path: (f) => `/api/v2/users/${f.target}/personal_data_exports`, expect: ADMIN_BY_ID },
  { method: 'GET', route: '/api/v2/personal_data_exports/:export_id', path: async (f) => `/api/v2/personal_data_exports/${await matrixPersonalExport(f)}`, expect: EXPORT_SUBJECT },
  { method: 'POST', route: '/api/v2/users/exports', expect: ADMIN_ONLY },
  { method: 'GET', route: '/api/v2/users/exports/:export_id', path: async () => `/api/v2/users/exports/${await matrixUsersExport()}`, expect: ADMIN_BY_ID },
  { method: 'GET', route: '/api/v2/data_exports/:export_id/download', path: (f) => signedExportPath(f, 'file'), expect: EXPORT_SUBJECT },
  { method: 'GET', route: '/api/v2/data_exports/:export_id/attachments/:attachment_id', path: async (f) => signedExportPath(f, `attachment:${(await f.fresh.attachment()).attachment}`), expect: EXPORT_SUBJECT },

  // Redaction suggestions (issue 7 item 3): staff who can see the ticket (the restricted agent cannot see f.ticket).
  { method: 'GET', route: '/api/v2/tickets/:ticket_id/redaction_suggestions', path: (f) => `/api/v2/tickets/${f.ticket}/redaction_suggestions`, expect: TICKET_BY_ID },
  // Audit log (issue 7 item 6): admins only; the foreign admin lists their own account's log and cannot see this one's entries.
  { method: 'GET', route: '/api/v2/audit_logs', expect: ADMIN_ONLY },
  { method: 'GET', route: '/api/v2/audit_logs/:audit_log_id', path: async () => `/api/v2/audit_logs/${await matrixAuditLog()}`, expect: ADMIN_BY_ID },

  // Mail (issue 8): the outbox is admins'; sign-up and reset requests are anonymous and answer 202 whoever asks (the
  // foreign admin's land in their own account); a one-time link works for whoever holds it, on its own account only.
  { method: 'GET', route: '/api/v2/outbox', expect: ADMIN_ONLY },
  { method: 'GET', route: '/api/v2/outbox/:message_id', path: async () => `/api/v2/outbox/${await matrixOutboxMessage()}`, expect: ADMIN_BY_ID },
  { method: 'POST', route: '/api/v2/users/signup', body: (f) => ({ user: { name: 'Matrix Signup', email: `${f.fresh.name('signup')}@roster-mail.dev` } }), expect: [202, 202, 202, 202, 202, 202, 202, 202] },
  { method: 'POST', route: '/api/v2/users/password_reset', body: (f) => ({ email: `${f.fresh.name('reset')}@roster-mail.dev` }), expect: [202, 202, 202, 202, 202, 202, 202, 202] },
  { method: 'POST', route: '/api/v2/users/tokens/:purpose', path: () => '/api/v2/users/tokens/verify_identity', body: async (f) => ({ token: await matrixVerifyToken(await f.fresh.endUser()) }), expect: [200, 200, 200, 200, 200, 200, 200, 404] },

  // User lifecycle (issue 6): soft delete as editing end users plus end_user_deletion and all-ticket access (the
  // restricted agent lacks it); bulk deletes as bulk jobs (refusals are per-user results); merges as editing both
  // users; the Deleted users view needs view_deleted_users, and purge and restore are admins'.
  { method: 'DELETE', route: '/api/v2/users/:user_id', path: async (f) => `/api/v2/users/${await f.fresh.endUser()}`, expect: EDIT_END_USER },
  { method: 'DELETE', route: '/api/v2/users/destroy_many', path: async (f) => `/api/v2/users/destroy_many?ids=${await f.fresh.endUser()}`, expect: BULK },
  { method: 'POST', route: '/api/v2/users/destroy_by_query', body: () => ({ query: 'name:"Nobody Matches This"', dry_run: true }), expect: BULK },
  { method: 'GET', route: '/api/v2/users/:user_id/suspensions', path: (f) => `/api/v2/users/${f.target}/suspensions`, expect: READ_STAFF_BY_ID },
  { method: 'GET', route: '/api/v2/users/:user_id/merge_preview', path: async (f) => `/api/v2/users/${await f.fresh.endUser()}/merge_preview?target_id=${f.target}`, expect: EDIT_END_USER },
  { method: 'PUT', route: '/api/v2/users/:user_id/merge', path: async (f) => `/api/v2/users/${await f.fresh.endUser()}/merge`, body: async (f) => ({ user: { id: await f.fresh.endUser() } }), expect: EDIT_END_USER },
  { method: 'PUT', route: '/api/v2/users/:user_id/merge/undo', path: async (f) => `/api/v2/users/${await mergedUser(f)}/merge/undo`, expect: EDIT_END_USER },
  { method: 'GET', route: '/api/v2/deleted_users', expect: ADMIN_ONLY },
  { method: 'GET', route: '/api/v2/deleted_users/count', expect: ADMIN_ONLY },
  { method: 'GET', route: '/api/v2/deleted_users/:deleted_user_id', path: async (f) => `/api/v2/deleted_users/${await deletedUser(f)}`, expect: ADMIN_BY_ID },
  { method: 'DELETE', route: '/api/v2/deleted_users/:deleted_user_id', path: async (f) => `/api/v2/deleted_users/${await deletedUser(f)}`, expect: ADMIN_BY_ID },
  { method: 'PUT', route: '/api/v2/deleted_users/:deleted_user_id/restore', path: async (f) => `/api/v2/deleted_users/${await deletedUser(f)}/restore`, expect: ADMIN_BY_ID },
  // Forget user (issue 7 item 4): admins (agents only by a custom role granting erase_users); receipts likewise.
  { method: 'POST', route: '/api/v2/users/:user_id/erasure', path: async (f) => `/api/v2/users/${await f.fresh.endUser()}/erasure`, body: () => ({ dry_run: true }), expect: ADMIN_BY_ID },
  { method: 'GET', route: '/api/v2/erasure_receipts', expect: ADMIN_ONLY },
  { method: 'GET', route: '/api/v2/erasure_receipts/:erasure_receipt_id', path: async (f) => `/api/v2/erasure_receipts/${await erasureReceipt(f)}`, expect: ADMIN_BY_ID },
];

/** A soft-deleted end user (deleted by the owner), for the Deleted users rows. */
let receiptId: number | undefined;
/** One erasure receipt of this account (the owner forgets a fresh end user; the receipt exists from the request on). */
async function erasureReceipt(f: Fixture): Promise<number> {
  if (receiptId !== undefined) return receiptId;
  const response = await t.request('POST', `/api/v2/users/${await f.fresh.endUser()}/erasure`, { body: {} });
  if (response.statusCode !== 200) throw new Error(`fixture erasure: ${response.body}`);
  receiptId = response.json().erasure_receipt.id as number;
  return receiptId;
}

async function deletedUser(f: Fixture): Promise<number> {
  const id = await f.fresh.endUser();
  const response = await t.request('DELETE', `/api/v2/users/${id}`);
  if (response.statusCode !== 200) throw new Error(`fixture delete user: ${response.body}`);
  return id;
}

/** An end user merged (by the owner) into another fresh one: its merge can be undone. */
async function mergedUser(f: Fixture): Promise<number> {
  const source = await f.fresh.endUser();
  const response = await t.request('PUT', `/api/v2/users/${source}/merge`, { body: { user: { id: await f.fresh.endUser() } } });
  if (response.statusCode !== 200) throw new Error(`fixture merge: ${response.body}`);
  return source;
}

let t: TestApp;
let f: Fixture;
let importId: number | undefined;
/** One import of this account's (made on first use), for the import report rows. */
async function matrixImport(): Promise<number> {
  if (importId !== undefined) return importId;
  const response = await t.request('POST', '/api/v2/imports/users', { body: 'name\nMatrix Imported\n', headers: { 'content-type': 'text/csv' } });
  if (response.statusCode !== 200) throw new Error(`fixture import: ${response.statusCode} ${response.body}`);
  importId = response.json().import.id as number;
  return importId;
}
let personalExportId: number | undefined;
/** A finished personal-data export about the end-user caller, asked for by the owner. */
async function matrixPersonalExport(f: Fixture): Promise<number> {
  if (personalExportId !== undefined) return personalExportId;
  const response = await t.request('POST', `/api/v2/users/${f.callers.endUser.id}/personal_data_exports`);
  if (response.statusCode !== 200) throw new Error(`fixture personal export: ${response.statusCode} ${response.body}`);
  const job = await t.waitForJob(response.json().job_status.id as string);
  if (job.status !== 'completed') throw new Error(`fixture personal export job: ${JSON.stringify(job)}`);
  personalExportId = response.json().personal_data_export.id as number;
  return personalExportId;
}
let usersExportId: number | undefined;
/** A users export of this account, asked for by the owner. */
async function matrixUsersExport(): Promise<number> {
  if (usersExportId !== undefined) return usersExportId;
  const response = await t.request('POST', '/api/v2/users/exports');
  if (response.statusCode !== 200) throw new Error(`fixture users export: ${response.statusCode} ${response.body}`);
  usersExportId = response.json().users_export.id as number;
  return usersExportId;
}
/** A signed link (as the export's job signs them) to the personal export's file or to one attachment. */
async function signedExportPath(f: Fixture, item: string): Promise<string> {
  const id = await matrixPersonalExport(f);
  const key = await exportFilesFor(t.runtime.database, 'memory://').linkKey();
  const { expires, signature } = signLink(key, { accountId: t.account.id, exportId: id, item }, new Date(Date.now() + 86_400_000));
  const what = item === 'file' ? 'download' : `attachments/${item.slice('attachment:'.length)}`;
  return `/api/v2/data_exports/${id}/${what}?expires=${expires}&signature=${signature}`;
}
/** The newest audit entry of this account, for the audit log row. */
async function matrixAuditLog(): Promise<number> {
  const response = await t.request('GET', '/api/v2/audit_logs?page[size]=1');
  const id = response.statusCode === 200 ? (response.json().audit_logs[0]?.id as number | undefined) : undefined;
  if (id === undefined) throw new Error(`fixture audit log: ${response.statusCode} ${response.body}`);
  return id;
}
/** A message in this account's outbox (every user the fixture creates gets a welcome message). */
async function matrixOutboxMessage(): Promise<number> {
  const row = await t.runtime.database.db.selectFrom('outbox_messages').select('id').where('account_id', '=', t.account.id).orderBy('id').executeTakeFirst();
  if (!row) throw new Error('fixture outbox: no message');
  return row.id;
}
/** A fresh verification token of this account's, for one cell of the token row. */
async function matrixVerifyToken(userId: number): Promise<string> {
  return t.runtime.database.db.transaction().execute(async (tx) => (await issueToken(tx, t.account.id, userId, null, 'verify_identity')).token);
}
const ACME_HOST = 'acme.localhost:3000';

beforeAll(async () => {
  t = await createTestApp();
  const db = t.runtime.database.db;
  let counter = 0;
  const name = (prefix: string): string => `${prefix}_${(counter += 1)}_${Math.random().toString(36).slice(2, 7)}`;
  const ok = async (method: string, url: string, body: unknown, field: string): Promise<number> => {
    const response = await t.request(method, url, { body });
    if (response.statusCode >= 300) throw new Error(`fixture ${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.json()[field].id as number;
  };
  const role = async (configuration: Record<string, unknown>): Promise<number> =>
    ok('POST', '/api/v2/custom_roles', { custom_role: { name: name('role'), configuration } }, 'custom_role');

  const restrictedRole = await role({ ticket_access: 'within-groups' });
  const limitedRole = await role({
    end_user_profile_access: 'readonly',
    end_user_list_access: 'none',
    bulk_actions: false,
    organization_editing: false,
    group_access: false,
    manage_user_fields: false,
    manage_organization_fields: false,
  });

  // The other account and its (non-owner) admin, on its own host.
  const { account: acme } = await ensureAccount(db, 'acme', { name: 'Acme Owner', email: OWNER_EMAIL, password: 'acme owner password' });
  const acmeToken = await issueApiToken(db, acme.id, null, 'matrix');
  const acmeOwner: Caller = { email: OWNER_EMAIL, token: acmeToken.token, id: 0, headers: { ...basic(`${OWNER_EMAIL}/token`, acmeToken.token), host: ACME_HOST } };
  const foreignEmail = 'foreign-admin@roster.test';
  const foreign = await t.request('POST', '/api/v2/users', { as: acmeOwner, body: { user: { name: 'Foreign Admin', email: foreignEmail, role: 'admin' } } });
  if (foreign.statusCode !== 201) throw new Error(`foreign admin: ${foreign.body}`);
  const foreignAdmin: Caller = { email: foreignEmail, token: acmeToken.token, id: foreign.json().user.id, headers: { ...basic(`${foreignEmail}/token`, acmeToken.token), host: ACME_HOST } };

  const callers = {
    endUser: await t.user({ role: 'end-user', name: 'Matrix End User' }),
    restricted: await t.user({ role: 'agent', name: 'Matrix Restricted', custom_role_id: restrictedRole }),
    agent: await t.user({ role: 'agent', name: 'Matrix Agent' }),
    limited: await t.user({ role: 'agent', name: 'Matrix Limited', custom_role_id: limitedRole }),
    admin: await t.user({ role: 'admin', name: 'Matrix Admin' }),
    owner: t.owner,
    foreignAdmin,
  };

  const target = (await t.user({ role: 'end-user', name: 'Matrix Target' })).id;
  const targetIdentity = await ok('POST', `/api/v2/users/${target}/identities`, { identity: { type: 'email', value: 'matrix-target-2@roster.test' } }, 'identity');
  const member = (await t.user({ role: 'agent', name: 'Matrix Member' })).id;
  const newGroup = () => ok('POST', '/api/v2/groups', { group: { name: name('group') } }, 'group');
  const group = await newGroup();
  const membership = await ok('POST', '/api/v2/group_memberships', { group_membership: { user_id: member, group_id: group } }, 'group_membership');
  const newField = (kind: 'user' | 'organization') =>
    ok('POST', `/api/v2/${kind}_fields`, { [`${kind}_field`]: { key: name('f'), title: 'Field', type: 'dropdown', custom_field_options: [{ name: 'A', value: name('a') }] } }, `${kind}_field`);
  const userField = await newField('user');
  const userFieldOption = (await t.request('GET', `/api/v2/user_fields/${userField}/options`)).json().custom_field_options[0].id as number;
  const organizationField = await newField('organization');
  const newOrganization = () => ok('POST', '/api/v2/organizations', { organization: { name: name('org') } }, 'organization');
  const organization = await newOrganization();
  const organizationMembership = await ok('POST', '/api/v2/organization_memberships', { organization_membership: { user_id: target, organization_id: organization } }, 'organization_membership');
  const job = (await t.request('POST', '/api/v2/users/create_many', { body: { users: [{ name: 'Job' }] } })).json().job_status.id as string;
  const newOauthClient = () => ok('POST', '/api/v2/oauth/clients', { client: { name: 'Matrix', identifier: name('client') } }, 'client');
  const oauthClient = await newOauthClient();
  const newUpload = async (): Promise<string> => {
    const response = await t.request('POST', '/api/v2/uploads?filename=matrix.txt', { body: 'matrix file', headers: { 'content-type': 'text/plain' } });
    if (response.statusCode !== 201) throw new Error(`fixture upload: ${response.statusCode} ${response.body}`);
    return response.json().upload.token as string;
  };
  const newTicket = () => ok('POST', '/api/v2/tickets', { ticket: { subject: 'Fresh', comment: { body: 'Fresh ticket' } } }, 'ticket');
  const ticket = await ok('POST', '/api/v2/tickets', { ticket: { subject: 'Matrix', requester_id: callers.endUser.id, comment: { body: 'Matrix ticket', uploads: [await newUpload()] } } }, 'ticket');
  const firstComment = (await t.request('GET', `/api/v2/tickets/${ticket}/comments`)).json().comments[0] as { id: number; html_body: string; attachments: { id: number }[] };
  const attachment = firstComment.attachments[0]?.id ?? 0;
  const commentOf = async (ticketId: number) => (await t.request('GET', `/api/v2/tickets/${ticketId}/comments`)).json().comments[0] as { id: number; attachments: { id: number }[] };
  const suspendedRequester = (await t.user({ role: 'end-user', name: 'Matrix Suspended' })).id;
  const suspend = await t.request('PUT', `/api/v2/users/${suspendedRequester}`, { body: { user: { suspended: true, suspension_reason: 'objection' } } });
  if (suspend.statusCode !== 200) throw new Error(`fixture suspend: ${suspend.body}`);
  const newSuspendedTicket = () => ok('POST', '/api/v2/tickets', { ticket: { subject: 'Suspended', requester_id: suspendedRequester, comment: { body: 'From a suspended user' } } }, 'suspended_ticket');
  const suspendedTicket = await newSuspendedTicket();

  f = {
    callers,
    target,
    targetIdentity,
    member,
    group,
    membership,
    role: restrictedRole,
    userField,
    userFieldOption,
    organizationField,
    organization,
    organizationMembership,
    job,
    oauthClient,
    fresh: {
      name,
      endUser: async () => (await t.user({ role: 'end-user', name: 'Fresh' })).id,
      agent: async () => (await t.user({ role: 'agent', name: 'Fresh Agent' })).id,
      identity: (userId) => ok('POST', `/api/v2/users/${userId}/identities`, { identity: { type: 'email', value: `${name('fresh')}@roster.test` } }, 'identity'),
      group: newGroup,
      membership: async () => ok('POST', '/api/v2/group_memberships', { group_membership: { user_id: member, group_id: await newGroup() } }, 'group_membership'),
      role: () => role({}),
      field: newField,
      option: () => ok('POST', `/api/v2/user_fields/${userField}/options`, { custom_field_option: { name: 'Fresh', value: name('o') } }, 'custom_field_option'),
      apiToken: async () => (await issueApiToken(db, t.account.id, null, 'fresh')).id,
      oauthClient: newOauthClient,
      oauthToken: () => ok('POST', '/api/v2/oauth/tokens', { token: { client_id: oauthClient, scopes: ['read'] } }, 'token'),
      organization: newOrganization,
      organizationMembership: async () => {
        const fresh = await newOrganization();
        const id = await ok('POST', '/api/v2/organization_memberships', { organization_membership: { user_id: target, organization_id: fresh } }, 'organization_membership');
        return { membership: id, organization: fresh };
      },
      ticket: newTicket,
      upload: newUpload,
      comment: async () => {
        const id = await newTicket();
        return { ticket: id, comment: (await commentOf(id)).id };
      },
      attachment: async () => {
        const id = await ok('POST', '/api/v2/tickets', { ticket: { subject: 'File', comment: { body: 'With a file', uploads: [await newUpload()] } } }, 'ticket');
        const comment = await commentOf(id);
        return { ticket: id, comment: comment.id, attachment: comment.attachments[0]?.id ?? 0 };
      },
      deletedTicket: async () => {
        const id = await newTicket();
        const deleted = await t.request('DELETE', `/api/v2/tickets/${id}`);
        if (deleted.statusCode !== 204) throw new Error(`fixture delete ticket: ${deleted.body}`);
        return id;
      },
      suspendedTicket: newSuspendedTicket,
    },
    ticket,
    attachment,
    comment: firstComment.id,
    commentHtml: firstComment.html_body,
    suspendedTicket,
  };
});

afterAll(async () => {
  await t.close();
});

async function cell(row: Row, who: Who): Promise<number> {
  const url = row.path ? await row.path(f) : row.route;
  const body = row.body ? await row.body(f) : undefined;
  const as = who === 'anonymous' ? null : f.callers[who];
  const response = await t.request(row.method, url, { as, ...(body === undefined ? {} : { body }), ...(row.headers ? { headers: row.headers } : {}) });
  if (response.statusCode >= 400) {
    // Every refusal has Zendesk's error shape; a 403 says what is missing.
    const error = response.json() as { error?: unknown; description?: unknown };
    expect(typeof error.error, `${who} ${row.method} ${url}`).toBe('string');
    if (response.statusCode === 403) expect(typeof error.description, `${who} ${row.method} ${url}`).toBe('string');
  }
  return response.statusCode;
}

describe('Authorization matrix', () => {
  it.each(ROWS.map((row) => [`${row.method} ${row.route}`, row] as const))('%s', async (_label, row) => {
    const actual: Record<string, number> = {};
    const expected: Record<string, number> = {};
    for (const [index, who] of WHO.entries()) {
      actual[who] = await cell(row, who);
      expected[who] = row.expect[index] as number;
    }
    expect(actual).toEqual(expected);
  });

  it('has a row for every route registered under /api/v2', () => {
    const tree = t.runtime.app.printRoutes({ commonPrefix: false });
    const paths: string[] = [];
    const registered: string[] = [];
    for (const line of tree.split('\n')) {
      const match = /^(.*?)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
      if (!match) continue;
      const depth = [...(match[1] ?? '')].length / 4;
      paths.length = depth;
      const url = (paths[depth - 1] ?? '') + (match[2] ?? '');
      paths[depth] = url;
      for (const method of (match[3] ?? '').split(', ').filter(Boolean)) {
        if (url.startsWith('/api/v2') && method !== 'HEAD') registered.push(`${method} ${url}`);
      }
    }
    const covered = new Set(ROWS.map((row) => `${row.method} ${row.route}`));
    expect(registered.filter((route) => !covered.has(route)).sort()).toEqual([]);
  });
});

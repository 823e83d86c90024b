import type { Static } from 'typebox';
import { isStaff, type Actor } from '../policy/policy.ts';
import { isRestricted, resolvePermissions, type TicketAccess } from '../roles/permissions.ts';
import type { UserResponse } from './users.schemas.ts';
import { ianaTimeZone, localeId } from './profile-values.ts';
import type { UserView } from './users.repository.ts';

const RESTRICTION_BY_ACCESS: Record<TicketAccess, string | null> = {
  all: null,
  'within-groups': 'groups',
  'within-groups-and-public-groups': 'groups',
  'within-organization': 'organization',
  'assigned-only': 'assigned',
};

/**
 * The fields Zendesk derives from the role, computed from the role itself rather than from
 * columns that could be stale: role_type (4 admin, 0 agent with a custom role, null otherwise),
 * the custom role, whether the agent is restricted and how, and whether they may comment only
 * privately. An end user's ticket_restriction is their own setting (`requested` by default).
 */
function roleFields(user: UserView) {
  if (user.role === 'end-user') {
    const restriction = user.ticket_restriction === 'organization' ? 'organization' : 'requested';
    return { role_type: null, custom_role_id: null, ticket_restriction: restriction, only_private_comments: false, restricted_agent: false };
  }
  if (user.role === 'admin') {
    return { role_type: 4, custom_role_id: null, ticket_restriction: null, only_private_comments: false, restricted_agent: false };
  }
  const configuration = user.custom_role_id === null ? null : user.role_configuration;
  const permissions = resolvePermissions('agent', configuration);
  return {
    role_type: configuration === null ? null : 0,
    custom_role_id: configuration === null ? null : user.custom_role_id,
    ticket_restriction: RESTRICTION_BY_ACCESS[permissions.ticket_access],
    only_private_comments: configuration?.ticket_comment_access === 'none',
    restricted_agent: isRestricted(permissions),
  };
}

/**
 * Row → Zendesk user JSON, fields in the reference's order. Staff get every field; an end user
 * (or anonymous caller) gets the end-user subset.
 */
export function presentUser(user: UserView, baseUrl: string, viewer: Actor | null): Static<typeof UserResponse> {
  const base: Static<typeof UserResponse> = {
    id: user.id,
    url: `${baseUrl}/api/v2/users/${user.id}.json`,
    name: user.name,
    email: user.email,
    created_at: user.created_at.toISOString(),
    updated_at: user.updated_at.toISOString(),
    time_zone: user.time_zone ?? 'UTC',
    iana_time_zone: ianaTimeZone(user.time_zone),
    phone: user.phone,
    shared_phone_number: user.shared_phone_number,
    photo: user.photo,
    locale_id: localeId(user.locale),
    locale: user.locale,
    organization_id: user.organization_id,
    role: user.role,
    verified: Boolean(user.verified),
  };
  if (!viewer || !isStaff(viewer)) return base;
  // Object.assign, not `{ ...base, … }`: V8 (Node 20) takes ~40 µs to build a spread followed by
  // this many properties, ~2 µs this way (bench/RESULTS.md); base is ours to extend.
  const role = roleFields(user);
  return Object.assign(base, {
    external_id: user.external_id,
    tags: user.tags,
    alias: user.alias,
    active: user.active,
    shared: user.shared,
    shared_agent: user.shared_agent,
    last_login_at: user.last_login_at?.toISOString() ?? null,
    two_factor_auth_enabled: user.two_factor_auth_enabled,
    signature: user.signature,
    details: user.details,
    notes: user.notes,
    role_type: role.role_type,
    custom_role_id: role.custom_role_id,
    moderator: user.moderator,
    ticket_restriction: role.ticket_restriction,
    only_private_comments: role.only_private_comments,
    restricted_agent: role.restricted_agent,
    suspended: user.suspended,
    default_group_id: user.default_group_id,
    report_csv: user.report_csv,
    user_fields: user.user_field_values,
  });
}

/** What `GET /users/me` returns to an anonymous caller, as Zendesk does. */
export function anonymousUser(): Record<string, unknown> {
  return {
    id: null,
    url: null,
    name: 'Anonymous user',
    email: 'invalid@example.com',
    created_at: null,
    updated_at: null,
    time_zone: 'UTC',
    iana_time_zone: 'Etc/UTC',
    phone: null,
    shared_phone_number: null,
    photo: null,
    locale_id: 1,
    locale: 'en-US',
    organization_id: null,
    role: 'end-user',
    verified: false,
  };
}

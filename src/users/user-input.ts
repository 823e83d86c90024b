import type { IdentityType, Role } from '../db/tables.ts';
import { errors, type ErrorDetails } from '../http/errors.ts';
import { isIdentityType, normalizeIdentity } from '../identities/identity-values.ts';
import { canonicalLocale, localeById, normalizeTags, resolveTimeZone } from './profile-values.ts';
import { BLANK_NAME, nameValue } from '../http/input-values.ts';

export interface IdentityInput {
  type: IdentityType;
  value: string;
  key: string;
  verified: boolean;
  primary: boolean;
}

/** Column values a create or update sets on `users`. */
export interface UserColumns {
  name?: string;
  role?: Role;
  time_zone?: string | null;
  locale?: string;
  external_id?: string | null;
  tags?: string[];
  alias?: string | null;
  details?: string | null;
  notes?: string | null;
  signature?: string | null;
  photo?: null;
  shared_phone_number?: boolean | null;
  moderator?: boolean;
  only_private_comments?: boolean;
  ticket_restriction?: string | null;
  suspended?: boolean;
  custom_role_id?: number | null;
  user_fields?: Record<string, string | number | boolean | null>;
}

export interface UserInput {
  /** `organization_id` (or `organization: {name}`) as sent: the user's new default organization, null for none. */
  organization?: { id: number } | { name: string } | null;
  /** `default_group_id` as sent: the agent's default group (joined if need be); see src/groups/manage-groups.ts. */
  defaultGroupId?: number | null;
  columns: UserColumns;
  email?: { value: string; key: string } | null;
  phone?: { value: string; key: string } | null;
  identities: IdentityInput[];
  verified?: boolean;
  /** `suspension_reason` as sent (Roster's): why the user is suspended — see src/lifecycle/suspend-user.ts. */
  suspensionReason?: unknown;
  /** Field names the caller sent that Roster acts on, for policy and the audit log. */
  fields: string[];
}

const ROLES: readonly Role[] = ['end-user', 'agent', 'admin'];
const RESTRICTIONS = ['organization', 'groups', 'assigned', 'requested'];
const TEXT_LIMIT = 65_535;

type Raw = Record<string, unknown>;

/**
 * Validates a `user` object from any entry point (API, bulk jobs, import) into columns and
 * identities. Collects every problem before failing, and never echoes a value back in a message.
 */
export function parseUserInput(raw: unknown, mode: 'create' | 'update'): UserInput {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw errors.missingParameter('user');
  }
  const input = raw as Raw;
  const details: ErrorDetails = {};
  const fail = (field: string, error: string, description: string): void => {
    (details[field] ??= []).push({ error, description });
  };
  const has = (key: string): boolean => Object.hasOwn(input, key) && input[key] !== undefined;
  const result: UserInput = { columns: {}, identities: [], fields: [] };
  const columns = result.columns;
  const take = (key: string): unknown => {
    result.fields.push(key);
    return input[key];
  };

  const text = (key: keyof UserColumns & string, label: string, max = TEXT_LIMIT, nullable = true): void => {
    if (!has(key)) return;
    const value = take(key);
    if (value === null && nullable) {
      (columns as Raw)[key] = null;
      return;
    }
    if (typeof value !== 'string' && typeof value !== 'number') return fail(key, 'InvalidValue', `${label} is invalid`);
    const trimmed = String(value).trim();
    if (trimmed.length > max) return fail(key, 'InvalidValue', `${label} is too long (maximum is ${max} characters)`);
    (columns as Raw)[key] = trimmed === '' && nullable ? null : trimmed;
  };
  const flag = (key: keyof UserColumns & string, label: string, nullable = false): void => {
    if (!has(key)) return;
    const value = take(key);
    if (value === null && nullable) (columns as Raw)[key] = null;
    else if (typeof value === 'boolean') (columns as Raw)[key] = value;
    else if (value === 'true' || value === 'false') (columns as Raw)[key] = value === 'true';
    else fail(key, 'InvalidValue', `${label} must be true or false`);
  };

  const name = has('name') ? nameValue(take('name')) : mode === 'create' ? BLANK_NAME : undefined;
  if (typeof name === 'string') columns.name = name;
  else if (name) fail('name', name.error, name.description);

  if (has('role')) {
    const value = take('role');
    const role = typeof value === 'string' ? value.trim().toLowerCase().replace(/^end_user$|^enduser$/, 'end-user') : value;
    if (ROLES.includes(role as Role)) columns.role = role as Role;
    else fail('role', 'InvalidValue', 'Role is not one of end-user, agent, admin');
  }

  if (has('email')) {
    const value = take('email');
    if (value === null || value === '') result.email = null;
    else {
      const normalized = normalizeIdentity('email', value);
      if (normalized.ok) result.email = { value: normalized.value, key: normalized.key };
      else fail('email', normalized.error, normalized.description);
    }
  }
  if (has('phone')) {
    const value = take('phone');
    if (value === null || value === '') result.phone = null;
    else {
      const normalized = normalizeIdentity('phone_number', value);
      if (normalized.ok) result.phone = { value: normalized.value, key: normalized.key };
      else fail('phone', normalized.error, normalized.description);
    }
  }

  if (has('identities')) {
    const list = take('identities');
    if (mode === 'update') fail('identities', 'InvalidValue', 'Identities are added through the identities API after creation');
    else if (!Array.isArray(list) || list.length > 50) fail('identities', 'InvalidValue', 'Identities must be a list of at most 50 identities');
    else
      list.forEach((item: unknown, index) => {
        const identity = item as Raw | null;
        if (!identity || typeof identity !== 'object' || !isIdentityType(identity.type)) {
          return fail('identities', 'InvalidValue', `Identity ${index + 1}: type must be one of email, phone_number, twitter, facebook, google`);
        }
        const normalized = normalizeIdentity(identity.type, identity.value);
        if (!normalized.ok) return fail('identities', normalized.error, `Identity ${index + 1}: ${normalized.description}`);
        result.identities.push({
          type: identity.type,
          value: normalized.value,
          key: normalized.key,
          verified: identity.verified === true,
          primary: identity.primary === true,
        });
      });
  }

  if (has('time_zone') || has('iana_time_zone')) {
    const key = has('time_zone') ? 'time_zone' : 'iana_time_zone';
    const value = take(key);
    if (value === null) columns.time_zone = null;
    else {
      const zone = typeof value === 'string' ? resolveTimeZone(value) : undefined;
      if (zone) columns.time_zone = zone.timeZone;
      else fail('time_zone', 'InvalidValue', 'Time zone is not a known time zone');
    }
  }
  if (has('locale') || has('locale_id')) {
    const key = has('locale') ? 'locale' : 'locale_id';
    const value = take(key);
    const locale =
      typeof value === 'string' && key === 'locale' ? canonicalLocale(value) : localeById(Number(value));
    if (locale) columns.locale = locale;
    else fail(key, 'InvalidValue', 'Locale is not one of en-US, fr, pt-BR, zh-CN');
  }

  if (has('external_id')) {
    const value = take('external_id');
    if (value === null || value === '') columns.external_id = null;
    else if ((typeof value === 'string' || typeof value === 'number') && String(value).trim().length <= 255) {
      columns.external_id = String(value).trim();
    } else fail('external_id', 'InvalidValue', 'External id is invalid');
  }
  if (has('tags')) {
    const tags = normalizeTags(take('tags'));
    if (tags) columns.tags = tags;
    else fail('tags', 'InvalidValue', 'Tags must be a list of words');
  }
  text('alias', 'Alias', 255);
  text('details', 'Details');
  text('notes', 'Notes');
  text('signature', 'Signature');
  flag('shared_phone_number', 'Shared phone number', true);
  flag('moderator', 'Moderator');
  flag('only_private_comments', 'Only private comments');
  flag('suspended', 'Suspended');
  // Checked where the suspension is applied (src/lifecycle/suspend-user.ts): required only when suspending.
  if (has('suspension_reason')) result.suspensionReason = take('suspension_reason');

  if (has('ticket_restriction')) {
    const value = take('ticket_restriction');
    if (value === null || RESTRICTIONS.includes(value as string)) columns.ticket_restriction = value as string | null;
    else fail('ticket_restriction', 'InvalidValue', `Ticket restriction is not one of ${RESTRICTIONS.join(', ')}`);
  }
  if (has('photo')) {
    if (take('photo') === null) columns.photo = null;
    else fail('photo', 'InvalidValue', 'Photos are uploaded through the photo upload, not set directly');
  }
  // A custom role is checked against the account (and the final role) by create/update.
  if (has('custom_role_id')) {
    const value = take('custom_role_id');
    if (value === null) columns.custom_role_id = null;
    else if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) columns.custom_role_id = value;
    else if (typeof value === 'string' && /^\d{1,15}$/.test(value) && Number(value) > 0) columns.custom_role_id = Number(value);
    else fail('custom_role_id', 'InvalidValue', 'Custom role does not exist');
  }
  // The default organization, by id or (Zendesk's `organization: {name}`) by name; resolved and
  // checked against the account by create/update (src/organizations/user-organization.ts).
  if (has('organization_id')) {
    const value = take('organization_id');
    if (value === null) result.organization = null;
    else if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) result.organization = { id: value };
    else if (typeof value === 'string' && /^\d{1,15}$/.test(value) && Number(value) > 0) result.organization = { id: Number(value) };
    else fail('organization_id', 'InvalidValue', 'Organization does not exist');
  }
  if (has('organization') && !has('organization_id')) {
    const value = take('organization');
    const name = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Raw).name : undefined;
    if (value === null) result.organization = null;
    else if ((typeof name === 'string' || typeof name === 'number') && String(name).trim() !== '' && String(name).trim().length <= 255) {
      result.organization = { name: String(name).trim() };
    } else fail('organization', 'InvalidValue', 'Organization must be an object with the name of an organization');
  }
  // The default group, by id; checked against the account and the user's groups by create/update.
  if (has('default_group_id')) {
    const value = take('default_group_id');
    if (value === null) result.defaultGroupId = null;
    else if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) result.defaultGroupId = value;
    else if (typeof value === 'string' && /^\d{1,15}$/.test(value) && Number(value) > 0) result.defaultGroupId = Number(value);
    else fail('default_group_id', 'InvalidValue', 'Default group does not exist');
  }
  if (has('user_fields')) {
    const value = take('user_fields');
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      fail('user_fields', 'InvalidValue', 'User fields must be an object of field keys to values');
    } else {
      const fields: Record<string, string | number | boolean | null> = {};
      for (const [key, fieldValue] of Object.entries(value as Raw)) {
        if (!/^[A-Za-z0-9_]{1,64}$/.test(key)) fail('user_fields', 'InvalidValue', 'User field keys are letters, digits and underscores');
        else if (fieldValue === null || ['string', 'number', 'boolean'].includes(typeof fieldValue)) {
          fields[key] = fieldValue as string | number | boolean | null;
        } else fail('user_fields', 'InvalidValue', 'User field values are text, numbers, true/false or null');
      }
      columns.user_fields = fields;
    }
  }
  if (has('verified')) {
    const value = take('verified');
    if (typeof value === 'boolean') result.verified = value;
    else fail('verified', 'InvalidValue', 'Verified must be true or false');
  }
  if (has('skip_verify_email')) take('skip_verify_email');

  if (Object.keys(details).length > 0) throw errors.invalid(details);
  return result;
}


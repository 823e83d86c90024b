import { errors, type ErrorDetails } from '../http/errors.ts';
import { normalizeTags } from '../users/profile-values.ts';
import { BLANK_NAME, nameValue } from '../http/input-values.ts';

/** Column values a create or update sets on `organizations` (custom field values come separately). */
export interface OrganizationColumns {
  name?: string;
  details?: string | null;
  notes?: string | null;
  domain_names?: string[];
  tags?: string[];
  external_id?: string | null;
  group_id?: number | null;
  shared_tickets?: boolean;
  shared_comments?: boolean;
}

export interface OrganizationInput {
  columns: OrganizationColumns;
  /** Raw `organization_fields`, validated against the account's field definitions by the domain code. */
  organizationFields?: unknown;
  /** Field names the caller sent that Roster acts on, for policy and the audit log. */
  fields: string[];
}

const TEXT_LIMIT = 65_535;
const MAX_DOMAINS = 100;
/** A host name: labels of letters (any script), digits and inner hyphens, at least two labels. */
const LABEL = '[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]{0,61}[\\p{L}\\p{N}])?';
const DOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})+$`, 'u');

type Raw = Record<string, unknown>;

/**
 * `domain_names` as a list, or as Zendesk's admin UI writes it, one string separated by spaces
 * or commas. Stored lower-cased without a leading `@`, so a look-up by an email's domain is an
 * exact match.
 */
export function normalizeDomainNames(raw: unknown): string[] | undefined {
  const items = typeof raw === 'string' ? raw.split(/[\s,]+/) : Array.isArray(raw) ? raw : undefined;
  if (!items || items.length > MAX_DOMAINS) return undefined;
  const domains: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') return undefined;
    const domain = item.trim().toLowerCase().replace(/^@/, '').replace(/\.$/, '');
    if (domain === '') continue;
    if (domain.length > 253 || !DOMAIN.test(domain)) return undefined;
    if (!domains.includes(domain)) domains.push(domain);
  }
  return domains;
}

/**
 * Validates an `organization` object from any entry point (API, bulk jobs) into columns.
 * Collects every problem before failing, and never echoes a value back in a message.
 */
export function parseOrganizationInput(raw: unknown, mode: 'create' | 'update'): OrganizationInput {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw errors.missingParameter('organization');
  const input = raw as Raw;
  const details: ErrorDetails = {};
  const fail = (field: string, error: string, description: string): void => {
    (details[field] ??= []).push({ error, description });
  };
  const has = (key: string): boolean => Object.hasOwn(input, key) && input[key] !== undefined;
  const result: OrganizationInput = { columns: {}, fields: [] };
  const columns = result.columns;
  const take = (key: string): unknown => {
    result.fields.push(key);
    return input[key];
  };

  const name = has('name') ? nameValue(take('name')) : mode === 'create' ? BLANK_NAME : undefined;
  if (typeof name === 'string') columns.name = name;
  else if (name) fail('name', name.error, name.description);

  for (const [key, label] of [['details', 'Details'], ['notes', 'Notes']] as const) {
    if (!has(key)) continue;
    const value = take(key);
    if (value === null) columns[key] = null;
    else if (typeof value !== 'string' && typeof value !== 'number') fail(key, 'InvalidValue', `${label} is invalid`);
    else if (String(value).length > TEXT_LIMIT) fail(key, 'InvalidValue', `${label} is too long (maximum is ${TEXT_LIMIT} characters)`);
    else columns[key] = String(value);
  }

  if (has('domain_names')) {
    const value = take('domain_names');
    const domains = value === null ? [] : normalizeDomainNames(value);
    if (domains) columns.domain_names = domains;
    else fail('domain_names', 'InvalidValue', `Domain names must be a list of at most ${MAX_DOMAINS} domain names such as acme.com`);
  }
  if (has('tags')) {
    const value = take('tags');
    const tags = value === null ? [] : normalizeTags(value);
    if (tags) columns.tags = tags;
    else fail('tags', 'InvalidValue', 'Tags must be a list of words');
  }
  if (has('external_id')) {
    const value = take('external_id');
    if (value === null || value === '') columns.external_id = null;
    else if ((typeof value === 'string' || typeof value === 'number') && String(value).trim() !== '' && String(value).trim().length <= 255) {
      columns.external_id = String(value).trim();
    } else fail('external_id', 'InvalidValue', 'External id is invalid');
  }
  if (has('group_id')) {
    const value = take('group_id');
    if (value === null) columns.group_id = null;
    else if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) columns.group_id = value;
    else if (typeof value === 'string' && /^\d{1,15}$/.test(value) && Number(value) > 0) columns.group_id = Number(value);
    else fail('group_id', 'InvalidValue', 'Group is not a group of this account');
  }
  for (const [key, label] of [['shared_tickets', 'Shared tickets'], ['shared_comments', 'Shared comments']] as const) {
    if (!has(key)) continue;
    const value = take(key);
    if (typeof value === 'boolean') columns[key] = value;
    else if (value === 'true' || value === 'false') columns[key] = value === 'true';
    else fail(key, 'InvalidValue', `${label} must be true or false`);
  }
  if (has('organization_fields')) {
    const value = take('organization_fields');
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      fail('organization_fields', 'InvalidValue', 'Organization fields must be an object of field keys to values');
    } else result.organizationFields = value;
  }

  if (Object.keys(details).length > 0) throw errors.invalid(details);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Memberships

export interface MembershipInput {
  user_id: number;
  organization_id: number;
  default: boolean;
}

const positiveId = (value: unknown): number | undefined => {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value) && Number(value) > 0) return Number(value);
  return undefined;
};

/** `{user_id, organization_id, default}` of a membership body (API or job item); what is missing or malformed is a 422 on that field. */
export function parseMembershipInput(raw: unknown, userId?: number): MembershipInput {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw errors.missingParameter('organization_membership');
  const input = raw as Record<string, unknown>;
  const user = userId ?? positiveId(input.user_id);
  const organization = positiveId(input.organization_id);
  const details: ErrorDetails = {};
  if (user === undefined) details.user_id = [{ error: 'InvalidValue', description: 'User: a user id is required' }];
  if (organization === undefined) details.organization_id = [{ error: 'InvalidValue', description: 'Organization: an organization id is required' }];
  if (input.default !== undefined && input.default !== null && typeof input.default !== 'boolean') {
    details.default = [{ error: 'InvalidValue', description: 'Default must be true or false' }];
  }
  if (user === undefined || organization === undefined || details.default) throw errors.invalid(details);
  return { user_id: user, organization_id: organization, default: input.default === true };
}

import vm from 'node:vm';
import type { CustomFieldOwner } from '../db/tables.ts';
import { errors, type ErrorDetails } from '../http/errors.ts';
import type { Executor } from '../users/users.repository.ts';
import { listFields, type FieldWithOptions } from './custom-fields.repository.ts';

/** A stored custom field value; null means "unset" (the caller removes the key). */
export type FieldValue = string | number | boolean | null;

const TEXT_LIMIT = 65_535;
/** Regexp fields are matched against admin-written patterns: keep the subject short. */
const REGEXP_VALUE_LIMIT = 1_024;
const KEY = /^[A-Za-z0-9_]{1,64}$/;

/** The wrapper a value arrives in, which is also the prefix of its 422 detail key. */
export function fieldsAttribute(owner: CustomFieldOwner): 'user_fields' | 'organization_fields' {
  return owner === 'user' ? 'user_fields' : 'organization_fields';
}

/**
 * Checks `values` (an object of field key → value, as sent under `user_fields` or
 * `organization_fields`) against the account's active field definitions of `owner`, and returns
 * the normalized values of the keys sent: integers and decimals as numbers, checkboxes as
 * booleans, dates as `YYYY-MM-DD`, dropdowns as the option's value, blank text as null.
 * Every problem is collected into one 422 RecordInvalid whose detail keys name the field
 * (`user_fields.plan`); descriptions never echo the value sent.
 */
export async function validateFieldValues(
  db: Executor,
  accountId: number,
  owner: CustomFieldOwner,
  values: unknown,
): Promise<Record<string, FieldValue>> {
  const attribute = fieldsAttribute(owner);
  const label = owner === 'user' ? 'user field' : 'organization field';
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    throw errors.field(attribute, 'InvalidValue', `${attribute} must be an object of field keys to values`);
  }
  const entries = Object.entries(values as Record<string, unknown>);
  const details: ErrorDetails = {};
  const fail = (key: string, error: string, description: string): void => {
    (details[`${attribute}.${key}`] ??= []).push({ error, description });
  };
  const keys = entries.map(([key]) => key).filter((key) => KEY.test(key));
  const fields = new Map((await listFields(db, accountId, owner, { activeOnly: true, keys })).map((field) => [field.key, field]));

  const result: Record<string, FieldValue> = {};
  for (const [key, raw] of entries) {
    const field = KEY.test(key) ? fields.get(key) : undefined;
    if (!field) {
      fail(KEY.test(key) ? key : 'key', 'InvalidValue', `is not an active ${label} of this account`);
      continue;
    }
    const normalized = normalizeValue(field, raw);
    if (normalized.ok) result[key] = normalized.value;
    else fail(key, 'InvalidValue', `${field.title}: ${normalized.description}`);
  }
  if (Object.keys(details).length > 0) throw errors.invalid(details);
  return result;
}

type Normalized = { ok: true; value: FieldValue } | { ok: false; description: string };
const ok = (value: FieldValue): Normalized => ({ ok: true, value });
const bad = (description: string): Normalized => ({ ok: false, description });

/** One value against one field definition. */
export function normalizeValue(field: FieldWithOptions, raw: unknown): Normalized {
  if (raw === null || raw === undefined) return ok(null);
  const text = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : undefined;
  if (text === '' && field.type !== 'checkbox') return ok(null);
  switch (field.type) {
    case 'text':
    case 'textarea': {
      if (text === undefined) return bad('must be text');
      if (text.length > TEXT_LIMIT) return bad(`is too long (maximum is ${TEXT_LIMIT} characters)`);
      return ok(field.type === 'text' ? text : String(raw).replace(/^\s+|\s+$/g, ''));
    }
    case 'checkbox': {
      if (typeof raw === 'boolean') return ok(raw);
      if (raw === 'true' || raw === '1' || raw === 1) return ok(true);
      if (raw === 'false' || raw === '0' || raw === 0 || raw === '') return ok(false);
      return bad('must be true or false');
    }
    case 'integer': {
      if (text === undefined || !/^[+-]?\d{1,16}$/.test(text)) return bad('must be a whole number');
      const value = Number(text);
      if (!Number.isSafeInteger(value)) return bad('is out of range');
      return ok(value);
    }
    case 'decimal': {
      if (text === undefined || !/^[+-]?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})$/.test(text)) return bad('must be a decimal number');
      const value = Number(text);
      if (!Number.isFinite(value)) return bad('is out of range');
      return ok(value);
    }
    case 'date': {
      if (text === undefined) return bad('must be a date (YYYY-MM-DD)');
      const match = /^(\d{4})-(\d{2})-(\d{2})(?:$|T)/.exec(text);
      if (!match) return bad('must be a date (YYYY-MM-DD)');
      const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
      const date = new Date(Date.UTC(year, month - 1, day));
      if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return bad('is not a calendar date');
      return ok(`${match[1]}-${match[2]}-${match[3]}`);
    }
    case 'dropdown': {
      if (text === undefined) return bad('must be the value of one of its options');
      const option = field.options.find((candidate) => candidate.value === text);
      return option ? ok(option.value) : bad('must be the value of one of its options');
    }
    case 'regexp': {
      if (text === undefined) return bad('must be text');
      if (text.length > REGEXP_VALUE_LIMIT) return bad(`is too long (maximum is ${REGEXP_VALUE_LIMIT} characters)`);
      const pattern = field.regexp_for_validation === null ? undefined : compileFieldPattern(field.regexp_for_validation);
      if (pattern) {
        const matched = matchesWithin(pattern, text);
        if (matched === 'timeout') return bad('could not be checked against the required format in time');
        if (!matched) return bad('does not match the required format');
      }
      return ok(text);
    }
    default:
      return bad('has an unknown type');
  }
}

const PATTERN_TIME_LIMIT_MS = 100;
const patternContext = vm.createContext({});
const patternTest = new vm.Script('pattern.test(text)');

/**
 * Runs an admin-written pattern with a time limit: JavaScript regexps backtrack, and a pattern
 * like `^(a+)+$` takes exponential time on a near-miss — one value must not stall the server.
 */
function matchesWithin(pattern: RegExp, text: string): boolean | 'timeout' {
  Object.assign(patternContext, { pattern, text });
  try {
    return patternTest.runInContext(patternContext, { timeout: PATTERN_TIME_LIMIT_MS }) === true;
  } catch {
    return 'timeout';
  } finally {
    Object.assign(patternContext, { pattern: null, text: null });
  }
}

/**
 * Compiles a `regexp_for_validation`. Zendesk's patterns are Ruby regexps, usually anchored with
 * `\A` and `\z`: those become `^` and `$` (whole-string anchors in JavaScript without the `m`
 * flag). Returns undefined for a pattern JavaScript cannot compile.
 */
export function compileFieldPattern(pattern: string): RegExp | undefined {
  const translated = pattern.replace(/(?<!\\)((?:\\\\)*)\\A/g, '$1^').replace(/(?<!\\)((?:\\\\)*)\\[zZ]/g, '$1$');
  try {
    return new RegExp(translated, 'u');
  } catch {
    try {
      return new RegExp(translated);
    } catch {
      return undefined;
    }
  }
}

import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { IdentityType } from '../db/tables.ts';
import { identityTypes } from '../db/tables.ts';

export type Normalized = { ok: true; value: string; key: string } | { ok: false; error: 'BlankValue' | 'InvalidValue'; description: string };

// Deliberately permissive on the local part (RFC 5322 allows much), strict on shape: one @, a dotted domain, no spaces.
const EMAIL = /^[^\s@<>(),;:"[\]\\]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;

export function isIdentityType(value: unknown): value is IdentityType {
  return typeof value === 'string' && (identityTypes as readonly string[]).includes(value);
}

export function normalizeEmail(raw: string): string | undefined {
  const value = raw.trim();
  if (value.length > 254 || !EMAIL.test(value)) return undefined;
  return value;
}

/** Checks an identity value and computes the key it is matched on. Descriptions never echo the value. */
export function normalizeIdentity(type: IdentityType, raw: unknown): Normalized {
  const label = identityLabel(type);
  if (typeof raw !== 'string' && typeof raw !== 'number') return { ok: false, error: 'InvalidValue', description: `${label} is invalid` };
  const value = String(raw).trim();
  if (value === '') return { ok: false, error: 'BlankValue', description: `${label} cannot be blank` };
  if (value.length > 255) return { ok: false, error: 'InvalidValue', description: `${label} is too long (maximum is 255 characters)` };
  switch (type) {
    case 'email':
    case 'google': {
      const email = normalizeEmail(value);
      if (!email) return { ok: false, error: 'InvalidValue', description: `${label} is not properly formatted` };
      return { ok: true, value: email, key: email.toLowerCase() };
    }
    case 'phone_number': {
      const key = phoneKey(value);
      if (!key) return { ok: false, error: 'InvalidValue', description: `${label} is not a valid phone number` };
      return { ok: true, value, key };
    }
    case 'twitter': {
      const handle = value.replace(/^@/, '');
      if (!/^[A-Za-z0-9_]{1,50}$/.test(handle)) return { ok: false, error: 'InvalidValue', description: `${label} is not a valid handle` };
      return { ok: true, value: handle, key: handle.toLowerCase() };
    }
    case 'facebook':
      return { ok: true, value, key: value.toLowerCase() };
  }
}

/** E.164 when the number parses (international form), else `+` and its digits: the same number matches however it was typed. */
export function phoneKey(value: string): string | undefined {
  if (!/^[+\d\s().\-/x#*]+$/i.test(value)) return undefined;
  const digits = value.replace(/\D/g, '');
  if (digits.length < 4 || digits.length > 20) return undefined;
  const parsed = parsePhoneNumberFromString(value.startsWith('+') ? value : `+${digits}`);
  return parsed?.isPossible() ? parsed.number : `+${digits}`;
}

export function identityLabel(type: IdentityType): string {
  switch (type) {
    case 'email':
      return 'Email';
    case 'phone_number':
      return 'Phone number';
    case 'twitter':
      return 'Twitter handle';
    case 'facebook':
      return 'Facebook id';
    case 'google':
      return 'Google account';
  }
}

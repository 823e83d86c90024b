import { errors } from './errors.ts';

/** `ids=1,2,3` → numbers; at most `max` of them, each a positive integer. */
export function parseIdList(raw: unknown, name: string, max = 100): number[] {
  const text = Array.isArray(raw) ? raw.join(',') : raw;
  if (typeof text !== 'string' && typeof text !== 'number') throw errors.missingParameter(name);
  const parts = String(text).split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (parts.length === 0) throw errors.missingParameter(name);
  if (parts.length > max) throw errors.badRequest(`${name} takes at most ${max} values`);
  return [...new Set(parts.map((part) => {
    const value = Number(part);
    if (!/^\d{1,15}$/.test(part) || value < 1) throw errors.badRequest(`${name} must be a comma-separated list of ids`);
    return value;
  }))];
}

/** `external_ids=a,b` → trimmed strings, at most `max`. */
export function parseStringList(raw: unknown, name: string, max = 100): string[] {
  const text = Array.isArray(raw) ? raw.join(',') : raw;
  if (typeof text !== 'string' && typeof text !== 'number') throw errors.missingParameter(name);
  const parts = String(text).split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (parts.length === 0) throw errors.missingParameter(name);
  if (parts.length > max) throw errors.badRequest(`${name} takes at most ${max} values`);
  return [...new Set(parts)];
}

/** A single-valued query parameter that may have arrived repeated or as an object. */
export function queryString(raw: unknown, name: string): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === 'string' || typeof raw === 'number') return String(raw);
  throw errors.badRequest(`${name} must be a single value`);
}

import { errors } from '../http/errors.ts';
import type { ErrorDetails } from '../http/errors.ts';

/** Zendesk's bulk-import columns for users (DOMAIN.md §2 item 5), plus `user_fields.<key>`. */
export const USER_COLUMNS = ['name', 'email', 'external_id', 'details', 'notes', 'phone', 'role', 'restriction', 'organization', 'tags'] as const;
const FIELD_PREFIX = 'user_fields.';

const shown = (raw: string): string => {
  const clean = raw.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
};

/**
 * Maps a header row to Roster's column names: case-insensitive, surrounding spaces ignored,
 * `user_fields.<key>` matched against the account's active user fields (case-insensitively, to
 * the field's own key). Every problem is one 400 naming the columns — a misspelt column would
 * otherwise import nothing of what it holds without anyone noticing.
 */
export function mapHeader(header: string[], activeFieldKeys: string[]): string[] {
  const fieldKeys = new Map(activeFieldKeys.map((key) => [key.toLowerCase(), key]));
  const unknown: string[] = [];
  const mapped = header.map((raw) => {
    const name = raw.trim().toLowerCase();
    if ((USER_COLUMNS as readonly string[]).includes(name)) return name;
    if (name.startsWith(FIELD_PREFIX)) {
      const key = fieldKeys.get(name.slice(FIELD_PREFIX.length));
      if (key) return `${FIELD_PREFIX}${key}`;
    }
    unknown.push(shown(raw) || '(blank)');
    return '';
  });
  if (unknown.length > 0) {
    throw errors.badRequest(
      `Unknown column${unknown.length > 1 ? 's' : ''}: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}. ` +
        `The columns are ${USER_COLUMNS.join(', ')} and user_fields.<key> for an active user field`,
      'InvalidColumns',
    );
  }
  const duplicates = mapped.filter((name, index) => mapped.indexOf(name) !== index);
  if (duplicates.length > 0) throw errors.badRequest(`Column ${duplicates[0]} appears more than once`, 'InvalidColumns');
  if (!mapped.some((name) => name === 'name' || name === 'email' || name === 'external_id')) {
    throw errors.badRequest('The header needs a name, email or external_id column', 'InvalidColumns');
  }
  return mapped;
}

/** A row's cells as the user object parseUserInput takes; an empty cell is left out (it changes nothing). */
export function rowToUser(columns: string[], cells: string[]): Record<string, unknown> {
  const user: Record<string, unknown> = {};
  const fields: Record<string, string> = {};
  columns.forEach((column, index) => {
    const value = (cells[index] ?? '').trim();
    if (value === '') return;
    if (column.startsWith(FIELD_PREFIX)) fields[column.slice(FIELD_PREFIX.length)] = value;
    else if (column === 'restriction') user.ticket_restriction = value.toLowerCase();
    else if (column === 'organization') user.organization = { name: value };
    else user[column] = value;
  });
  if (Object.keys(fields).length > 0) user.user_fields = fields;
  return user;
}

/** The CSV column a 422 detail key of the user API stands for. */
function columnOf(key: string): string | null {
  if (key === 'ticket_restriction') return 'restriction';
  if (key === 'organization_id') return 'organization';
  if (key === 'identities') return 'email';
  if (key === 'base') return null;
  return key;
}

/** A row's rejection in the report: the columns at fault and what is wrong — never the values. */
export interface Rejection {
  error: string;
  columns: string[];
  description: string;
}

export function rejectionOf(code: string, details: ErrorDetails | undefined, description: string | undefined): Rejection {
  if (!details || Object.keys(details).length === 0) return { error: code, columns: [], description: description ?? code };
  const columns: string[] = [];
  const parts: string[] = [];
  let error = code;
  for (const [key, list] of Object.entries(details)) {
    const column = columnOf(key);
    if (column && !columns.includes(column)) columns.push(column);
    for (const entry of list) {
      parts.push(column ? `${column}: ${entry.description}` : entry.description);
      if (error === 'RecordInvalid') error = entry.error;
    }
  }
  return { error, columns, description: parts.join('; ') };
}

/** What a request's value for a field was wrong with, in the shape of a 422 detail entry. */
export interface Invalid {
  error: 'InvalidValue' | 'BlankValue';
  description: string;
}

export const BLANK_NAME: Invalid = { error: 'BlankValue', description: 'Name: cannot be blank' };

/** A record's name (users, organizations, groups, custom roles): text or a number, trimmed, 1–255 characters. */
export function nameValue(value: unknown): string | Invalid {
  const name = typeof value === 'string' || typeof value === 'number' ? String(value).trim() : undefined;
  if (name === undefined) return { error: 'InvalidValue', description: 'Name is invalid' };
  if (name === '') return BLANK_NAME;
  if (name.length > 255) return { error: 'InvalidValue', description: 'Name is too long (maximum is 255 characters)' };
  return name;
}

/** A free-text description (groups, custom roles): null clears it; text up to 65,535 characters, trimmed. */
export function descriptionValue(value: unknown): string | Invalid {
  if (value === null) return '';
  if (typeof value === 'string' && value.length <= 65_535) return value.trim();
  return { error: 'InvalidValue', description: 'Description must be text of at most 65535 characters' };
}

import { sql } from 'kysely';
import type { Account, CustomFieldOwner, CustomFieldType } from '../db/tables.ts';
import { customFieldTypes } from '../db/tables.ts';
import { audit } from '../audit/audit.ts';
import { errors, type ErrorDetails } from '../http/errors.ts';
import type { Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { findField, type FieldWithOptions } from './custom-fields.repository.ts';
import { compileFieldPattern, fieldsAttribute } from './validate-field-values.ts';

const KEY = /^[A-Za-z0-9_]{1,64}$/;
const PATTERN_LIMIT = 1_000;

interface OptionInput {
  id: number | null;
  name: string;
  value: string;
}

interface FieldInput {
  key?: string;
  type?: CustomFieldType;
  title?: string;
  description?: string;
  position?: number;
  active?: boolean;
  regexp_for_validation?: string | null;
  tag?: string | null;
  options?: OptionInput[];
  fields: string[];
}

const auditType = (owner: CustomFieldOwner): string => (owner === 'user' ? 'user_field' : 'organization_field');

function idValue(raw: unknown): number | undefined {
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw > 0) return raw;
  if (typeof raw === 'string' && /^\d{1,15}$/.test(raw) && Number(raw) > 0) return Number(raw);
  return undefined;
}

/** `custom_field_options` entries: name and value required, values unique within the field. */
function parseOptions(raw: unknown, fail: (field: string, error: string, description: string) => void): OptionInput[] | undefined {
  if (!Array.isArray(raw) || raw.length > 1000) {
    fail('custom_field_options', 'InvalidValue', 'custom_field_options must be a list of at most 1000 {name, value} options');
    return undefined;
  }
  const options: OptionInput[] = [];
  const seen = new Set<string>();
  raw.forEach((item: unknown, index) => {
    const option = item as Record<string, unknown> | null;
    if (!option || typeof option !== 'object' || Array.isArray(option)) return fail('custom_field_options', 'InvalidValue', `Option ${index + 1} must be an object with a name and a value`);
    const name = typeof option.name === 'string' || typeof option.name === 'number' ? String(option.name).trim() : '';
    const value = typeof option.value === 'string' || typeof option.value === 'number' ? String(option.value).trim() : '';
    const id = option.id === undefined || option.id === null ? null : idValue(option.id);
    if (name === '' || name.length > 255) return fail('custom_field_options', 'InvalidValue', `Option ${index + 1} needs a name of 1 to 255 characters`);
    if (value === '' || value.length > 255 || /\s/.test(value)) return fail('custom_field_options', 'InvalidValue', `Option ${index + 1} needs a value of 1 to 255 characters without spaces`);
    if (id === undefined) return fail('custom_field_options', 'InvalidValue', `Option ${index + 1} has an invalid id`);
    if (seen.has(value)) return fail('custom_field_options', 'DuplicateValue', `Option ${index + 1} repeats a value`);
    seen.add(value);
    options.push({ id, name, value });
  });
  return options;
}

function parseFieldInput(raw: unknown, wrapper: string, mode: 'create' | 'update'): FieldInput {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw errors.missingParameter(wrapper);
  const input = raw as Record<string, unknown>;
  const details: ErrorDetails = {};
  const fail = (field: string, error: string, description: string): void => {
    (details[field] ??= []).push({ error, description });
  };
  const result: FieldInput = { fields: [] };
  const has = (key: string): boolean => Object.hasOwn(input, key) && input[key] !== undefined;
  const take = (key: string): unknown => {
    result.fields.push(key);
    return input[key];
  };

  if (has('key')) {
    const key = take('key');
    if (typeof key !== 'string' || !KEY.test(key) || /^\d+$/.test(key)) fail('key', 'InvalidValue', 'Key must be 1 to 64 letters, digits and underscores, not only digits');
    else result.key = key;
  } else if (mode === 'create') fail('key', 'BlankValue', 'Key: cannot be blank');
  if (has('type')) {
    const type = take('type');
    if (typeof type === 'string' && (customFieldTypes as readonly string[]).includes(type)) result.type = type as CustomFieldType;
    else fail('type', 'InvalidValue', `Type must be one of ${customFieldTypes.join(', ')}`);
  }
  if (has('title')) {
    const title = take('title');
    const text = typeof title === 'string' || typeof title === 'number' ? String(title).trim() : undefined;
    if (text === undefined || text === '') fail('title', 'BlankValue', 'Title: cannot be blank');
    else if (text.length > 255) fail('title', 'InvalidValue', 'Title is too long (maximum is 255 characters)');
    else result.title = text;
  } else if (mode === 'create') fail('title', 'BlankValue', 'Title: cannot be blank');
  if (has('description')) {
    const description = take('description');
    if (description === null) result.description = '';
    else if (typeof description === 'string' && description.length <= 65_535) result.description = description.trim();
    else fail('description', 'InvalidValue', 'Description must be text of at most 65535 characters');
  }
  if (has('position')) {
    const position = take('position');
    if (typeof position === 'number' && Number.isSafeInteger(position) && position >= 0 && position <= 2_147_483_647) result.position = position;
    else fail('position', 'InvalidValue', 'Position must be a whole number of at least 0');
  }
  if (has('active')) {
    const active = take('active');
    if (typeof active === 'boolean') result.active = active;
    else fail('active', 'InvalidValue', 'Active must be true or false');
  }
  if (has('regexp_for_validation')) {
    const pattern = take('regexp_for_validation');
    if (pattern === null || pattern === '') result.regexp_for_validation = null;
    else if (typeof pattern !== 'string' || pattern.length > PATTERN_LIMIT || !compileFieldPattern(pattern)) {
      fail('regexp_for_validation', 'InvalidValue', `regexp_for_validation must be a valid regular expression of at most ${PATTERN_LIMIT} characters`);
    } else result.regexp_for_validation = pattern;
  }
  if (has('tag')) {
    const tag = take('tag');
    if (tag === null || tag === '') result.tag = null;
    else if (typeof tag === 'string' && tag.length <= 80 && !/\s/.test(tag.trim())) result.tag = tag.trim().toLowerCase();
    else fail('tag', 'InvalidValue', 'Tag must be a single word of at most 80 characters');
  }
  if (has('custom_field_options')) {
    const options = parseOptions(take('custom_field_options'), fail);
    if (options) result.options = options;
  }
  if (Object.keys(details).length > 0) throw errors.invalid(details);
  return result;
}

/** Rules that depend on the field's type, checked on the merged (current + sent) definition. */
function checkTypeRules(type: CustomFieldType, pattern: string | null, options: OptionInput[] | undefined, hasOptions: boolean): void {
  if (type === 'regexp' && !pattern) throw errors.field('regexp_for_validation', 'BlankValue', 'A regexp field needs regexp_for_validation');
  if (type === 'dropdown' && !hasOptions) throw errors.field('custom_field_options', 'BlankValue', 'A dropdown field needs at least one option');
  if (type !== 'dropdown' && options && options.length > 0) throw errors.field('custom_field_options', 'InvalidValue', 'Only dropdown fields have options');
}

export async function createField(tx: Executor, account: Account, actor: Actor, owner: CustomFieldOwner, raw: unknown): Promise<number> {
  const wrapper = owner === 'user' ? 'user_field' : 'organization_field';
  const input = parseFieldInput(raw, wrapper, 'create');
  const type = input.type ?? 'text';
  checkTypeRules(type, input.regexp_for_validation ?? null, input.options, (input.options ?? []).length > 0);
  const key = input.key ?? '';
  // Serialise definitions per account and owner: the key check and the next position must not race.
  await sql`SELECT pg_advisory_xact_lock(7215, ${account.id}::int)`.execute(tx);
  const taken = await tx.selectFrom('custom_fields').select('id').where('account_id', '=', account.id).where('owner', '=', owner).where('key', '=', key).executeTakeFirst();
  if (taken) throw errors.field('key', 'DuplicateValue', 'Key has already been taken');
  const last = await tx.selectFrom('custom_fields').select((eb) => eb.fn.max('position').as('max')).where('account_id', '=', account.id).where('owner', '=', owner).executeTakeFirst();
  const row = await tx
    .insertInto('custom_fields')
    .values({
      account_id: account.id,
      owner,
      key,
      type,
      title: input.title ?? key,
      description: input.description ?? '',
      position: input.position ?? (last?.max === null || last?.max === undefined ? 0 : Number(last.max) + 1),
      active: input.active ?? true,
      regexp_for_validation: type === 'regexp' ? (input.regexp_for_validation ?? null) : null,
      tag: type === 'checkbox' ? (input.tag ?? null) : null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  if (type === 'dropdown') await replaceOptions(tx, account.id, owner, { id: row.id, key, options: [] }, input.options ?? []);
  await audit(tx, { accountId: account.id, actorId: actor.id, action: `${auditType(owner)}.create`, targetType: auditType(owner), targetId: row.id, changedFields: input.fields });
  return row.id;
}

export async function updateField(tx: Executor, account: Account, actor: Actor, owner: CustomFieldOwner, id: number, raw: unknown): Promise<void> {
  const field = await findField(tx, account.id, owner, id);
  if (!field) throw errors.notFound();
  const input = parseFieldInput(raw, owner === 'user' ? 'user_field' : 'organization_field', 'update');
  // Stored values were validated against this key and type: neither can change under them.
  if (input.key !== undefined && input.key !== field.key) throw errors.field('key', 'InvalidValue', 'The key of a field cannot change');
  if (input.type !== undefined && input.type !== field.type) throw errors.field('type', 'InvalidValue', 'The type of a field cannot change');
  const pattern = input.regexp_for_validation !== undefined ? input.regexp_for_validation : field.regexp_for_validation;
  checkTypeRules(field.type, pattern, input.options, input.options ? input.options.length > 0 : field.options.length > 0);
  await tx
    .updateTable('custom_fields')
    .set({
      ...(input.title !== undefined ? { title: input.title } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.position !== undefined ? { position: input.position } : {}),
      ...(input.active !== undefined ? { active: input.active } : {}),
      ...(field.type === 'regexp' && input.regexp_for_validation !== undefined ? { regexp_for_validation: input.regexp_for_validation } : {}),
      ...(field.type === 'checkbox' && input.tag !== undefined ? { tag: input.tag } : {}),
      updated_at: new Date(),
    })
    .where('account_id', '=', account.id)
    .where('id', '=', id)
    .execute();
  if (input.options) await replaceOptions(tx, account.id, owner, field, input.options);
  await audit(tx, { accountId: account.id, actorId: actor.id, action: `${auditType(owner)}.update`, targetType: auditType(owner), targetId: id, changedFields: input.fields });
}

/** Deleting a definition deletes its values too, so a later field with the same key starts empty. */
export async function deleteField(tx: Executor, account: Account, actor: Actor, owner: CustomFieldOwner, id: number): Promise<void> {
  const field = await findField(tx, account.id, owner, id);
  if (!field) throw errors.notFound();
  await tx.deleteFrom('custom_fields').where('account_id', '=', account.id).where('id', '=', id).execute();
  await removeValues(tx, account.id, owner, field.key);
  await audit(tx, { accountId: account.id, actorId: actor.id, action: `${auditType(owner)}.delete`, targetType: auditType(owner), targetId: id });
}

/** The listed fields take positions 0, 1, …; the others follow in their current order. */
export async function reorderFields(tx: Executor, account: Account, actor: Actor, owner: CustomFieldOwner, ids: number[]): Promise<void> {
  const fields = await tx.selectFrom('custom_fields').select('id').where('account_id', '=', account.id).where('owner', '=', owner).orderBy('position').orderBy('id').execute();
  const known = new Set(fields.map((field) => field.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0) throw errors.field(`${owner}_field_ids`, 'InvalidValue', `${unknown.length} of the ids are not ${owner} fields of this account`);
  const order = [...new Set(ids), ...fields.map((field) => field.id).filter((id) => !ids.includes(id))];
  for (const [position, id] of order.entries()) {
    await tx.updateTable('custom_fields').set({ position, updated_at: new Date() }).where('account_id', '=', account.id).where('id', '=', id).execute();
  }
  await audit(tx, { accountId: account.id, actorId: actor.id, action: `${auditType(owner)}.reorder`, targetType: auditType(owner), targetId: 'all', changedFields: ['position'] });
}

/**
 * Zendesk's replacement semantics for a dropdown's options: an option with an id is updated, one
 * without is created, one left out is removed — and its value is removed from every holder.
 */
async function replaceOptions(tx: Executor, accountId: number, owner: CustomFieldOwner, field: Pick<FieldWithOptions, 'id' | 'key' | 'options'>, options: OptionInput[]): Promise<void> {
  const byId = new Map(field.options.map((option) => [option.id, option]));
  const unknown = options.filter((option) => option.id !== null && !byId.has(option.id));
  if (unknown.length > 0) throw errors.field('custom_field_options', 'InvalidValue', 'An option id does not belong to this field');
  const kept = new Set(options.map((option) => option.id).filter((id): id is number => id !== null));
  const removed = field.options.filter((option) => !kept.has(option.id));
  if (removed.length > 0) {
    await tx.deleteFrom('custom_field_options').where('account_id', '=', accountId).where('id', 'in', removed.map((option) => option.id)).execute();
  }
  // Values are unique per field: park the kept ones on temporary values before renaming, so a swap cannot collide.
  for (const option of options) {
    if (option.id !== null) await tx.updateTable('custom_field_options').set({ value: `\u0001${option.id}` }).where('account_id', '=', accountId).where('id', '=', option.id).execute();
  }
  for (const [position, option] of options.entries()) {
    if (option.id === null) {
      await tx.insertInto('custom_field_options').values({ account_id: accountId, field_id: field.id, name: option.name, value: option.value, position }).execute();
    } else {
      await tx.updateTable('custom_field_options').set({ name: option.name, value: option.value, position, updated_at: new Date() }).where('account_id', '=', accountId).where('id', '=', option.id).execute();
    }
  }
  const finalValues = new Set(options.map((option) => option.value));
  const gone = [...field.options.map((option) => option.value)].filter((value) => !finalValues.has(value));
  if (gone.length > 0) await removeValues(tx, accountId, owner, field.key, gone);
}

/** Zendesk's create-or-update of one option (`POST /user_fields/{id}/options`): true when created. */
export async function upsertOption(tx: Executor, account: Account, actor: Actor, owner: CustomFieldOwner, fieldId: number, raw: unknown): Promise<{ id: number; created: boolean }> {
  const field = await findField(tx, account.id, owner, fieldId);
  if (!field) throw errors.notFound();
  if (field.type !== 'dropdown') throw errors.field('custom_field_option', 'InvalidValue', 'Only dropdown fields have options');
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw errors.missingParameter('custom_field_option');
  const details: ErrorDetails = {};
  const [option] = parseOptions([raw], (name, error, description) => (details[name] ??= []).push({ error, description })) ?? [];
  if (!option || Object.keys(details).length > 0) throw errors.invalid(details);
  const existing = option.id === null ? undefined : field.options.find((candidate) => candidate.id === option.id);
  const clash = field.options.find((candidate) => candidate.value === option.value && candidate.id !== existing?.id);
  if (clash) throw errors.field('value', 'DuplicateValue', 'Another option of this field has this value');
  const position = (raw as { position?: unknown }).position;
  const options = existing
    ? field.options.map((candidate) => (candidate.id === existing.id ? { id: candidate.id, name: option.name, value: option.value } : { id: candidate.id, name: candidate.name, value: candidate.value }))
    : [...field.options.map((candidate) => ({ id: candidate.id, name: candidate.name, value: candidate.value })), { id: null, name: option.name, value: option.value }];
  if (typeof position === 'number' && Number.isSafeInteger(position) && position >= 0) {
    const moved = options.splice(existing ? options.findIndex((candidate) => candidate.id === existing.id) : options.length - 1, 1);
    options.splice(Math.min(position, options.length), 0, ...moved);
  }
  await replaceOptions(tx, account.id, owner, field, options);
  const saved = await tx.selectFrom('custom_field_options').select('id').where('account_id', '=', account.id).where('field_id', '=', fieldId).where('value', '=', option.value).executeTakeFirstOrThrow();
  await audit(tx, { accountId: account.id, actorId: actor.id, action: `${auditType(owner)}.update`, targetType: auditType(owner), targetId: fieldId, changedFields: ['custom_field_options'] });
  return { id: saved.id, created: !existing };
}

export async function deleteOption(tx: Executor, account: Account, actor: Actor, owner: CustomFieldOwner, fieldId: number, optionId: number): Promise<void> {
  const field = await findField(tx, account.id, owner, fieldId);
  const option = field?.options.find((candidate) => candidate.id === optionId);
  if (!field || !option) throw errors.notFound();
  if (field.options.length === 1) throw errors.field('custom_field_options', 'InvalidValue', 'A dropdown field needs at least one option');
  await tx.deleteFrom('custom_field_options').where('account_id', '=', account.id).where('id', '=', optionId).execute();
  await removeValues(tx, account.id, owner, field.key, [option.value]);
  await audit(tx, { accountId: account.id, actorId: actor.id, action: `${auditType(owner)}.update`, targetType: auditType(owner), targetId: fieldId, changedFields: ['custom_field_options'] });
}

/** Removes a field's values (all, or only these) from every user or organization of the account. */
async function removeValues(tx: Executor, accountId: number, owner: CustomFieldOwner, key: string, values?: string[]): Promise<void> {
  const table = owner === 'user' ? 'users' : 'organizations';
  const column = sql.ref(fieldsAttribute(owner));
  const onlyValues = values ? sql`AND (${column} ->> ${key}) = ANY(${values}::text[])` : sql``;
  await sql`UPDATE ${sql.table(table)} SET ${column} = ${column} - ${key}::text
    WHERE account_id = ${accountId} AND (${column} -> ${key}) IS NOT NULL ${onlyValues}`.execute(tx);
}

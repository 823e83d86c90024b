import { sql } from 'kysely';
import type { Account } from '../db/tables.ts';
import { audit } from '../audit/audit.ts';
import { errors, type ErrorDetails } from '../http/errors.ts';
import type { Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { parseConfiguration } from './permissions.ts';
import { BLANK_NAME, descriptionValue, nameValue } from '../http/input-values.ts';

interface RoleInput {
  name?: string;
  description?: string;
  configuration?: unknown;
  fields: string[];
}

/** `custom_role` from a request: name (1–255 characters), description, configuration (checked by parseConfiguration). */
function parseRoleInput(raw: unknown, mode: 'create' | 'update'): RoleInput {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw errors.missingParameter('custom_role');
  const input = raw as Record<string, unknown>;
  const details: ErrorDetails = {};
  const result: RoleInput = { fields: [] };
  if (input.name !== undefined) result.fields.push('name');
  const name = input.name !== undefined ? nameValue(input.name) : mode === 'create' ? BLANK_NAME : undefined;
  if (typeof name === 'string') result.name = name;
  else if (name) details.name = [name];
  if (input.description !== undefined) {
    result.fields.push('description');
    const description = descriptionValue(input.description);
    if (typeof description === 'string') result.description = description;
    else details.description = [description];
  }
  if (input.configuration !== undefined) {
    result.fields.push('configuration');
    result.configuration = input.configuration;
  }
  if (Object.keys(details).length > 0) throw errors.invalid(details);
  return result;
}

async function assertNameFree(tx: Executor, accountId: number, name: string, exceptId?: number): Promise<void> {
  let query = tx.selectFrom('custom_roles').select('id').where('account_id', '=', accountId).where(sql<string>`lower(name)`, '=', name.toLowerCase());
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
  if (await query.executeTakeFirst()) throw errors.field('name', 'DuplicateValue', 'Name has already been taken');
}

export async function createCustomRole(tx: Executor, account: Account, actor: Actor, raw: unknown): Promise<number> {
  const input = parseRoleInput(raw, 'create');
  const configuration = parseConfiguration(input.configuration);
  const name = input.name ?? '';
  await assertNameFree(tx, account.id, name);
  const row = await tx
    .insertInto('custom_roles')
    .values({ account_id: account.id, name, description: input.description ?? '', configuration: JSON.stringify(configuration) })
    .returning('id')
    .executeTakeFirstOrThrow();
  await audit(tx, { accountId: account.id, actorId: actor.id, action: 'custom_role.create', targetType: 'custom_role', targetId: row.id, changedFields: input.fields });
  return row.id;
}

/**
 * Changes a role; its agents' permissions change with it (the audit entry invalidates cached
 * credentials, so their next request already runs under the new configuration).
 */
export async function updateCustomRole(tx: Executor, account: Account, actor: Actor, id: number, raw: unknown): Promise<void> {
  const current = await tx.selectFrom('custom_roles').selectAll().where('account_id', '=', account.id).where('id', '=', id).forUpdate().executeTakeFirst();
  if (!current) throw errors.notFound();
  const input = parseRoleInput(raw, 'update');
  const configuration = input.configuration === undefined ? undefined : parseConfiguration(input.configuration, current.configuration);
  if (input.name !== undefined) await assertNameFree(tx, account.id, input.name, id);
  await tx
    .updateTable('custom_roles')
    .set({
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(configuration ? { configuration: JSON.stringify(configuration) } : {}),
      updated_at: new Date(),
    })
    .where('account_id', '=', account.id)
    .where('id', '=', id)
    .execute();
  await audit(tx, { accountId: account.id, actorId: actor.id, action: 'custom_role.update', targetType: 'custom_role', targetId: id, changedFields: input.fields });
}

/** A role still held by users cannot go: their permissions would silently change. */
export async function deleteCustomRole(tx: Executor, account: Account, actor: Actor, id: number): Promise<void> {
  const current = await tx.selectFrom('custom_roles').select('id').where('account_id', '=', account.id).where('id', '=', id).forUpdate().executeTakeFirst();
  if (!current) throw errors.notFound();
  const members = await tx
    .selectFrom('users')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('account_id', '=', account.id)
    .where('custom_role_id', '=', id)
    .executeTakeFirstOrThrow();
  if (Number(members.n) > 0) {
    throw errors.field('base', 'InvalidValue', `This role is assigned to ${Number(members.n)} user(s); give them another role first`);
  }
  await tx.deleteFrom('custom_roles').where('account_id', '=', account.id).where('id', '=', id).execute();
  await audit(tx, { accountId: account.id, actorId: actor.id, action: 'custom_role.delete', targetType: 'custom_role', targetId: id });
}

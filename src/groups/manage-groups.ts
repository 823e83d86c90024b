import { sql } from 'kysely';
import type { Account, GroupMembershipRow } from '../db/tables.ts';
import { audit } from '../audit/audit.ts';
import { errors, type ErrorDetails } from '../http/errors.ts';
import { authorize, type Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { findMembership, liveGroupExists } from './groups.repository.ts';
import { BLANK_NAME, descriptionValue, nameValue } from '../http/input-values.ts';

interface GroupInput {
  name?: string;
  description?: string;
  is_public?: boolean;
  fields: string[];
}

function parseGroupInput(raw: unknown, mode: 'create' | 'update'): GroupInput {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw errors.missingParameter('group');
  const input = raw as Record<string, unknown>;
  const details: ErrorDetails = {};
  const result: GroupInput = { fields: [] };
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
  if (input.is_public !== undefined) {
    result.fields.push('is_public');
    if (typeof input.is_public === 'boolean') result.is_public = input.is_public;
    else details.is_public = [{ error: 'InvalidValue', description: 'is_public must be true or false' }];
  }
  if (Object.keys(details).length > 0) throw errors.invalid(details);
  return result;
}

/** Group names are unique among live groups, compared case-insensitively. */
async function assertNameFree(tx: Executor, accountId: number, name: string, exceptId?: number): Promise<void> {
  let query = tx
    .selectFrom('groups')
    .select('id')
    .where('account_id', '=', accountId)
    .where('deleted_at', 'is', null)
    .where(sql<string>`lower(name)`, '=', name.toLowerCase());
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
  if (await query.executeTakeFirst()) throw errors.field('name', 'DuplicateValue', 'Name has already been taken');
}

/** The account's first live group becomes its default group. */
export async function createGroup(tx: Executor, account: Account, actor: Actor, raw: unknown): Promise<number> {
  const input = parseGroupInput(raw, 'create');
  const name = input.name ?? '';
  // Serialise group creation per account: the name check and the first-group default must not race.
  await sql`SELECT pg_advisory_xact_lock(7214, ${account.id}::int)`.execute(tx);
  await assertNameFree(tx, account.id, name);
  const hasDefault = await tx.selectFrom('groups').select('id').where('account_id', '=', account.id).where('is_default', '=', true).where('deleted_at', 'is', null).executeTakeFirst();
  const row = await tx
    .insertInto('groups')
    .values({ account_id: account.id, name, description: input.description ?? '', is_public: input.is_public ?? true, is_default: !hasDefault })
    .returning('id')
    .executeTakeFirstOrThrow();
  await audit(tx, { accountId: account.id, actorId: actor.id, action: 'group.create', targetType: 'group', targetId: row.id, changedFields: input.fields });
  return row.id;
}

export async function updateGroup(tx: Executor, account: Account, actor: Actor, id: number, raw: unknown): Promise<void> {
  const group = await tx.selectFrom('groups').selectAll().where('account_id', '=', account.id).where('id', '=', id).where('deleted_at', 'is', null).forUpdate().executeTakeFirst();
  if (!group) throw errors.notFound();
  const input = parseGroupInput(raw, 'update');
  // Zendesk: a private group stays private (its tickets were never visible to everyone).
  if (input.is_public === true && !group.is_public) throw errors.field('is_public', 'InvalidValue', 'A private group cannot be made public');
  if (input.name !== undefined) {
    await sql`SELECT pg_advisory_xact_lock(7214, ${account.id}::int)`.execute(tx);
    await assertNameFree(tx, account.id, input.name, id);
  }
  await tx
    .updateTable('groups')
    .set({
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.is_public !== undefined ? { is_public: input.is_public } : {}),
      updated_at: new Date(),
    })
    .where('account_id', '=', account.id)
    .where('id', '=', id)
    .execute();
  await audit(tx, { accountId: account.id, actorId: actor.id, action: 'group.update', targetType: 'group', targetId: id, changedFields: input.fields });
}

/**
 * Soft delete (`deleted: true`, still shown by id): its memberships go, each member's default
 * moves to their oldest remaining group, organizations stop pointing at it, and the account's
 * default passes to its oldest live group.
 */
export async function deleteGroup(tx: Executor, account: Account, actor: Actor, id: number): Promise<void> {
  const group = await tx.selectFrom('groups').selectAll().where('account_id', '=', account.id).where('id', '=', id).where('deleted_at', 'is', null).forUpdate().executeTakeFirst();
  if (!group) throw errors.notFound();
  const members = await tx.deleteFrom('group_memberships').where('account_id', '=', account.id).where('group_id', '=', id).returning('user_id').execute();
  for (const { user_id: userId } of members) await syncDefaultGroup(tx, account.id, userId);
  await tx.updateTable('organizations').set({ group_id: null, updated_at: new Date() }).where('account_id', '=', account.id).where('group_id', '=', id).execute();
  await tx.updateTable('groups').set({ deleted_at: new Date(), is_default: false, updated_at: new Date() }).where('account_id', '=', account.id).where('id', '=', id).execute();
  if (group.is_default) {
    const next = await tx.selectFrom('groups').select('id').where('account_id', '=', account.id).where('deleted_at', 'is', null).orderBy('id').executeTakeFirst();
    if (next) await tx.updateTable('groups').set({ is_default: true, updated_at: new Date() }).where('account_id', '=', account.id).where('id', '=', next.id).execute();
  }
  await audit(tx, { accountId: account.id, actorId: actor.id, action: 'group.delete', targetType: 'group', targetId: id, changedFields: ['deleted'] });
}

/** A positive integer id from JSON (a number or a string of digits), else undefined. */
function idValue(raw: unknown): number | undefined {
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw > 0) return raw;
  if (typeof raw === 'string' && /^\d{1,15}$/.test(raw) && Number(raw) > 0) return Number(raw);
  return undefined;
}

/**
 * Puts an agent (or admin) into a live group. The user's first membership becomes their default,
 * as does one created with `default: true`. `userIdFromPath` is the user of
 * `/users/{id}/group_memberships`, which takes precedence over the body.
 */
export async function createMembership(tx: Executor, account: Account, actor: Actor, raw: unknown, userIdFromPath?: number): Promise<GroupMembershipRow> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw errors.missingParameter('group_membership');
  const input = raw as Record<string, unknown>;
  const userId = userIdFromPath ?? idValue(input.user_id);
  const groupId = idValue(input.group_id);
  const details: ErrorDetails = {};
  if (userId === undefined) details.user_id = [{ error: 'InvalidValue', description: 'user_id must be the id of an agent' }];
  if (groupId === undefined) details.group_id = [{ error: 'InvalidValue', description: 'group_id must be the id of a group' }];
  if (input.default !== undefined && typeof input.default !== 'boolean') details.default = [{ error: 'InvalidValue', description: 'default must be true or false' }];
  if (userId === undefined || groupId === undefined || Object.keys(details).length > 0) throw errors.invalid(details);

  const user = await tx.selectFrom('users').select(['id', 'role', 'active']).where('account_id', '=', account.id).where('id', '=', userId).forUpdate().executeTakeFirst();
  if (!user) {
    if (userIdFromPath !== undefined) throw errors.notFound();
    throw errors.field('user_id', 'InvalidValue', 'User does not exist');
  }
  if (user.role === 'end-user' || !user.active) throw errors.field('user_id', 'InvalidValue', 'Only agents and admins can be members of a group');
  if (!(await liveGroupExists(tx, account.id, groupId))) throw errors.field('group_id', 'InvalidValue', 'Group does not exist');
  const existing = await tx.selectFrom('group_memberships').select('id').where('account_id', '=', account.id).where('user_id', '=', userId).where('group_id', '=', groupId).executeTakeFirst();
  if (existing) throw errors.field('user_id', 'DuplicateValue', 'User is already a member of this group');

  const row = await tx.insertInto('group_memberships').values({ account_id: account.id, user_id: userId, group_id: groupId }).returning('id').executeTakeFirstOrThrow();
  if (input.default === true) await setDefaultMembership(tx, account.id, userId, row.id);
  else await syncDefaultGroup(tx, account.id, userId);
  await audit(tx, { accountId: account.id, actorId: actor.id, action: 'group_membership.create', targetType: 'group_membership', targetId: row.id, changedFields: ['user_id', 'group_id'] });
  const created = await findMembership(tx, account.id, row.id);
  if (!created) throw errors.notFound();
  return created;
}

export async function deleteMembership(tx: Executor, account: Account, actor: Actor, id: number, userIdFromPath?: number): Promise<void> {
  const membership = await findMembership(tx, account.id, id, userIdFromPath);
  if (!membership) throw errors.notFound();
  await tx.deleteFrom('group_memberships').where('account_id', '=', account.id).where('id', '=', id).execute();
  await syncDefaultGroup(tx, account.id, membership.user_id);
  await audit(tx, { accountId: account.id, actorId: actor.id, action: 'group_membership.delete', targetType: 'group_membership', targetId: id });
}

export async function makeDefaultMembership(tx: Executor, account: Account, actor: Actor, userId: number, id: number): Promise<void> {
  const membership = await findMembership(tx, account.id, id, userId);
  if (!membership) throw errors.notFound();
  await setDefaultMembership(tx, account.id, userId, id);
  await audit(tx, { accountId: account.id, actorId: actor.id, action: 'group_membership.make_default', targetType: 'group_membership', targetId: id, changedFields: ['default'] });
}

/**
 * `default_group_id` on a user create or update: the agent's default group becomes this one,
 * joining it first when they are not a member (which takes the right to manage groups; moving
 * the default among their own groups is theirs or a group manager's). Sending the current value,
 * or null for an agent in no group, changes nothing — so a user written back as read is accepted.
 */
export async function applyDefaultGroup(tx: Executor, account: Account, actor: Actor | null, userId: number, groupId: number | null): Promise<void> {
  const user = await tx.selectFrom('users').select(['role', 'default_group_id']).where('account_id', '=', account.id).where('id', '=', userId).executeTakeFirst();
  if (!user) throw errors.notFound();
  if (groupId === user.default_group_id) return;
  if (groupId === null) throw errors.field('default_group_id', 'InvalidValue', 'An agent in a group always has a default group; choose another one');
  if (user.role === 'end-user') throw errors.field('default_group_id', 'InvalidValue', 'Only agents and admins belong to groups');
  if (!(await liveGroupExists(tx, account.id, groupId))) throw errors.field('default_group_id', 'InvalidValue', 'Default group does not exist');
  const membership = await tx.selectFrom('group_memberships').select('id').where('account_id', '=', account.id).where('user_id', '=', userId).where('group_id', '=', groupId).executeTakeFirst();
  if (membership) {
    if (actor) authorize.setDefaultGroup(actor, userId);
    await setDefaultMembership(tx, account.id, userId, membership.id);
    await audit(tx, { accountId: account.id, actorId: actor?.id ?? null, action: 'group_membership.make_default', targetType: 'group_membership', targetId: membership.id, changedFields: ['default'] });
    return;
  }
  if (actor) authorize.manageGroups(actor);
  const row = await tx.insertInto('group_memberships').values({ account_id: account.id, user_id: userId, group_id: groupId }).returning('id').executeTakeFirstOrThrow();
  await setDefaultMembership(tx, account.id, userId, row.id);
  await audit(tx, { accountId: account.id, actorId: actor?.id ?? null, action: 'group_membership.create', targetType: 'group_membership', targetId: row.id, changedFields: ['user_id', 'group_id', 'default'] });
}

/** A user who stops being staff leaves every group (groups hold agents only). */
export async function leaveAllGroups(tx: Executor, accountId: number, userId: number): Promise<void> {
  await tx.deleteFrom('group_memberships').where('account_id', '=', accountId).where('user_id', '=', userId).execute();
  await syncDefaultGroup(tx, accountId, userId);
}

/** Exactly one default among a user's memberships (cleared first: one default per user is a unique index). */
async function setDefaultMembership(tx: Executor, accountId: number, userId: number, id: number): Promise<void> {
  await tx.updateTable('group_memberships').set({ is_default: false, updated_at: new Date() }).where('account_id', '=', accountId).where('user_id', '=', userId).where('is_default', '=', true).where('id', '!=', id).execute();
  await tx.updateTable('group_memberships').set({ is_default: true, updated_at: new Date() }).where('account_id', '=', accountId).where('id', '=', id).execute();
  await syncDefaultGroup(tx, accountId, userId);
}

/**
 * Keeps `users.default_group_id` equal to the default membership's group, promoting the
 * oldest membership when the default went away.
 */
async function syncDefaultGroup(tx: Executor, accountId: number, userId: number): Promise<void> {
  const memberships = await tx.selectFrom('group_memberships').select(['id', 'group_id', 'is_default']).where('account_id', '=', accountId).where('user_id', '=', userId).orderBy('id').execute();
  let chosen = memberships.find((membership) => membership.is_default);
  const first = memberships[0];
  if (!chosen && first) {
    await tx.updateTable('group_memberships').set({ is_default: true, updated_at: new Date() }).where('account_id', '=', accountId).where('id', '=', first.id).execute();
    chosen = first;
  }
  await tx
    .updateTable('users')
    .set({ default_group_id: chosen?.group_id ?? null })
    .where('account_id', '=', accountId)
    .where('id', '=', userId)
    .where((eb) => eb('default_group_id', 'is distinct from', chosen?.group_id ?? null))
    .execute();
}

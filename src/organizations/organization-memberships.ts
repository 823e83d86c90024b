import type { Account, UserRow } from '../db/tables.ts';
import { audit } from '../audit/audit.ts';
import { errors } from '../http/errors.ts';
import { authorize, type Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { findMembership, findMembershipOf, findOrganization, organizationIdsForDomain, type MembershipView } from './organizations.repository.ts';

/**
 * Memberships and the user's default organization. `users.organization_id` mirrors the one
 * default membership (the partial unique index allows one per user); every function here keeps
 * the two in step inside the caller's transaction, with the user's row locked so two requests
 * on the same user cannot both pick a default.
 */

type MemberRow = Pick<UserRow, 'id' | 'role' | 'is_owner' | 'active' | 'organization_id'>;

async function lockUser(tx: Executor, accountId: number, userId: number): Promise<MemberRow | undefined> {
  return tx
    .selectFrom('users')
    .select(['id', 'role', 'is_owner', 'active', 'organization_id'])
    .where('account_id', '=', accountId)
    .where('id', '=', userId)
    .forUpdate()
    .executeTakeFirst();
}

async function setDefault(tx: Executor, accountId: number, userId: number, membershipId: number | null, organizationId: number | null): Promise<void> {
  const now = new Date();
  // Clear first: the partial unique index refuses a second default even for an instant.
  await tx
    .updateTable('organization_memberships')
    .set({ is_default: false, updated_at: now })
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .where('is_default', '=', true)
    .$if(membershipId !== null, (qb) => qb.where('id', '!=', membershipId ?? 0))
    .execute();
  if (membershipId !== null) {
    await tx
      .updateTable('organization_memberships')
      .set({ is_default: true, updated_at: now })
      .where('account_id', '=', accountId)
      .where('id', '=', membershipId)
      .where('is_default', '=', false)
      .execute();
  }
  await tx.updateTable('users').set({ organization_id: organizationId, updated_at: now }).where('account_id', '=', accountId).where('id', '=', userId).execute();
}

/** After the default membership went away: the oldest remaining one takes over, or none. */
async function promoteOldest(tx: Executor, accountId: number, userId: number): Promise<void> {
  const next = await tx
    .selectFrom('organization_memberships')
    .select(['id', 'organization_id'])
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('id')
    .executeTakeFirst();
  await setDefault(tx, accountId, userId, next?.id ?? null, next?.organization_id ?? null);
}

function record(tx: Executor, accountId: number, actorId: number | null, action: string, membershipId: number, fields: string[]) {
  return audit(tx, { accountId, actorId, action, targetType: 'organization_membership', targetId: membershipId, changedFields: fields });
}

async function insertMembership(tx: Executor, accountId: number, userId: number, organizationId: number): Promise<number> {
  const row = await tx
    .insertInto('organization_memberships')
    .values({ account_id: accountId, user_id: userId, organization_id: organizationId, is_default: false })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export interface NewMembership {
  userId: number;
  organizationId: number;
  /** Make it the user's default; a user's first membership is the default regardless. */
  makeDefault?: boolean;
}

/**
 * Puts a user into an organization. A user or organization that does not exist is a 422 on the
 * field that names it (routes that take them from the path answer 404 before calling this).
 */
export async function addMembership(tx: Executor, account: Account, actor: Actor | null, input: NewMembership): Promise<number> {
  const user = await lockUser(tx, account.id, input.userId);
  if (!user) throw errors.field('user_id', 'InvalidValue', 'User does not exist');
  if (actor) authorize.manageMemberships(actor, user);
  if (!user.active) throw errors.field('user_id', 'InvalidValue', 'Deleted users cannot join an organization');
  if (!(await findOrganization(tx, account.id, input.organizationId))) {
    throw errors.field('organization_id', 'InvalidValue', 'Organization does not exist');
  }
  if (await findMembershipOf(tx, account.id, input.userId, input.organizationId)) {
    throw errors.field('user_id', 'DuplicateValue', 'User is already a member of this organization');
  }
  const id = await insertMembership(tx, account.id, input.userId, input.organizationId);
  const isDefault = input.makeDefault === true || user.organization_id === null;
  if (isDefault) await setDefault(tx, account.id, input.userId, id, input.organizationId);
  await record(tx, account.id, actor?.id ?? null, 'organization_membership.create', id, ['user_id', 'organization_id', ...(isDefault ? ['default'] : [])]);
  return id;
}

/** Takes a user out of an organization; a default membership hands over to the oldest remaining one. */
export async function removeMembership(tx: Executor, account: Account, actor: Actor | null, membershipId: number): Promise<void> {
  const membership = await findMembership(tx, account.id, membershipId);
  if (!membership) throw errors.notFound();
  const user = await lockUser(tx, account.id, membership.user_id);
  if (!user) throw errors.notFound();
  if (actor) authorize.manageMemberships(actor, user);
  await tx.deleteFrom('organization_memberships').where('account_id', '=', account.id).where('id', '=', membershipId).execute();
  if (membership.is_default) await promoteOldest(tx, account.id, membership.user_id);
  await record(tx, account.id, actor?.id ?? null, 'organization_membership.delete', membershipId, ['user_id', 'organization_id']);
}

export async function makeMembershipDefault(tx: Executor, account: Account, actor: Actor | null, membership: MembershipView): Promise<void> {
  const user = await lockUser(tx, account.id, membership.user_id);
  if (!user) throw errors.notFound();
  if (actor) authorize.manageMemberships(actor, user);
  if (membership.is_default) return;
  await setDefault(tx, account.id, membership.user_id, membership.id, membership.organization_id);
  await record(tx, account.id, actor?.id ?? null, 'organization_membership.make_default', membership.id, ['default']);
}

/**
 * `organization_id` written on the user (create or update). Zendesk replaces the user's
 * memberships: afterwards the user belongs to that one organization only, as its default (a
 * membership already held is kept, with its id and date); null leaves them in none. Writing the
 * value the user already has changes nothing, so a client that sends a user back as it read it
 * does not drop their other organizations.
 */
export async function setUserOrganization(tx: Executor, account: Account, actor: Actor | null, userId: number, organizationId: number | null): Promise<void> {
  const user = await lockUser(tx, account.id, userId);
  if (!user) throw errors.notFound();
  if (user.organization_id === organizationId) return;
  if (actor) authorize.manageMemberships(actor, user);
  if (organizationId !== null && !(await findOrganization(tx, account.id, organizationId))) {
    throw errors.field('organization_id', 'InvalidValue', 'Organization does not exist');
  }
  const others = await tx
    .selectFrom('organization_memberships')
    .select('id')
    .where('account_id', '=', account.id)
    .where('user_id', '=', userId)
    .$if(organizationId !== null, (qb) => qb.where('organization_id', '!=', organizationId ?? 0))
    .execute();
  if (others.length > 0) {
    await tx.deleteFrom('organization_memberships').where('account_id', '=', account.id).where('id', 'in', others.map((row) => row.id)).execute();
    for (const { id } of others) await record(tx, account.id, actor?.id ?? null, 'organization_membership.delete', id, ['user_id', 'organization_id']);
  }
  if (organizationId === null) {
    await setDefault(tx, account.id, userId, null, null);
    return;
  }
  const kept = await findMembershipOf(tx, account.id, userId, organizationId);
  const id = kept?.id ?? (await insertMembership(tx, account.id, userId, organizationId));
  await setDefault(tx, account.id, userId, id, organizationId);
  await record(tx, account.id, actor?.id ?? null, kept ? 'organization_membership.make_default' : 'organization_membership.create', id, kept ? ['default'] : ['user_id', 'organization_id', 'default']);
}

/**
 * Domain auto-join: a user with an email at a domain some organizations claim joins each of
 * them (the first becomes the default when the user has none). A system rule, not the caller's
 * act, so it needs no permission; it runs when a user is created and when an email is added.
 * Adding a domain to an organization later does not move existing users (see README).
 */
export async function joinOrganizationsByEmail(tx: Executor, account: Account, actorId: number | null, userId: number, emailKey: string): Promise<void> {
  const at = emailKey.lastIndexOf('@');
  if (at < 0) return;
  const organizationIds = await organizationIdsForDomain(tx, account.id, emailKey.slice(at + 1));
  if (organizationIds.length === 0) return;
  const user = await lockUser(tx, account.id, userId);
  if (!user?.active) return;
  let hasDefault = user.organization_id !== null;
  for (const organizationId of organizationIds) {
    if (await findMembershipOf(tx, account.id, userId, organizationId)) continue;
    const id = await insertMembership(tx, account.id, userId, organizationId);
    if (!hasDefault) {
      await setDefault(tx, account.id, userId, id, organizationId);
      hasDefault = true;
    }
    await record(tx, account.id, actorId, 'organization_membership.create', id, ['user_id', 'organization_id']);
  }
}

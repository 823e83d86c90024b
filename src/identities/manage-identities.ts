import type { Account, IdentityRow } from '../db/tables.ts';
import { audit } from '../audit/audit.ts';
import { errors } from '../http/errors.ts';
import { joinOrganizationsByEmail } from '../organizations/organization-memberships.ts';
import { authorize, isStaff, withOrganizationContext, type Actor } from '../policy/policy.ts';
import { findUser, type Executor, type UserView } from '../users/users.repository.ts';
import {
  assertIdentityFree,
  findIdentity,
  hasPrimary,
  insertIdentity,
  makePrimary,
  promoteOldest,
  touchUser,
} from './identities.repository.ts';
import { isIdentityType, normalizeIdentity } from './identity-values.ts';

async function target(tx: Executor, account: Account, actor: Actor, userId: number): Promise<UserView> {
  const user = await findUser(tx, account.id, userId);
  if (!user) throw errors.notFound();
  authorize.manageIdentities(actor, await withOrganizationContext(tx, account.id, actor, user));
  return user;
}

async function identityOf(tx: Executor, account: Account, userId: number, id: number): Promise<IdentityRow> {
  const identity = await findIdentity(tx, account.id, userId, id);
  if (!identity) throw errors.notFound();
  return identity;
}

function record(tx: Executor, account: Account, actor: Actor, action: string, identity: IdentityRow, fields: string[]) {
  return audit(tx, { accountId: account.id, actorId: actor.id, action, targetType: 'user_identity', targetId: identity.id, changedFields: fields });
}

export async function addIdentity(tx: Executor, account: Account, actor: Actor, userId: number, raw: unknown): Promise<IdentityRow> {
  const user = await target(tx, account, actor, userId);
  // A deleted user's address must stay free for a new profile, and a purged user holds no personal data.
  if (!user.active) throw errors.field('base', 'InvalidValue', 'Deleted users cannot be given identities');
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw errors.missingParameter('identity');
  const input = raw as Record<string, unknown>;
  if (!isIdentityType(input.type)) {
    throw errors.field('type', 'InvalidValue', 'Type must be one of email, phone_number, twitter, facebook, google');
  }
  const normalized = normalizeIdentity(input.type, input.value);
  if (!normalized.ok) throw errors.field('value', normalized.error, normalized.description);
  if (await assertIdentityFree(tx, account.id, input.type, normalized.key, 'value', userId)) {
    throw errors.field('value', 'DuplicateValue', 'This user already has this identity');
  }
  // Only staff can vouch for an address; a user adding their own gets it unverified.
  const verified = isStaff(actor) && input.verified === true;
  const primary = !(await hasPrimary(tx, account.id, userId, input.type));
  const identity = await insertIdentity(tx, account.id, userId, { type: input.type, value: normalized.value, key: normalized.key, verified, primary });
  if (input.primary === true && !primary) await makePrimary(tx, identity);
  if (identity.type === 'email') await joinOrganizationsByEmail(tx, account, actor.id, userId, identity.value_key);
  await touchUser(tx, account.id, userId);
  await record(tx, account, actor, 'identity.create', identity, ['type', 'value', ...(verified ? ['verified'] : [])]);
  return (await findIdentity(tx, account.id, userId, identity.id)) ?? identity;
}

export async function updateIdentity(tx: Executor, account: Account, actor: Actor, userId: number, id: number, raw: unknown): Promise<IdentityRow> {
  await target(tx, account, actor, userId);
  const identity = await identityOf(tx, account, userId, id);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw errors.missingParameter('identity');
  const input = raw as Record<string, unknown>;
  const fields: string[] = [];
  const patch: { value?: string; value_key?: string; verified?: boolean; verified_at?: Date | null; verification_method?: string } = {};
  if (input.value !== undefined) {
    const normalized = normalizeIdentity(identity.type, input.value);
    if (!normalized.ok) throw errors.field('value', normalized.error, normalized.description);
    if (normalized.key !== identity.value_key) {
      await assertIdentityFree(tx, account.id, identity.type, normalized.key, 'value', userId);
      Object.assign(patch, { value: normalized.value, value_key: normalized.key, verified: false, verified_at: null, verification_method: 'none' });
      fields.push('value');
    }
  }
  if (input.verified !== undefined) {
    if (typeof input.verified !== 'boolean') throw errors.field('verified', 'InvalidValue', 'Verified must be true or false');
    if (input.verified && !isStaff(actor)) throw errors.forbidden();
    Object.assign(patch, { verified: input.verified, verified_at: input.verified ? new Date() : null, verification_method: input.verified ? 'full' : 'none' });
    fields.push('verified');
  }
  if (fields.length === 0) return identity;
  await tx.updateTable('user_identities').set({ ...patch, updated_at: new Date() }).where('account_id', '=', account.id).where('id', '=', id).execute();
  // A changed address is a new one: organizations claiming its domain take the user in.
  if (identity.type === 'email' && patch.value_key) await joinOrganizationsByEmail(tx, account, actor.id, userId, patch.value_key);
  await touchUser(tx, account.id, userId);
  await record(tx, account, actor, 'identity.update', identity, fields);
  return identityOf(tx, account, userId, id);
}

export async function deleteIdentity(tx: Executor, account: Account, actor: Actor, userId: number, id: number): Promise<void> {
  const user = await target(tx, account, actor, userId);
  const identity = await identityOf(tx, account, userId, id);
  // Agents and admins sign in with an email: taking their last one would lock them out.
  if (identity.type === 'email' && user.role !== 'end-user') {
    const emails = await tx
      .selectFrom('user_identities')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('account_id', '=', account.id)
      .where('user_id', '=', userId)
      .where('type', '=', 'email')
      .executeTakeFirstOrThrow();
    if (Number(emails.n) <= 1) throw errors.field('base', 'InvalidValue', 'The only email address of an agent or admin cannot be deleted');
  }
  await tx.deleteFrom('user_identities').where('account_id', '=', account.id).where('id', '=', id).execute();
  if (identity.primary) await promoteOldest(tx, account.id, userId, identity.type);
  await touchUser(tx, account.id, userId);
  await record(tx, account, actor, 'identity.delete', identity, ['type']);
}

export async function makeIdentityPrimary(tx: Executor, account: Account, actor: Actor, userId: number, id: number): Promise<void> {
  await target(tx, account, actor, userId);
  const identity = await identityOf(tx, account, userId, id);
  if (identity.primary) return;
  await makePrimary(tx, identity);
  await touchUser(tx, account.id, userId);
  await record(tx, account, actor, 'identity.make_primary', identity, ['primary']);
}

export async function verifyIdentity(tx: Executor, account: Account, actor: Actor, userId: number, id: number): Promise<IdentityRow> {
  authorize.staff(actor);
  return updateIdentity(tx, account, actor, userId, id, { verified: true });
}

/** Records the request; the verification mail itself is sent by the mail feature's outbox. */
export async function requestVerification(tx: Executor, account: Account, actor: Actor, userId: number, id: number): Promise<void> {
  await target(tx, account, actor, userId);
  const identity = await identityOf(tx, account, userId, id);
  if (identity.type !== 'email') throw errors.field('type', 'InvalidValue', 'Only email identities can be verified by mail');
  await record(tx, account, actor, 'identity.request_verification', identity, []);
}

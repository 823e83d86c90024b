import { sql } from 'kysely';
import type { IdentityRow, IdentityType } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import type { Executor } from '../users/users.repository.ts';
import { identityLabel } from './identity-values.ts';

export async function listIdentities(db: Executor, accountId: number, userId: number, types?: IdentityType[]): Promise<IdentityRow[]> {
  let query = db.selectFrom('user_identities').selectAll().where('account_id', '=', accountId).where('user_id', '=', userId);
  if (types && types.length > 0) query = query.where('type', 'in', types);
  return query.orderBy('primary', 'desc').orderBy('id').execute();
}

export async function findIdentity(db: Executor, accountId: number, userId: number, id: number): Promise<IdentityRow | undefined> {
  return db
    .selectFrom('user_identities')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/**
 * Emails (and social handles) belong to one person per account. Returns the holder when it is
 * `userId` itself, so callers can treat "already mine" as a no-op.
 */
export async function assertIdentityFree(
  db: Executor,
  accountId: number,
  type: IdentityType,
  key: string,
  field: string,
  userId?: number,
): Promise<IdentityRow | undefined> {
  if (type === 'phone_number') return undefined;
  const holder = await db
    .selectFrom('user_identities')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('type', '=', type)
    .where('value_key', '=', key)
    .executeTakeFirst();
  if (!holder) return undefined;
  if (userId !== undefined && holder.user_id === userId) return holder;
  throw errors.field(field, 'DuplicateValue', `${identityLabel(type)} is already being used by another user`);
}

export interface NewIdentity {
  type: IdentityType;
  value: string;
  key: string;
  verified: boolean;
  primary: boolean;
}

export async function insertIdentity(db: Executor, accountId: number, userId: number, identity: NewIdentity): Promise<IdentityRow> {
  const now = new Date();
  return db
    .insertInto('user_identities')
    .values({
      account_id: accountId,
      user_id: userId,
      type: identity.type,
      value: identity.value,
      value_key: identity.key,
      primary: identity.primary,
      verified: identity.verified,
      verified_at: identity.verified ? now : null,
      verification_method: identity.verified ? 'full' : 'none',
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function hasPrimary(db: Executor, accountId: number, userId: number, type: IdentityType): Promise<boolean> {
  const row = await db
    .selectFrom('user_identities')
    .select('id')
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .where('type', '=', type)
    .where('primary', '=', true)
    .executeTakeFirst();
  return row !== undefined;
}

/** Moves the primary flag of a type to one identity (clearing first: the unique index allows one). */
export async function makePrimary(db: Executor, identity: IdentityRow): Promise<void> {
  await db
    .updateTable('user_identities')
    .set({ primary: false, updated_at: new Date() })
    .where('account_id', '=', identity.account_id)
    .where('user_id', '=', identity.user_id)
    .where('type', '=', identity.type)
    .where('primary', '=', true)
    .execute();
  await db
    .updateTable('user_identities')
    .set({ primary: true, updated_at: new Date() })
    .where('account_id', '=', identity.account_id)
    .where('id', '=', identity.id)
    .execute();
}

/** After a primary is removed, the oldest remaining identity of the type takes over. */
export async function promoteOldest(db: Executor, accountId: number, userId: number, type: IdentityType): Promise<void> {
  await db
    .updateTable('user_identities')
    .set({ primary: true, updated_at: new Date() })
    .where('account_id', '=', accountId)
    .where('id', '=', (eb) =>
      eb
        .selectFrom('user_identities')
        .select('id')
        .where('account_id', '=', accountId)
        .where('user_id', '=', userId)
        .where('type', '=', type)
        .orderBy('id')
        .limit(1),
    )
    .where(sql<boolean>`NOT EXISTS (SELECT 1 FROM user_identities p WHERE p.account_id = ${accountId} AND p.user_id = ${userId} AND p.type = ${type} AND p."primary")`)
    .execute();
}

export async function touchUser(db: Executor, accountId: number, userId: number): Promise<void> {
  await db.updateTable('users').set({ updated_at: new Date() }).where('account_id', '=', accountId).where('id', '=', userId).execute();
}

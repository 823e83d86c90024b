import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { DB, NewUserRow, UserRow, UsersTable } from '../db/tables.ts';
import { auditCreation } from '../audit/audit.ts';
import type { NewIdentity } from '../identities/identities.repository.ts';
import type { Kysely, Transaction } from 'kysely';

export type Executor = Kysely<DB> | Transaction<DB>;

/**
 * A user row with what the API derives from its identities, its custom role's configuration
 * (the role-derived fields and permissions come from it) and its custom field values.
 */
export type UserView = UserRow & {
  email: string | null;
  phone: string | null;
  verified: boolean;
  role_configuration: Record<string, unknown> | null;
  /** Every active user field's key, null when the user has no value (stale keys of deleted fields hidden). */
  user_field_values: Record<string, string | number | boolean | null>;
};

/**
 * The one select every user read goes through: the row plus its primary email, primary phone
 * and verification, as correlated sub-queries served by the partial primary-identity index.
 */
export function selectUsers(db: Executor, accountId: number) {
  return db
    .selectFrom('users as u')
    .selectAll('u')
    .select((eb) => [
      eb
        .selectFrom('user_identities as i')
        .select('i.value')
        .whereRef('i.account_id', '=', 'u.account_id')
        .whereRef('i.user_id', '=', 'u.id')
        .where('i.type', '=', 'email')
        .where('i.primary', '=', true)
        .as('email'),
      eb
        .selectFrom('user_identities as i')
        .select('i.value')
        .whereRef('i.account_id', '=', 'u.account_id')
        .whereRef('i.user_id', '=', 'u.id')
        .where('i.type', '=', 'phone_number')
        .where('i.primary', '=', true)
        .as('phone'),
      // An aggregate, not EXISTS: the planner turns a correlated EXISTS into a hashed subplan that
      // reads every verified identity of the table whenever it expects many rows — as for a page
      // of the list, before its LIMIT (bench/RESULTS.md). An aggregate is probed per user.
      eb.fn
        .coalesce(
          eb
            .selectFrom('user_identities as i')
            .select((sub) => sub.fn<boolean>('bool_or', ['i.verified']).as('any_verified'))
            .whereRef('i.account_id', '=', 'u.account_id')
            .whereRef('i.user_id', '=', 'u.id'),
          sql<boolean>`false`,
        )
        .as('verified'),
      eb
        .selectFrom('custom_roles as r')
        .select('r.configuration')
        .whereRef('r.account_id', '=', 'u.account_id')
        .whereRef('r.id', '=', 'u.custom_role_id')
        .as('role_configuration'),
      // Served by the (account_id, owner, key) unique index; an account without user fields pays one probe.
      sql<Record<string, string | number | boolean | null>>`(
        SELECT coalesce(jsonb_object_agg(f.key, u.user_fields -> f.key), '{}'::jsonb)
        FROM custom_fields f
        WHERE f.account_id = u.account_id AND f.owner = 'user' AND f.active
      )`.as('user_field_values'),
    ])
    .where('u.account_id', '=', accountId);
}

/**
 * Inserts a user, its identities and the audit row of its creation in one statement: a user
 * create is the API's most frequent write, and each statement is a round trip (bench/RESULTS.md).
 * A taken identity surfaces as the unique violation of `user_identities_value`.
 */
export async function insertUser(
  db: Executor,
  values: NewUserRow,
  identities: NewIdentity[],
  audit: { actorId: number | null; changedFields: string[] },
): Promise<{ id: number; domainClaimed: boolean }> {
  const row = await db
    .with('u', (qc) => qc.insertInto('users').values(values).returning(['account_id', 'id']))
    .with('i', () => sql`(
      INSERT INTO user_identities (account_id, user_id, type, value, value_key, "primary", verified, verified_at, verification_method)
      SELECT u.account_id, u.id, v.type, v.value, v.key, v.primary, v.verified,
        CASE WHEN v.verified THEN now() END, CASE WHEN v.verified THEN 'full' ELSE 'none' END
      FROM u CROSS JOIN jsonb_to_recordset(${JSON.stringify(identities)}::jsonb)
        AS v(type text, value text, key text, "primary" boolean, verified boolean))`)
    .with('a', () => auditCreation('u', { actorId: audit.actorId, action: 'user.create', targetType: 'user', changedFields: audit.changedFields }))
    .selectFrom('u')
    .select((eb) => [
      'u.id',
      // Whether an organization claims one of the email domains (domain auto-join follows): asked
      // here so the usual create, with no such organization, needs no statement of its own.
      eb
        .exists(
          eb
            .selectFrom('organizations as o')
            .select('o.id')
            .whereRef('o.account_id', '=', 'u.account_id')
            .where(sql<boolean>`o.domain_names && ${emailDomains(identities)}::text[]`),
        )
        .as('domain_claimed'),
    ])
    .executeTakeFirstOrThrow();
  return { id: row.id, domainClaimed: Boolean(row.domain_claimed) };
}

const emailDomains = (identities: NewIdentity[]): string[] =>
  identities.filter((identity) => identity.type === 'email').map((identity) => identity.key.slice(identity.key.lastIndexOf('@') + 1));

export async function findUser(db: Executor, accountId: number, id: number): Promise<UserView | undefined> {
  return (await selectUsers(db, accountId).where('u.id', '=', id).executeTakeFirst()) as UserView | undefined;
}

export async function findUsersByIds(db: Executor, accountId: number, ids: number[]): Promise<UserView[]> {
  if (ids.length === 0) return [];
  return (await selectUsers(db, accountId).where('u.id', 'in', ids).orderBy('u.id').execute()) as UserView[];
}

export async function findUsersByExternalIds(db: Executor, accountId: number, externalIds: string[]): Promise<UserView[]> {
  if (externalIds.length === 0) return [];
  const keys = externalIds.map((value) => value.toLowerCase());
  return (await selectUsers(db, accountId)
    .where(sql<string>`lower(u.external_id)`, 'in', keys)
    .orderBy('u.id')
    .execute()) as UserView[];
}

/** The user who holds an identity (any identity, primary or not: inbound matching relies on it). */
export async function findUserIdByIdentity(
  db: Executor,
  accountId: number,
  type: string,
  valueKey: string,
): Promise<number | undefined> {
  const row = await db
    .selectFrom('user_identities')
    .select('user_id')
    .where('account_id', '=', accountId)
    .where('type', '=', type as never)
    .where('value_key', '=', valueKey)
    .orderBy('id')
    .executeTakeFirst();
  return row?.user_id;
}

export async function findUserIdByExternalId(db: Executor, accountId: number, externalId: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('account_id', '=', accountId)
    .where(sql<string>`lower(external_id)`, '=', externalId.toLowerCase())
    .executeTakeFirst();
  return row?.id;
}

export interface UserFilter {
  roles?: string[] | undefined;
  externalId?: string | undefined;
  permissionSet?: number | undefined;
}

export function userFilterExpression(filter: UserFilter) {
  return (eb: ExpressionBuilder<DB & { u: UsersTable }, 'u'>): Expression<SqlBool> => {
    const parts: Expression<SqlBool>[] = [];
    if (filter.roles && filter.roles.length > 0) parts.push(eb('u.role', 'in', filter.roles as never[]));
    if (filter.externalId !== undefined) parts.push(eb(sql<string>`lower(u.external_id)`, '=', filter.externalId.toLowerCase()));
    if (filter.permissionSet !== undefined) parts.push(eb('u.custom_role_id', '=', filter.permissionSet));
    return eb.and(parts);
  };
}

export async function countAdmins(db: Executor, accountId: number): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('role', '=', 'admin')
    .where('active', '=', true)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

import { sql } from 'kysely';
import type { OrganizationMembershipRow, OrganizationRow } from '../db/tables.ts';
import type { Executor } from '../users/users.repository.ts';

/** A membership with the name of its organization, as the membership JSON shows it. */
export type MembershipView = OrganizationMembershipRow & { organization_name: string };

export function selectOrganizations(db: Executor, accountId: number) {
  return db.selectFrom('organizations as o').selectAll('o').where('o.account_id', '=', accountId);
}

export async function findOrganization(db: Executor, accountId: number, id: number): Promise<OrganizationRow | undefined> {
  return selectOrganizations(db, accountId).where('o.id', '=', id).executeTakeFirst();
}

export async function findOrganizationsByIds(db: Executor, accountId: number, ids: number[]): Promise<OrganizationRow[]> {
  if (ids.length === 0) return [];
  return selectOrganizations(db, accountId).where('o.id', 'in', ids).orderBy('o.id').execute();
}

/** External ids are unique case-insensitively (Zendesk: "company1" and "Company1" are the same). */
export async function findOrganizationsByExternalIds(db: Executor, accountId: number, externalIds: string[]): Promise<OrganizationRow[]> {
  if (externalIds.length === 0) return [];
  return selectOrganizations(db, accountId)
    .where(sql<boolean>`lower(o.external_id) = ANY (SELECT lower(value) FROM unnest(${externalIds}::text[]) AS value)`)
    .orderBy('o.id')
    .execute();
}

export async function findOrganizationByName(db: Executor, accountId: number, name: string): Promise<OrganizationRow | undefined> {
  // lower() on both sides, as the unique index compares: JavaScript and PostgreSQL case-fold differently.
  return selectOrganizations(db, accountId).where(sql<boolean>`lower(o.name) = lower(${name})`).executeTakeFirst();
}

export async function findOrganizationByExternalId(db: Executor, accountId: number, externalId: string): Promise<OrganizationRow | undefined> {
  return (await findOrganizationsByExternalIds(db, accountId, [externalId]))[0];
}

/** Organizations that claim an email domain (stored lower-cased, served by the GIN index), oldest first. */
export async function organizationIdsForDomain(db: Executor, accountId: number, domain: string): Promise<number[]> {
  const rows = await db
    .selectFrom('organizations')
    .select('id')
    .where('account_id', '=', accountId)
    .where(sql<boolean>`domain_names @> ARRAY[${domain.toLowerCase()}]::text[]`)
    .orderBy('id')
    .execute();
  return rows.map((row) => row.id);
}

/** Keys of the account's active organization fields, in their display order. */
export async function activeOrganizationFieldKeys(db: Executor, accountId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('custom_fields')
    .select('key')
    .where('account_id', '=', accountId)
    .where('owner', '=', 'organization')
    .where('active', '=', true)
    .orderBy('position')
    .orderBy('id')
    .execute();
  return rows.map((row) => row.key);
}

export async function countMembers(db: Executor, accountId: number, organizationId: number): Promise<number> {
  const row = await db
    .selectFrom('organization_memberships')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('organization_id', '=', organizationId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

// ---------------------------------------------------------------------------------------------
// Memberships

export function selectMemberships(db: Executor, accountId: number) {
  return db
    .selectFrom('organization_memberships as m')
    .innerJoin('organizations as o', (join) => join.onRef('o.account_id', '=', 'm.account_id').onRef('o.id', '=', 'm.organization_id'))
    .selectAll('m')
    .select('o.name as organization_name')
    .where('m.account_id', '=', accountId);
}

export async function findMembership(db: Executor, accountId: number, id: number): Promise<MembershipView | undefined> {
  return selectMemberships(db, accountId).where('m.id', '=', id).executeTakeFirst();
}

export async function findMembershipOf(db: Executor, accountId: number, userId: number, organizationId: number): Promise<MembershipView | undefined> {
  return selectMemberships(db, accountId).where('m.user_id', '=', userId).where('m.organization_id', '=', organizationId).executeTakeFirst();
}

/** A user's memberships as Zendesk lists them: the default first, then by organization name. */
export async function membershipsOfUser(db: Executor, accountId: number, userId: number): Promise<MembershipView[]> {
  return selectMemberships(db, accountId)
    .where('m.user_id', '=', userId)
    .orderBy('m.is_default', 'desc')
    .orderBy(sql`lower(o.name)`)
    .orderBy('m.id')
    .execute();
}

export async function isMember(db: Executor, accountId: number, userId: number, organizationId: number): Promise<boolean> {
  const row = await db
    .selectFrom('organization_memberships')
    .select('id')
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  return row !== undefined;
}

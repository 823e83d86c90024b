import { sql } from 'kysely';
import type { IdentityType } from '../db/tables.ts';
import type { Executor } from '../users/users.repository.ts';

/**
 * What a soft delete takes off a user and keeps for a restore (user_deletions.stash): the
 * identities (out of the unique index, so the address is free for a new profile), the external
 * id (same reason), and the organization and group memberships. Personal data: cleared by the
 * purge, never copied into audit entries or job results.
 */
export interface DeletionStash {
  external_id: string | null;
  organization_id: number | null;
  default_group_id: number | null;
  identities: StashedIdentity[];
  organization_memberships: StashedOrganizationMembership[];
  group_memberships: StashedGroupMembership[];
}

export interface StashedIdentity {
  type: IdentityType;
  value: string;
  value_key: string;
  primary: boolean;
  verified: boolean;
  verified_at: string | null;
  verification_method: string;
  deliverable_state: string;
  created_at: string;
}

export interface StashedOrganizationMembership {
  organization_id: number;
  is_default: boolean;
  view_tickets: boolean;
  created_at: string;
}

export interface StashedGroupMembership {
  group_id: number;
  is_default: boolean;
  created_at: string;
}

const iso = (value: Date | null): string | null => (value ? value.toISOString() : null);

/** Removes the user's identities and memberships and returns them (the caller decides whether to keep them). */
export async function takeIdentitiesAndMemberships(tx: Executor, accountId: number, userId: number): Promise<Omit<DeletionStash, 'external_id' | 'organization_id' | 'default_group_id'>> {
  const identities = await tx
    .deleteFrom('user_identities')
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .returning(['type', 'value', 'value_key', 'primary', 'verified', 'verified_at', 'verification_method', 'deliverable_state', 'created_at'])
    .execute();
  const organizations = await tx
    .deleteFrom('organization_memberships')
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .returning(['organization_id', 'is_default', 'view_tickets', 'created_at'])
    .execute();
  const groups = await tx
    .deleteFrom('group_memberships')
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .returning(['group_id', 'is_default', 'created_at'])
    .execute();
  return {
    identities: identities.map((row) => ({ ...row, verified_at: iso(row.verified_at), created_at: row.created_at.toISOString() })),
    organization_memberships: organizations.map((row) => ({ ...row, created_at: row.created_at.toISOString() })),
    group_memberships: groups.map((row) => ({ ...row, created_at: row.created_at.toISOString() })),
  };
}

/** Tickets a user requests that are not closed (soft-deleted tickets aside): the soft-delete rule. */
export async function countOpenRequested(db: Executor, accountId: number, userId: number): Promise<number> {
  const row = await db
    .selectFrom('tickets')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('requester_id', '=', userId)
    .where('status', '<>', 'closed')
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Serialises deletions of admins in one account: two concurrent deletes of the last two admins
 * must not both see "another admin remains".
 */
export async function lockAdminDeletions(tx: Executor, accountId: number): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(7214, ${accountId}::int)`.execute(tx);
}

export async function findDeletion(db: Executor, accountId: number, userId: number) {
  return db.selectFrom('user_deletions').selectAll().where('account_id', '=', accountId).where('user_id', '=', userId).executeTakeFirst();
}

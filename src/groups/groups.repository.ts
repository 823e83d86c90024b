import type { ExpressionBuilder } from 'kysely';
import type { DB, GroupMembershipRow, GroupRow } from '../db/tables.ts';
import type { Actor } from '../policy/policy.ts';
import { isAdmin } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';

export interface GroupFilter {
  includeDeleted?: boolean;
  /** Groups this user belongs to. */
  userId?: number;
  /** Only groups this agent may assign work to (see `assignableFilter`). */
  assignableBy?: Actor;
}

export function selectGroups(db: Executor, accountId: number, filter: GroupFilter = {}) {
  let query = db.selectFrom('groups as g').selectAll('g').where('g.account_id', '=', accountId);
  if (!filter.includeDeleted) query = query.where('g.deleted_at', 'is', null);
  const memberOf = filter.userId ?? (filter.assignableBy && restrictedToOwnGroups(filter.assignableBy) ? filter.assignableBy.id : undefined);
  if (memberOf !== undefined) query = query.where((eb) => eb.exists(membershipOf(eb, memberOf)));
  return query;
}

function membershipOf(eb: ExpressionBuilder<DB & { g: DB['groups'] }, 'g'>, userId: number) {
  return eb
    .selectFrom('group_memberships as m')
    .select('m.id')
    .whereRef('m.account_id', '=', 'g.account_id')
    .whereRef('m.group_id', '=', 'g.id')
    .where('m.user_id', '=', userId);
}

/** Agents whose ticket access is limited to their groups assign work only within them. */
export function restrictedToOwnGroups(actor: Actor): boolean {
  const access = actor.permissions.ticket_access;
  return !isAdmin(actor) && (access === 'within-groups' || access === 'within-groups-and-public-groups' || access === 'assigned-only');
}

export async function findGroup(db: Executor, accountId: number, id: number): Promise<GroupRow | undefined> {
  return db.selectFrom('groups').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

export interface MembershipFilter {
  userId?: number;
  groupId?: number;
  /** Memberships in groups this agent may assign work to. */
  assignableBy?: Actor;
}

/** Memberships of live groups only: a deleted group's memberships are removed with it. */
export function selectMemberships(db: Executor, accountId: number, filter: MembershipFilter = {}) {
  let query = db.selectFrom('group_memberships as m').selectAll('m').where('m.account_id', '=', accountId);
  if (filter.userId !== undefined) query = query.where('m.user_id', '=', filter.userId);
  if (filter.groupId !== undefined) query = query.where('m.group_id', '=', filter.groupId);
  const actor = filter.assignableBy;
  if (actor && restrictedToOwnGroups(actor)) {
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('group_memberships as mine')
          .select('mine.id')
          .whereRef('mine.account_id', '=', 'm.account_id')
          .whereRef('mine.group_id', '=', 'm.group_id')
          .where('mine.user_id', '=', actor.id),
      ),
    );
  }
  return query;
}

export async function findMembership(db: Executor, accountId: number, id: number, userId?: number): Promise<GroupMembershipRow | undefined> {
  let query = db.selectFrom('group_memberships').selectAll().where('account_id', '=', accountId).where('id', '=', id);
  if (userId !== undefined) query = query.where('user_id', '=', userId);
  return query.executeTakeFirst();
}

export async function listUserMemberships(db: Executor, accountId: number, userId: number): Promise<GroupMembershipRow[]> {
  return db.selectFrom('group_memberships').selectAll().where('account_id', '=', accountId).where('user_id', '=', userId).orderBy('id').execute();
}

/** A group of the account that is not deleted: the only kind a ticket, organization or member may name. */
export async function liveGroupExists(db: Executor, accountId: number, groupId: number): Promise<boolean> {
  const row = await db
    .selectFrom('groups')
    .select('id')
    .where('account_id', '=', accountId)
    .where('id', '=', groupId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row !== undefined;
}

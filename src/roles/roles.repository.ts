import { sql } from 'kysely';
import type { CustomRoleRow } from '../db/tables.ts';
import type { Executor } from '../users/users.repository.ts';

export type CustomRoleView = CustomRoleRow & { team_member_count: number };

function selectRoles(db: Executor, accountId: number) {
  return db
    .selectFrom('custom_roles as r')
    .selectAll('r')
    .select((eb) =>
      eb
        .selectFrom('users as u')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('u.account_id', '=', 'r.account_id')
        .whereRef('u.custom_role_id', '=', 'r.id')
        .where('u.active', '=', true)
        .as('team_member_count'),
    )
    .where('r.account_id', '=', accountId);
}

export async function listCustomRoles(db: Executor, accountId: number): Promise<CustomRoleView[]> {
  const rows = await selectRoles(db, accountId).orderBy('r.id').execute();
  return rows.map((row) => ({ ...row, team_member_count: Number(row.team_member_count ?? 0) }));
}

export async function findCustomRole(db: Executor, accountId: number, id: number): Promise<CustomRoleView | undefined> {
  const row = await selectRoles(db, accountId).where('r.id', '=', id).executeTakeFirst();
  return row ? { ...row, team_member_count: Number(row.team_member_count ?? 0) } : undefined;
}

import type { Role } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import { authorize, type Actor } from '../policy/policy.ts';
import type { UserColumns } from '../users/user-input.ts';
import type { Executor } from '../users/users.repository.ts';

const END_USER_RESTRICTIONS = ['organization', 'requested'];

/**
 * The role-related columns of a user create or update, checked against the account and the
 * user's final role: a custom role is given by admins, to agents only, and must exist here; an
 * agent who stops being one loses their custom role; `ticket_restriction` is an end user's
 * setting (an agent's ticket access comes from their role). Adjusts `columns` in place.
 */
export async function checkRoleColumns(
  tx: Executor,
  accountId: number,
  actor: Actor | null,
  columns: UserColumns,
  current: { role: Role; custom_role_id: number | null } | null,
): Promise<void> {
  const role = columns.role ?? current?.role ?? 'end-user';
  const currentRoleId = current?.custom_role_id ?? null;
  if (columns.custom_role_id !== undefined && columns.custom_role_id !== currentRoleId) {
    if (actor) authorize.assignCustomRole(actor);
    if (columns.custom_role_id !== null) {
      if (role !== 'agent') throw errors.field('custom_role_id', 'InvalidValue', 'Only agents can have a custom role');
      const exists = await tx
        .selectFrom('custom_roles')
        .select('id')
        .where('account_id', '=', accountId)
        .where('id', '=', columns.custom_role_id)
        .executeTakeFirst();
      if (!exists) throw errors.field('custom_role_id', 'InvalidValue', 'Custom role does not exist');
    }
  }
  if (role !== 'agent' && (columns.custom_role_id ?? currentRoleId) !== null) columns.custom_role_id = null;
  if (columns.ticket_restriction !== undefined && columns.ticket_restriction !== null) {
    if (role !== 'end-user') {
      throw errors.field('ticket_restriction', 'InvalidValue', "An agent's ticket access comes from their custom role (ticket_access)");
    }
    if (!END_USER_RESTRICTIONS.includes(columns.ticket_restriction)) {
      throw errors.field('ticket_restriction', 'InvalidValue', 'An end user\'s ticket restriction is organization or requested');
    }
  }
}

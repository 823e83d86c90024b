import type { Account } from '../db/tables.ts';
import { audit } from '../audit/audit.ts';
import { errors } from '../http/errors.ts';
import {
  assertIdentityFree,
  hasPrimary,
  insertIdentity,
  promoteOldest,
} from '../identities/identities.repository.ts';
import { authorize, withOrganizationContext, type Actor } from '../policy/policy.ts';
import { validateFieldValues } from '../custom-fields/validate-field-values.ts';
import { checkRoleColumns } from '../roles/role-columns.ts';
import { applyDefaultGroup, leaveAllGroups } from '../groups/manage-groups.ts';
import { withoutNulls } from './create-user.ts';
import { applyUserOrganization, joinByEmails } from '../organizations/user-organization.ts';
import type { UserInput } from './user-input.ts';
import { countAdmins, findUser, findUserIdByExternalId, type Executor, type UserView } from './users.repository.ts';
import { changeSuspension } from '../lifecycle/suspend-user.ts';

/** Applies a validated update to one user; the caller owns the transaction. */
export async function updateUser(tx: Executor, account: Account, actor: Actor | null, userId: number, input: UserInput): Promise<void> {
  const target = await findUser(tx, account.id, userId);
  if (!target) throw errors.notFound();
  if (actor) {
    // A client writing a user back as it read it sends the role unchanged: only a change needs the right to make it.
    const fields = input.fields.filter(
      (field) => !(field === 'role' && input.columns.role === target.role) && !(field === 'custom_role_id' && input.columns.custom_role_id === target.custom_role_id),
    );
    authorize.updateUser(actor, await withOrganizationContext(tx, account.id, actor, target), fields);
    if (input.columns.role && input.columns.role !== target.role) authorize.assignRole(actor, target, input.columns.role);
  }
  if (!target.active) throw errors.field('base', 'InvalidValue', 'Deleted users cannot be updated');
  // Suspending needs a reason, kept in its own table rather than in the audit log.
  if (input.columns.suspended !== undefined && input.columns.suspended !== target.suspended) await changeSuspension(tx, account, actor, target, input.columns.suspended === true, input.suspensionReason);

  await checkRoleColumns(tx, account.id, actor, input.columns, target);
  const { user_fields, ...columns } = input.columns;
  const fieldValues = user_fields ? await validateFieldValues(tx, account.id, 'user', user_fields) : undefined;
  if (columns.role && columns.role !== target.role && target.role === 'admin' && (await countAdmins(tx, account.id)) <= 1) {
    throw errors.field('role', 'InvalidValue', 'The last admin of the account cannot be given another role');
  }
  if (columns.external_id) {
    const holder = await findUserIdByExternalId(tx, account.id, columns.external_id);
    if (holder !== undefined && holder !== userId) throw errors.field('external_id', 'DuplicateValue', 'External id has already been taken');
  }

  const emailAdded = input.email ? await addEmail(tx, account.id, target, input.email, input.verified === true) : false;
  if (input.phone !== undefined) await setPhone(tx, account.id, target, input.phone);

  const role = columns.role ?? target.role;
  const restriction = columns.ticket_restriction !== undefined ? columns.ticket_restriction : target.ticket_restriction;
  await tx
    .updateTable('users')
    .set({
      ...columns,
      ...(fieldValues ? { user_fields: JSON.stringify(withoutNulls({ ...target.user_fields, ...fieldValues })) } : {}),
      restricted_agent: role !== 'end-user' && Boolean(restriction),
      updated_at: new Date(),
    })
    .where('account_id', '=', account.id)
    .where('id', '=', userId)
    .execute();
  // Groups hold agents only: an agent or admin who becomes an end user leaves them.
  if (role === 'end-user' && target.role !== 'end-user') await leaveAllGroups(tx, account.id, userId);
  if (input.defaultGroupId !== undefined) await applyDefaultGroup(tx, account, actor, userId, input.defaultGroupId);

  // The organization named in the request (replacing memberships), then auto-join by a newly added email.
  await applyUserOrganization(tx, account, actor, userId, input.organization);
  if (input.email && emailAdded) await joinByEmails(tx, account, actor, userId, [input.email.key]);

  const action = columns.suspended === undefined || columns.suspended === target.suspended ? 'user.update' : columns.suspended ? 'user.suspend' : 'user.unsuspend';
  await audit(tx, { accountId: account.id, actorId: actor?.id ?? null, action, targetType: 'user', targetId: userId, changedFields: input.fields });
}

/** `email` on update adds a secondary identity (primary only when the user had no email); false when the user already had it. */
async function addEmail(tx: Executor, accountId: number, target: UserView, email: { value: string; key: string }, verified: boolean): Promise<boolean> {
  const mine = await assertIdentityFree(tx, accountId, 'email', email.key, 'email', target.id);
  if (mine) return false;
  const primary = !(await hasPrimary(tx, accountId, target.id, 'email'));
  await insertIdentity(tx, accountId, target.id, { type: 'email', value: email.value, key: email.key, primary, verified });
  return true;
}

/** `phone` follows the primary phone identity: changing it rewrites that identity, null removes it. */
async function setPhone(tx: Executor, accountId: number, target: UserView, phone: { value: string; key: string } | null): Promise<void> {
  const primary = await tx
    .selectFrom('user_identities')
    .select('id')
    .where('account_id', '=', accountId)
    .where('user_id', '=', target.id)
    .where('type', '=', 'phone_number')
    .where('primary', '=', true)
    .executeTakeFirst();
  if (phone === null) {
    if (!primary) return;
    await tx.deleteFrom('user_identities').where('account_id', '=', accountId).where('id', '=', primary.id).execute();
    await promoteOldest(tx, accountId, target.id, 'phone_number');
    return;
  }
  if (primary) {
    await tx
      .updateTable('user_identities')
      .set({ value: phone.value, value_key: phone.key, verified: false, verified_at: null, updated_at: new Date() })
      .where('account_id', '=', accountId)
      .where('id', '=', primary.id)
      .execute();
    return;
  }
  await insertIdentity(tx, accountId, target.id, { type: 'phone_number', value: phone.value, key: phone.key, primary: true, verified: false });
}

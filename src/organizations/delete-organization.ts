import type { Account } from '../db/tables.ts';
import { audit } from '../audit/audit.ts';
import { errors } from '../http/errors.ts';
import { authorize, type Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { findOrganization } from './organizations.repository.ts';

/**
 * Deletes an organization and its memberships (the foreign keys cascade). Members for whom it
 * was the default organization get their oldest remaining membership as the new default.
 */
export async function deleteOrganization(tx: Executor, account: Account, actor: Actor | null, id: number): Promise<void> {
  if (actor) authorize.manageOrganizations(actor);
  const organization = await findOrganization(tx, account.id, id);
  if (!organization) throw errors.notFound();
  const members = await tx
    .selectFrom('organization_memberships')
    .select(['user_id', 'is_default'])
    .where('account_id', '=', account.id)
    .where('organization_id', '=', id)
    .orderBy('user_id')
    .execute();
  // Lock the members in id order (as every other membership write locks its one user) before
  // the cascade rewrites their rows.
  if (members.length > 0) {
    await tx.selectFrom('users').select('id').where('account_id', '=', account.id).where('id', 'in', members.map((member) => member.user_id)).orderBy('id').forUpdate().execute();
  }
  await tx.deleteFrom('organizations').where('account_id', '=', account.id).where('id', '=', id).execute();

  const now = new Date();
  for (const { user_id: userId } of members.filter((member) => member.is_default)) {
    const next = await tx
      .selectFrom('organization_memberships')
      .select(['id', 'organization_id'])
      .where('account_id', '=', account.id)
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .executeTakeFirst();
    if (next) {
      await tx.updateTable('organization_memberships').set({ is_default: true, updated_at: now }).where('account_id', '=', account.id).where('id', '=', next.id).execute();
    }
    await tx.updateTable('users').set({ organization_id: next?.organization_id ?? null, updated_at: now }).where('account_id', '=', account.id).where('id', '=', userId).execute();
  }
  await audit(tx, { accountId: account.id, actorId: actor?.id ?? null, action: 'organization.delete', targetType: 'organization', targetId: id, changedFields: [] });
}

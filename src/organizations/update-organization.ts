import type { Account, OrganizationRow } from '../db/tables.ts';
import { audit } from '../audit/audit.ts';
import { errors } from '../http/errors.ts';
import { authorize, type Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { checkOrganization, mergeFieldValues } from './check-organization.ts';
import type { OrganizationInput } from './organization-input.ts';
import { findOrganization } from './organizations.repository.ts';

/**
 * Applies a validated update. `domain_names` replaces the whole list (as in Zendesk); users
 * already in the account are not moved by a new domain — auto-join happens when an email arrives.
 */
export async function updateOrganization(tx: Executor, account: Account, actor: Actor | null, id: number, input: OrganizationInput): Promise<OrganizationRow> {
  const existing = await findOrganization(tx, account.id, id);
  if (!existing) throw errors.notFound();
  if (actor) authorize.updateOrganization(actor, input.fields);
  const fieldValues = await checkOrganization(tx, account, input, id);
  const row = await tx
    .updateTable('organizations')
    .set({
      ...input.columns,
      ...(fieldValues ? { organization_fields: mergeFieldValues(existing.organization_fields, fieldValues) } : {}),
      updated_at: new Date(),
    })
    .where('account_id', '=', account.id)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await audit(tx, { accountId: account.id, actorId: actor?.id ?? null, action: 'organization.update', targetType: 'organization', targetId: id, changedFields: input.fields });
  return row;
}

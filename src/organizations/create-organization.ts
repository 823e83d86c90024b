import type { Account, OrganizationRow } from '../db/tables.ts';
import { audit } from '../audit/audit.ts';
import { authorize, type Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { checkOrganization, mergeFieldValues } from './check-organization.ts';
import type { OrganizationInput } from './organization-input.ts';

/** Creates one organization inside the caller's transaction (actor null: the system, e.g. an import). */
export async function createOrganization(tx: Executor, account: Account, actor: Actor | null, input: OrganizationInput): Promise<OrganizationRow> {
  if (actor) authorize.manageOrganizations(actor);
  const fieldValues = await checkOrganization(tx, account, input);
  const { name, ...columns } = input.columns;
  const row = await tx
    .insertInto('organizations')
    .values({
      ...columns,
      account_id: account.id,
      name: name ?? '',
      organization_fields: mergeFieldValues({}, fieldValues ?? {}),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await audit(tx, { accountId: account.id, actorId: actor?.id ?? null, action: 'organization.create', targetType: 'organization', targetId: row.id, changedFields: input.fields });
  return row;
}

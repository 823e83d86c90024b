import type { Account } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import { authorize, type Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { createOrganization } from './create-organization.ts';
import { joinOrganizationsByEmail, setUserOrganization } from './organization-memberships.ts';
import { findOrganizationByName } from './organizations.repository.ts';

export type OrganizationChoice = { id: number } | { name: string } | null;

/**
 * The organization a user create or update names, as an id. `organization: {name}` finds the
 * organization of that name (case-insensitive) and, as Zendesk does, creates it when there is
 * none — provided the caller may create organizations; otherwise the name must exist.
 */
async function resolveOrganization(tx: Executor, account: Account, actor: Actor | null, choice: OrganizationChoice): Promise<number | null> {
  if (choice === null) return null;
  if ('id' in choice) return choice.id;
  const existing = await findOrganizationByName(tx, account.id, choice.name);
  if (existing) return existing.id;
  if (actor && !authorize.canEditOrganizations(actor)) throw errors.field('organization', 'InvalidValue', 'Organization does not exist');
  const created = await createOrganization(tx, account, actor, { columns: { name: choice.name }, fields: ['name'] });
  return created.id;
}

/** Applies `organization_id` / `organization` of a user create or update (see setUserOrganization). */
export async function applyUserOrganization(tx: Executor, account: Account, actor: Actor | null, userId: number, choice: OrganizationChoice | undefined): Promise<void> {
  if (choice === undefined) return;
  await setUserOrganization(tx, account, actor, userId, await resolveOrganization(tx, account, actor, choice));
}

/** Domain auto-join for the email addresses a create or an update just gave the user. */
export async function joinByEmails(tx: Executor, account: Account, actor: Actor | null, userId: number, emailKeys: string[]): Promise<void> {
  for (const key of emailKeys) await joinOrganizationsByEmail(tx, account, actor?.id ?? null, userId, key);
}

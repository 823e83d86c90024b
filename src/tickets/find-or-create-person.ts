import type { Account, Role } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import type { Actor } from '../policy/policy.ts';
import { createUser } from '../users/create-user.ts';
import { parseUserInput } from '../users/user-input.ts';
import type { Executor } from '../users/users.repository.ts';
import { checkForgottenIdentity } from '../privacy/erasure/suppression.ts';
import type { PersonRef } from './ticket-input.ts';

export interface Person {
  id: number;
  role: Role;
  suspended: boolean;
  organization_id: number | null;
}

/**
 * The live user holding an email address as *any* of their email identities (not only the
 * primary: inbound matching relies on it, DOMAIN.md §1). A deleted user's addresses match
 * nobody: someone who writes in after being deleted gets a new profile (DOMAIN.md §5).
 */
export async function findPersonByEmail(db: Executor, accountId: number, emailKey: string): Promise<Person | undefined> {
  return db
    .selectFrom('user_identities as i')
    .innerJoin('users as u', (join) => join.onRef('u.account_id', '=', 'i.account_id').onRef('u.id', '=', 'i.user_id'))
    .select(['u.id', 'u.role', 'u.suspended', 'u.organization_id'])
    .where('i.account_id', '=', accountId)
    .where('i.type', '=', 'email')
    .where('i.value_key', '=', emailKey)
    .where('u.active', '=', true)
    .orderBy('i.id')
    .executeTakeFirst();
}

export async function findPersonById(db: Executor, accountId: number, id: number): Promise<Person | undefined> {
  return db
    .selectFrom('users')
    .select(['id', 'role', 'suspended', 'organization_id'])
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .where('active', '=', true)
    .executeTakeFirst();
}

/**
 * The user a ticket names (`field` is for the 422): by id, or by address — found through any
 * identity, else created as an end user with that name and address when `create` is allowed
 * (how people arrive, DOMAIN.md §2; the caller has checked authorizeTickets.bringInUser). Runs in
 * the caller's transaction, so a refused ticket leaves no user behind.
 */
export async function findOrCreatePerson(
  tx: Executor,
  account: Account,
  actor: Actor | null,
  ref: PersonRef,
  field: string,
  create: boolean,
  /** A requester: a forgotten identity under the `suspend` policy throws ForgottenIdentity instead of getting a profile. */
  options: { requester?: boolean } = {},
): Promise<Person & { created: boolean }> {
  if ('id' in ref) {
    const found = await findPersonById(tx, account.id, ref.id);
    if (!found) throw errors.field(field, 'InvalidValue', 'There is no such user');
    return { ...found, created: false };
  }
  const existing = await findPersonByEmail(tx, account.id, ref.emailKey);
  if (existing) return { ...existing, created: false };
  if (!create) throw errors.field(field, 'InvalidValue', 'There is no user with this email address');
  // Someone erased writing in again (issue 7 item 5): matched by the keyed hash of the address.
  if (options.requester) await checkForgottenIdentity(tx, account, 'email', ref.emailKey);
  // The name defaults to the address's local part, as Zendesk does for a requester without one.
  const name = ref.name ?? ref.email.slice(0, ref.email.indexOf('@'));
  const input = parseUserInput({ name, email: ref.email }, 'create');
  const id = await createUser(tx, account, actor, input, { preAuthorized: true }).catch((error: unknown) => {
    // The address belongs to a deleted user whose identities are still on file: refuse by field.
    const code = (error as { details?: Record<string, unknown> }).details;
    if (code && ('email' in code || 'value' in code || 'base' in code)) throw errors.field(field, 'InvalidValue', 'This email address cannot be used');
    throw error;
  });
  const created = await findPersonById(tx, account.id, id);
  if (!created) throw errors.field(field, 'InvalidValue', 'There is no such user');
  return { ...created, created: true };
}

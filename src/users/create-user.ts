import type { Account, IdentityType, Role } from '../db/tables.ts';
import { errors, type AppError } from '../http/errors.ts';
import type { NewIdentity } from '../identities/identities.repository.ts';
import { identityLabel } from '../identities/identity-values.ts';
import { authorize, type Actor } from '../policy/policy.ts';
import { validateFieldValues } from '../custom-fields/validate-field-values.ts';
import { checkRoleColumns } from '../roles/role-columns.ts';
import { applyUserOrganization, joinByEmails } from '../organizations/user-organization.ts';
import { applyDefaultGroup } from '../groups/manage-groups.ts';
import type { UserInput } from './user-input.ts';
import { findUserIdByExternalId, insertUser, type Executor } from './users.repository.ts';
import { changeSuspension } from '../lifecycle/suspend-user.ts';
import { isMailLocale } from '../mail/templates.ts';

export interface CreateOptions {
  /** Bootstrap only: the account owner. */
  owner?: boolean;
  passwordHash?: string | null;
  /**
   * The caller's own rule already allowed bringing this person in (a ticket's new requester or
   * CC, a request's submitter: DOMAIN.md §2 arrival paths, see authorizeTickets.bringInUser);
   * the user-creation rule is skipped, the actor is still recorded.
   */
  preAuthorized?: boolean;
}

/**
 * Creates one user with its identities. Runs inside the caller's transaction; the caller is
 * an actor of the account (null for the system: bootstrap and CLI).
 */
export async function createUser(
  tx: Executor,
  account: Account,
  actor: Actor | null,
  input: UserInput,
  options: CreateOptions = {},
): Promise<number> {
  const role: Role = input.columns.role ?? 'end-user';
  if (actor && !options.preAuthorized) authorize.createUser(actor, role);

  const identities = collectIdentities(input);
  if (account.settings.require_email_on_create && !identities.some((identity) => identity.type === 'email')) {
    throw errors.field('email', 'BlankValue', 'Email: cannot be blank (this account requires an email for new users)');
  }
  if (input.columns.external_id && (await findUserIdByExternalId(tx, account.id, input.columns.external_id)) !== undefined) {
    throw errors.field('external_id', 'DuplicateValue', 'External id has already been taken');
  }

  await checkRoleColumns(tx, account.id, actor, input.columns, null);
  const { user_fields, ...columns } = input.columns;
  const fieldValues = user_fields ? await validateFieldValues(tx, account.id, 'user', user_fields) : {};
  const values = {
    ...columns,
    account_id: account.id,
    name: columns.name ?? '',
    // Without a language of their own, a new user gets the account's (mail is written in it).
    ...(columns.locale === undefined && isMailLocale(account.settings.locale) ? { locale: account.settings.locale } : {}),
    role,
    is_owner: options.owner === true,
    user_fields: JSON.stringify(withoutNulls(fieldValues)),
    password_hash: options.passwordHash ?? null,
    restricted_agent: role !== 'end-user' && Boolean(columns.ticket_restriction),
  };
  const { id, domainClaimed } = await insertUser(tx, values, identities, { actorId: actor?.id ?? null, changedFields: input.fields }).catch((error: unknown) => {
    throw takenIdentity(error) ?? error;
  });

  // The organization named in the request first (it becomes the default), then any whose domain an email has.
  await applyUserOrganization(tx, account, actor, id, input.organization);
  if (domainClaimed) await joinByEmails(tx, account, actor, id, identities.filter((identity) => identity.type === 'email').map((identity) => identity.key));
  if (input.defaultGroupId !== undefined) await applyDefaultGroup(tx, account, actor, id, input.defaultGroupId);
  // A user created suspended needs a reason like any suspension (src/lifecycle/suspend-user.ts).
  if (input.columns.suspended === true) await changeSuspension(tx, account, actor, { id, role, is_owner: false }, true, input.suspensionReason);
  return id;
}

/**
 * `email`, `phone` and `identities` of a create, deduplicated, with exactly one primary per
 * type: an identity marked primary wins, else the `email`/`phone` shorthand, else the first.
 */
function collectIdentities(input: UserInput): NewIdentity[] {
  const list: NewIdentity[] = [];
  const verified = input.verified === true;
  const add = (type: IdentityType, value: string, key: string, primary: boolean, identityVerified: boolean): void => {
    const existing = list.find((identity) => identity.type === type && identity.key === key);
    if (existing) {
      existing.primary ||= primary;
      existing.verified ||= identityVerified;
      return;
    }
    list.push({ type, value, key, primary, verified: identityVerified });
  };
  if (input.email) add('email', input.email.value, input.email.key, false, verified);
  if (input.phone) add('phone_number', input.phone.value, input.phone.key, false, verified);
  for (const identity of input.identities) add(identity.type, identity.value, identity.key, identity.primary, identity.verified || verified);
  for (const type of new Set(list.map((identity) => identity.type))) {
    const ofType = list.filter((identity) => identity.type === type);
    const chosen = ofType.find((identity) => identity.primary) ?? ofType[0];
    for (const identity of ofType) identity.primary = identity === chosen;
  }
  return list;
}

/**
 * An identity another user holds, found by its unique index rather than by a look-up first (one
 * round trip less on every create). The error's detail names the key's columns; only the
 * identity type is read from it, never the value.
 */
function takenIdentity(error: unknown): AppError | undefined {
  const pgError = error as { code?: unknown; constraint?: unknown; detail?: unknown };
  if (pgError.code !== '23505' || pgError.constraint !== 'user_identities_value') return undefined;
  const type = /=\(\d+, ([a-z_]+), /.exec(typeof pgError.detail === 'string' ? pgError.detail : '')?.[1] ?? 'email';
  return errors.field(type === 'email' ? 'email' : 'identities', 'DuplicateValue', `${identityLabel(type as IdentityType)} is already being used by another user`);
}

export function withoutNulls(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== null));
}

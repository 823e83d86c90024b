import { effectiveSettings } from '../../accounts/account-settings.routes.ts';
import type { Account } from '../../db/tables.ts';
import type { Executor } from '../../users/users.repository.ts';
import { existingIdentifierSalt, hashIdentifier } from '../identifier-hash.ts';

/**
 * Suppression (issue 7 item 5): the identifiers of a forgotten person are kept as keyed hashes
 * only (src/privacy/identifier-hash.ts). When one of them writes in again, the account's
 * `forgotten_identity_policy` decides: `new_profile` (Zendesk's behaviour, the default) or
 * `suspend` — the submission waits in the suspended tickets queue with cause "Forgotten identity".
 */

export const FORGOTTEN_IDENTITY_POLICIES = ['new_profile', 'suspend'] as const;
export type ForgottenIdentityPolicy = (typeof FORGOTTEN_IDENTITY_POLICIES)[number];

/** The suspended-ticket cause of a forgotten identity's submission (Roster's own cause id). */
export const FORGOTTEN_IDENTITY_CAUSE = { cause: 'Forgotten identity', cause_id: 2 } as const;

/** Thrown by findOrCreatePerson instead of creating a profile for a forgotten identity under `suspend`. */
export class ForgottenIdentity extends Error {
  constructor() {
    super('A forgotten identity wrote in');
  }
}

export async function suppressIdentifiers(tx: Executor, accountId: number, erasureId: number, hashes: string[]): Promise<void> {
  if (hashes.length === 0) return;
  await tx
    .insertInto('suppressed_identifiers')
    .values(hashes.map((hash) => ({ account_id: accountId, identifier_hash: hash, erasure_id: erasureId })))
    .onConflict((conflict) => conflict.columns(['account_id', 'identifier_hash']).doNothing())
    .execute();
}

/** Whether the identifier (type and matching key) belongs to a forgotten person: by its hash. */
export async function isForgotten(db: Executor, accountId: number, type: string, valueKey: string): Promise<boolean> {
  const salt = await existingIdentifierSalt(db, accountId);
  if (!salt) return false;
  const row = await db
    .selectFrom('suppressed_identifiers')
    .select('identifier_hash')
    .where('account_id', '=', accountId)
    .where('identifier_hash', '=', hashIdentifier(salt, type, valueKey))
    .executeTakeFirst();
  return row !== undefined;
}

/** Refuses (with ForgottenIdentity) a new profile for a forgotten address when the account suspends them. */
export async function checkForgottenIdentity(db: Executor, account: Account, type: string, valueKey: string): Promise<void> {
  if (effectiveSettings(account.settings).forgotten_identity_policy !== 'suspend') return;
  if (await isForgotten(db, account.id, type, valueKey)) throw new ForgottenIdentity();
}

import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Executor } from '../users/users.repository.ts';

/**
 * Keyed hashes of identifiers (issue 7 items 4–5): an erasure receipt lists what was erased and
 * the suppression list recognises a forgotten address, without either holding the address. The
 * key is the account's own random `identifier_salt` (created on first use, never shown), so a
 * hash cannot be checked against a guessed address without the database, nor matched across
 * accounts. HMAC-SHA256 over `type:value_key` — the identity's matching key (lower-cased email,
 * digits-only phone), so two spellings of one address hash alike.
 */

/** The account's key, created on first use. Safe under concurrency: the first writer wins. */
export async function identifierSalt(tx: Executor, accountId: number): Promise<string> {
  const fresh = crypto.randomBytes(32).toString('hex');
  const row = await sql<{ identifier_salt: string }>`
    UPDATE accounts SET identifier_salt = COALESCE(identifier_salt, ${fresh})
    WHERE id = ${accountId} RETURNING identifier_salt`.execute(tx);
  const salt = row.rows[0]?.identifier_salt;
  if (!salt) throw new Error('Account not found');
  return salt;
}

/** The account's key when it has one (reads only; nothing was ever hashed without one). */
export async function existingIdentifierSalt(db: Executor, accountId: number): Promise<string | undefined> {
  const row = await db.selectFrom('accounts').select('identifier_salt').where('id', '=', accountId).executeTakeFirst();
  return row?.identifier_salt ?? undefined;
}

export function hashIdentifier(salt: string, type: string, valueKey: string): string {
  return crypto.createHmac('sha256', salt).update(`${type}:${valueKey}`).digest('hex');
}

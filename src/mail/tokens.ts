import crypto from 'node:crypto';
import type { UserTokenPurpose } from '../db/tables.ts';
import { AppError } from '../http/errors.ts';
import type { Executor } from '../users/users.repository.ts';

/**
 * One-time tokens of the links in mail (set a password, verify an address, reset a password).
 * 32 random bytes, shown once in the message; only their SHA-256 is stored (user_tokens), so the
 * table alone never lets anyone in. A token works once and until it expires.
 */
export const TOKEN_PURPOSES = ['set_password', 'verify_identity', 'reset_password'] as const satisfies readonly UserTokenPurpose[];

/** How long each kind of link works. */
export const TOKEN_LIFETIME_HOURS: Record<UserTokenPurpose, number> = {
  set_password: 7 * 24,
  verify_identity: 7 * 24,
  reset_password: 2,
};

/** The raw token's shape (base64url of 32 bytes): what the outbox masks once a message is sent. */
export const TOKEN_PATTERN = /[A-Za-z0-9_-]{43}/;

export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

export async function issueToken(tx: Executor, accountId: number, userId: number, identityId: number | null, purpose: UserTokenPurpose, now = new Date()): Promise<IssuedToken> {
  const token = crypto.randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + TOKEN_LIFETIME_HOURS[purpose] * 3600_000);
  await tx
    .insertInto('user_tokens')
    .values({ account_id: accountId, user_id: userId, identity_id: identityId, purpose, token_hash: hashToken(token), expires_at: expiresAt })
    .execute();
  return { token, expiresAt };
}

export interface ConsumedToken {
  id: number;
  user_id: number;
  identity_id: number | null;
}

/**
 * Marks the token used and returns it, in the caller's transaction: the conditional UPDATE is the
 * single-use guarantee (two requests racing with one token: one row updated, the other none).
 * Unknown, used and expired tokens are 4xx answers that name the case, never the user.
 */
export async function consumeToken(tx: Executor, accountId: number, purpose: UserTokenPurpose, token: string, now = new Date()): Promise<ConsumedToken> {
  const hash = hashToken(token);
  const used = await tx
    .updateTable('user_tokens')
    .set({ used_at: now })
    .where('account_id', '=', accountId)
    .where('token_hash', '=', hash)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(['id', 'user_id', 'identity_id'])
    .executeTakeFirst();
  if (used) return used;
  const found = await tx
    .selectFrom('user_tokens')
    .select(['used_at', 'expires_at'])
    .where('account_id', '=', accountId)
    .where('token_hash', '=', hash)
    .where('purpose', '=', purpose)
    .executeTakeFirst();
  if (!found) throw new AppError('InvalidToken', 404, 'This link is not valid');
  if (found.used_at) throw new AppError('TokenUsed', 410, 'This link has already been used; ask for a new one');
  throw new AppError('TokenExpired', 410, 'This link has expired; ask for a new one');
}

/** Other open tokens of the same purpose stop working once one is used (an older reset link must not reset again). */
export async function retireTokens(tx: Executor, accountId: number, userId: number, purpose: UserTokenPurpose, now = new Date()): Promise<void> {
  await tx
    .updateTable('user_tokens')
    .set({ used_at: now })
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .execute();
}

import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Account, UserRow } from '../db/tables.ts';
import type { AuthenticatedUser, AuthMethod } from '../http/context.ts';
import { errors } from '../http/errors.ts';
import { resolvePermissions } from '../roles/permissions.ts';
import { findUser, findUserIdByIdentity } from '../users/users.repository.ts';
import { hashToken, verifyPassword } from './secrets.ts';

export interface Credentials {
  user: AuthenticatedUser | null;
  method: AuthMethod;
  scopes: string[] | null;
  /** When these credentials stop working by themselves (OAuth tokens); caches honour it. */
  expiresAt?: Date | null;
}

const ANONYMOUS: Credentials = { user: null, method: 'anonymous', scopes: null };

/**
 * Reads the Authorization header (the only place credentials are accepted: never the URL).
 * Returns the caller, or throws 401 for credentials that do not check out.
 */
export async function authenticate(db: Db, account: Account, header: string | undefined): Promise<Credentials> {
  if (header === undefined || header.trim() === '') return ANONYMOUS;
  const space = header.indexOf(' ');
  const scheme = space > 0 ? header.slice(0, space).toLowerCase() : '';
  const value = space > 0 ? header.slice(space + 1).trim() : '';
  if (scheme === 'basic') return basic(db, account, value);
  if (scheme === 'bearer') return bearer(db, account, value);
  throw errors.unauthenticated();
}

async function basic(db: Db, account: Account, encoded: string): Promise<Credentials> {
  if (!/^[A-Za-z0-9+/=_-]+$/.test(encoded)) throw errors.unauthenticated();
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw errors.unauthenticated();
  const login = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  if (secret === '' || secret.length > 1024) throw errors.unauthenticated();

  if (login.toLowerCase().endsWith('/token')) {
    const email = login.slice(0, -'/token'.length);
    // One statement on the hot path: the user holding this email, provided the account has this
    // active token. No row (unknown token or email) and a locked-out user are the same 401.
    // The custom role's configuration rides along, so permissions cost no extra round trip.
    const user = await db
      .selectFrom('users as u')
      .innerJoin('user_identities as i', (join) => join.onRef('i.account_id', '=', 'u.account_id').onRef('i.user_id', '=', 'u.id'))
      .leftJoin('custom_roles as r', (join) => join.onRef('r.account_id', '=', 'u.account_id').onRef('r.id', '=', 'u.custom_role_id'))
      .selectAll('u')
      .select('r.configuration as role_configuration')
      .where('u.account_id', '=', account.id)
      .where('i.type', '=', 'email')
      .where('i.value_key', '=', email.trim().toLowerCase())
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('api_tokens as t')
            .select(sql`1`.as('one'))
            .where('t.account_id', '=', account.id)
            .where('t.token_hash', '=', hashToken(secret))
            .where('t.active', '=', true),
        ),
      )
      .executeTakeFirst();
    if (!user || !canSignIn(user)) throw errors.unauthenticated();
    return { user: withPermissions(user, user.role_configuration), method: 'api_token', scopes: null };
  }

  const userId = await findUserIdByIdentity(db, account.id, 'email', login.trim().toLowerCase());
  const candidate = userId === undefined ? undefined : await findUser(db, account.id, userId);
  const ok = await verifyPassword(secret, candidate?.password_hash ?? null);
  if (!ok || !candidate || !canSignIn(candidate)) throw errors.unauthenticated();
  return { user: withPermissions(candidate, candidate.role_configuration), method: 'password', scopes: null };
}

async function bearer(db: Db, account: Account, token: string): Promise<Credentials> {
  if (token === '' || token.length > 1024) throw errors.unauthenticated();
  const row = await db
    .selectFrom('oauth_tokens')
    .select(['user_id', 'scopes', 'expires_at'])
    .where('account_id', '=', account.id)
    .where('token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row || (row.expires_at && row.expires_at.getTime() <= Date.now())) throw errors.unauthenticated();
  const user = await findUser(db, account.id, row.user_id);
  if (!user || !canSignIn(user)) throw errors.unauthenticated();
  return { user: withPermissions(user, user.role_configuration), method: 'oauth', scopes: row.scopes, expiresAt: row.expires_at };
}

function withPermissions(user: UserRow, roleConfiguration: unknown): AuthenticatedUser {
  return Object.assign(user, { permissions: resolvePermissions(user.role, roleConfiguration) });
}

/** Suspended and deleted users are locked out of every credential type. */
export function canSignIn(user: { active: boolean; suspended: boolean }): boolean {
  return user.active && !user.suspended;
}

/** OAuth `read` covers safe methods, `write` everything else; unscoped credentials pass. */
export function hasScopeFor(httpMethod: string, scopes: string[] | null): boolean {
  if (scopes === null) return true;
  const needs = httpMethod === 'GET' || httpMethod === 'HEAD' ? 'read' : 'write';
  return scopes.includes(needs);
}

import type { Account, UserRow } from '../db/tables.ts';
import type { Permissions } from '../roles/permissions.ts';

export type AuthMethod = 'anonymous' | 'password' | 'api_token' | 'oauth';

/** The caller's row with the permissions of their role, resolved while authenticating (no extra query). */
export type AuthenticatedUser = UserRow & { permissions: Permissions };

/** Who is calling, for which account: resolved once per request, before any route runs. */
export interface RequestContext {
  account: Account;
  /** null for an anonymous caller. */
  user: AuthenticatedUser | null;
  method: AuthMethod;
  /** OAuth scopes; null when the credentials are not scoped (password, API token). */
  scopes: string[] | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext;
  }
  interface FastifyContextConfig {
    /** 'optional' lets anonymous callers through (`GET /users/me`, OAuth grants). */
    auth?: 'required' | 'optional';
  }
}

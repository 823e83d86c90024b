import type { Db } from '../db/database.ts';
import type { Account } from '../db/tables.ts';
import { issueApiToken } from '../auth/api-tokens.ts';
import { hashPassword, newPassword } from '../auth/secrets.ts';
import { createUser } from '../users/create-user.ts';
import { parseUserInput } from '../users/user-input.ts';
import { createAccount, findAccountBySubdomain } from './accounts.repository.ts';

export interface OwnerSeed {
  name?: string | undefined;
  email?: string | undefined;
  password?: string | undefined;
}

export interface Bootstrapped {
  account: Account;
  /** Set only when this call created the owner: what to print once. */
  created?: { email: string; password: string | null; generatedPassword: boolean; apiToken: string | null };
}

/**
 * Makes sure an account exists with its owner. On the first start the owner comes from the
 * environment; without a password we generate one and an API token, returned to be printed once.
 */
export async function ensureAccount(db: Db, subdomain: string, seed: OwnerSeed): Promise<Bootstrapped> {
  const existing = await findAccountBySubdomain(db, subdomain);
  if (existing) return { account: existing };
  const email = seed.email ?? `owner@${subdomain}.roster.invalid`;
  const generated = seed.password === undefined;
  const password = seed.password ?? newPassword();
  const passwordHash = await hashPassword(password);
  const account = await db.transaction().execute(async (tx) => {
    const created = await createAccount(tx, subdomain, subdomain === 'default' ? 'Roster' : subdomain);
    const input = parseUserInput({ name: seed.name ?? 'Account Owner', email, role: 'admin', verified: true }, 'create');
    await createUser(tx, created, null, input, { owner: true, passwordHash });
    return created;
  });
  const apiToken = generated ? (await issueApiToken(db, account.id, null, 'Created at first start')).token : null;
  return { account, created: { email, password: generated ? password : null, generatedPassword: generated, apiToken } };
}

import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Account, AccountSettings } from '../db/tables.ts';
import type { Executor } from '../users/users.repository.ts';

export const DEFAULT_SUBDOMAIN = 'default';

export async function findAccountBySubdomain(db: Db, subdomain: string): Promise<Account | undefined> {
  return db.selectFrom('accounts').selectAll().where('subdomain', '=', subdomain).executeTakeFirst();
}

export async function createAccount(db: Executor, subdomain: string, name: string): Promise<Account> {
  return db
    .insertInto('accounts')
    .values({ subdomain, name, settings: JSON.stringify({}) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateAccountSettings(db: Executor, accountId: number, patch: AccountSettings): Promise<Account> {
  return db
    .updateTable('accounts')
    .set({ settings: sql`settings || ${JSON.stringify(patch)}::jsonb` as never, updated_at: new Date() })
    .where('id', '=', accountId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

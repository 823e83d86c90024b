import { sql } from 'kysely';
import type { SearchVisibility } from '../policy/policy.ts';
import { selectUsers, type Executor, type UserView } from '../users/users.repository.ts';
import { foldedPrefix } from './text-match.ts';

/**
 * The two user look-ups beside the query language: `users/search?external_id=` (exact,
 * case-insensitive, served by the unique index) and `users/autocomplete?name=` (a name prefix,
 * case- and accent-insensitive, served by the trigram index on the folded name).
 */

export async function usersByExternalId(db: Executor, accountId: number, externalId: string, visibility: SearchVisibility): Promise<UserView[]> {
  let query = selectUsers(db, accountId)
    .where(sql<string>`lower(u.external_id)`, '=', externalId.trim().toLowerCase())
    .where('u.active', '=', true);
  if (!visibility.endUsers) query = query.where('u.role', '<>', 'end-user');
  return (await query.execute()) as UserView[];
}

export async function autocompleteUsers(
  db: Executor,
  accountId: number,
  name: string,
  visibility: SearchVisibility,
  window: { offset: number; limit: number },
): Promise<{ users: UserView[]; count: number }> {
  let base = db.selectFrom('users as u').where('u.account_id', '=', accountId).where('u.active', '=', true).where(foldedPrefix('u.name', name));
  if (!visibility.endUsers) base = base.where('u.role', '<>', 'end-user');
  const page = await base.select('u.id').orderBy(sql`roster_fold(u.name)`).orderBy('u.id').offset(window.offset).limit(window.limit).execute();
  const count = page.length < window.limit && (page.length > 0 || window.offset === 0)
    ? window.offset + page.length
    : Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  if (page.length === 0) return { users: [], count };
  const rows = (await selectUsers(db, accountId).where('u.id', 'in', page.map((row) => row.id)).execute()) as UserView[];
  const byId = new Map(rows.map((row) => [row.id, row]));
  return { users: page.flatMap((row) => byId.get(row.id) ?? []), count };
}

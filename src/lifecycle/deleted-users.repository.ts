import { sql } from 'kysely';
import type { Executor } from '../users/users.repository.ts';

export type DeletedUserState = 'pending_purge' | 'purged';

export interface DeletedUserView {
  id: number;
  name: string;
  role: string;
  locale: string;
  time_zone: string | null;
  photo: Record<string, unknown> | null;
  shared_phone_number: boolean | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date;
  purged_at: Date | null;
  restorable: boolean;
  /** From the identities kept for a restore; null once purged or when nothing was kept. */
  email: string | null;
  phone: string | null;
  organization_id: number | null;
  /** The survivor when this user was merged away (and the merge not undone). */
  merged_into_id: number | null;
}

/** Soft-deleted and purged users of an account (the Deleted users view), one row per deletion. */
export function selectDeletedUsers(db: Executor, accountId: number, state?: DeletedUserState) {
  let query = db
    .selectFrom('user_deletions as d')
    .innerJoin('users as u', (join) => join.onRef('u.account_id', '=', 'd.account_id').onRef('u.id', '=', 'd.user_id'))
    .select([
      'u.id',
      'u.name',
      'u.role',
      'u.locale',
      'u.time_zone',
      'u.photo',
      'u.shared_phone_number',
      'u.created_at',
      'u.updated_at',
      'd.deleted_at',
      'd.purged_at',
      sql<boolean>`d.stash IS NOT NULL`.as('restorable'),
      sql<string | null>`(SELECT i->>'value' FROM jsonb_array_elements(d.stash->'identities') i WHERE i->>'type' = 'email' ORDER BY (i->>'primary')::boolean DESC LIMIT 1)`.as('email'),
      sql<string | null>`(SELECT i->>'value' FROM jsonb_array_elements(d.stash->'identities') i WHERE i->>'type' = 'phone_number' ORDER BY (i->>'primary')::boolean DESC LIMIT 1)`.as('phone'),
      sql<number | null>`(d.stash->>'organization_id')::bigint`.as('organization_id'),
      sql<number | null>`(SELECT m.target_id FROM user_merges m WHERE m.account_id = d.account_id AND m.source_id = d.user_id AND m.undone_at IS NULL ORDER BY m.id DESC LIMIT 1)`.as('merged_into_id'),
    ])
    .where('d.account_id', '=', accountId)
    .where('u.active', '=', false);
  if (state === 'pending_purge') query = query.where('d.purged_at', 'is', null);
  if (state === 'purged') query = query.where('d.purged_at', 'is not', null);
  return query;
}

export async function countDeletedUsers(db: Executor, accountId: number, state?: DeletedUserState): Promise<number> {
  let query = db
    .selectFrom('user_deletions as d')
    .innerJoin('users as u', (join) => join.onRef('u.account_id', '=', 'd.account_id').onRef('u.id', '=', 'd.user_id'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('d.account_id', '=', accountId)
    .where('u.active', '=', false);
  if (state === 'pending_purge') query = query.where('d.purged_at', 'is', null);
  if (state === 'purged') query = query.where('d.purged_at', 'is not', null);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

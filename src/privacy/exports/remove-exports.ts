import type { Executor } from '../../users/users.repository.ts';

/**
 * Deletes every export that holds the person `userId`: their own personal-data exports (done or
 * still to be made) and every users export (each line of one is a user, so every user is in it —
 * a queued or running one would write the person too). Rows become `deleted` with no storage
 * key; returns how many.
 *
 * Runs inside the caller's transaction (a purge, an erasure) and touches no file: the storage key
 * is the only key to the file's encryption (src/privacy/exports/export-files.ts), so the file is
 * unreadable the moment this transaction commits, and untouched if it rolls back — a row can
 * never claim a file that is gone, nor a file outlive the deletion in readable form. The bytes
 * themselves are unlinked by the exports sweep (every 15 minutes and at start), which removes
 * every file no live row refers to. A running export job notices its row is gone at its next
 * checkpoint and stops.
 */
export async function removeExportsHolding(tx: Executor, accountId: number, userId: number): Promise<number> {
  const removed = await tx
    .updateTable('data_exports')
    .set({ status: 'deleted', storage_key: null, expires_at: null })
    .where('account_id', '=', accountId)
    .where('status', 'in', ['queued', 'working', 'completed'])
    .where((eb) => eb.or([eb.and([eb('kind', '=', 'personal_data'), eb('subject_user_id', '=', userId)]), eb('kind', '=', 'users')]))
    .returning('id')
    .execute();
  return removed.length;
}


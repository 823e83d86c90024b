import { sql } from 'kysely';
import type { Database } from '../db/database.ts';
import type { ScheduledJobDefinition } from '../jobs/jobs.ts';
import type { FileStorage } from './storage.ts';

/** An upload not attached to a comment within this long expires (Zendesk: 3 days). */
export const UPLOAD_TTL_MS = 3 * 24 * 60 * 60 * 1000;
const EXPIRE_BATCH = 200;

/**
 * Removes uploads never attached to a comment (or a suspended ticket) whose time ran out: their
 * bytes first, then the rows, in one transaction per batch with the rows locked — a crash in
 * between leaves a row whose bytes are already gone, which the next run removes; it never leaves
 * bytes that no row points to. Returns how many were removed. Tests pass `now`.
 */
export async function expireUploads(db: Database['db'], storage: FileStorage, now: Date): Promise<number> {
  const before = new Date(now.getTime() - UPLOAD_TTL_MS);
  let total = 0;
  for (;;) {
    const removed = await db.transaction().execute(async (tx) => {
      const rows = await tx
        .selectFrom('ticket_attachments')
        .select(['account_id', 'id', 'storage_key'])
        .where('comment_id', 'is', null)
        .where('suspended_ticket_id', 'is', null)
        .where('created_at', '<', before)
        .orderBy('created_at')
        .limit(EXPIRE_BATCH)
        .forUpdate()
        .skipLocked()
        .execute();
      if (rows.length === 0) return 0;
      for (const row of rows) await storage.delete(row.storage_key);
      const ids = rows.map((row) => row.id);
      await sql`WITH gone AS (
          DELETE FROM ticket_attachments WHERE id = ANY(${ids}::bigint[]) RETURNING account_id, id
        )
        INSERT INTO audit_events (account_id, actor_id, action, target_type, target_id, changed_fields)
        SELECT account_id, NULL, 'upload.expire', 'attachment', id::text, '{}'::text[] FROM gone`.execute(tx);
      return rows.length;
    });
    total += removed;
    if (removed < EXPIRE_BATCH) return total;
  }
}

/** Every hour, at minute 37 (UTC). */
export function expireUploadsJob(database: Database, storage: FileStorage): ScheduledJobDefinition {
  return {
    name: 'roster-expire-uploads',
    cron: '37 * * * *',
    run: async (now) => {
      await expireUploads(database.db, storage, now);
    },
  };
}

import { sql } from 'kysely';
import { effectiveSettings } from '../accounts/account-settings.routes.ts';
import type { Database } from '../db/database.ts';
import type { ScheduledJobDefinition } from '../jobs/jobs.ts';
import type { Executor } from '../users/users.repository.ts';

/** Tickets closed per statement: bounded so one sweep never holds many row locks for long. */
export const CLOSE_BATCH = 500;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface CloseSolvedCriteria {
  accountId: number;
  /** Only tickets solved at or before this instant (the auto-close rule); undefined: any solved ticket. */
  solvedBefore?: Date;
  /** Only these tickets (close_solved with `ids`). */
  ids?: number[];
  /** null: the automation. */
  actorId: number | null;
  now: Date;
}

/**
 * Closes one batch of solved, live tickets matching `criteria` and audits each (`ticket.close`,
 * actor null for the automation), in one statement: idempotent (a closed ticket no longer
 * matches) and safe to run from several processes at once (SKIP LOCKED: a row another run holds
 * is left to it). Returns the ids closed.
 */
export async function closeSolvedBatch(tx: Executor, criteria: CloseSolvedCriteria, limit = CLOSE_BATCH): Promise<number[]> {
  const solvedBefore = criteria.solvedBefore ? sql`AND t.solved_at <= ${criteria.solvedBefore}` : sql``;
  const onlyIds = criteria.ids ? sql`AND t.id = ANY(${criteria.ids}::bigint[])` : sql``;
  const { rows } = await sql<{ id: number }>`
    WITH due AS (
      SELECT t.account_id, t.id FROM tickets t
      WHERE t.account_id = ${criteria.accountId} AND t.status = 'solved' AND t.deleted_at IS NULL ${solvedBefore} ${onlyIds}
      ORDER BY t.solved_at, t.id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), closed AS (
      UPDATE tickets t SET status = 'closed', closed_at = ${criteria.now}, updated_at = ${criteria.now}
      FROM due WHERE t.account_id = due.account_id AND t.id = due.id
      RETURNING t.account_id, t.id
    ), audited AS (
      INSERT INTO audit_events (account_id, actor_id, action, target_type, target_id, changed_fields)
      SELECT c.account_id, ${criteria.actorId}::bigint, 'ticket.close', 'ticket', c.id::text, '{status}'::text[] FROM closed c
    )
    SELECT id FROM closed ORDER BY id`.execute(tx);
  return rows.map((row) => Number(row.id));
}

/** Closes every match, a batch per transaction, until none is left. */
export async function closeSolvedTickets(db: Database['db'], criteria: CloseSolvedCriteria): Promise<number[]> {
  const closed: number[] = [];
  for (;;) {
    const batch = await db.transaction().execute((tx) => closeSolvedBatch(tx, criteria));
    closed.push(...batch);
    if (batch.length < CLOSE_BATCH) return closed;
    // Let requests in between batches (the embedded database has one connection).
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * The auto-close automation (DOMAIN.md §4): in every account, close tickets solved more than
 * `auto_close_after_days` days before `now`. Works from the data, not from remembered runs: a
 * run after downtime closes everything that fell due meanwhile, and a second run finds nothing.
 * Tests pass `now` instead of waiting for days.
 */
export async function sweepSolvedTickets(db: Database['db'], now: Date): Promise<number> {
  const accounts = await db.selectFrom('accounts').select(['id', 'settings']).orderBy('id').execute();
  let total = 0;
  for (const account of accounts) {
    const days = effectiveSettings(account.settings).auto_close_after_days;
    const closed = await closeSolvedTickets(db, { accountId: account.id, solvedBefore: new Date(now.getTime() - days * DAY_MS), actorId: null, now });
    total += closed.length;
  }
  return total;
}

/** Every hour, at minute 7 (UTC): a solved ticket closes within an hour of falling due. */
export function autoCloseJob(database: Database): ScheduledJobDefinition {
  return {
    name: 'roster-auto-close-solved-tickets',
    cron: '7 * * * *',
    run: async (now) => {
      await sweepSolvedTickets(database.db, now);
    },
  };
}

import { sql } from 'kysely';
import { audit } from '../../audit/audit.ts';
import type { Database } from '../../db/database.ts';
import type { Account, DataExportKind, JobStatusRow } from '../../db/tables.ts';
import { AppError, errors } from '../../http/errors.ts';
import type { ItemContext, Jobs, ScheduledJobDefinition, SlicedJobDefinition } from '../../jobs/jobs.ts';
import { authorizeExports, type Actor } from '../../policy/policy.ts';
import type { Executor } from '../../users/users.repository.ts';
import { buildPersonalExport, countRecords } from './build-personal-export.ts';
import { newStorageKey, partFileName, type ExportFiles } from './export-files.ts';
import { signLink } from './signed-links.ts';
import { usersExportLines, type UsersExportRange } from './users-export.ts';

export const PERSONAL_DATA_EXPORT_JOB = 'personal_data_export';
export const USERS_EXPORT_JOB = 'users_export';
/** How long a finished export (and every link to it) lasts: at least the three days of seed 002. */
export const EXPORT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** Users per part of a users export: one part per job slice, so a resumed job continues at the next part. */
export const USERS_PER_PART = 5000;

export type DataExportRow = Awaited<ReturnType<typeof findExport>>;

/** What a users export's `options` hold: the range asked for and the job's checkpoint. Ids and times only. */
export interface ExportOptions {
  base_url?: string;
  start_time?: string;
  end_time?: string;
  date_field?: 'created_at' | 'updated_at';
  /** Parts written (checkpoint). */
  parts?: number;
  /** The last user id written (users exports' checkpoint). */
  after_id?: number;
}

export async function findExport(db: Executor, accountId: number, id: number) {
  const row = await db.selectFrom('data_exports').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  if (!row) throw errors.notFound();
  return row;
}

const optionsOf = (row: { options: unknown }): ExportOptions => (row.options ?? {}) as ExportOptions;

export interface ExportServices {
  database: Database;
  jobs: Jobs;
}

async function enqueueExport(
  { database, jobs }: ExportServices,
  account: Account,
  actor: Actor,
  values: { kind: DataExportKind; subjectUserId: number | null; options: ExportOptions; total: number },
): Promise<{ exported: DataExportRow; job: JobStatusRow }> {
  const type = values.kind === 'personal_data' ? PERSONAL_DATA_EXPORT_JOB : USERS_EXPORT_JOB;
  let exportId = 0;
  const job = await jobs.enqueueSliced(account, actor, type, values.total, {}, async (tx, jobId) => {
    const row = await tx
      .insertInto('data_exports')
      .values({ account_id: account.id, kind: values.kind, subject_user_id: values.subjectUserId, requested_by: actor.id, job_id: jobId, status: 'queued', options: JSON.stringify(values.options) })
      .returning('id')
      .executeTakeFirstOrThrow();
    exportId = row.id;
    await audit(tx, { accountId: account.id, actorId: actor.id, action: 'data_export.create', targetType: 'data_export', targetId: row.id, changedFields: ['kind', ...(values.subjectUserId ? ['subject_user_id'] : [])] });
  });
  return { exported: await findExport(database.db, account.id, exportId), job };
}

/** POST /api/v2/users/{id}/personal_data_exports (and /users/me/…): one person's data, as a job. */
export async function requestPersonalDataExport(services: ExportServices, account: Account, actor: Actor, subjectId: number, baseUrl: string) {
  const subject = await services.database.db
    .selectFrom('users')
    .select(['id', 'role', 'is_owner'])
    .where('account_id', '=', account.id)
    .where('id', '=', subjectId)
    .executeTakeFirst();
  if (!subject) throw errors.notFound();
  authorizeExports.personalData(actor, subject);
  return enqueueExport(services, account, actor, { kind: 'personal_data', subjectUserId: subject.id, options: { base_url: baseUrl }, total: 1 });
}

/** POST /api/v2/users/exports: every user, one JSON line each, optionally within a date range. */
export async function requestUsersExport(services: ExportServices, account: Account, actor: Actor, range: UsersExportRange, baseUrl: string) {
  authorizeExports.allUsers(actor);
  const total = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM users
    WHERE account_id = ${account.id} AND deleted_at IS NULL
      ${range.start ? sql`AND ${sql.ref(range.field)} >= ${range.start}` : sql``}
      ${range.end ? sql`AND ${sql.ref(range.field)} < ${range.end}` : sql``}`.execute(services.database.db);
  const options: ExportOptions = {
    base_url: baseUrl,
    date_field: range.field,
    ...(range.start ? { start_time: range.start.toISOString() } : {}),
    ...(range.end ? { end_time: range.end.toISOString() } : {}),
  };
  return enqueueExport(services, account, actor, { kind: 'users', subjectUserId: null, options, total: Number(total.rows[0]?.n ?? 0) });
}

/** A signed link to the export's file (or one attachment in it), valid until the export expires. */
export async function downloadLink(files: ExportFiles, baseUrl: string, row: { account_id: number; id: number; expires_at: Date | null }, item = 'file'): Promise<string | null> {
  if (!row.expires_at) return null;
  const { expires, signature } = signLink(await files.linkKey(), { accountId: row.account_id, exportId: row.id, item }, row.expires_at);
  const path = item === 'file' ? 'download' : `attachments/${item.slice('attachment:'.length)}`;
  return `${baseUrl}/api/v2/data_exports/${row.id}/${path}?expires=${expires}&signature=${signature}`;
}

/**
 * Claims the export for a run: gives it its storage key (the file's only key) unless it has one,
 * and marks it working. undefined when the export is no longer to be made (done, failed, deleted).
 */
async function claim(db: Database['db'], accountId: number, jobId: string) {
  return db.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('data_exports').selectAll().where('account_id', '=', accountId).where('job_id', '=', jobId).forUpdate().executeTakeFirst();
    if (!row || (row.status !== 'queued' && row.status !== 'working')) return undefined;
    if (row.status === 'working' && row.storage_key) return { ...row, storage_key: row.storage_key };
    const key = newStorageKey();
    const claimed = await tx
      .updateTable('data_exports')
      .set({ status: 'working', storage_key: key, options: JSON.stringify({ ...optionsOf(row), parts: 0 }) })
      .where('account_id', '=', accountId)
      .where('id', '=', row.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { ...claimed, storage_key: key };
  });
}

/** The export can no longer be made: failed, and its key gone (its parts are garbage for the sweep). */
async function failExport(db: Database['db'], accountId: number, jobId: string): Promise<void> {
  await db
    .updateTable('data_exports')
    .set({ status: 'failed', storage_key: null, expires_at: null })
    .where('account_id', '=', accountId)
    .where('job_id', '=', jobId)
    .where('status', 'in', ['queued', 'working'])
    .execute();
}

/**
 * Commits a written part: the checkpoint moves on only from the part this run started at and
 * while the export still has this key — a run presumed dead that was only slow, or an export
 * deleted meanwhile (removeExportsHolding), loses here. `finished` also completes the export.
 */
async function commitPart(
  db: Database['db'],
  row: { account_id: number; id: number; job_id: string | null; storage_key: string },
  part: number,
  progress: { afterId?: number; records: number; bytes: number; finished: boolean },
  now: Date,
): Promise<'committed' | 'superseded' | 'gone'> {
  return db.transaction().execute(async (tx) => {
    const current = await tx.selectFrom('data_exports').selectAll().where('account_id', '=', row.account_id).where('id', '=', row.id).forUpdate().executeTakeFirst();
    if (!current || current.status !== 'working' || current.storage_key !== row.storage_key) return 'gone';
    const options = optionsOf(current);
    if ((options.parts ?? 0) !== part) return 'superseded';
    const next: ExportOptions = { ...options, parts: part + 1, ...(progress.afterId !== undefined ? { after_id: progress.afterId } : {}) };
    const records = (current.record_count ?? 0) + progress.records;
    await tx
      .updateTable('data_exports')
      .set({
        options: JSON.stringify(next),
        record_count: records,
        size: Number(current.size ?? 0) + progress.bytes,
        ...(progress.finished ? { status: 'completed' as const, completed_at: now, expires_at: new Date(now.getTime() + EXPORT_RETENTION_MS) } : {}),
      })
      .where('account_id', '=', row.account_id)
      .where('id', '=', row.id)
      .execute();
    if (row.job_id) {
      await tx
        .updateTable('job_statuses')
        .set({
          progress: records,
          updated_at: now,
          ...(progress.finished ? { results: JSON.stringify([{ data_export_id: row.id, status: 'completed', record_count: records }]) } : {}),
        })
        .where('account_id', '=', row.account_id)
        .where('id', '=', row.job_id)
        .execute();
    }
    return 'committed';
  });
}

/** Re-checks the starter's right as it is now (a role taken away stops the export). */
async function stillAllowed(db: Database['db'], context: ItemContext, kind: DataExportKind, subjectId: number | null): Promise<boolean> {
  if (!context.actor) return false;
  try {
    if (kind === 'users') {
      authorizeExports.allUsers(context.actor);
      return true;
    }
    const subject = await db
      .selectFrom('users')
      .select(['id', 'role', 'is_owner'])
      .where('account_id', '=', context.account.id)
      .where('id', '=', subjectId ?? 0)
      .executeTakeFirst();
    if (!subject) return false;
    authorizeExports.personalData(context.actor, subject);
    return true;
  } catch (error) {
    if (error instanceof AppError) return false;
    throw error;
  }
}

async function runPersonalSlice(database: Database, files: ExportFiles, context: ItemContext & { jobId: string }, now = new Date()): Promise<'done' | 'more' | 'superseded'> {
  const db = database.db;
  const row = await claim(db, context.account.id, context.jobId);
  if (!row) return 'done';
  if (!row.subject_user_id || !(await stillAllowed(db, context, 'personal_data', row.subject_user_id))) {
    await failExport(db, context.account.id, context.jobId);
    return 'done';
  }
  const expiresAt = new Date(now.getTime() + EXPORT_RETENTION_MS);
  const baseUrl = optionsOf(row).base_url ?? '';
  const key = await files.linkKey();
  const subjectId = row.subject_user_id;
  // One snapshot: the document is consistent even while the person's records change.
  const document = await db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (tx) => {
      const subject = await tx.selectFrom('users').select(['id', 'role']).where('account_id', '=', row.account_id).where('id', '=', subjectId).executeTakeFirstOrThrow();
      return buildPersonalExport(tx, {
        accountId: row.account_id,
        subject,
        generatedAt: now,
        attachmentLink: (attachmentId) => {
          const { expires, signature } = signLink(key, { accountId: row.account_id, exportId: row.id, item: `attachment:${attachmentId}` }, expiresAt);
          return `${baseUrl}/api/v2/data_exports/${row.id}/attachments/${attachmentId}?expires=${expires}&signature=${signature}`;
        },
      });
    });
  const bytes = await files.writePart(row.storage_key, 0, [`${JSON.stringify(document, null, 2)}\n`]);
  const outcome = await commitPart(db, row, 0, { records: countRecords(document), bytes, finished: true }, now);
  if (outcome === 'gone') await files.remove(row.storage_key, 1);
  return outcome === 'superseded' ? 'superseded' : 'done';
}

async function runUsersSlice(database: Database, files: ExportFiles, context: ItemContext & { jobId: string }, perPart: number, now = new Date()): Promise<'done' | 'more' | 'superseded'> {
  const db = database.db;
  const row = await claim(db, context.account.id, context.jobId);
  if (!row) return 'done';
  if (!(await stillAllowed(db, context, 'users', null))) {
    await failExport(db, context.account.id, context.jobId);
    return 'done';
  }
  const options = optionsOf(row);
  const part = options.parts ?? 0;
  const range: UsersExportRange = {
    field: options.date_field ?? 'updated_at',
    start: options.start_time ? new Date(options.start_time) : null,
    end: options.end_time ? new Date(options.end_time) : null,
  };
  const written = { records: 0, lastId: options.after_id ?? 0 };
  const bytes = await files.writePart(row.storage_key, part, usersExportLines(db, row.account_id, range, options.after_id ?? 0, perPart, written));
  const finished = written.records < perPart;
  const outcome = await commitPart(db, row, part, { afterId: written.lastId, records: written.records, bytes, finished }, now);
  if (outcome === 'gone') {
    await files.remove(row.storage_key, part + 1);
    return 'done';
  }
  if (outcome === 'superseded') return 'superseded';
  return finished ? 'done' : 'more';
}

/** The two export jobs; `usersPerPart` is for tests (a resumed job is seen with a few users). */
export function exportJobs(database: Database, files: ExportFiles, usersPerPart = USERS_PER_PART): SlicedJobDefinition[] {
  const failed = async (accountId: number, jobId: string) => failExport(database.db, accountId, jobId);
  return [
    { type: PERSONAL_DATA_EXPORT_JOB, sliced: true, runSlice: (context) => runPersonalSlice(database, files, context), failed },
    { type: USERS_EXPORT_JOB, sliced: true, runSlice: (context) => runUsersSlice(database, files, context, usersPerPart), failed },
  ];
}

/**
 * The exports sweep: completed exports past their expiry become `expired` and lose their key (the
 * file is unreadable from that commit), then every file no live export refers to is unlinked —
 * expired, deleted (removeExportsHolding) and failed ones, and parts a crashed run left. Works
 * from the data as of `now`; idempotent. Every 15 minutes and at start.
 */
export async function sweepExportFiles(database: Database, files: ExportFiles, now: Date): Promise<{ expired: number; removed: number }> {
  const expired = await database.db
    .updateTable('data_exports')
    .set({ status: 'expired', storage_key: null })
    .where('status', '=', 'completed')
    .where('expires_at', '<=', now)
    .returning('id')
    .execute();
  const live = await database.db.selectFrom('data_exports').select(['storage_key', 'options']).where('storage_key', 'is not', null).execute();
  const names = new Set<string>();
  for (const row of live) {
    if (!row.storage_key) continue;
    // Every written part and the one a running job may be writing.
    const parts = optionsOf(row).parts ?? 0;
    for (let part = 0; part <= parts; part += 1) names.add(partFileName(row.storage_key, part));
  }
  const removed = await files.removeAllBut(names, now);
  return { expired: expired.length, removed };
}

export function sweepExportFilesJob(database: Database, files: ExportFiles): ScheduledJobDefinition {
  return {
    name: 'roster-data-exports-sweep',
    cron: '*/15 * * * *',
    run: async (now) => {
      await sweepExportFiles(database, files, now);
    },
  };
}

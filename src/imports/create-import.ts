import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Database } from '../db/database.ts';
import type { Account } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import type { Jobs } from '../jobs/jobs.ts';
import type { Actor } from '../policy/policy.ts';
import { listFields } from '../custom-fields/custom-fields.repository.ts';
import { detectDelimiter, importDirectory, readRecords, removeFile, storeUpload } from './csv-file.ts';
import { mapHeader } from './import-columns.ts';
import { importDb, type ImportRow } from './import-tables.ts';
import type { JobStatusRow } from '../db/tables.ts';
import type { Executor } from '../users/users.repository.ts';

export const IMPORT_USERS_JOB = 'import_users';

export interface ImportOptions {
  dryRun: boolean;
  update: boolean;
  /** Send the welcome mail to created users (never in a dry run). */
  sendWelcome?: boolean;
}

export interface ImportServices {
  database: Database;
  jobs: Jobs;
}

export interface InspectedFile {
  delimiter: string;
  /** The header mapped to Roster's columns. */
  columns: string[];
  /** Byte offset of the first record after the header. */
  headerEnd: number;
  /** Rows to import: records after the header with at least one cell filled. */
  total: number;
}

/** Reads a stored file once, start to end: its separator, its header (mapped) and how many rows it holds. */
export async function inspectImportFile(db: Executor, accountId: number, file: string): Promise<InspectedFile> {
  const delimiter = await detectDelimiter(file);
  const fields = await listFields(db, accountId, 'user', { activeOnly: true });
  let columns: string[] | undefined;
  let headerEnd = 0;
  let total = 0;
  for await (const record of readRecords(file, 0, delimiter)) {
    if (!columns) {
      columns = mapHeader(record.cells, fields.map((field) => field.key));
      headerEnd = record.end;
    } else if (record.cells.some((cell) => cell.trim() !== '')) total += 1;
  }
  if (!columns) throw errors.badRequest('The file has no header row', 'InvalidFile');
  if (total === 0) throw errors.badRequest('The file has no rows after its header', 'InvalidFile');
  return { delimiter, columns, headerEnd, total };
}

export interface StoredUpload {
  file: string;
  bytes: number;
}

/** Streams an upload to the import directory (DATA_DIR/imports): nothing of it is held in memory. */
export function storeImportUpload(source: Readable, dataDir: string): Promise<StoredUpload> {
  return storeUpload(source, importDirectory(dataDir));
}

/**
 * Queues the import of a stored CSV upload and queues its import. The whole file is read once before anything is
 * queued — the header mapped, every record parsed and counted — so a malformed file, a wrong
 * column or an empty file is a 400 now rather than a failed job later, and the job knows its
 * total for progress. The stored file is removed when anything here fails.
 */
export async function createUserImport(services: ImportServices, account: Account, actor: Actor | null, stored: StoredUpload, options: ImportOptions): Promise<{ import: ImportRow; job: JobStatusRow }> {
  const { file, bytes } = stored;
  try {
    const { delimiter, columns: header, headerEnd, total } = await inspectImportFile(services.database.db, account.id, file);
    let created: ImportRow | undefined;
    const job = await services.jobs.enqueueSliced(account, actor, IMPORT_USERS_JOB, total, null, async (tx, jobId) => {
      created = await importDb(tx)
        .insertInto('imports')
        .values({
          account_id: account.id,
          job_id: jobId,
          dry_run: options.dryRun,
          update: options.update,
          send_welcome: options.sendWelcome === true && !options.dryRun,
          file_path: file,
          file_bytes: bytes,
          delimiter,
          columns: header,
          total,
          byte_offset: headerEnd,
          salt: crypto.randomBytes(16).toString('hex'),
          actor_id: actor?.id ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    });
    if (!created) throw new Error('The import was not recorded');
    return { import: created, job };
  } catch (error) {
    await removeFile(file);
    throw error;
  }
}

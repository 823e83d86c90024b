import type { ColumnType, Generated, Kysely, Selectable, Transaction } from 'kysely';
import type { DB } from '../db/tables.ts';
import type { Executor } from '../users/users.repository.ts';

type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type ImportStatus = 'queued' | 'working' | 'completed' | 'failed';
export type RowStatus = 'created' | 'updated' | 'unchanged' | 'rejected';

/** An import and its checkpoint (src/db/migrations/20261122070000_imports.ts). */
export interface ImportsTable {
  account_id: number;
  id: Generated<number>;
  kind: Generated<'users'>;
  job_id: string;
  status: Generated<ImportStatus>;
  dry_run: boolean;
  update: boolean;
  /** Welcome mail to the users the import creates (20261122090000_mail_import_welcome). */
  send_welcome: Generated<boolean>;
  file_path: string | null;
  file_bytes: number;
  delimiter: string;
  columns: string[];
  total: number;
  byte_offset: number;
  next_row: Generated<number>;
  processed: Generated<number>;
  created: Generated<number>;
  updated: Generated<number>;
  unchanged: Generated<number>;
  rejected: Generated<number>;
  salt: string;
  actor_id: number | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  completed_at: NullableTimestamp;
}

/** One line of the report: never a value from the file, only where and what. */
export interface ImportRowsTable {
  account_id: number;
  import_id: number;
  row_number: number;
  status: RowStatus;
  user_id: number | null;
  error: string | null;
  columns: ColumnType<string[], string[] | undefined, string[]>;
  description: string | null;
}

/** The in-file duplicate registry: keyed hashes of the people rows name, while the import runs. */
export interface ImportKeysTable {
  account_id: number;
  import_id: number;
  key: string;
  row_number: number;
}

export type ImportTables = {
  imports: ImportsTable;
  import_rows: ImportRowsTable;
  import_keys: ImportKeysTable;
};

export type ImportRow = Selectable<ImportsTable>;
export type ImportReportRow = Selectable<ImportRowsTable>;
export type ImportDb = Kysely<DB & ImportTables> | Transaction<DB & ImportTables>;

/** The import tables are this feature's own: typed here rather than in the shared src/db/tables.ts. */
export function importDb(db: Executor): ImportDb {
  return db.withTables<ImportTables>() as ImportDb;
}

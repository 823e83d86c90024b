import type { Database } from '../db/database.ts';
import type { SlicedJobDefinition } from '../jobs/jobs.ts';
import type { Mail } from '../mail/outbox.ts';
import { IMPORT_USERS_JOB } from './create-import.ts';
import { failImport, runImportSlice } from './run-import.ts';

/** The CSV import job: its checkpoint lives in its `imports` row, not in the job's payload (src/imports/run-import.ts). */
export function importJobs(database: Database, mail: Mail): SlicedJobDefinition[] {
  return [
    {
      type: IMPORT_USERS_JOB,
      sliced: true,
      runSlice: (context, _payload) => runImportSlice(database.db, { ...context, mail }, context.jobId),
      failed: (accountId, jobId) => failImport(database.db, accountId, jobId),
    },
  ];
}

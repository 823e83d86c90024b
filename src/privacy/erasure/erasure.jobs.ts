import type { Database } from '../../db/database.ts';
import type { SlicedJobDefinition } from '../../jobs/jobs.ts';
import type { FileStorage } from '../../tickets/storage.ts';
import { ERASE_USER_JOB, failErasure, runErasure } from './erasure.ts';

/**
 * The forget-user job: its checkpoint is `erasure_requests.step` (src/privacy/erasure/erasure.ts);
 * the job's payload and pg-boss data hold ids only. A job without a live actor is failed by the
 * job runner before it gets here (the starter can no longer act).
 */
export function erasureJobs(database: Database, storage: FileStorage): SlicedJobDefinition[] {
  return [
    {
      type: ERASE_USER_JOB,
      sliced: true,
      runSlice: async (context) => {
        if (!context.actor) return 'done';
        return runErasure(database.db, storage, context.account, context.actor, context.jobId);
      },
      failed: (accountId, jobId) => failErasure(database.db, accountId, jobId),
    },
  ];
}

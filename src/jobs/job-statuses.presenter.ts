import type { Static } from 'typebox';
import type { JobStatusRow } from '../db/tables.ts';
import type { JobStatus } from './job-statuses.schemas.ts';

export function presentJobStatus(job: JobStatusRow, baseUrl: string): Static<typeof JobStatus> {
  const results = job.results as Record<string, unknown>[];
  return {
    id: job.id,
    url: `${baseUrl}/api/v2/job_statuses/${job.id}.json`,
    job_type: job.job_type,
    total: job.total,
    progress: job.progress,
    status: job.status,
    message: job.message,
    results: results.length > 0 || job.status === 'completed' ? results : null,
  };
}

import { Type } from 'typebox';
import { Nullable } from '../http/schemas.ts';

export const JobStatus = Type.Object({
  id: Type.String(),
  url: Type.String(),
  job_type: Type.String(),
  total: Nullable(Type.Integer()),
  progress: Nullable(Type.Integer()),
  status: Type.String({ enum: ['queued', 'working', 'completed', 'failed'] }),
  message: Nullable(Type.String()),
  results: Nullable(Type.Array(Type.Object({}, { additionalProperties: true }))),
});
export const JobStatusEnvelope = Type.Object({ job_status: JobStatus });
export const JobStatusesEnvelope = Type.Object({
  job_statuses: Type.Array(JobStatus),
  meta: Type.Optional(Type.Object({ has_more: Type.Boolean(), after_cursor: Nullable(Type.String()), before_cursor: Nullable(Type.String()) })),
  links: Type.Optional(Type.Object({ next: Nullable(Type.String()), prev: Nullable(Type.String()) })),
});

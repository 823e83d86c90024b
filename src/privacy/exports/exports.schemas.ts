import { Type } from 'typebox';
import { DateTime, IdParams, Nullable } from '../../http/schemas.ts';
import { JobStatus } from '../../jobs/job-statuses.schemas.ts';

export const DataExport = Type.Object({
  id: Type.Integer(),
  url: Type.String(),
  kind: Type.String({ enum: ['personal_data', 'users'] }),
  status: Type.String({ enum: ['queued', 'working', 'completed', 'failed', 'expired', 'deleted'] }),
  subject_user_id: Nullable(Type.Integer({ description: 'The person a personal-data export is about' })),
  requested_by: Nullable(Type.Integer()),
  job_status_id: Nullable(Type.String()),
  date_field: Type.Optional(Type.String({ enum: ['created_at', 'updated_at'] })),
  start_time: Type.Optional(DateTime),
  end_time: Type.Optional(DateTime),
  size: Nullable(Type.Integer({ description: 'Bytes of the (uncompressed) file' })),
  record_count: Nullable(Type.Integer({ description: 'Records in a personal-data export; users in a users export' })),
  created_at: DateTime,
  completed_at: Nullable(DateTime),
  expires_at: Nullable(DateTime),
  download_url: Nullable(Type.String({ description: 'Signed link, valid until expires_at (at least 3 days after completion); null until completed and after expiry' })),
});

export const PersonalDataExportEnvelope = Type.Object({ personal_data_export: DataExport });
export const PersonalDataExportCreated = Type.Object({ personal_data_export: DataExport, job_status: JobStatus });
export const UsersExportEnvelope = Type.Object({ users_export: DataExport });
export const UsersExportCreated = Type.Object({ users_export: DataExport, job_status: JobStatus });

export const UsersExportBody = Type.Union([
  Type.Object(
    {
      users_export: Type.Optional(
        Type.Object(
          {
            start_time: Type.Optional(Type.Union([Type.String(), Type.Integer()], { description: 'ISO 8601 date-time or Unix seconds (inclusive)' })),
            end_time: Type.Optional(Type.Union([Type.String(), Type.Integer()], { description: 'ISO 8601 date-time or Unix seconds (exclusive)' })),
            date_field: Type.Optional(Type.String({ enum: ['created_at', 'updated_at'], description: 'Which date the range applies to (default updated_at)' })),
          },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);

export const UserExportParams = IdParams('user_id');
export const ExportParams = IdParams('export_id');
export const ExportAttachmentParams = Type.Object(
  { export_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), attachment_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) },
  { additionalProperties: false },
);
export const SignedQuery = Type.Object(
  { expires: Type.Optional(Type.String()), signature: Type.Optional(Type.String()) },
  { additionalProperties: true },
);

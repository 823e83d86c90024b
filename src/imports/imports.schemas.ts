import { Type } from 'typebox';
import { DateTime, Nullable } from '../http/schemas.ts';
import { JobStatus } from '../jobs/job-statuses.schemas.ts';

export const Import = Type.Object({
  id: Type.Integer(),
  url: Type.String(),
  kind: Type.String({ enum: ['users'] }),
  status: Type.String({ enum: ['queued', 'working', 'completed', 'failed'] }),
  dry_run: Type.Boolean(),
  update: Type.Boolean(),
  send_welcome: Type.Boolean(),
  columns: Type.Array(Type.String()),
  total: Type.Integer({ description: 'Rows to import (the header and blank rows not counted)' }),
  progress: Type.Integer({ description: 'Rows done so far' }),
  created: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
  rejected: Type.Integer(),
  job_status_id: Type.String(),
  rows_url: Type.String(),
  report_url: Type.String(),
  created_at: DateTime,
  updated_at: DateTime,
  completed_at: Nullable(DateTime),
});

export const ImportEnvelope = Type.Object({ import: Import });
export const ImportCreated = Type.Object({ import: Import, job_status: JobStatus });
export const CursorMeta = Type.Object({ has_more: Type.Boolean(), after_cursor: Nullable(Type.String()), before_cursor: Nullable(Type.String()) });
export const CursorLinks = Type.Object({ next: Nullable(Type.String()), prev: Nullable(Type.String()) });
export const ImportsEnvelope = Type.Object({ imports: Type.Array(Import), meta: CursorMeta, links: CursorLinks });

export const ImportReportRow = Type.Object({
  row: Type.Integer({ description: 'The row in the file as a spreadsheet numbers it: the header is row 1' }),
  status: Type.String({ enum: ['created', 'updated', 'unchanged', 'rejected'] }),
  user_id: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  columns: Type.Array(Type.String()),
  description: Nullable(Type.String()),
});
export const ImportRowsEnvelope = Type.Object({ rows: Type.Array(ImportReportRow), meta: CursorMeta, links: CursorLinks });

export const ImportParams = Type.Object({ import_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) }, { additionalProperties: false });
const Page = Type.Optional(Type.Object({ size: Type.Optional(Type.String()), after: Type.Optional(Type.String()) }, { additionalProperties: true }));
export const ImportRowsQuery = Type.Object(
  { status: Type.Optional(Type.String({ enum: ['created', 'updated', 'unchanged', 'rejected'] })), page: Page },
  { additionalProperties: true },
);
export const ImportsQuery = Type.Object({ page: Page }, { additionalProperties: true });
export const ImportUsersQuery = Type.Object(
  {
    dry_run: Type.Optional(Type.Boolean({ description: 'Report what would happen, change nothing' })),
    update: Type.Optional(Type.Boolean({ description: 'Update users the file matches (by external_id, else email); without it they are left unchanged' })),
    send_welcome: Type.Optional(Type.Boolean({ description: 'Send the welcome mail (a link to set a password) to the users the import creates; never in a dry run; needs help_center_enabled' })),
  },
  { additionalProperties: true },
);

import type { FastifyReply } from 'fastify';
import { Type, type Static } from 'typebox';
import type { App, Services } from '../../app.ts';
import { AppError, errors } from '../../http/errors.ts';
import { errorResponses } from '../../http/schemas.ts';
import { baseUrl, requireUser } from '../../http/urls.ts';
import { presentJobStatus } from '../../jobs/job-statuses.presenter.ts';
import { authorizeExports } from '../../policy/policy.ts';
import { downloadLink, findExport, requestPersonalDataExport, requestUsersExport, type DataExportRow, type ExportOptions } from './data-exports.ts';
import { exportFilesFor, type ExportFiles } from './export-files.ts';
import {
  DataExport,
  ExportAttachmentParams,
  ExportParams,
  PersonalDataExportCreated,
  PersonalDataExportEnvelope,
  SignedQuery,
  UserExportParams,
  UsersExportBody,
  UsersExportCreated,
  UsersExportEnvelope,
} from './exports.schemas.ts';
import { checkLink } from './signed-links.ts';
import type { UsersExportRange } from './users-export.ts';

const tags = ['Data exports'];
const gone = (description: string) => new AppError('Gone', 410, description);
const withGone = { ...errorResponses, 410: errorResponses[404] };
const binary = Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'The file' });

/** `start_time`/`end_time`: ISO 8601 or Unix seconds; anything else is a 400 naming the parameter. */
function parseTime(value: string | number | undefined, name: string): Date | null {
  if (value === undefined) return null;
  const date = typeof value === 'number' || /^\d{1,11}$/.test(value) ? new Date(Number(value) * 1000) : /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw errors.badRequest(`${name} must be an ISO 8601 date-time or Unix seconds`);
  return date;
}

export async function presentExport(files: ExportFiles, row: DataExportRow, base: string): Promise<Static<typeof DataExport>> {
  const options = (row.options ?? {}) as ExportOptions;
  const live = row.status === 'completed' && row.storage_key !== null && row.expires_at !== null && row.expires_at.getTime() > Date.now();
  return {
    id: row.id,
    url: `${base}/api/v2/${row.kind === 'users' ? 'users/exports' : 'personal_data_exports'}/${row.id}.json`,
    kind: row.kind,
    status: row.status,
    subject_user_id: row.subject_user_id,
    requested_by: row.requested_by,
    job_status_id: row.job_id,
    ...(row.kind === 'users' ? { date_field: options.date_field ?? 'updated_at' } : {}),
    ...(options.start_time ? { start_time: options.start_time } : {}),
    ...(options.end_time ? { end_time: options.end_time } : {}),
    size: row.size === null ? null : Number(row.size),
    record_count: row.record_count,
    created_at: row.created_at.toISOString(),
    completed_at: row.completed_at ? row.completed_at.toISOString() : null,
    expires_at: live && row.expires_at ? row.expires_at.toISOString() : null,
    download_url: live ? await downloadLink(files, base, row) : null,
  };
}

/**
 * Personal-data exports and the users export (README "Personal data exports"). Downloads need
 * both a signed link (ids and an expiry, HMAC-signed: no personal data in the URL) and a caller
 * allowed to see the export.
 */
export async function dataExportsRoutes(app: App, { config, database, jobs, storage }: Services): Promise<void> {
  const db = database.db;
  const exportFiles = exportFilesFor(database, config.dataDir);

  const createdPersonal = async (request: Parameters<typeof baseUrl>[0], subjectId: number) => {
    const actor = requireUser(request);
    const { exported, job } = await requestPersonalDataExport({ database, jobs }, request.ctx.account, actor, subjectId, baseUrl(request));
    return { personal_data_export: await presentExport(exportFiles, exported, baseUrl(request)), job_status: presentJobStatus(job, baseUrl(request)) };
  };

  app.post('/api/v2/users/me/personal_data_exports', {
    schema: { tags, summary: 'Export your own personal data (every signed-in user) as a job', response: { 200: PersonalDataExportCreated, ...errorResponses } },
  }, async (request) => createdPersonal(request, requireUser(request).id));

  app.post('/api/v2/users/:user_id/personal_data_exports', {
    schema: {
      tags,
      summary: "Export everything that references a user as one JSON document, as a job (export_personal_data; anyone for themselves)",
      params: UserExportParams,
      response: { 200: PersonalDataExportCreated, ...errorResponses },
    },
  }, async (request) => createdPersonal(request, request.params.user_id as number));

  const readable = async (request: Parameters<typeof baseUrl>[0], id: number, kind: 'personal_data' | 'users' | null) => {
    const actor = requireUser(request);
    const row = await findExport(db, request.ctx.account.id, id);
    if (kind !== null && row.kind !== kind) throw errors.notFound();
    authorizeExports.viewExport(actor, row);
    return row;
  };

  app.get('/api/v2/personal_data_exports/:export_id', {
    schema: { tags, summary: 'A personal-data export: status, and its signed download link when done', params: ExportParams, response: { 200: PersonalDataExportEnvelope, ...errorResponses } },
  }, async (request) => {
    const row = await readable(request, request.params.export_id as number, 'personal_data');
    return { personal_data_export: await presentExport(exportFiles, row, baseUrl(request)) };
  });

  app.post('/api/v2/users/exports', {
    schema: {
      tags,
      summary: 'Export all users as JSON lines (admins), optionally those created or updated within a date range, as a job',
      body: UsersExportBody,
      response: { 200: UsersExportCreated, ...errorResponses },
    },
  }, async (request) => {
    const actor = requireUser(request);
    authorizeExports.allUsers(actor);
    const input = (request.body as Static<typeof UsersExportBody> | undefined)?.users_export ?? {};
    const range: UsersExportRange = {
      field: input.date_field === 'created_at' ? 'created_at' : 'updated_at',
      start: parseTime(input.start_time, 'start_time'),
      end: parseTime(input.end_time, 'end_time'),
    };
    if (range.start && range.end && range.start >= range.end) throw errors.badRequest('start_time must be before end_time');
    const { exported, job } = await requestUsersExport({ database, jobs }, request.ctx.account, actor, range, baseUrl(request));
    return { users_export: await presentExport(exportFiles, exported, baseUrl(request)), job_status: presentJobStatus(job, baseUrl(request)) };
  });

  app.get('/api/v2/users/exports/:export_id', {
    schema: { tags, summary: 'A users export: status, and its signed download link when done', params: ExportParams, response: { 200: UsersExportEnvelope, ...errorResponses } },
  }, async (request) => {
    const row = await readable(request, request.params.export_id as number, 'users');
    return { users_export: await presentExport(exportFiles, row, baseUrl(request)) };
  });

  /** The signature first (a bad one is a plain 404), then who may see it, then whether it still exists. */
  const checked = async (request: Parameters<typeof baseUrl>[0], id: number, item: string, query: Static<typeof SignedQuery>) => {
    const actor = requireUser(request);
    const key = await exportFiles.linkKey();
    const verdict = checkLink(key, { accountId: request.ctx.account.id, exportId: id, item }, query.expires, query.signature, new Date());
    if (verdict === 'invalid') throw errors.notFound();
    const row = await findExport(db, request.ctx.account.id, id);
    authorizeExports.viewExport(actor, row);
    if (verdict === 'expired') throw gone('This download link has expired; ask for the export again');
    if (row.status !== 'completed' || !row.storage_key || !row.expires_at || row.expires_at.getTime() <= Date.now()) {
      if (row.status === 'queued' || row.status === 'working') throw errors.notFound();
      throw gone('This export is no longer available; ask for it again');
    }
    return { ...row, storage_key: row.storage_key };
  };

  const sendFile = async (reply: FastifyReply, row: DataExportRow & { storage_key: string }) => {
    const parts = ((row.options ?? {}) as ExportOptions).parts ?? 1;
    if (!(await exportFiles.exists(row.storage_key, parts))) throw gone('This export is no longer available; ask for it again');
    const personal = row.kind === 'personal_data';
    return reply
      .header('content-type', personal ? 'application/json; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="${personal ? 'personal-data' : 'users'}-export-${row.id}.${personal ? 'json' : 'jsonl'}"`)
      .header('cache-control', 'private, no-store')
      .header('x-content-type-options', 'nosniff')
      .send(exportFiles.read(row.storage_key, parts));
  };

  app.get('/api/v2/data_exports/:export_id/download', {
    schema: {
      tags,
      summary: "Download an export's file through its signed link (the export's requester, its subject, admins)",
      params: ExportParams,
      querystring: SignedQuery,
      response: { 200: binary, ...withGone },
    },
  }, async (request, reply) => {
    const row = await checked(request, request.params.export_id as number, 'file', request.query);
    return sendFile(reply, row);
  });

  app.get('/api/v2/data_exports/:export_id/attachments/:attachment_id', {
    schema: {
      tags,
      summary: 'Download an attachment listed in a personal-data export, through its signed link',
      params: ExportAttachmentParams,
      querystring: SignedQuery,
      response: { 200: binary, ...withGone },
    },
  }, async (request, reply) => {
    const attachmentId = request.params.attachment_id as number;
    await checked(request, request.params.export_id as number, `attachment:${attachmentId}`, request.query);
    const attachment = await db
      .selectFrom('ticket_attachments')
      .select(['file_name', 'content_type', 'storage_key', 'redacted'])
      .where('account_id', '=', request.ctx.account.id)
      .where('id', '=', attachmentId)
      .executeTakeFirst();
    if (!attachment || attachment.redacted) throw gone('This attachment is no longer available');
    const bytes = await storage.get(attachment.storage_key);
    if (!bytes) throw gone('This attachment is no longer available');
    return reply
      .header('content-type', attachment.content_type)
      .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(attachment.file_name)}`)
      .header('x-content-type-options', 'nosniff')
      .send(bytes);
  });
}

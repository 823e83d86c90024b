import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import type { App, Services } from '../app.ts';
import { AppError, errors } from '../http/errors.ts';
import { errorResponses } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { presentJobStatus } from '../jobs/job-statuses.presenter.ts';
import { authorizeImports } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import type { Account } from '../db/tables.ts';
import { effectiveSettings } from '../accounts/account-settings.routes.ts';
import { MAX_IMPORT_BYTES, removeFile } from './csv-file.ts';
import { createUserImport, storeImportUpload, type ImportOptions, type StoredUpload } from './create-import.ts';
import { importDb, type ImportRow, type RowStatus } from './import-tables.ts';
import { presentImport, presentReportRow, REPORT_HEADER, reportLine } from './imports.presenter.ts';
import { ImportCreated, ImportEnvelope, ImportParams, ImportRowsEnvelope, ImportRowsQuery, ImportsEnvelope, ImportsQuery, ImportUsersQuery } from './imports.schemas.ts';

const tags = ['Imports'];
const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain', 'application/vnd.ms-excel'];

/** `true`/`false` (or 1/0) as a multipart field sends them; anything else is a 400 naming the field. */
function flag(value: unknown, name: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  const text = String(value).trim().toLowerCase();
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0' || text === '') return false;
  throw errors.badRequest(`${name} must be true or false`);
}

function importOptions(values: Record<string, unknown>, account: Account): ImportOptions {
  const sendWelcome = flag(values.send_welcome, 'send_welcome') ?? false;
  // Welcome mail links to the Help Center: without it no welcome mail goes out (seed 000), and
  // an import that asked for it is refused rather than reported as sending.
  if (sendWelcome && !effectiveSettings(account.settings).help_center_enabled) {
    throw errors.badRequest('Welcome mail needs the Help Center: turn on the account setting help_center_enabled, or import without send_welcome', 'WelcomeMailUnavailable');
  }
  return { dryRun: flag(values.dry_run, 'dry_run') ?? false, update: flag(values.update, 'update') ?? false, sendWelcome };
}

/** `page[size]` (at most 1,000) and `page[after]` of the import lists: cursors are ids and row numbers. */
function pageOf(query: { page?: { size?: string; after?: string } }): { size: number; after: number } {
  const size = query.page?.size === undefined ? 100 : Number(query.page.size);
  const after = query.page?.after === undefined ? 0 : Number(query.page.after);
  if (!Number.isInteger(size) || size < 1 || size > 1000) throw errors.pagination('page[size] must be between 1 and 1000');
  if (!Number.isSafeInteger(after) || after < 0) throw errors.pagination('page[after] is not a valid cursor');
  return { size, after };
}

function cursorOf(request: { url: string; protocol: string; host: string }, hasMore: boolean, last: number | undefined) {
  const after = hasMore && last !== undefined ? String(last) : null;
  let next: string | null = null;
  if (after !== null) {
    const url = new URL(request.url, `${request.protocol}://${request.host}`);
    url.searchParams.set('page[after]', after);
    next = url.toString();
  }
  return { meta: { has_more: hasMore, after_cursor: after, before_cursor: null }, links: { next, prev: null } };
}

async function findImport(db: Executor, accountId: number, id: number): Promise<ImportRow> {
  const row = await importDb(db).selectFrom('imports').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  if (!row) throw errors.notFound();
  return row;
}

/**
 * CSV imports of users (README "Importing users from CSV"). Registered in a scope of their own:
 * only here do multipart bodies and raw CSV bodies reach a route, both as streams written
 * straight to disk.
 */
export async function importsRoutes(app: App, { database, jobs, config }: Services): Promise<void> {
  const db = database.db;

  await app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: MAX_IMPORT_BYTES, files: 1, fields: 10, fieldSize: 100, parts: 12 } });
    // A text/csv body stays a stream: the handler writes it to disk after the caller is authorized.
    scope.addContentTypeParser(CSV_TYPES, (_request, payload, done) => done(null, payload));

    scope.post('/api/v2/imports/users', {
      bodyLimit: MAX_IMPORT_BYTES,
      schema: {
        tags,
        summary: 'Import users from a CSV file (multipart field `file`, or a text/csv body) as a job',
        consumes: ['multipart/form-data', 'text/csv'],
        querystring: ImportUsersQuery,
        response: { 200: ImportCreated, ...errorResponses, 413: errorResponses[400] },
      },
    }, async (request) => {
      const actor = requireUser(request);
      authorizeImports.importUsers(actor);
      const values: Record<string, unknown> = { ...(request.query as Record<string, unknown>) };
      // Refused before the upload is read when the query already says so.
      importOptions(values, request.ctx.account);
      let stored: StoredUpload | undefined;
      try {
        if (request.isMultipart()) {
          try {
            for await (const part of request.parts()) {
              if (part.type === 'field') {
                values[part.fieldname] = part.value;
                continue;
              }
              if (stored) throw errors.badRequest('Send one file per import');
              stored = await storeImportUpload(part.file, config.dataDir);
            }
          } catch (error) {
            if (error instanceof AppError) throw error;
            const code = (error as { code?: string }).code;
            if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') throw errors.badRequest('Send one file and at most a few option fields');
            throw errors.badRequest('The multipart body is malformed', 'InvalidMultipart');
          }
        } else if (request.body instanceof Readable) {
          stored = await storeImportUpload(request.body, config.dataDir);
        }
        if (!stored) throw errors.badRequest('Send the CSV file as multipart/form-data (field "file") or as a text/csv body', 'MissingFile');
        const options = importOptions(values, request.ctx.account);
        const created = await createUserImport({ database, jobs }, request.ctx.account, actor, stored, options);
        return { import: presentImport(created.import, baseUrl(request)), job_status: presentJobStatus(created.job, baseUrl(request)) };
      } catch (error) {
        await removeFile(stored?.file ?? null);
        throw error;
      }
    });
  });

  app.get('/api/v2/imports', {
    schema: { tags, summary: 'Imports, newest first (cursor pagination)', querystring: ImportsQuery, response: { 200: ImportsEnvelope, ...errorResponses } },
  }, async (request) => {
    authorizeImports.viewImports(requireUser(request));
    const page = pageOf(request.query);
    const rows = await importDb(db)
      .selectFrom('imports')
      .selectAll()
      .where('account_id', '=', request.ctx.account.id)
      .$if(page.after > 0, (qb) => qb.where('id', '<', page.after))
      .orderBy('id', 'desc')
      .limit(page.size + 1)
      .execute();
    const shown = rows.slice(0, page.size);
    return { imports: shown.map((row) => presentImport(row, baseUrl(request))), ...cursorOf(request, rows.length > page.size, shown.at(-1)?.id) };
  });

  app.get('/api/v2/imports/:import_id', {
    schema: { tags, summary: 'An import: status, progress and counts', params: ImportParams, response: { 200: ImportEnvelope, ...errorResponses } },
  }, async (request) => {
    authorizeImports.viewImports(requireUser(request));
    return { import: presentImport(await findImport(db, request.ctx.account.id, request.params.import_id), baseUrl(request)) };
  });

  app.get('/api/v2/imports/:import_id/rows', {
    schema: {
      tags,
      summary: "An import's report, row by row in file order (cursor pagination, page[size] up to 1,000; filter by status)",
      params: ImportParams,
      querystring: ImportRowsQuery,
      response: { 200: ImportRowsEnvelope, ...errorResponses },
    },
  }, async (request) => {
    authorizeImports.viewImports(requireUser(request));
    const found = await findImport(db, request.ctx.account.id, request.params.import_id);
    const page = pageOf(request.query);
    const status = request.query.status as RowStatus | undefined;
    const rows = await importDb(db)
      .selectFrom('import_rows')
      .selectAll()
      .where('account_id', '=', found.account_id)
      .where('import_id', '=', found.id)
      .where('row_number', '>', page.after)
      .$if(status !== undefined, (qb) => qb.where('status', '=', status as RowStatus))
      .orderBy('row_number')
      .limit(page.size + 1)
      .execute();
    const shown = rows.slice(0, page.size);
    return { rows: shown.map(presentReportRow), ...cursorOf(request, rows.length > page.size, shown.at(-1)?.row_number) };
  });

  app.get('/api/v2/imports/:import_id/report', {
    schema: {
      tags,
      summary: "An import's whole report as a CSV download (row, status, user_id, error, columns, description)",
      params: ImportParams,
      response: { 200: Type.String({ description: 'The report as CSV (text/csv)' }), ...errorResponses },
    },
  }, async (request, reply) => {
    authorizeImports.viewImports(requireUser(request));
    const found = await findImport(db, request.ctx.account.id, request.params.import_id);
    // Streamed a thousand rows at a time: a million-row report never sits in memory.
    async function* lines(): AsyncGenerator<string> {
      yield REPORT_HEADER;
      let after = 0;
      for (;;) {
        const rows = await importDb(db).selectFrom('import_rows').selectAll().where('account_id', '=', found.account_id).where('import_id', '=', found.id).where('row_number', '>', after).orderBy('row_number').limit(1000).execute();
        if (rows.length === 0) return;
        yield rows.map(reportLine).join('');
        after = rows[rows.length - 1]?.row_number ?? after;
      }
    }
    reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="import-${found.id}-report.csv"`);
    return reply.send(Readable.from(lines()) as never);
  });
}

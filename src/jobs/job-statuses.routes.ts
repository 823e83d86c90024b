import { Type } from 'typebox';
import type { App, Services } from '../app.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { errors } from '../http/errors.ts';
import { applyPage, cursorPage, parsePage } from '../http/pagination.ts';
import { errorResponses } from '../http/schemas.ts';
import { authorize } from '../policy/policy.ts';
import { findJobStatus } from './jobs.ts';
import { presentJobStatus } from './job-statuses.presenter.ts';
import { JobStatusEnvelope, JobStatusesEnvelope } from './job-statuses.schemas.ts';

const JOB_ID = /^[0-9a-f]{32}$/;

export async function jobStatusesRoutes(app: App, { database }: Services): Promise<void> {
  const db = database.db;
  const tags = ['Job Statuses'];

  app.get('/api/v2/job_statuses', { schema: { tags, response: { 200: JobStatusesEnvelope, ...errorResponses } } }, async (request) => {
    const actor = requireUser(request);
    authorize.staff(actor);
    const parsed = parsePage(request.query as Record<string, unknown>);
    // Zendesk lists job statuses with cursor pagination only, newest first.
    const page = parsed.kind === 'cursor' ? parsed : { kind: 'cursor' as const, size: parsed.perPage, after: undefined, before: undefined };
    const query = db.selectFrom('job_statuses').selectAll().where('account_id', '=', request.ctx.account.id);
    const rows = await applyPage(query, 'seq', page, 'desc').execute();
    const result = cursorPage(request, rows, page, (row) => row.seq);
    return { job_statuses: result.rows.map((row) => presentJobStatus(row, baseUrl(request))), meta: result.meta, links: result.links };
  });

  app.get('/api/v2/job_statuses/show_many', {
    schema: { tags, querystring: Type.Object({ ids: Type.String({ maxLength: 4000 }) }, { additionalProperties: true }), response: { 200: JobStatusesEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.staff(actor);
    const ids = request.query.ids.split(',').map((id) => id.trim()).filter((id) => JOB_ID.test(id)).slice(0, 100);
    const rows = ids.length === 0 ? [] : await db.selectFrom('job_statuses').selectAll().where('account_id', '=', request.ctx.account.id).where('id', 'in', ids).execute();
    return { job_statuses: rows.map((row) => presentJobStatus(row, baseUrl(request))) };
  });

  app.get('/api/v2/job_statuses/:job_status_id', {
    schema: { tags, params: Type.Object({ job_status_id: Type.String({ maxLength: 64 }) }), response: { 200: JobStatusEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.staff(actor);
    const id = request.params.job_status_id;
    const row = JOB_ID.test(id) ? await findJobStatus(db, request.ctx.account.id, id) : undefined;
    if (!row) throw errors.notFound();
    return { job_status: presentJobStatus(row, baseUrl(request)) };
  });
}

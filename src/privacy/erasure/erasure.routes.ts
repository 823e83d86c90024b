import { Type } from 'typebox';
import type { App, Services } from '../../app.ts';
import { errors } from '../../http/errors.ts';
import { applyPage, cursorPage, envelope, offsetPage, parsePage } from '../../http/pagination.ts';
import { errorResponses, IdParams, Nullable } from '../../http/schemas.ts';
import { baseUrl, requireUser } from '../../http/urls.ts';
import { JobStatusEnvelope } from '../../jobs/job-statuses.schemas.ts';
import { presentJobStatus } from '../../jobs/job-statuses.presenter.ts';
import { findJobStatus } from '../../jobs/jobs.ts';
import { authorizeErasure } from '../../policy/policy.ts';
import { CLOSED_TICKET_CHOICES, OPEN_TICKET_CHOICES, parseErasureRequest, planErasure, startErasure, type ErasureRequestRow } from './erasure.ts';

const tags = ['Privacy'];

const Ids = Type.Array(Type.Integer());
const Counts = Type.Record(Type.String(), Type.Integer(), { description: 'Records per kind: identifiers, tickets_closed, tickets_reassigned, tickets_deleted, suspended_tickets_deleted, redacted_spans, redacted_comments, redacted_subjects, redacted_suspended_tickets, redacted_attachments, email_ccs_removed, followers_removed, users_deleted' });
const Options = Type.Object({
  open_tickets: Type.Optional(Type.String({ enum: [...OPEN_TICKET_CHOICES] })),
  closed_tickets: Type.String({ enum: [...CLOSED_TICKET_CHOICES] }),
});

export const ErasureReceipt = Type.Object({
  id: Type.Integer(),
  url: Type.String(),
  user_id: Type.Integer({ description: 'The erased user (the row remains as "Permanently Deleted User")' }),
  actor_id: Nullable(Type.Integer()),
  status: Type.String({ enum: ['queued', 'working', 'completed', 'failed'] }),
  step: Nullable(Type.String({ description: 'The last step completed: prepare, tickets, scrub, collaborators, delete_user, done' })),
  options: Options,
  counts: Counts,
  identifier_hashes: Type.Array(Type.String(), { description: 'HMAC-SHA256 of each erased identifier under the account\'s own key — no personal data' }),
  job_status_id: Nullable(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  started_at: Nullable(Type.String({ format: 'date-time' })),
  completed_at: Nullable(Type.String({ format: 'date-time' })),
});

const Span = Type.Object({
  ticket_id: Nullable(Type.Integer()),
  comment_id: Nullable(Type.Integer()),
  suspended_ticket_id: Nullable(Type.Integer()),
  attachment_id: Nullable(Type.Integer()),
  field: Type.String(),
  start: Type.Integer(),
  end: Type.Integer(),
  kind: Type.String({ enum: ['name', 'email', 'phone', 'identity'] }),
  text: Type.String({ description: 'The matched text (shown to the admin in the dry run only; never stored)' }),
});

export const ErasurePlan = Type.Object({
  user_id: Type.Integer(),
  options: Options,
  tickets: Type.Object({ requested: Ids, email_cc: Ids, follower: Ids, commented: Ids, mentioned: Ids }),
  open_tickets: Type.Object({ action: Nullable(Type.String({ enum: [...OPEN_TICKET_CHOICES] })), ticket_ids: Ids }),
  closed_tickets: Type.Object({ scrub: Ids, delete: Ids }),
  suspended_tickets: Type.Object({ delete: Ids }),
  text_spans: Type.Array(Span),
  attachments: Type.Array(
    Type.Object({
      id: Type.Integer(),
      ticket_id: Nullable(Type.Integer()),
      comment_id: Nullable(Type.Integer()),
      suspended_ticket_id: Nullable(Type.Integer()),
      reason: Type.String({ enum: ['authored', 'content', 'file_name'] }),
    }),
  ),
  counts: Counts,
});

const ErasureBody = Type.Object(
  {
    dry_run: Type.Optional(Type.Boolean()),
    open_tickets: Type.Optional(Type.String({ description: `What happens to tickets they requested that are not closed: ${OPEN_TICKET_CHOICES.join(', ')} (required when there are any)` })),
    closed_tickets: Type.Optional(Type.String({ description: `What happens to closed tickets they requested: ${CLOSED_TICKET_CHOICES.join(', ')} (default scrub)` })),
  },
  { additionalProperties: true },
);

const iso = (value: Date | null): string | null => (value === null ? null : new Date(value).toISOString());

export function presentErasureReceipt(row: ErasureRequestRow, base: string) {
  const options = row.options as { open_tickets?: string; closed_tickets?: string };
  return {
    id: Number(row.id),
    url: `${base}/api/v2/erasure_receipts/${row.id}.json`,
    user_id: Number(row.user_id),
    actor_id: row.actor_id === null ? null : Number(row.actor_id),
    status: row.status,
    step: row.step,
    options: { ...(options.open_tickets ? { open_tickets: options.open_tickets } : {}), closed_tickets: options.closed_tickets ?? 'scrub' },
    counts: row.counts as Record<string, number>,
    identifier_hashes: row.identifier_hashes,
    job_status_id: row.job_id,
    created_at: new Date(row.created_at).toISOString(),
    started_at: iso(row.started_at),
    completed_at: iso(row.completed_at),
  };
}

/** Forget user (issue 7 item 4): the plan, the job, and its receipts. */
export async function erasureRoutes(app: App, { database, jobs, storage }: Services): Promise<void> {
  const db = database.db;

  app.post('/api/v2/users/:user_id/erasure', {
    schema: {
      tags,
      summary: 'Forget a user: dry_run returns the plan; otherwise a durable job runs it and leaves an erasure receipt',
      params: IdParams('user_id'),
      body: Type.Optional(ErasureBody),
      response: {
        200: Type.Object({ erasure_plan: Type.Optional(ErasurePlan), erasure_receipt: Type.Optional(ErasureReceipt), job_status: Type.Optional(JobStatusEnvelope.properties.job_status) }),
        ...errorResponses,
      },
    },
  }, async (request) => {
    const actor = requireUser(request);
    const userId = request.params.user_id as number;
    const { dryRun, options } = parseErasureRequest(request.body);
    const account = request.ctx.account;
    if (dryRun) {
      // Read-only; a repeatable-read snapshot so the plan is one consistent picture.
      const plan = await db.transaction().setIsolationLevel('repeatable read').execute((tx) => planErasure(tx, storage, account, actor, userId, options));
      return { erasure_plan: plan };
    }
    const { erasure, jobId } = await startErasure(jobs, account, actor, userId, options);
    const job = await findJobStatus(db, account.id, jobId);
    if (!job) throw errors.notFound();
    return { erasure_receipt: presentErasureReceipt(erasure, baseUrl(request)), job_status: presentJobStatus(job, baseUrl(request)) };
  });

  app.get('/api/v2/erasure_receipts', {
    schema: {
      tags,
      summary: 'Erasure receipts, newest first (cursor: page[size], page[after]; or page and per_page)',
      response: {
        200: Type.Object({
          erasure_receipts: Type.Array(ErasureReceipt),
          next_page: Type.Optional(Nullable(Type.String())),
          previous_page: Type.Optional(Nullable(Type.String())),
          count: Type.Optional(Type.Integer()),
          meta: Type.Optional(Type.Object({ has_more: Type.Boolean(), after_cursor: Nullable(Type.String()), before_cursor: Nullable(Type.String()) })),
          links: Type.Optional(Type.Object({ next: Nullable(Type.String()), prev: Nullable(Type.String()) })),
        }),
        ...errorResponses,
      },
    },
  }, async (request) => {
    authorizeErasure.viewReceipts(requireUser(request));
    const accountId = request.ctx.account.id;
    const page = parsePage(request.query as Record<string, unknown>);
    const base = baseUrl(request);
    const show = (row: ErasureRequestRow) => presentErasureReceipt(row, base);
    const select = () => db.selectFrom('erasure_requests').selectAll().where('account_id', '=', accountId);
    if (page.kind === 'cursor') {
      const rows = await applyPage(select(), 'id', page, 'desc').execute();
      return envelope('erasure_receipts', cursorPage(request, rows, page, (row) => Number(row.id)), show);
    }
    const rows = await applyPage(select(), 'id', page, 'desc').execute();
    const count = await db.selectFrom('erasure_requests').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow();
    return envelope('erasure_receipts', offsetPage(request, rows, page, Number(count.n)), show);
  });

  app.get('/api/v2/erasure_receipts/:erasure_receipt_id', {
    schema: { tags, summary: 'One erasure receipt: who, when, counts per kind of record, identifier hashes — no personal data', params: IdParams('erasure_receipt_id'), response: { 200: Type.Object({ erasure_receipt: ErasureReceipt }), ...errorResponses } },
  }, async (request) => {
    authorizeErasure.viewReceipts(requireUser(request));
    const row = await db.selectFrom('erasure_requests').selectAll().where('account_id', '=', request.ctx.account.id).where('id', '=', request.params.erasure_receipt_id as number).executeTakeFirst();
    if (!row) throw errors.notFound();
    return { erasure_receipt: presentErasureReceipt(row, baseUrl(request)) };
  });
}

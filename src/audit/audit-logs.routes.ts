import { Type } from 'typebox';
import type { App, Services } from '../app.ts';
import { errors } from '../http/errors.ts';
import { cursorPage, envelope, offsetPage, parsePage } from '../http/pagination.ts';
import { DateTime, errorResponses, IdParams, Nullable, OffsetMeta, PageQuery } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { authorizeAuditLogs } from '../policy/policy.ts';
import { presentAuditLog } from './audit-logs.presenter.ts';
import { countAuditLogs, findAuditLog, listAuditLogs, parseAuditLogFilter, parseAuditLogSort } from './audit-logs.query.ts';

const tags = ['Audit logs'];

const AuditLog = Type.Object({
  url: Type.String(),
  id: Type.Integer(),
  actor_id: Nullable(Type.Integer({ description: 'The user who acted; null for the system (sweeps, jobs without a starter)' })),
  action: Type.String({ description: "Zendesk's verb: create, update, destroy, or Roster's own (merge, restore, redact, …)" }),
  action_label: Type.String(),
  event: Type.String({ description: 'The full Roster action, e.g. user.update' }),
  source_type: Type.String(),
  source_id: Type.Union([Type.Integer(), Type.String()]),
  source_label: Type.String({ description: 'Type and id only: never a name' }),
  change_description: Type.String({ description: 'Built from the changed field names; values are never recorded' }),
  changed_fields: Type.Array(Type.String()),
  ip_address: Nullable(Type.String()),
  created_at: DateTime,
});

const AuditLogsQuery = Type.Object(
  {
    ...PageQuery,
    filter: Type.Optional(Type.Object({}, {
      additionalProperties: true,
      description: 'filter[actor_id], filter[action] (create/update/destroy, a Roster verb such as merge, or a full action such as user.update), filter[source_type], filter[source_id], filter[created_at][]=start&filter[created_at][]=end',
    })),
    sort: Type.Optional(Type.String({ description: 'created_at or -created_at' })),
    sort_by: Type.Optional(Type.String({ description: 'created_at' })),
    sort_order: Type.Optional(Type.String({ description: 'asc or desc (default desc: newest first)' })),
  },
  { additionalProperties: true },
);

export async function auditLogsRoutes(app: App, { database }: Services): Promise<void> {
  const db = database.db;

  app.get('/api/v2/audit_logs', {
    schema: {
      tags,
      summary: 'The audit log: who changed what, and which fields (never values); filters, cursor or offset pages, sorted by created_at (admins)',
      querystring: AuditLogsQuery,
      response: { 200: Type.Object({ audit_logs: Type.Array(AuditLog), ...OffsetMeta }), ...errorResponses },
    },
  }, async (request) => {
    authorizeAuditLogs.view(requireUser(request));
    const query = request.query as Record<string, unknown>;
    const filter = parseAuditLogFilter(query);
    const sort = parseAuditLogSort(query);
    const page = parsePage(query);
    const accountId = request.ctx.account.id;
    const rows = await listAuditLogs(db, accountId, filter, sort, page);
    const present = (row: (typeof rows)[number]) => presentAuditLog(row, baseUrl(request));
    if (page.kind === 'cursor') return envelope('audit_logs', cursorPage(request, rows, page, (row) => Number(row.id)), present);
    return envelope('audit_logs', offsetPage(request, rows, page, await countAuditLogs(db, accountId, filter)), present);
  });

  app.get('/api/v2/audit_logs/:audit_log_id', {
    schema: { tags, summary: 'One audit log entry (admins)', params: IdParams('audit_log_id'), response: { 200: Type.Object({ audit_log: AuditLog }), ...errorResponses } },
  }, async (request) => {
    authorizeAuditLogs.view(requireUser(request));
    const row = await findAuditLog(db, request.ctx.account.id, (request.params as { audit_log_id: number }).audit_log_id);
    if (!row) throw errors.notFound();
    return { audit_log: presentAuditLog(row, baseUrl(request)) };
  });
}

import { Type, type Static } from 'typebox';
import type { App, Services } from '../app.ts';
import { outboxStatuses, type OutboxStatus } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import { applyPage, cursorPage, envelope, offsetPage, parsePage } from '../http/pagination.ts';
import { queryString } from '../http/params.ts';
import { DateTime, errorResponses, IdParams, Nullable, OffsetMeta, PageQuery } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { authorizeMail, type Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { maskTokens } from './outbox.ts';
import { MAIL_TEMPLATES } from './templates.ts';

const tags = ['Mail'];

const OutboxMessage = Type.Object({
  id: Type.Integer(),
  url: Type.String(),
  user_id: Nullable(Type.Integer()),
  identity_id: Nullable(Type.Integer()),
  recipient: Type.String(),
  template: Type.String(),
  locale: Type.String(),
  status: Type.String({ enum: [...outboxStatuses] }),
  suppression_reason: Nullable(Type.String({ description: 'Why it was not sent: reserved_domain, undeliverable, suspended_user, deleted_user' })),
  subject: Type.String(),
  attempts: Type.Integer(),
  last_error: Nullable(Type.String({ description: 'The SMTP error code of the last failed attempt (never its text)' })),
  message_id: Nullable(Type.String()),
  created_at: DateTime,
  updated_at: DateTime,
  sent_at: Nullable(DateTime),
});
const OutboxMessageWithBody = Type.Intersect([
  OutboxMessage,
  Type.Object({
    text_body: Type.String({ description: 'The text part; a one-time link shows ▇ unless you could set this user\'s password yourself, and always once sent' }),
    html_body: Type.String(),
  }),
]);
const ListQuery = Type.Object(
  {
    ...PageQuery,
    status: Type.Optional(Type.String({ enum: [...outboxStatuses] })),
    template: Type.Optional(Type.String({ enum: [...MAIL_TEMPLATES] })),
    user_id: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  },
  { additionalProperties: true },
);

interface MessageRow {
  id: number;
  user_id: number | null;
  identity_id: number | null;
  recipient: string;
  template: string;
  locale: string;
  status: OutboxStatus;
  suppression_reason: string | null;
  subject: string;
  attempts: number;
  last_error: string | null;
  message_id: string | null;
  created_at: Date;
  updated_at: Date;
  sent_at: Date | null;
}

function present(row: MessageRow, base: string): Static<typeof OutboxMessage> {
  return {
    id: row.id,
    url: `${base}/api/v2/outbox/${row.id}.json`,
    user_id: row.user_id,
    identity_id: row.identity_id,
    recipient: row.recipient,
    template: row.template,
    locale: row.locale,
    status: row.status,
    suppression_reason: row.suppression_reason,
    subject: row.subject,
    attempts: row.attempts,
    last_error: row.last_error,
    message_id: row.message_id,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    sent_at: row.sent_at ? row.sent_at.toISOString() : null,
  };
}

const LIST_COLUMNS = ['id', 'user_id', 'identity_id', 'recipient', 'template', 'locale', 'status', 'suppression_reason', 'subject', 'attempts', 'last_error', 'message_id', 'created_at', 'updated_at', 'sent_at'] as const;

/** Whether this admin may see the working link in a message to this user (src/policy/policy.ts, authorizeMail). */
async function seesLinks(db: Executor, accountId: number, actor: Actor, userId: number | null): Promise<boolean> {
  if (userId === null) return false;
  const recipient = await db.selectFrom('users').select(['id', 'role', 'is_owner']).where('account_id', '=', accountId).where('id', '=', userId).executeTakeFirst();
  return recipient !== undefined && authorizeMail.seesLinksOf(actor, recipient);
}

/** GET /api/v2/outbox (README "Mail"): every outbound message, newest first, for admins. */
export async function outboxRoutes(app: App, { database }: Services): Promise<void> {
  const db = database.db;

  app.get('/api/v2/outbox', {
    schema: {
      tags,
      summary: 'Outbound mail, newest first: sent, queued (kept here without SMTP_URL), failed and suppressed (admins; filters status, template, user_id)',
      querystring: ListQuery,
      response: { 200: Type.Object({ messages: Type.Array(OutboxMessage), ...OffsetMeta }), ...errorResponses },
    },
  }, async (request) => {
    authorizeMail.viewOutbox(requireUser(request));
    const query = request.query as Record<string, unknown>;
    const page = parsePage(query);
    const accountId = request.ctx.account.id;
    const status = queryString(query.status, 'status');
    const template = queryString(query.template, 'template');
    const userId = request.query.user_id;
    let list = db.selectFrom('outbox_messages').select([...LIST_COLUMNS]).where('account_id', '=', accountId);
    if (status !== undefined) list = list.where('status', '=', status as OutboxStatus);
    if (template !== undefined) list = list.where('template', '=', template);
    if (userId !== undefined) list = list.where('user_id', '=', userId);
    const show = (row: MessageRow) => present(row, baseUrl(request));
    if (page.kind === 'cursor') {
      const rows = await applyPage(list, 'id', page, 'desc').execute();
      return envelope('messages', cursorPage(request, rows, page, (row) => row.id), show);
    }
    const [rows, count] = await Promise.all([
      applyPage(list, 'id', page, 'desc').execute(),
      list.clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return envelope('messages', offsetPage(request, rows, page, Number(count.n)), show);
  });

  app.get('/api/v2/outbox/:message_id', {
    schema: {
      tags,
      summary: 'One outbound message with its text and HTML parts (admins)',
      params: IdParams('message_id'),
      response: { 200: Type.Object({ message: OutboxMessageWithBody }), ...errorResponses },
    },
  }, async (request) => {
    const actor = requireUser(request);
    authorizeMail.viewOutbox(actor);
    const accountId = request.ctx.account.id;
    const row = await db.selectFrom('outbox_messages').selectAll().where('account_id', '=', accountId).where('id', '=', request.params.message_id as number).executeTakeFirst();
    if (!row) throw errors.notFound();
    const visible = row.status === 'queued' && (await seesLinks(db, accountId, actor, row.user_id));
    return {
      message: {
        ...present(row, baseUrl(request)),
        text_body: visible ? row.text_body : maskTokens(row.text_body),
        html_body: visible ? row.html_body : maskTokens(row.html_body),
      },
    };
  });
}

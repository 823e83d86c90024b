import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { App, Services } from '../app.ts';
import type { TicketCommentRow } from '../db/tables.ts';
import { errorResponses } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import type { Executor } from '../users/users.repository.ts';
import { makeCommentPrivate, parseMarkupRedaction, parseRedactText, redactAttachment, redactCommentMarkup, redactCommentText } from './redact-comment.ts';
import { presentAttachment, presentComment } from './tickets.presenter.ts';
import { withAttachments } from './tickets.repository.ts';
import { AttachmentEnvelope, CommentResponse } from './tickets.schemas.ts';

const tags = ['Ticket Comments'];
const id = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const CommentParams = Type.Object({ ticket_id: id, ticket_comment_id: id }, { additionalProperties: false });
// One name for the comment id on every /comments/… path: the router keeps one parameter name per position.
const AttachmentParams = Type.Object({ ticket_id: id, ticket_comment_id: id, attachment_id: id }, { additionalProperties: false });
const RedactionParams = Type.Object({ ticket_comment_id: id }, { additionalProperties: false });
const CommentEnvelope = Type.Object({ comment: CommentResponse });
// Bodies stay open and are read by the domain parsers, which answer Zendesk's 400/422 shapes.
const RedactTextBody = Type.Union([Type.Object({ text: Type.Optional(Type.Unknown()) }, { additionalProperties: true, description: '{"text": the string to redact}' }), Type.Null()]);
const MarkupBody = Type.Union([
  Type.Object({}, { additionalProperties: true, description: 'ticket_id, html_body with <redact> tags and/or redact attributes, external_attachment_urls' }),
  Type.Null(),
]);
const EmptyResponse = Type.Null({ description: 'Empty response' });

export async function redactionRoutes(app: App, { database, storage }: Services): Promise<void> {
  const db = database.db;

  const showComment = async (executor: Executor, request: FastifyRequest, comment: TicketCommentRow) => {
    const [view] = await withAttachments(executor, request.ctx.account.id, [comment]);
    if (!view) throw new Error('A comment just written is gone');
    return { comment: presentComment(view, baseUrl(request)) };
  };

  app.put('/api/v2/tickets/:ticket_id/comments/:ticket_comment_id/make_private', {
    schema: { tags, summary: 'Make a public comment an internal note (staff who can see the ticket; not on closed tickets)', params: CommentParams, response: { 200: EmptyResponse, ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    const { ticket_id: ticketId, ticket_comment_id: commentId } = request.params as { ticket_id: number; ticket_comment_id: number };
    await db.transaction().execute((tx) => makeCommentPrivate(tx, request.ctx.account, actor, ticketId, commentId));
    return reply.code(200).send(null);
  });

  app.put('/api/v2/tickets/:ticket_id/comments/:ticket_comment_id/redact', {
    schema: {
      tags,
      summary: 'Redact a string in a comment: each character of every occurrence becomes ▇ in body, html_body and plain_body (needs the redact permission; closed tickets too)',
      params: CommentParams,
      body: RedactTextBody,
      response: { 200: CommentEnvelope, ...errorResponses },
    },
  }, async (request) => {
    const actor = requireUser(request);
    const { ticket_id: ticketId, ticket_comment_id: commentId } = request.params as { ticket_id: number; ticket_comment_id: number };
    const text = parseRedactText(request.body);
    return db.transaction().execute(async (tx) => showComment(tx, request, await redactCommentText(tx, request.ctx.account, actor, ticketId, commentId, text)));
  });

  app.put('/api/v2/comment_redactions/:ticket_comment_id', {
    schema: {
      tags,
      summary: "Agent-workspace redaction: the comment's html_body with <redact> tags (and redact attributes), and/or external_attachment_urls; works on closed tickets",
      params: RedactionParams,
      body: MarkupBody,
      response: { 200: CommentEnvelope, ...errorResponses },
    },
  }, async (request) => {
    const actor = requireUser(request);
    const commentId = (request.params as { ticket_comment_id: number }).ticket_comment_id;
    const input = parseMarkupRedaction(request.body);
    return db.transaction().execute(async (tx) => showComment(tx, request, await redactCommentMarkup(tx, storage, request.ctx.account, actor, commentId, input)));
  });

  const attachmentRoute = {
    schema: {
      tags: ['Attachments'],
      summary: 'Redact an attachment: it becomes an empty redacted.txt and its bytes are removed from storage (PUT, or DELETE as node-zendesk sends it)',
      params: AttachmentParams,
      response: { 200: AttachmentEnvelope, ...errorResponses },
    },
  };
  const redactAttachmentHandler = async (request: FastifyRequest) => {
    const actor = requireUser(request);
    const { ticket_id: ticketId, ticket_comment_id: commentId, attachment_id: attachmentId } = request.params as { ticket_id: number; ticket_comment_id: number; attachment_id: number };
    const attachment = await db.transaction().execute((tx) => redactAttachment(tx, storage, request.ctx.account, actor, ticketId, commentId, attachmentId));
    return { attachment: presentAttachment(attachment, baseUrl(request)) };
  };
  app.put('/api/v2/tickets/:ticket_id/comments/:ticket_comment_id/attachments/:attachment_id/redact', attachmentRoute, redactAttachmentHandler);
  app.delete('/api/v2/tickets/:ticket_id/comments/:ticket_comment_id/attachments/:attachment_id/redact', attachmentRoute, redactAttachmentHandler);
}

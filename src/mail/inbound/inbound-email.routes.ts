import { Type } from 'typebox';
import type { App, Services } from '../../app.ts';
import { AppError } from '../../http/errors.ts';
import { ErrorBody, errorResponses, Id } from '../../http/schemas.ts';
import { requireUser } from '../../http/urls.ts';
import { authorizeInboundMail } from '../../policy/policy.ts';
import { loadInboundMailConfig } from './inbound-config.ts';
import { receiveMail, type InboundOutcome } from './receive-mail.ts';

const InboundEmailEnvelope = Type.Object({
  inbound_email: Type.Object({
    status: Type.Union([Type.Literal('ticket_created'), Type.Literal('comment_added'), Type.Literal('suspended'), Type.Literal('dropped')]),
    ticket_id: Type.Optional(Id),
    comment_id: Type.Optional(Id),
    suspended_ticket_id: Type.Optional(Id),
    requester_created: Type.Optional(Type.Boolean()),
    reason: Type.Optional(Type.String({ description: 'Why nothing was created: auto_reply, bounce, loop (from a support address) or duplicate (Message-ID already taken in)' })),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

export function presentOutcome(outcome: InboundOutcome) {
  switch (outcome.status) {
    case 'ticket_created':
      return { status: outcome.status, ticket_id: outcome.ticketId, comment_id: outcome.commentId, requester_created: outcome.requesterCreated };
    case 'comment_added':
      return { status: outcome.status, ticket_id: outcome.ticketId, comment_id: outcome.commentId };
    case 'suspended':
      return { status: outcome.status, suspended_ticket_id: outcome.suspendedTicketId };
    case 'dropped':
      return { status: outcome.status, reason: outcome.reason };
  }
}

/**
 * POST /api/v2/inbound_email: a raw RFC 5322 message as the body (Content-Type
 * message/rfc822), taken in exactly as the SMTP listener takes mail for this account
 * (src/mail/inbound/receive-mail.ts). For MTAs that pipe mail over HTTP, and for tests.
 * Registered in a scope of its own: only this route reads message/rfc822 bodies, up to the
 * inbound size limit.
 */
export async function inboundEmailRoutes(app: App, { database, storage }: Services): Promise<void> {
  const config = loadInboundMailConfig();
  const deps = { db: database.db, storage, mailDomain: config.mailDomain, maxBytes: config.maxBytes };

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('message/rfc822', { parseAs: 'buffer', bodyLimit: config.maxBytes }, (_request, body, done) => done(null, body));
    scope.addContentTypeParser('*', (_request, _payload, done) => done(new AppError('UnsupportedMediaType', 415, 'Send the raw message with Content-Type: message/rfc822'), undefined));

    scope.post('/api/v2/inbound_email', {
      bodyLimit: config.maxBytes,
      schema: {
        tags: ['Inbound mail'],
        summary: 'Take in one raw email message (Content-Type: message/rfc822) as if it had arrived at the support address: a ticket, a comment on the ticket it answers, or a suspended ticket',
        response: { 200: InboundEmailEnvelope, 201: InboundEmailEnvelope, ...errorResponses, 413: ErrorBody, 415: ErrorBody },
      },
    }, async (request, reply) => {
      const actor = requireUser(request);
      authorizeInboundMail.receiveByApi(actor);
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const outcome = await receiveMail(deps, request.ctx.account, raw);
      reply.code(outcome.status === 'dropped' ? 200 : 201);
      return { inbound_email: presentOutcome(outcome) };
    });
  });
}

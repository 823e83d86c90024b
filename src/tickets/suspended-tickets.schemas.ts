import { Type, type Static } from 'typebox';
import { DateTime, Id, Nullable } from '../http/schemas.ts';
import { AttachmentResponse } from './tickets.schemas.ts';

/** Zendesk's SuspendedTicketObject. */
export const SuspendedTicketResponse = Type.Object({
  url: Type.String(),
  id: Id,
  author: Type.Object({ id: Nullable(Type.Integer()), name: Nullable(Type.String()), email: Nullable(Type.String()) }),
  subject: Type.String(),
  content: Type.String(),
  cause: Type.String(),
  cause_id: Type.Integer(),
  message_id: Nullable(Type.String()),
  ticket_id: Nullable(Type.Integer()),
  recipient: Nullable(Type.String()),
  brand_id: Type.Null(),
  created_at: DateTime,
  updated_at: DateTime,
  via: Type.Object({ channel: Type.String(), source: Type.Object({ from: Type.Object({}, { additionalProperties: true }), to: Type.Object({}, { additionalProperties: true }), rel: Nullable(Type.String()) }) }),
  attachments: Type.Array(AttachmentResponse),
  error_messages: Nullable(Type.Array(Type.Object({ error: Type.String(), description: Type.String() }))),
});
export type SuspendedTicketJson = Static<typeof SuspendedTicketResponse>;
export const SuspendedEnvelope = Type.Object({ suspended_ticket: SuspendedTicketResponse });

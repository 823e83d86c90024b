import { Type } from 'typebox';
import { DateTime, Id, IdParams, Nullable, OffsetMeta } from '../http/schemas.ts';
import { ticketPriorities, ticketStatuses, ticketTypes } from '../db/tables.ts';

const Via = Type.Object({
  channel: Type.String(),
  source: Type.Object({ from: Type.Object({}, { additionalProperties: true }), to: Type.Object({}, { additionalProperties: true }), rel: Nullable(Type.String()) }),
});

/** Zendesk's AttachmentObject. */
export const AttachmentResponse = Type.Object({
  url: Type.String(),
  id: Id,
  file_name: Type.String(),
  content_url: Type.String(),
  mapped_content_url: Type.String(),
  content_type: Type.String(),
  size: Type.Integer(),
  width: Nullable(Type.Integer()),
  height: Nullable(Type.Integer()),
  inline: Type.Boolean(),
  deleted: Type.Boolean(),
  malware_access_override: Type.Boolean(),
  malware_scan_result: Type.String(),
  thumbnails: Type.Array(Type.Object({}, { additionalProperties: true })),
});

/** Zendesk's TicketObject, fields in the order Zendesk answers them. */
export const TicketResponse = Type.Object({
  url: Type.String(),
  id: Id,
  external_id: Nullable(Type.String()),
  via: Via,
  created_at: DateTime,
  updated_at: DateTime,
  generated_timestamp: Type.Integer(),
  type: Nullable(Type.String({ enum: [...ticketTypes] })),
  subject: Type.String(),
  raw_subject: Type.String(),
  description: Type.String(),
  priority: Nullable(Type.String({ enum: [...ticketPriorities] })),
  status: Type.String({ enum: [...ticketStatuses] }),
  recipient: Nullable(Type.String()),
  requester_id: Id,
  submitter_id: Id,
  assignee_id: Nullable(Type.Integer()),
  organization_id: Nullable(Type.Integer()),
  group_id: Nullable(Type.Integer()),
  collaborator_ids: Type.Array(Type.Integer()),
  follower_ids: Type.Array(Type.Integer()),
  email_cc_ids: Type.Array(Type.Integer()),
  forum_topic_id: Type.Null(),
  problem_id: Type.Null(),
  has_incidents: Type.Boolean(),
  is_public: Type.Boolean(),
  due_at: Nullable(DateTime),
  tags: Type.Array(Type.String()),
  custom_fields: Type.Array(Type.Object({}, { additionalProperties: true })),
  satisfaction_rating: Type.Null(),
  sharing_agreement_ids: Type.Array(Type.Integer()),
  fields: Type.Array(Type.Object({}, { additionalProperties: true })),
  followup_ids: Type.Array(Type.Integer()),
  ticket_form_id: Type.Null(),
  brand_id: Type.Null(),
  allow_channelback: Type.Boolean(),
  allow_attachments: Type.Boolean(),
  from_messaging_channel: Type.Boolean(),
});

/** Zendesk's TicketCommentObject. */
export const CommentResponse = Type.Object({
  id: Id,
  type: Type.String(),
  author_id: Id,
  body: Type.String(),
  html_body: Type.String(),
  plain_body: Type.String(),
  public: Type.Boolean(),
  attachments: Type.Array(AttachmentResponse),
  audit_id: Nullable(Type.Integer()),
  via: Via,
  metadata: Type.Object({}, { additionalProperties: true }),
  created_at: DateTime,
});

/** Zendesk's RequestObject: a ticket as its requester sees it. */
export const RequestResponse = Type.Object({
  url: Type.String(),
  id: Id,
  status: Type.String(),
  priority: Nullable(Type.String()),
  type: Nullable(Type.String()),
  subject: Type.String(),
  description: Type.String(),
  organization_id: Nullable(Type.Integer()),
  via: Via,
  custom_fields: Type.Array(Type.Object({}, { additionalProperties: true })),
  requester_id: Id,
  collaborator_ids: Type.Array(Type.Integer()),
  email_cc_ids: Type.Array(Type.Integer()),
  is_public: Type.Boolean(),
  due_at: Nullable(DateTime),
  can_be_solved_by_me: Type.Boolean(),
  created_at: DateTime,
  updated_at: DateTime,
  recipient: Nullable(Type.String()),
  followup_source_id: Type.Null(),
  assignee_id: Nullable(Type.Integer()),
  ticket_form_id: Type.Null(),
  group_id: Nullable(Type.Integer()),
  solved: Type.Boolean(),
});

export const TicketEnvelope = Type.Object({ ticket: TicketResponse });
/** Create and update answer the ticket and the audit of the change (its events: the comment added). */
export const TicketWriteEnvelope = Type.Object({
  ticket: TicketResponse,
  audit: Type.Object({ id: Nullable(Type.Integer()), ticket_id: Id, created_at: DateTime, author_id: Id, events: Type.Array(Type.Object({}, { additionalProperties: true })) }),
});
export const TicketsList = Type.Object({ tickets: Type.Array(TicketResponse), ...OffsetMeta });
export const CommentsList = Type.Object({ comments: Type.Array(CommentResponse), ...OffsetMeta });
export const RequestEnvelope = Type.Object({ request: RequestResponse });
export const RequestsList = Type.Object({ requests: Type.Array(RequestResponse), ...OffsetMeta });
export const UploadEnvelope = Type.Object({
  upload: Type.Object({ token: Type.String(), expires_at: DateTime, attachment: AttachmentResponse, attachments: Type.Array(AttachmentResponse) }),
});
export const AttachmentEnvelope = Type.Object({ attachment: AttachmentResponse });

/** Request bodies stay open: Zendesk ignores fields it does not know, and so do we. */
const TicketObject = Type.Object({}, { additionalProperties: true, description: "A ticket, as in Zendesk's TicketCreateInput / TicketUpdateInput" });
export const TicketBody = Type.Object({ ticket: TicketObject }, { additionalProperties: true });
const RequestObject = Type.Object({}, { additionalProperties: true, description: "A request, as in Zendesk's RequestObject (subject, comment, requester for anonymous requests)" });
export const RequestBody = Type.Object({ request: RequestObject }, { additionalProperties: true });
export const CloseSolvedBody = Type.Union([Type.Object({ ids: Type.Optional(Type.Array(Id, { maxItems: 1000 })) }, { additionalProperties: true }), Type.Null()]);
export const CloseSolvedResponse = Type.Object({ closed: Type.Integer(), ticket_ids: Type.Array(Type.Integer()) });

export const TicketParams = IdParams('ticket_id');
export const RequestParams = IdParams('request_id');
export const UserParams = IdParams('user_id');
export const OrganizationParams = IdParams('organization_id');
export const AttachmentParams = IdParams('attachment_id');
export const IdsQuery = Type.Object({ ids: Type.String() }, { additionalProperties: true });
export const SortQuery = {
  sort_by: Type.Optional(Type.String({ enum: ['id', 'created_at', 'updated_at', 'status', 'priority'] })),
  sort_order: Type.Optional(Type.String({ enum: ['asc', 'desc'] })),
};
export const UploadQuery = Type.Object({ filename: Type.String({ minLength: 1, maxLength: 255 }), token: Type.Optional(Type.String()) }, { additionalProperties: true });
export const UploadTokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });
export const RelatedTicketCounts = {
  assigned_tickets: Type.Integer(),
  requested_tickets: Type.Integer(),
  ccd_tickets: Type.Integer(),
};

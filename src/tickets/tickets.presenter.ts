import type { Static } from 'typebox';
import type { TicketAttachmentRow } from '../db/tables.ts';
import type { AttachmentResponse, CommentResponse, RequestResponse, TicketResponse } from './tickets.schemas.ts';
import type { CommentView, TicketView } from './tickets.repository.ts';

const via = (channel: string) => ({ channel, source: { from: {}, to: {}, rel: null } });
const unique = (ids: number[]): number[] => [...new Set(ids)];

/** Row → Zendesk ticket JSON. Zendesk's fields for features Roster has not (forms, SLAs, CSAT) are present with their empty values. */
export function presentTicket(ticket: TicketView, baseUrl: string): Static<typeof TicketResponse> {
  return {
    url: `${baseUrl}/api/v2/tickets/${ticket.id}.json`,
    id: ticket.id,
    external_id: ticket.external_id,
    via: via(ticket.via_channel),
    created_at: ticket.created_at.toISOString(),
    updated_at: ticket.updated_at.toISOString(),
    generated_timestamp: Math.floor(ticket.updated_at.getTime() / 1000),
    type: ticket.type,
    subject: ticket.subject,
    raw_subject: ticket.subject,
    description: ticket.description,
    priority: ticket.priority,
    status: ticket.status,
    recipient: ticket.recipient,
    requester_id: ticket.requester_id,
    submitter_id: ticket.submitter_id,
    assignee_id: ticket.assignee_id,
    organization_id: ticket.organization_id,
    group_id: ticket.group_id,
    collaborator_ids: unique([...ticket.email_cc_ids, ...ticket.follower_ids]),
    follower_ids: ticket.follower_ids,
    email_cc_ids: ticket.email_cc_ids,
    forum_topic_id: null,
    problem_id: null,
    has_incidents: false,
    is_public: ticket.is_public,
    due_at: ticket.due_at ? ticket.due_at.toISOString() : null,
    tags: ticket.tags,
    custom_fields: [],
    satisfaction_rating: null,
    sharing_agreement_ids: [],
    fields: [],
    followup_ids: [],
    ticket_form_id: null,
    brand_id: null,
    allow_channelback: false,
    allow_attachments: true,
    from_messaging_channel: false,
  };
}

/** A ticket as its requester (or a CC) sees it: Zendesk's request. */
export function presentRequest(ticket: TicketView, baseUrl: string, viewerId: number): Static<typeof RequestResponse> {
  return {
    url: `${baseUrl}/api/v2/requests/${ticket.id}.json`,
    id: ticket.id,
    status: ticket.status,
    priority: ticket.priority,
    type: ticket.type,
    subject: ticket.subject,
    description: ticket.description,
    organization_id: ticket.organization_id,
    via: via(ticket.via_channel),
    custom_fields: [],
    requester_id: ticket.requester_id,
    collaborator_ids: unique([...ticket.email_cc_ids, ...ticket.follower_ids]),
    email_cc_ids: ticket.email_cc_ids,
    is_public: ticket.is_public,
    due_at: ticket.due_at ? ticket.due_at.toISOString() : null,
    can_be_solved_by_me: ticket.requester_id === viewerId && ticket.status !== 'solved' && ticket.status !== 'closed',
    created_at: ticket.created_at.toISOString(),
    updated_at: ticket.updated_at.toISOString(),
    recipient: ticket.recipient,
    followup_source_id: null,
    assignee_id: ticket.assignee_id,
    ticket_form_id: null,
    group_id: ticket.group_id,
    solved: ticket.status === 'solved' || ticket.status === 'closed',
  };
}

export function presentAttachment(row: TicketAttachmentRow, baseUrl: string): Static<typeof AttachmentResponse> {
  const contentUrl = `${baseUrl}/api/v2/attachments/${row.id}/content`;
  return {
    url: `${baseUrl}/api/v2/attachments/${row.id}.json`,
    id: row.id,
    file_name: row.file_name,
    content_url: contentUrl,
    mapped_content_url: contentUrl,
    content_type: row.content_type,
    size: Number(row.size),
    width: null,
    height: null,
    inline: false,
    deleted: false,
    malware_access_override: false,
    malware_scan_result: 'not_scanned',
    thumbnails: [],
  };
}

export function presentComment(comment: CommentView, baseUrl: string): Static<typeof CommentResponse> {
  return {
    id: comment.id,
    type: 'Comment',
    author_id: comment.author_id,
    body: comment.body,
    html_body: comment.html_body,
    plain_body: comment.plain_body,
    public: comment.public,
    attachments: comment.attachments.map((attachment) => presentAttachment(attachment, baseUrl)),
    audit_id: null,
    via: via(comment.via_channel),
    metadata: { system: {}, custom: {} },
    created_at: comment.created_at.toISOString(),
  };
}

import { sql } from 'kysely';
import type { UserRow } from '../../db/tables.ts';
import type { Executor } from '../../users/users.repository.ts';
import { genericSections, PERSONAL_DATA_MAP, project, type CustomSection, type GenericSection } from './personal-data-map.ts';

type Row = Record<string, unknown>;

export interface PersonalExportInput {
  accountId: number;
  subject: Pick<UserRow, 'id' | 'role'>;
  /** A signed download link for one attachment (valid as long as the export). */
  attachmentLink(attachmentId: number): string;
  generatedAt: Date;
}

export type PersonalDocument = { export: Row } & Partial<Record<GenericSection | CustomSection, unknown>>;

const orderBy = (table: string) => sql.join((PERSONAL_DATA_MAP[table]?.order ?? ['id']).map((column) => sql.ref(column)));

async function rowsWhere(db: Executor, table: string, accountId: number, condition: ReturnType<typeof sql>): Promise<Row[]> {
  const result = await sql<Row>`SELECT * FROM ${sql.table(table)} WHERE account_id = ${accountId} AND (${condition}) ORDER BY ${orderBy(table)}`.execute(db);
  return result.rows;
}

const ids = (rows: Row[], column = 'id'): number[] => rows.map((row) => Number(row[column]));

/**
 * Everything that references one person (issue 7 item 1), as one JSON document. What is looked
 * at and what is shown comes from PERSONAL_DATA_MAP: every `finds` column is one generic query,
 * every `links` column is followed below, and every row goes through `project`, so an excluded
 * or unclassified column never appears. Tickets show the comments the person can see: public
 * ones only for an end user (DOMAIN.md §4), all of them for staff.
 */
export async function buildPersonalExport(db: Executor, input: PersonalExportInput): Promise<PersonalDocument> {
  const { accountId, subject } = input;
  const userId = subject.id;
  const document: PersonalDocument = {
    export: { format: 'roster.personal_data.v1', user_id: userId, generated_at: input.generatedAt.toISOString() },
  };

  // Generic sections: rows whose user reference holds the person.
  for (const { section, table, column } of genericSections()) {
    const rows = await rowsWhere(db, table, accountId, sql`${sql.ref(column)} = ${userId}`);
    const shown = rows.map((row) => project(table, row));
    document[section] = section === 'deletion' ? (shown[0] ?? null) : shown;
  }

  const custom: Record<CustomSection, () => Promise<unknown>> = {
    profile: async () => {
      const [user] = await rowsWhere(db, 'users', accountId, sql`id = ${userId}`);
      if (!user) return null;
      const fields = await rowsWhere(db, 'custom_fields', accountId, sql`owner = 'user'`);
      const values = (user.user_fields ?? {}) as Record<string, unknown>;
      const byKey = new Map(fields.map((field) => [String(field.key), field]));
      const profile = project('users', user);
      // Field values with the field's title, so the export reads without the account's configuration.
      profile.user_fields = Object.entries(values).map(([key, value]) => {
        const field = byKey.get(key);
        return { key, title: field ? field.title : null, type: field ? field.type : null, value };
      });
      return profile;
    },
    organization_memberships: async () => {
      const rows = await rowsWhere(db, 'organization_memberships', accountId, sql`user_id = ${userId}`);
      const organizations = rows.length
        ? await rowsWhere(db, 'organizations', accountId, sql`id = ANY(${ids(rows, 'organization_id')}::bigint[])`)
        : [];
      const byId = new Map(organizations.map((organization) => [Number(organization.id), organization]));
      return rows.map((row) => {
        const organization = byId.get(Number(row.organization_id));
        return { ...project('organization_memberships', row), organization: organization ? { id: Number(organization.id), ...project('organizations', organization) } : null };
      });
    },
    group_memberships: async () => {
      const rows = await rowsWhere(db, 'group_memberships', accountId, sql`user_id = ${userId}`);
      const groups = rows.length ? await rowsWhere(db, 'groups', accountId, sql`id = ANY(${ids(rows, 'group_id')}::bigint[])`) : [];
      const byId = new Map(groups.map((group) => [Number(group.id), group]));
      return rows.map((row) => {
        const group = byId.get(Number(row.group_id));
        return { ...project('group_memberships', row), group: group ? { id: Number(group.id), ...project('groups', group) } : null };
      });
    },
    tickets: async () => {
      const tickets = await rowsWhere(
        db,
        'tickets',
        accountId,
        sql`requester_id = ${userId} OR submitter_id = ${userId} OR EXISTS (
          SELECT 1 FROM ticket_collaborators c WHERE c.account_id = tickets.account_id AND c.ticket_id = tickets.id AND c.user_id = ${userId})`,
      );
      if (tickets.length === 0) return [];
      const ticketIds = ids(tickets);
      const collaborations = await rowsWhere(db, 'ticket_collaborators', accountId, sql`user_id = ${userId} AND ticket_id = ANY(${ticketIds}::bigint[])`);
      const staff = subject.role !== 'end-user';
      const comments = await rowsWhere(db, 'ticket_comments', accountId, sql`ticket_id = ANY(${ticketIds}::bigint[]) AND (${staff}::boolean OR public)`);
      const attachments = comments.length
        ? await rowsWhere(db, 'ticket_attachments', accountId, sql`comment_id = ANY(${ids(comments)}::bigint[])`)
        : [];
      const attachmentsOf = groupBy(attachments, 'comment_id');
      const commentsOf = groupBy(comments, 'ticket_id');
      const relationsOf = groupBy(collaborations, 'ticket_id');
      return tickets.map((ticket) => {
        const id = Number(ticket.id);
        const relations = [
          ...(Number(ticket.requester_id) === userId ? ['requester'] : []),
          ...(Number(ticket.submitter_id) === userId ? ['submitter'] : []),
          ...(relationsOf.get(id) ?? []).map((row) => String(row.kind)),
        ];
        return {
          ...project('tickets', ticket),
          relations,
          comments: (commentsOf.get(id) ?? []).map((comment) => ({
            ...project('ticket_comments', comment),
            attachments: (attachmentsOf.get(Number(comment.id)) ?? []).map((attachment) => presentAttachment(attachment, input)),
          })),
        };
      });
    },
    attachments: async () => {
      const rows = await rowsWhere(db, 'ticket_attachments', accountId, sql`uploader_id = ${userId}`);
      return rows.map((row) => presentAttachment(row, input));
    },
    audit_events_about_them: async () => {
      const rows = await rowsWhere(db, 'audit_events', accountId, sql`target_type = 'user' AND target_id = ${String(userId)}`);
      return rows.map((row) => project('audit_events', row));
    },
    merges: async () => {
      const rows = await rowsWhere(db, 'user_merges', accountId, sql`source_id = ${userId} OR target_id = ${userId}`);
      return rows.map((row) => project('user_merges', row));
    },
  };
  for (const [section, read] of Object.entries(custom) as Array<[CustomSection, () => Promise<unknown>]>) {
    document[section] = await read();
  }
  return document;
}

function groupBy(rows: Row[], column: string): Map<number, Row[]> {
  const groups = new Map<number, Row[]>();
  for (const row of rows) {
    const key = Number(row[column]);
    const list = groups.get(key);
    if (list) list.push(row);
    else groups.set(key, [row]);
  }
  return groups;
}

/** An attachment's metadata and, unless it was redacted, a signed link to its bytes. */
function presentAttachment(row: Row, input: PersonalExportInput): Row {
  return { ...project('ticket_attachments', row), download_url: row.redacted === true ? null : input.attachmentLink(Number(row.id)) };
}

/** How many records the document holds (the export's record_count). */
export function countRecords(document: PersonalDocument): number {
  let count = 0;
  for (const [key, value] of Object.entries(document)) {
    if (key === 'export') continue;
    if (Array.isArray(value)) count += value.length;
    else if (value !== null && value !== undefined) count += 1;
  }
  return count;
}

import fs from 'node:fs';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import type { Caller, TestApp } from '../helpers.ts';

export const CORPUS = path.join(import.meta.dirname, 'corpus');
export const SUPPORT = 'support@default.localhost';

export function corpus(name: string): Buffer {
  return fs.readFileSync(path.join(CORPUS, name));
}

/** POST /api/v2/inbound_email with a raw message. */
export function postMail(t: TestApp, raw: Buffer | string, as: Caller | null = t.owner, contentType = 'message/rfc822'): Promise<LightMyRequestResponse> {
  return t.runtime.app.inject({
    method: 'POST',
    url: '/api/v2/inbound_email',
    headers: { ...(as ? as.headers : {}), 'content-type': contentType },
    payload: raw,
  });
}

/** A plain text message; headers override the defaults. */
export function message(fields: { from?: string; to?: string; cc?: string; subject?: string; messageId?: string; inReplyTo?: string; headers?: string[]; body?: string }): string {
  const lines = [
    `From: ${fields.from ?? 'Pat Doe <pat@customer.test>'}`,
    `To: ${fields.to ?? SUPPORT}`,
    ...(fields.cc ? [`Cc: ${fields.cc}`] : []),
    `Subject: ${fields.subject ?? 'A question'}`,
    ...(fields.messageId ? [`Message-ID: ${fields.messageId}`] : []),
    ...(fields.inReplyTo ? [`In-Reply-To: ${fields.inReplyTo}`, `References: ${fields.inReplyTo}`] : []),
    ...(fields.headers ?? []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    fields.body ?? 'Hello, I have a question.',
    '',
  ];
  return lines.join('\r\n');
}

/** Row counts of everything inbound mail may write. */
export async function counts(t: TestApp): Promise<Record<string, number>> {
  const db = t.runtime.database.db;
  const result: Record<string, number> = {};
  for (const table of ['users', 'user_identities', 'tickets', 'ticket_comments', 'ticket_collaborators', 'ticket_attachments', 'suspended_tickets', 'ticket_mail_messages', 'audit_events'] as const) {
    const row = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(db);
    result[table] = Number(row.rows[0]?.n ?? 0);
  }
  return result;
}

/** Whether any stored row (as text) contains `needle`. */
export async function storedAnywhere(t: TestApp, needle: string): Promise<string[]> {
  const db = t.runtime.database.db;
  const hits: string[] = [];
  for (const table of ['users', 'user_identities', 'tickets', 'ticket_comments', 'ticket_attachments', 'suspended_tickets', 'ticket_mail_messages', 'audit_events', 'job_statuses']) {
    const row = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(table)} AS r WHERE r::text ILIKE ${`%${needle}%`}`.execute(db);
    if (Number(row.rows[0]?.n ?? 0) > 0) hits.push(table);
  }
  return hits;
}

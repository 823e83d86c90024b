import { sql } from 'kysely';
import { expect } from 'vitest';
import type { Caller, TestApp } from '../helpers.ts';

/** Shared by the redaction, deleted-tickets and suspended-tickets tests. */

export async function createTicket(t: TestApp, fields: Record<string, unknown> = {}, as: Caller = t.owner): Promise<{ id: number; commentId: number }> {
  const response = await t.request('POST', '/api/v2/tickets', { as, body: { ticket: { subject: 'Printer on fire', comment: { body: 'It is very colourful.' }, ...fields } } });
  expect(response.statusCode, response.body).toBe(201);
  const id = response.json().ticket.id as number;
  const comments = await t.request('GET', `/api/v2/tickets/${id}/comments`);
  return { id, commentId: comments.json().comments[0].id as number };
}

/** Uploads `content` as the owner (or `as`) and returns the upload token. */
export async function upload(t: TestApp, fileName: string, content: string, as: Caller = t.owner): Promise<string> {
  const response = await t.runtime.app.inject({
    method: 'POST',
    url: `/api/v2/uploads?filename=${encodeURIComponent(fileName)}`,
    headers: { ...as.headers, 'content-type': 'text/plain' },
    payload: content,
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().upload.token as string;
}

/** Solves a ticket and closes it with the admins' close_solved action (nobody sets closed by hand). */
export async function closeTicket(t: TestApp, id: number): Promise<void> {
  const solved = await t.request('PUT', `/api/v2/tickets/${id}`, { body: { ticket: { status: 'solved' } } });
  expect(solved.statusCode, solved.body).toBe(200);
  const closed = await t.request('POST', '/api/v2/tickets/close_solved', { body: { ids: [id] } });
  expect(closed.statusCode, closed.body).toBe(200);
  expect((await t.request('GET', `/api/v2/tickets/${id}`)).json().ticket.status).toBe('closed');
}

/**
 * Every text-like column (text, varchar, json, jsonb, text[]) of every table in Roster's schema
 * and in its job queue's schema that holds `needle`: where a copy of a redacted or deleted string
 * could hide. Found from information_schema, so a table added later is searched too.
 */
export async function columnsContaining(t: TestApp, needle: string): Promise<string[]> {
  const db = t.runtime.database.db;
  const schemas = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db);
  const own = schemas.rows[0]?.schema ?? 'public';
  const boss = own === 'public' ? 'pgboss' : `${own}_boss`;
  const columns = await sql<{ table_schema: string; table_name: string; column_name: string }>`
    SELECT c.table_schema, c.table_name, c.column_name
    FROM information_schema.columns c
    JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name AND tb.table_type = 'BASE TABLE'
    WHERE c.table_schema IN (${own}, ${boss})
      AND (c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb') OR (c.data_type = 'ARRAY' AND c.udt_name IN ('_text', '_varchar')))`.execute(db);
  expect(columns.rows.length).toBeGreaterThan(20);
  const hits: string[] = [];
  for (const column of columns.rows) {
    const found = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(`${column.table_schema}.${column.table_name}`)}
      WHERE strpos(${sql.ref(column.column_name)}::text, ${needle}) > 0`.execute(db);
    if ((found.rows[0]?.n ?? 0) > 0) hits.push(`${column.table_name}.${column.column_name}`);
  }
  return hits;
}

/** A custom role's agent (the role's configuration as given). */
export async function agentWithRole(t: TestApp, name: string, configuration: Record<string, unknown>): Promise<Caller> {
  const role = await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: { name, configuration } } });
  expect(role.statusCode, role.body).toBeLessThan(300);
  return t.user({ role: 'agent', name, custom_role_id: role.json().custom_role.id });
}

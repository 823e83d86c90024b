/**
 * The yardstick: a bare Fastify app whose routes run the one SQL statement the matching Roster
 * route needs for its data — built from Roster's own query builders, so the text is identical —
 * on Roster's own pool (with PGlite there is a single connection, so both apps must share it).
 * No authentication, no validation schema, no presenter: JSON.stringify of the rows.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { CompiledQuery } from 'kysely';
import type { Database } from '../src/db/database.ts';
import { applyPage, parsePage } from '../src/http/pagination.ts';
import { selectUsers, userFilterExpression } from '../src/users/users.repository.ts';

/** A compiled statement with one parameter slot left open (found by a sentinel value). */
export interface Statement {
  sql: string;
  bind(value?: number): unknown[];
}

const SENTINEL = 987_654_321_012;

function withSlot(compiled: CompiledQuery): Statement {
  const parameters = [...compiled.parameters];
  const slot = parameters.indexOf(SENTINEL);
  return {
    sql: compiled.sql,
    bind(value?: number) {
      const bound = [...parameters];
      if (slot >= 0 && value !== undefined) bound[slot] = value;
      return bound;
    },
  };
}

export interface BareStatements {
  showUser: Statement;
  listUsers: Statement;
  createUser: { sql: string };
  createTicket: { sql: string };
}

/** The statements, compiled exactly as the Roster routes compile them for their data. */
export function bareStatements(database: Database, accountId: number): BareStatements {
  const db = database.db;
  const showUser = withSlot(selectUsers(db, accountId).where('u.id', '=', SENTINEL).compile());
  // GET /api/v2/users?page[size]=100: no filter (listFilter of an empty query), first cursor page.
  const filter = userFilterExpression({ roles: [], externalId: undefined, permissionSet: undefined });
  const listUsers = withSlot(applyPage(selectUsers(db, accountId).where(filter), 'u.id', parsePage({ page: { size: '100' } })).compile());
  // POST has no single statement in Roster (it runs a transaction); the bare route does the
  // least that creates the same data: the user and its primary email, returned in one statement.
  const createUser = {
    sql: `WITH u AS (
  INSERT INTO users (account_id, name, role) VALUES ($1, $2, 'end-user') RETURNING *
), i AS (
  INSERT INTO user_identities (account_id, user_id, type, value, value_key, "primary")
  SELECT u.account_id, u.id, 'email', $3, $4, true FROM u RETURNING value
)
SELECT u.*, i.value AS email FROM u, i`,
  };
  // POST /api/v2/tickets with a new requester: Roster matches the address against every identity,
  // creates the user (identity, audit) and the ticket with its first comment in one transaction;
  // the least that stores the same rows is one statement writing all four.
  const createTicket = {
    sql: `WITH u AS (
  INSERT INTO users (account_id, name, role) VALUES ($1, $2, 'end-user') RETURNING account_id, id
), i AS (
  INSERT INTO user_identities (account_id, user_id, type, value, value_key, "primary")
  SELECT u.account_id, u.id, 'email', $3, $4, true FROM u
), t AS (
  INSERT INTO tickets (account_id, subject, requester_id, submitter_id) SELECT u.account_id, $5, u.id, u.id FROM u RETURNING *
), c AS (
  INSERT INTO ticket_comments (account_id, ticket_id, author_id, body, html_body, plain_body)
  SELECT t.account_id, t.id, t.requester_id, $6, $6, $6 FROM t
)
SELECT t.* FROM t`,
  };
  return { showUser, listUsers, createUser, createTicket };
}

export async function buildBareApp(database: Database, accountId: number): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  const { pool } = database;
  const statements = bareStatements(database, accountId);

  app.get<{ Params: { user_id: string } }>('/api/v2/users/:user_id', async (request, reply) => {
    const result = await pool.query(statements.showUser.sql, statements.showUser.bind(Number(request.params.user_id)));
    if (result.rows.length === 0) return reply.code(404).send({ error: 'RecordNotFound' });
    return { user: result.rows[0] };
  });

  app.get('/api/v2/users', async () => {
    const result = await pool.query(statements.listUsers.sql, statements.listUsers.bind());
    return { users: result.rows.slice(0, 100), meta: { has_more: result.rows.length > 100 } };
  });

  app.post<{ Body: { user?: { name?: string; email?: string } } }>('/api/v2/users', async (request, reply) => {
    const name = request.body?.user?.name ?? '';
    const email = request.body?.user?.email ?? '';
    const result = await pool.query(statements.createUser.sql, [accountId, name, email, email.toLowerCase()]);
    return reply.code(201).send({ user: result.rows[0] });
  });

  app.post<{ Body: { ticket?: { subject?: string; comment?: { body?: string }; requester?: { name?: string; email?: string } } } }>('/api/v2/tickets', async (request, reply) => {
    const ticket = request.body?.ticket;
    const email = ticket?.requester?.email ?? '';
    const body = ticket?.comment?.body ?? '';
    const result = await pool.query(statements.createTicket.sql, [accountId, ticket?.requester?.name ?? '', email, email.toLowerCase(), ticket?.subject ?? '', body]);
    return reply.code(201).send({ ticket: result.rows[0] });
  });

  await app.ready();
  return app;
}

import { sql } from 'kysely';
import type { Executor } from '../../users/users.repository.ts';
import { project } from './personal-data-map.ts';

/** A users export's optional date range, on created_at or updated_at; `end` is exclusive. */
export interface UsersExportRange {
  field: 'created_at' | 'updated_at';
  start: Date | null;
  end: Date | null;
}

type Row = Record<string, unknown>;
/** Users read per query: bounded memory whatever the account's size. */
const BATCH = 500;

/**
 * The lines of one part of a users export (seed 002 "Exporting user data"): after user `afterId`,
 * in id order, at most `limit` users — one JSON object per line with the profile (the exported
 * columns of PERSONAL_DATA_MAP.users, so no password hash), identities, organizations and user
 * fields. Soft-deleted users are left out. Reads batch by batch and yields between them, so
 * neither memory nor the embedded database's one connection is held for the whole export;
 * `written` tells the caller how far it got.
 */
export async function* usersExportLines(
  db: Executor,
  accountId: number,
  range: UsersExportRange,
  afterId: number,
  limit: number,
  written: { records: number; lastId: number },
): AsyncGenerator<string> {
  let after = afterId;
  while (written.records < limit) {
    const users = await sql<Row>`
      SELECT * FROM users
      WHERE account_id = ${accountId} AND deleted_at IS NULL AND id > ${after}
        ${range.start ? sql`AND ${sql.ref(range.field)} >= ${range.start}` : sql``}
        ${range.end ? sql`AND ${sql.ref(range.field)} < ${range.end}` : sql``}
      ORDER BY id
      LIMIT ${Math.min(BATCH, limit - written.records)}`.execute(db);
    if (users.rows.length === 0) return;
    const ids = users.rows.map((row) => Number(row.id));
    const identities = await sql<Row>`SELECT * FROM user_identities WHERE account_id = ${accountId} AND user_id = ANY(${ids}::bigint[]) ORDER BY id`.execute(db);
    const memberships = await sql<Row>`
      SELECT m.user_id, m.organization_id, m.is_default, o.name
      FROM organization_memberships m JOIN organizations o ON o.account_id = m.account_id AND o.id = m.organization_id
      WHERE m.account_id = ${accountId} AND m.user_id = ANY(${ids}::bigint[]) ORDER BY m.id`.execute(db);
    const identitiesOf = new Map<number, Row[]>();
    for (const identity of identities.rows) {
      const list = identitiesOf.get(Number(identity.user_id)) ?? [];
      list.push(project('user_identities', identity));
      identitiesOf.set(Number(identity.user_id), list);
    }
    const organizationsOf = new Map<number, Row[]>();
    for (const membership of memberships.rows) {
      const list = organizationsOf.get(Number(membership.user_id)) ?? [];
      list.push({ id: Number(membership.organization_id), name: membership.name, is_default: membership.is_default });
      organizationsOf.set(Number(membership.user_id), list);
    }
    let chunk = '';
    for (const user of users.rows) {
      const id = Number(user.id);
      chunk += `${JSON.stringify({ id, ...project('users', user), identities: identitiesOf.get(id) ?? [], organizations: organizationsOf.get(id) ?? [] })}\n`;
    }
    written.records += users.rows.length;
    written.lastId = ids[ids.length - 1] ?? after;
    after = written.lastId;
    yield chunk;
    // Let requests in between batches (the embedded database has one connection).
    await new Promise((resolve) => setImmediate(resolve));
  }
}

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../src/users/users.repository.ts';
import { EXCLUDED_SCHEMAS, PERSONAL_DATA_MAP, type ColumnRule } from '../../src/privacy/exports/personal-data-map.ts';
import { createTestApp, type TestApp } from '../helpers.ts';

/**
 * The completeness check of the personal-data export (issue 7 item 1): walks the application's
 * schema — information_schema.columns and the foreign keys in pg_constraint — and requires every
 * column that can hold a user id or a personal value to be classified in PERSONAL_DATA_MAP, the
 * table the exporter itself reads. A column a later migration adds fails this test until it is
 * exported or excluded with a reason.
 */
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});

afterAll(async () => {
  await t.close();
});

/** Names that hold a user id by convention, with or without a foreign key. */
const USER_REFERENCE = /^(user_id|.+_user_id|author_id|requester_id|submitter_id|assignee_id|actor_id|uploader_id|source_id|target_id|merged_into_id|.+_by|.+_by_id)$/;
/** Types that can hold free text, structured values or bytes. */
const PERSONAL_TYPES = new Set(['text', 'character varying', 'character', 'jsonb', 'json', 'bytea', 'ARRAY', 'USER-DEFINED', 'xml']);

interface Finding {
  table: string;
  column: string;
  why: string[];
}

/** Every column of the current schema that could hold a user id or a personal value. */
async function sensitiveColumns(db: Executor): Promise<{ findings: Finding[]; columns: Set<string> }> {
  const columns = await sql<{ table_name: string; column_name: string; data_type: string }>`
    SELECT c.table_name, c.column_name, c.data_type
    FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
    WHERE c.table_schema = current_schema()
    ORDER BY c.table_name, c.ordinal_position`.execute(db);
  // Columns that reference users.id, pair by pair in composite keys (account_id, user_id) → (account_id, id).
  const foreign = await sql<{ table_name: string; column_name: string }>`
    SELECT c.conrelid::regclass::text AS table_name, a.attname AS column_name
    FROM pg_constraint c
    CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(attnum, fattnum)
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
    JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fattnum
    WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace
      AND c.confrelid = 'users'::regclass AND fa.attname = 'id'`.execute(db);
  const referencing = new Set(foreign.rows.map((row) => `${row.table_name.replace(/^.*\./, '').replaceAll('"', '')}.${row.column_name}`));
  const findings: Finding[] = [];
  const all = new Set<string>();
  for (const row of columns.rows) {
    all.add(`${row.table_name}.${row.column_name}`);
    const why: string[] = [];
    if (referencing.has(`${row.table_name}.${row.column_name}`)) why.push('foreign key to users');
    if (USER_REFERENCE.test(row.column_name) || (row.table_name === 'users' && row.column_name === 'id')) why.push('named like a user reference');
    if (PERSONAL_TYPES.has(row.data_type)) why.push(`type ${row.data_type}`);
    if (why.length > 0) findings.push({ table: row.table_name, column: row.column_name, why });
  }
  return { findings, columns: all };
}

const isUserReference = (finding: Finding) => finding.why.some((why) => !why.startsWith('type '));
const reasonOf = (rule: ColumnRule): string | undefined => (rule === 'export' ? undefined : 'exclude' in rule ? rule.exclude : 'exportOnly' in rule ? rule.exportOnly : undefined);

/** What is wrong with the map for this schema: unclassified columns, user references without a rule that says how they are followed, stale entries. */
function problems(findings: Finding[], columns: Set<string>): string[] {
  const found: string[] = [];
  for (const finding of findings) {
    const rule = PERSONAL_DATA_MAP[finding.table]?.columns[finding.column];
    if (!rule) {
      found.push(`${finding.table}.${finding.column} (${finding.why.join(', ')}) is not classified in PERSONAL_DATA_MAP`);
      continue;
    }
    if (isUserReference(finding) && rule === 'export') {
      found.push(`${finding.table}.${finding.column} holds user ids: say how it finds the person's rows (finds/links) or why not (exportOnly/exclude)`);
    }
    const reason = reasonOf(rule);
    if (reason !== undefined && reason.trim().length < 10) found.push(`${finding.table}.${finding.column}: give a real reason`);
  }
  for (const [table, rules] of Object.entries(PERSONAL_DATA_MAP)) {
    for (const column of Object.keys(rules.columns)) {
      if (!columns.has(`${table}.${column}`)) found.push(`${table}.${column} is in PERSONAL_DATA_MAP but not in the schema`);
    }
  }
  return found;
}

describe('personal-data map completeness', () => {
  it('classifies every column of the schema that can hold a user id or a personal value', async () => {
    const { findings, columns } = await sensitiveColumns(t.runtime.database.db);
    expect(findings.length).toBeGreaterThan(100);
    // Spot checks that the walk sees what it must.
    const names = findings.map((finding) => `${finding.table}.${finding.column}`);
    expect(names).toEqual(expect.arrayContaining(['users.name', 'user_identities.value', 'ticket_comments.author_id', 'outbox_messages.user_id', 'audit_events.target_id']));
    expect(findings.find((finding) => finding.table === 'tickets' && finding.column === 'requester_id')?.why).toContain('foreign key to users');
    expect(problems(findings, columns)).toEqual([]);
  });

  it("leaves pg-boss's schema out, with the reason", () => {
    expect(EXCLUDED_SCHEMAS.pgboss).toMatch(/ids only|accountId, jobId/);
  });

  it('fails for a column a later migration adds until it is classified', async () => {
    const db = t.runtime.database.db;
    await db.transaction().execute(async (tx) => {
      await sql`ALTER TABLE users ADD COLUMN nickname text`.execute(tx);
      await sql`CREATE TABLE pet_owners (account_id bigint NOT NULL, id bigint NOT NULL, owner_id bigint, PRIMARY KEY (account_id, id), FOREIGN KEY (account_id, owner_id) REFERENCES users (account_id, id))`.execute(tx);
      const { findings, columns } = await sensitiveColumns(tx);
      expect(problems(findings, columns).sort()).toEqual([
        'pet_owners.owner_id (foreign key to users) is not classified in PERSONAL_DATA_MAP',
        'users.nickname (type text) is not classified in PERSONAL_DATA_MAP',
      ]);
      // Undo the experiment: the transaction rolls back.
      throw new RollBack();
    }).catch((error: unknown) => {
      if (!(error instanceof RollBack)) throw error;
    });
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'nickname'`.execute(db)).rows[0]?.n).toBe(0);
  });
});

class RollBack extends Error {}

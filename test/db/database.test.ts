import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseStartError, openDatabase } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-db-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('embedded PGlite data directory', () => {
  it('keeps data across a clean close and reopen, and releases its lock', async () => {
    const dir = tempDir();
    const first = await openDatabase({ dataDir: dir });
    await migrateToLatest(first.db);
    await sql`INSERT INTO accounts (subdomain, name) VALUES ('kept', 'Kept')`.execute(first.db);
    expect(fs.readFileSync(path.join(dir, 'roster.lock'), 'utf8')).toBe(String(process.pid));
    await first.close();
    expect(fs.existsSync(path.join(dir, 'roster.lock'))).toBe(false);
    const second = await openDatabase({ dataDir: dir });
    const rows = await sql<{ subdomain: string }>`SELECT subdomain FROM accounts`.execute(second.db);
    expect(rows.rows.map((row) => row.subdomain)).toEqual(['kept']);
    await second.close();
  });

  it('refuses a directory another live process holds', async () => {
    const dir = tempDir();
    const first = await openDatabase({ dataDir: dir });
    try {
      await expect(openDatabase({ dataDir: dir })).rejects.toThrow(DatabaseStartError);
      await expect(openDatabase({ dataDir: dir })).rejects.toThrow(/in use by another Roster process/);
    } finally {
      await first.close();
    }
  });

  it('takes over a stale lock left by a dead process', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'roster.lock'), '2147483646');
    const database = await openDatabase({ dataDir: dir });
    expect(fs.readFileSync(path.join(dir, 'roster.lock'), 'utf8')).toBe(String(process.pid));
    await database.close();
  });

  it('detects a half-initialised directory and says what to do', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'pg', 'base'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'pg', 'PG_VERSION'), '18');
    await expect(openDatabase({ dataDir: dir })).rejects.toThrow(/half initialised/);
    expect(fs.existsSync(path.join(dir, 'roster.lock'))).toBe(false);
  });
});

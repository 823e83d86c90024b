import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inspectImportFile } from '../../src/imports/create-import.ts';
import { BATCH_ROWS, runImportSlice, type SliceHooks } from '../../src/imports/run-import.ts';
import { importDb } from '../../src/imports/import-tables.ts';
import { mapHeader, rowToUser } from '../../src/imports/import-columns.ts';
import { createTestApp, type TestApp } from '../helpers.ts';

let t: TestApp;
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-import-test-'));
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
  fs.rmSync(directory, { recursive: true, force: true });
});
beforeEach(async () => {
  await t.reset();
});

/**
 * An import recorded as the route records it, but with no job queued: the test runs the job's
 * handler itself (runImportSlice), so it can cut a run off where a crash would.
 */
async function recordImport(csv: string, options: { dryRun?: boolean; update?: boolean } = {}): Promise<{ id: number; jobId: string; file: string }> {
  const file = path.join(directory, `${crypto.randomBytes(6).toString('hex')}.csv`);
  fs.writeFileSync(file, csv);
  const db = t.runtime.database.db;
  const inspected = await inspectImportFile(db, t.account.id, file);
  const jobId = crypto.randomBytes(16).toString('hex');
  await db.insertInto('job_statuses').values({ account_id: t.account.id, id: jobId, job_type: 'import_users', status: 'working', total: inspected.total, results: JSON.stringify([]), payload: null, actor_id: t.owner.id }).execute();
  const row = await importDb(db)
    .insertInto('imports')
    .values({ account_id: t.account.id, job_id: jobId, dry_run: options.dryRun ?? false, update: options.update ?? false, file_path: file, file_bytes: csv.length, delimiter: inspected.delimiter, columns: inspected.columns, total: inspected.total, byte_offset: inspected.headerEnd, salt: 'test salt', actor_id: t.owner.id })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, jobId, file };
}

async function actor() {
  const db = t.runtime.database.db;
  const owner = await db.selectFrom('users').select(['id', 'role', 'is_owner', 'active', 'suspended']).where('id', '=', t.owner.id).executeTakeFirstOrThrow();
  const { resolvePermissions } = await import('../../src/roles/permissions.ts');
  return { ...owner, permissions: resolvePermissions(owner.role, null) };
}

const csvOf = (count: number): string => `name,email,external_id\n${Array.from({ length: count }, (_, i) => `Person ${i},person${i}@roster.test,ext-${i}`).join('\n')}\n`;

class Crash extends Error {}

describe('runImportSlice (the import job handler)', () => {
  it('resumes after a crash between batches at the next row, applying every row exactly once', async () => {
    const rows = BATCH_ROWS * 3 + 17;
    const { id, jobId, file } = await recordImport(csvOf(rows));
    const context = { account: t.account, actor: await actor() };
    const crashAfterTwo: SliceHooks = {
      afterCommit: (batch) => {
        if (batch === 2) throw new Crash();
      },
    };
    await expect(runImportSlice(t.runtime.database.db, context, jobId, crashAfterTwo)).rejects.toBeInstanceOf(Crash);
    const midway = await importDb(t.runtime.database.db).selectFrom('imports').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(midway).toMatchObject({ processed: BATCH_ROWS * 2, created: BATCH_ROWS * 2, next_row: BATCH_ROWS * 2 + 2, status: 'working' });
    const job = await t.runtime.database.db.selectFrom('job_statuses').select('progress').where('id', '=', jobId).executeTakeFirstOrThrow();
    expect(job.progress).toBe(BATCH_ROWS * 2);

    expect(await runImportSlice(t.runtime.database.db, context, jobId)).toBe('done');
    const db = t.runtime.database.db;
    const report = await importDb(db).selectFrom('import_rows').select(['row_number', 'status']).where('import_id', '=', id).orderBy('row_number').execute();
    expect(report.map((r) => r.row_number)).toEqual(Array.from({ length: rows }, (_, i) => i + 2));
    expect(new Set(report.map((r) => r.status))).toEqual(new Set(['created']));
    const users = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('name', 'like', 'Person %').executeTakeFirstOrThrow();
    expect(Number(users.n)).toBe(rows);
    const audits = await db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', 'user.create').where('actor_id', '=', t.owner.id).executeTakeFirstOrThrow();
    expect(Number(audits.n)).toBe(rows);
    const done = await importDb(db).selectFrom('imports').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(done).toMatchObject({ status: 'completed', processed: rows, created: rows, file_path: null });
    // The file (personal data) and the duplicate registry are gone once the import ends.
    expect(fs.existsSync(file)).toBe(false);
    expect(await importDb(db).selectFrom('import_keys').select('key').where('import_id', '=', id).execute()).toEqual([]);
    // A run of an ended import does nothing.
    expect(await runImportSlice(db, context, jobId)).toBe('done');
  });

  it('leaves nothing of a batch cut off before its commit, and redoes it whole', async () => {
    const rows = BATCH_ROWS + 10;
    const { id, jobId } = await recordImport(csvOf(rows));
    const context = { account: t.account, actor: await actor() };
    await expect(runImportSlice(t.runtime.database.db, context, jobId, { beforeCommit: (batch) => { if (batch === 1) throw new Crash(); } })).rejects.toBeInstanceOf(Crash);
    const db = t.runtime.database.db;
    const none = await db.selectFrom('users').select('id').where('name', 'like', 'Person %').execute();
    expect(none).toEqual([]);
    expect(await importDb(db).selectFrom('import_rows').select('row_number').where('import_id', '=', id).execute()).toEqual([]);
    expect(await runImportSlice(db, context, jobId)).toBe('done');
    const users = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('name', 'like', 'Person %').executeTakeFirstOrThrow();
    expect(Number(users.n)).toBe(rows);
  });

  it('two runs of one import (one presumed dead but only slow) apply each row once: the later one stops', async () => {
    const rows = BATCH_ROWS * 2 + 5;
    const { id, jobId } = await recordImport(csvOf(rows));
    const context = { account: t.account, actor: await actor() };
    const db = t.runtime.database.db;
    const outcomes = await Promise.all([runImportSlice(db, context, jobId), runImportSlice(db, context, jobId)]);
    expect(outcomes).toContain('superseded');
    const users = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('name', 'like', 'Person %').executeTakeFirstOrThrow();
    expect(Number(users.n)).toBe(rows);
    const report = await importDb(db).selectFrom('import_rows').select('row_number').where('import_id', '=', id).execute();
    expect(report).toHaveLength(rows);
  });

  it('a dry run commits its report and checkpoint but none of its effects', async () => {
    const { id, jobId } = await recordImport(csvOf(BATCH_ROWS + 3), { dryRun: true });
    const context = { account: t.account, actor: await actor() };
    expect(await runImportSlice(t.runtime.database.db, context, jobId)).toBe('done');
    const db = t.runtime.database.db;
    expect(await db.selectFrom('users').select('id').where('name', 'like', 'Person %').execute()).toEqual([]);
    const summary = await importDb(db).selectFrom('imports').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(summary).toMatchObject({ status: 'completed', created: BATCH_ROWS + 3 });
    const ids = await importDb(db).selectFrom('import_rows').select('user_id').where('import_id', '=', id).where('user_id', 'is not', null).execute();
    expect(ids).toEqual([]);
  });
});

describe('column mapping', () => {
  it('maps Zendesk headers case-insensitively, user fields to their own key', () => {
    expect(mapHeader([' Name ', 'EMAIL', 'External_Id', 'Restriction', 'user_fields.PLAN'], ['plan'])).toEqual(['name', 'email', 'external_id', 'restriction', 'user_fields.plan']);
  });

  it('turns a row into the user API object, leaving empty cells out', () => {
    expect(rowToUser(['name', 'email', 'restriction', 'organization', 'tags', 'user_fields.plan', 'notes'], ['Ann', ' ann@x.test ', 'Organization', 'Acme', 'a b', 'gold', ''])).toEqual({
      name: 'Ann',
      email: 'ann@x.test',
      ticket_restriction: 'organization',
      organization: { name: 'Acme' },
      tags: 'a b',
      user_fields: { plan: 'gold' },
    });
  });

  it('refuses unknown, duplicate and identity-less headers', () => {
    expect(() => mapHeader(['name', 'emial'], [])).toThrow(/Unknown column: emial/);
    expect(() => mapHeader(['name', 'user_fields.nope'], [])).toThrow(/user_fields.nope/);
    expect(() => mapHeader(['email', 'EMAIL'], [])).toThrow(/more than once/);
    expect(() => mapHeader(['notes'], [])).toThrow(/name, email or external_id/);
  });
});

describe('sweepImportFiles', () => {
  it('deletes uploads no import refers to once they are an hour old, and keeps the rest', async () => {
    const { sweepImportFiles } = await import('../../src/imports/sweep-import-files.ts');
    const { importDirectory } = await import('../../src/imports/csv-file.ts');
    const dir = importDirectory('memory://');
    fs.mkdirSync(dir, { recursive: true });
    const orphan = path.join(dir, 'orphan-test.csv');
    const young = path.join(dir, 'young-test.csv');
    fs.writeFileSync(orphan, 'name\nAnn\n');
    fs.writeFileSync(young, 'name\nAnn\n');
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    fs.utimesSync(orphan, old, old);
    const { file } = await recordImport(csvOf(3));
    fs.copyFileSync(file, path.join(dir, 'referenced.csv'));
    await importDb(t.runtime.database.db).updateTable('imports').set({ file_path: path.join(dir, 'referenced.csv') }).execute();
    fs.utimesSync(path.join(dir, 'referenced.csv'), old, old);
    await sweepImportFiles(t.runtime.database, 'memory://', new Date());
    expect(fs.existsSync(orphan)).toBe(false);
    expect(fs.existsSync(young)).toBe(true);
    expect(fs.existsSync(path.join(dir, 'referenced.csv'))).toBe(true);
    fs.rmSync(young);
    fs.rmSync(path.join(dir, 'referenced.csv'));
  });
});

import crypto from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { AppError } from '../../src/http/errors.ts';
import { Jobs } from '../../src/jobs/jobs.ts';
import type { Account } from '../../src/db/tables.ts';
import { onPostgres } from '../helpers.ts';

/** The job machinery on its own: item jobs whose items fail, and jobs whose infrastructure does. */
let database: Database;
let jobs: Jobs;
let account: Account;
const schema = onPostgres ? `t_${crypto.randomBytes(6).toString('hex')}` : undefined;
let flaky = 0;

beforeAll(async () => {
  database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: 'memory://', schema });
  await migrateToLatest(database.db);
  jobs = new Jobs(database, { soleProcess: true, pollingIntervalSeconds: 0.5, retryLimit: 2, retryDelaySeconds: 1, ...(schema ? { schema: `${schema}_boss` } : {}) });
  jobs.define<number>({
    type: 'square',
    async run(_tx, _context, item, index) {
      if (item < 0) throw new AppError('RecordInvalid', 422, 'negative');
      return { index, value: item * item };
    },
    failure: (_item, index, error) => ({ index, error: error.code }),
  });
  jobs.define<number>({
    type: 'broken',
    async run() {
      throw new Error('the database went away');
    },
    failure: (_item, index) => ({ index }),
  });
  jobs.define<number>({
    type: 'flaky',
    async run(_tx, _context, item, index) {
      flaky += 1;
      if (flaky === 1) throw new Error('a passing fault');
      return { index, value: item };
    },
    failure: (_item, index) => ({ index }),
  });
  await jobs.start();
  account = await database.db.insertInto('accounts').values({ subdomain: 'jobs', name: 'Jobs', settings: '{}' }).returningAll().executeTakeFirstOrThrow();
});

afterAll(async () => {
  await jobs.stop();
  if (schema) await sql.raw(`DROP SCHEMA "${schema}" CASCADE; DROP SCHEMA "${schema}_boss" CASCADE`).execute(database.db);
  await database.close();
});

async function finished(id: string) {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const row = await database.db.selectFrom('job_statuses').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    if (row.status === 'completed' || row.status === 'failed') return row;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('job did not finish');
}

describe('durable item jobs', () => {
  it('records a failing item in the results and goes on', async () => {
    const job = await jobs.enqueue(account, null, 'square', [2, -1, 3]);
    const done = await finished(job.id);
    expect(done.status).toBe('completed');
    expect(done.results).toEqual([{ index: 0, value: 4 }, { index: 1, error: 'RecordInvalid' }, { index: 2, value: 9 }]);
    expect(done.payload).toBeNull();
  });

  it('retries a job after an infrastructure fault and completes it', async () => {
    const job = await jobs.enqueue(account, null, 'flaky', [7]);
    const done = await finished(job.id);
    expect(done.status).toBe('completed');
    expect(done.results).toEqual([{ index: 0, value: 7 }]);
  });

  it('fails visibly once the retries are spent, and drops the payload', async () => {
    const job = await jobs.enqueue(account, null, 'broken', [1]);
    const done = await finished(job.id);
    expect(done.status).toBe('failed');
    expect(done.message).toMatch(/failed after several attempts/);
    expect(done.payload).toBeNull();
    expect(done.progress).toBe(0);
  }, 60_000);
});

/**
 * `npx tsx bench/exports.ts` — the users export (issue 7 item 2) at scale: N users (each with an
 * email identity, a third with a phone, a tenth in one of 50 organizations, details/notes/tags/a
 * user field) written straight into a fresh embedded database in one statement per table, then
 * exported through Roster's own path — requestUsersExport, the sliced job run by the job workers,
 * 5,000 users per part, 500 per query — and the finished file read back through the download's
 * stream (decrypt + gunzip), counting lines. RSS is sampled twice a second. Results go to
 * bench/RESULTS.md between this script's markers (a later run of the same size replaces its block).
 *
 *   npx tsx bench/exports.ts --users 100000
 *   npx tsx bench/exports.ts --users 20000 --no-write      (quick look)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { ensureAccount } from '../src/accounts/bootstrap.ts';
import { loadConfig } from '../src/config.ts';
import { requestUsersExport } from '../src/privacy/exports/data-exports.ts';
import { exportFilesFor } from '../src/privacy/exports/export-files.ts';
import { ADMIN_PERMISSIONS } from '../src/roles/permissions.ts';
import { startRuntime } from '../src/server.ts';
import { writeRunBlock } from './results-file.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' },
    out: { type: 'string', default: path.join(here, 'RESULTS.md') },
    'no-write': { type: 'boolean', default: false },
  },
});
const users = Number(flags.users);
if (!Number.isSafeInteger(users) || users < 1) throw new Error('--users must be a positive integer');
const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const mb = (value: number): string => (value / 1024 / 1024).toFixed(0);

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-bench-exports-'));
  const dataDir = path.join(work, 'data');
  const config = { ...loadConfig({ DATA_DIR: dataDir }), dataDir, rateLimitPerMinute: 0 };
  const runtime = await startRuntime({ config, jobPollingSeconds: 0.5 });
  const db = runtime.database.db;
  try {
    const { account } = await ensureAccount(db, 'default', { name: 'Bench Owner', email: 'bench-owner@roster-bench.example', password: 'bench owner password, not secret' });
    let started = Date.now();
    log(`Writing ${users} users …`);
    await sql`INSERT INTO organizations (account_id, name) SELECT ${account.id}, 'Bench Org ' || g FROM generate_series(1, 50) g`.execute(db);
    await sql`
      INSERT INTO users (account_id, name, role, details, notes, tags, user_fields, created_at, updated_at)
      SELECT ${account.id}, 'Bench User ' || g, 'end-user', 'Details of user ' || g || ' ' || md5(g::text), 'Notes ' || md5((g * 7)::text),
             ARRAY['bench', 'tier' || (g % 5)], jsonb_build_object('plan', 'plan-' || (g % 3)),
             now() - (g || ' minutes')::interval, now() - (g || ' seconds')::interval
      FROM generate_series(1, ${users}) g`.execute(db);
    await sql`
      INSERT INTO user_identities (account_id, user_id, type, value, value_key, "primary")
      SELECT account_id, id, 'email', 'bench.user.' || id || '@roster-bench.example', 'bench.user.' || id || '@roster-bench.example', true
      FROM users WHERE account_id = ${account.id} AND name LIKE 'Bench User %'`.execute(db);
    await sql`
      INSERT INTO user_identities (account_id, user_id, type, value, value_key, "primary")
      SELECT account_id, id, 'phone_number', '+1415555' || lpad((id % 10000)::text, 4, '0'), '1415555' || lpad((id % 10000)::text, 4, '0') || id, false
      FROM users WHERE account_id = ${account.id} AND name LIKE 'Bench User %' AND id % 3 = 0`.execute(db);
    await sql`
      INSERT INTO organization_memberships (account_id, user_id, organization_id, is_default)
      SELECT u.account_id, u.id, o.id, true
      FROM users u JOIN organizations o ON o.account_id = u.account_id AND o.name = 'Bench Org ' || (1 + u.id % 50)
      WHERE u.account_id = ${account.id} AND u.name LIKE 'Bench User %' AND u.id % 10 = 0`.execute(db);
    log(`  written in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const owner = await db.selectFrom('users').selectAll().where('account_id', '=', account.id).where('is_owner', '=', true).executeTakeFirstOrThrow();
    const actor = { ...owner, permissions: ADMIN_PERMISSIONS };
    const samples: number[] = [];
    let peak = process.memoryUsage().rss;
    // The JS heap apart: PGlite's WebAssembly memory (its buffer cache) is in RSS and never shrinks.
    let heapPeak = process.memoryUsage().heapUsed;
    const sampler = setInterval(() => {
      const { rss, heapUsed } = process.memoryUsage();
      samples.push(rss);
      peak = Math.max(peak, rss);
      heapPeak = Math.max(heapPeak, heapUsed);
    }, 500);
    const baseRss = process.memoryUsage().rss;
    started = Date.now();
    const { exported } = await requestUsersExport({ database: runtime.database, jobs: runtime.jobs }, account, actor, { field: 'updated_at', start: null, end: null }, 'http://localhost');
    let row = exported;
    let last = Date.now();
    while (row.status === 'queued' || row.status === 'working') {
      await new Promise((resolve) => setTimeout(resolve, 500));
      row = await db.selectFrom('data_exports').selectAll().where('account_id', '=', account.id).where('id', '=', exported.id).executeTakeFirstOrThrow();
      if (Date.now() - last > 10_000) {
        last = Date.now();
        log(`  … ${row.record_count ?? 0} users, ${((Date.now() - started) / 1000).toFixed(0)} s, RSS ${mb(process.memoryUsage().rss)} MB`);
      }
    }
    const exportSeconds = (Date.now() - started) / 1000;
    const exportPeak = peak;
    const exportHeapPeak = heapPeak;
    const exportSamples = [...samples].sort((a, b) => a - b);
    if (row.status !== 'completed' || !row.storage_key) throw new Error(`export ended ${row.status}`);
    const files = exportFilesFor(runtime.database, dataDir);
    const parts = (row.options as { parts?: number }).parts ?? 0;
    const onDisk = fs.readdirSync(files.directory).reduce((sum, name) => sum + fs.statSync(path.join(files.directory, name)).size, 0);

    // The download's stream, read to the end.
    peak = process.memoryUsage().rss;
    started = Date.now();
    let lines = 0;
    for await (const chunk of files.read(row.storage_key, parts)) {
      for (const byte of chunk as Buffer) if (byte === 10) lines += 1;
    }
    const readSeconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    const result = {
      users: row.record_count,
      lines,
      parts,
      exportSeconds,
      usersPerSecond: Math.round(Number(row.record_count) / exportSeconds),
      jsonMb: (Number(row.size) / 1024 / 1024).toFixed(1),
      diskMb: (onDisk / 1024 / 1024).toFixed(1),
      readSeconds,
      baseRss: mb(baseRss),
      medianRss: mb(exportSamples[Math.floor(exportSamples.length / 2)] ?? 0),
      peakRss: mb(exportPeak),
      readPeakRss: mb(peak),
      heapPeak: mb(exportHeapPeak),
    };
    log(JSON.stringify(result));
    if (!flags['no-write']) writeResults(result);
  } finally {
    await runtime.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function writeResults(r: Record<string, unknown>): void {
  const begin = '<!-- exports-bench:begin (written by bench/exports.ts; edit outside these markers) -->';
  const end = '<!-- exports-bench:end -->';
  const runBegin = `<!-- exports-run pglite ${users} -->`;
  const runEnd = '<!-- /exports-run -->';
  const cpus = os.cpus();
  const block = [
    runBegin,
    `**${users.toLocaleString('en-US')} users on PGlite** — \`npx tsx bench/exports.ts --users ${users}\`, ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, ${cpus.length} × ${cpus[0]?.model ?? 'CPU'}, load average ${os.loadavg().map((v) => v.toFixed(1)).join(' ')} at the end, Node ${process.version}.`,
    '',
    '| users exported | parts | export (job, total) | users/s | JSON lines | on disk (gzip + AES-GCM) | download stream read | RSS before | RSS median | RSS peak (export) | RSS peak (read) | JS heap peak (export) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    `| ${r.users} (${r.lines} lines read back) | ${r.parts} | ${Number(r.exportSeconds).toFixed(1)} s | ${r.usersPerSecond} | ${r.jsonMb} MB | ${r.diskMb} MB | ${Number(r.readSeconds).toFixed(1)} s | ${r.baseRss} MB | ${r.medianRss} MB | ${r.peakRss} MB | ${r.readPeakRss} MB | ${r.heapPeak} MB |`,
    runEnd,
  ].join('\n');
  writeRunBlock(flags.out, { heading: 'Users export (issue 7 item 2)', begin, end, runBegin, runEnd }, block);
  log(`Written to ${flags.out}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

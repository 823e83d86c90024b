/**
 * `npm run bench:import` — CSV import throughput and memory. Writes a CSV of N users made with
 * Faker (bench/generate.ts's users, en/fr/pt_BR/zh_CN, every Zendesk import column, a tenth with
 * an organization), then imports it through Roster's own path — the upload stored and inspected
 * (createUserImport), the job run by the job workers, batch by batch — into a fresh embedded
 * database, sampling the process's RSS twice a second. Results go to bench/RESULTS.md between
 * this script's markers, one block per row count (a later run of the same size replaces it).
 *
 *   npm run bench:import -- --rows 100000
 *   npm run bench:import -- --rows 1000000
 *   npm run bench:import -- --rows 20000 --no-write      (quick look)
 *   npm run bench:import -- --rows 100000 --database-url postgres://postgres@127.0.0.1:5432/test
 *
 * With --database-url the RSS sampled is this process's (the app); PostgreSQL's own processes are
 * not counted. The machine's load average is recorded next to the numbers: the box is shared.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.ts';
import { ensureAccount } from '../src/accounts/bootstrap.ts';
import { startRuntime } from '../src/server.ts';
import { createUserImport } from '../src/imports/create-import.ts';
import { importDb } from '../src/imports/import-tables.ts';
import { fakeUser, prng } from './generate.ts';
import { writeRunBlock } from './results-file.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '20261122' },
    'data-dir': { type: 'string', default: '' },
    out: { type: 'string', default: path.join(here, 'RESULTS.md') },
    'no-write': { type: 'boolean', default: false },
    // Stop measuring after this long and record how far the import got (a partial run says so).
    'max-seconds': { type: 'string', default: '0' },
    // PostgreSQL instead of the embedded database: imported into a fresh schema, dropped afterwards.
    'database-url': { type: 'string', default: '' },
  },
});
const rows = Number(flags.rows);
if (!Number.isSafeInteger(rows) || rows < 1) throw new Error('--rows must be a positive integer');
const work = flags['data-dir'] || fs.mkdtempSync(path.join(os.tmpdir(), 'roster-bench-import-'));
const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const cell = (value: unknown): string => {
  if (value === undefined || value === null) return '';
  const text = Array.isArray(value) ? value.join(' ') : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** The CSV, written with back-pressure: its size never sits in memory. */
async function writeCsv(file: string): Promise<number> {
  const random = prng(Number(flags.seed));
  const now = Date.parse('2026-11-01T00:00:00Z');
  const out = fs.createWriteStream(file);
  out.write('name,email,external_id,details,notes,phone,role,restriction,organization,tags\n');
  for (let index = 0; index < rows; index += 1) {
    const { raw } = fakeUser(index, random, now);
    const organization = random() < 0.1 ? `Bench Org ${Math.floor(random() * 50)}` : '';
    const restriction = raw.role === 'end-user' && random() < 0.05 ? 'organization' : '';
    const line = [raw.name, raw.email, raw.external_id, raw.details, raw.notes, raw.phone, raw.role, restriction, organization, raw.tags].map(cell).join(',');
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return fs.statSync(file).size;
}

async function main(): Promise<void> {
  const csv = path.join(work, `users-${rows}.csv`);
  const dataDir = path.join(work, 'data');
  log(`Writing ${rows} rows to ${csv} …`);
  let started = Date.now();
  const bytes = await writeCsv(csv);
  log(`  ${(bytes / 1024 / 1024).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  let peakRss = process.memoryUsage().rss;
  const samples: number[] = [];
  const sampler = setInterval(() => {
    const rss = process.memoryUsage().rss;
    samples.push(rss);
    peakRss = Math.max(peakRss, rss);
  }, 500);

  const databaseUrl = flags['database-url'];
  const schema = `bench_import_${process.pid}`;
  const config = { ...loadConfig({ DATA_DIR: dataDir, ...(databaseUrl ? { DATABASE_URL: databaseUrl, DATABASE_SCHEMA: schema } : {}) }), dataDir, rateLimitPerMinute: 0 };
  const runtime = await startRuntime({ config, jobPollingSeconds: 0.5 });
  try {
    const { account } = await ensureAccount(runtime.database.db, 'default', { name: 'Bench Owner', email: 'bench-owner@roster-bench.example', password: 'bench owner password, not secret' });
    const baseRss = process.memoryUsage().rss;
    started = Date.now();
    // Imported as the system (the CLI's way): the same job, no actor to re-check.
    const copy = `${csv}.upload`;
    fs.copyFileSync(csv, copy);
    const { import: created } = await createUserImport({ database: runtime.database, jobs: runtime.jobs }, account, null, { file: copy, bytes }, { dryRun: false, update: false });
    const inspected = Date.now() - started;
    log(`  stored and inspected in ${(inspected / 1000).toFixed(1)} s; importing …`);
    let last = Date.now();
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const state = await importDb(runtime.database.db).selectFrom('imports').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
      if (Date.now() - last > 10_000) {
        last = Date.now();
        log(`  … ${state.processed}/${state.total} rows, ${((Date.now() - started) / 1000).toFixed(0)} s, RSS ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MB`);
      }
      const maxSeconds = Number(flags['max-seconds']);
      const cutOff = maxSeconds > 0 && Date.now() - started > maxSeconds * 1000;
      if (state.status === 'completed' || state.status === 'failed' || cutOff) {
        const seconds = (Date.now() - started) / 1000;
        clearInterval(sampler);
        const sorted = [...samples].sort((a, b) => a - b);
        const mb = (value: number): string => (value / 1024 / 1024).toFixed(0);
        const result = {
          status: cutOff && state.status !== 'completed' ? `stopped after ${maxSeconds} s at ${state.processed} rows` : state.status,
          processed: state.processed,
          seconds,
          rowsPerSecond: Math.round(state.processed / seconds),
          inspectSeconds: inspected / 1000,
          created: state.created,
          rejected: state.rejected,
          baseRss: mb(baseRss),
          peakRss: mb(peakRss),
          medianRss: mb(sorted[Math.floor(sorted.length / 2)] ?? 0),
          lastRss: mb(samples.at(-1) ?? 0),
        };
        log(JSON.stringify(result));
        if (!flags['no-write']) writeResults(bytes, result);
        break;
      }
    }
  } finally {
    clearInterval(sampler);
    if (databaseUrl) {
      await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(runtime.database.db);
      await sql`DROP SCHEMA IF EXISTS ${sql.id(`${schema}_boss`)} CASCADE`.execute(runtime.database.db);
    }
    await runtime.close();
    if (!flags['data-dir']) fs.rmSync(work, { recursive: true, force: true });
  }
}

function writeResults(bytes: number, r: Record<string, unknown>): void {
  const begin = '<!-- import-bench:begin (written by bench/import.ts; edit outside these markers) -->';
  const end = '<!-- import-bench:end -->';
  const kind = flags['database-url'] ? 'postgres' : 'pglite';
  const runBegin = `<!-- import-run ${kind} ${rows} -->`;
  const runEnd = '<!-- /import-run -->';
  const cpus = os.cpus();
  const block = [
    runBegin,
    `**${rows.toLocaleString('en-US')} rows on ${kind === 'postgres' ? 'PostgreSQL (RSS: the app process; the server\'s are not counted)' : 'PGlite'}** — \`npm run bench:import -- --rows ${rows}${kind === 'postgres' ? ' --database-url …' : ''}\`, ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, ${cpus.length} × ${cpus[0]?.model ?? 'CPU'}, load average ${os.loadavg().map((v) => v.toFixed(1)).join(' ')} at the end, Node ${process.version}.`,
    '',
    '| file | store + inspect | import (total) | rows/s | created | rejected | RSS before | RSS median | RSS peak | RSS at the end |',
    '|---|---|---|---|---|---|---|---|---|---|',
    `| ${(bytes / 1024 / 1024).toFixed(1)} MB | ${Number(r.inspectSeconds).toFixed(1)} s | ${Number(r.seconds).toFixed(1)} s (${r.status}) | ${r.rowsPerSecond} | ${r.created} | ${r.rejected} | ${r.baseRss} MB | ${r.medianRss} MB | ${r.peakRss} MB | ${r.lastRss} MB |`,
    runEnd,
  ].join('\n');
  writeRunBlock(flags.out, { heading: 'CSV import (issue 6 item 8)', begin, end, runBegin, runEnd }, block);
  log(`Written to ${flags.out}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

/**
 * `npm run bench:search` — search latency on generated data: users from bench/generate.ts (Faker,
 * en/fr/pt_BR/zh_CN), organizations (Faker company names in the same four locales) and default
 * memberships for about 70% of the users. Each query runs through the real app (routing, auth,
 * policy, compile, SQL, presenter) with values drawn from the data, one request at a time;
 * p50/p95/p99 per query, and EXPLAIN (ANALYZE) of each query's page statement written to
 * bench/RESULTS.md between this script's own markers.
 *
 *   npm run bench:search -- --db postgres --users 1000000 --orgs 100000
 *   npm run bench:search -- --db pglite --users 100000 --orgs 10000
 *   npm run bench:search -- --db postgres --users 20000 --orgs 2000 --no-write   (quick look)
 *
 * On PostgreSQL the data lives in its own schema (`--schema`, default bench_search_<users>) and
 * is kept: a later run with `--reuse` measures again without generating.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fakerEN, fakerFR, fakerPT_BR, fakerZH_CN } from '@faker-js/faker';
import { CompiledQuery, sql } from 'kysely';
import { loadConfig } from '../src/config.ts';
import { ensureAccount } from '../src/accounts/bootstrap.ts';
import { issueApiToken } from '../src/auth/api-tokens.ts';
import { startRuntime, type Runtime } from '../src/server.ts';
import type { Db } from '../src/db/database.ts';
import { compileSearch, searchStatements } from '../src/search/run-search.ts';
import { generateUsers, OWNER_EMAIL, prng } from './generate.ts';
import { percentile } from './load.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

const { values: flags } = parseArgs({
  options: {
    db: { type: 'string', default: 'postgres' },
    users: { type: 'string', default: '20000' },
    orgs: { type: 'string', default: '' },
    iterations: { type: 'string', default: '60' },
    seed: { type: 'string', default: '20261122' },
    'database-url': { type: 'string', default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    schema: { type: 'string', default: '' },
    'data-dir': { type: 'string', default: '' },
    reuse: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(here, 'RESULTS.md') },
    'no-write': { type: 'boolean', default: false },
  },
});

const users = Number(flags.users);
const orgs = flags.orgs === '' ? Math.max(10, Math.floor(users / 10)) : Number(flags.orgs);
const iterations = Number(flags.iterations);
const seed = Number(flags.seed);
if (!Number.isSafeInteger(users) || users < 1 || !Number.isSafeInteger(orgs) || orgs < 1) throw new Error('--users and --orgs must be positive integers');
if (flags.db !== 'postgres' && flags.db !== 'pglite') throw new Error('--db must be postgres or pglite');
const onPostgres = flags.db === 'postgres';
const schema = flags.schema || `bench_search_${users}`;
const dataDir = flags['data-dir'] || path.join(here, 'out', `search-pglite-${users}`);

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const FAKERS = [fakerEN, fakerFR, fakerPT_BR, fakerZH_CN];

/** Organizations with unique names, in batches; ids are contiguous from the first one. */
async function generateOrganizations(db: Db, accountId: number, count: number): Promise<void> {
  FAKERS.forEach((faker, index) => faker.seed(seed * 7 + index));
  const random = prng(seed + 99);
  const batch = 1000;
  for (let offset = 0; offset < count; offset += batch) {
    const rows = [];
    for (let i = offset; i < Math.min(count, offset + batch); i += 1) {
      const faker = FAKERS[i % FAKERS.length] ?? fakerEN;
      rows.push({
        account_id: accountId,
        // The index keeps names unique (organizations_name is a unique index).
        name: `${faker.company.name()} ${i}`,
        details: random() < 0.3 ? faker.company.catchPhrase() : null,
        notes: random() < 0.2 ? faker.lorem.sentence() : null,
        tags: random() < 0.5 ? faker.helpers.multiple(() => faker.word.noun().toLowerCase(), { count: { min: 1, max: 3 } }) : [],
        external_id: random() < 0.3 ? `org-${i}` : null,
        organization_fields: '{}',
        created_at: new Date(Date.parse('2021-01-01T00:00:00Z') + Math.floor(random() * 4 * 365 * 86_400_000)),
      });
    }
    await db.insertInto('organizations').values(rows).execute();
  }
}

/** One default membership for ~70% of the users (a deterministic hash of the id), organization_id follows. */
async function generateMemberships(db: Db, accountId: number): Promise<void> {
  const bounds = await db.selectFrom('organizations').select((eb) => [eb.fn.min('id').as('first'), eb.fn.count('id').as('n')]).where('account_id', '=', accountId).executeTakeFirstOrThrow();
  const first = Number(bounds.first);
  const n = Number(bounds.n);
  await sql`
    INSERT INTO organization_memberships (account_id, user_id, organization_id, is_default)
    SELECT account_id, id, ${first}::bigint + ((id * 2654435761) % ${n}), true
    FROM users WHERE account_id = ${accountId} AND NOT is_owner AND (id * 40503) % 100 < 70`.execute(db);
  await sql`
    UPDATE users u SET organization_id = m.organization_id
    FROM organization_memberships m
    WHERE m.account_id = u.account_id AND m.user_id = u.id AND u.account_id = ${accountId}`.execute(db);
}

interface Sample {
  emails: string[];
  names: string[];
  words: string[];
  tags: string[];
  prefixes: string[];
}

/** Values to search for, drawn from the data so every query has real matches. */
async function sample(db: Db, accountId: number): Promise<Sample> {
  const random = prng(seed + 5);
  const rows = await sql<{ name: string; email: string | null; tags: string[] }>`
    SELECT u.name, (SELECT value_key FROM user_identities i WHERE i.account_id = u.account_id AND i.user_id = u.id AND i.type = 'email' LIMIT 1) AS email, u.tags
    FROM users u WHERE u.account_id = ${accountId} ORDER BY md5(u.id::text) LIMIT 400`.execute(db);
  const pick = <T>(list: T[]): T[] => list.filter(() => random() < 0.8);
  const names = rows.rows.map((row) => row.name);
  const words = names.flatMap((name) => name.split(/\s+/)).filter((word) => /^[\p{L}]{3,}$/u.test(word));
  const tagCounts = await sql<{ tag: string }>`SELECT tag FROM users, unnest(tags) AS tag WHERE account_id = ${accountId} GROUP BY tag ORDER BY count(*) DESC LIMIT 40`.execute(db);
  return {
    emails: pick(rows.rows.flatMap((row) => (row.email ? [row.email] : []))),
    names: pick(names),
    words: pick(words),
    tags: tagCounts.rows.map((row) => row.tag),
    prefixes: pick(words.filter((word) => /^[A-Za-z]{3,}$/.test(word)).map((word) => word.slice(0, 3).toLowerCase())),
  };
}

interface QuerySpec {
  label: string;
  kind: 'field' | 'free text';
  make(random: () => number, s: Sample): string;
}

const at = <T>(list: T[], random: () => number): T => {
  const value = list[Math.floor(random() * list.length)];
  if (value === undefined) throw new Error('empty sample');
  return value;
};

const QUERIES: QuerySpec[] = [
  { label: 'type:user organization:none', kind: 'field', make: () => 'type:user organization:none' },
  { label: 'email:…', kind: 'field', make: (r, s) => `email:${at(s.emails, r)}` },
  { label: 'name:"…"', kind: 'field', make: (r, s) => `name:"${at(s.names, r)}"` },
  { label: 'tags:… -tags:…', kind: 'field', make: (r, s) => `tags:${at(s.tags, r)} -tags:${at(s.tags, r)}` },
  { label: 'type:user created>… (last 30 days)', kind: 'field', make: () => 'type:user created>2026-10-02' },
  { label: 'name:abc* (wildcard)', kind: 'field', make: (r, s) => `name:${at(s.prefixes, r)}*` },
  { label: 'free text (a name word)', kind: 'free text', make: (r, s) => at(s.words, r) },
];

interface Measured {
  label: string;
  kind: string;
  p50: number;
  p95: number;
  p99: number;
  meanCount: number;
  example: string;
  plan: string;
  /** Execution time of the example's statements as EXPLAIN ANALYZE reports them (database side only). */
  sqlMs: number;
  /** The three slowest requests: which values make the tail. */
  slowest: Array<{ query: string; ms: number; count: number }>;
}

async function measure(runtime: Runtime, headers: Record<string, string>, accountId: number, s: Sample): Promise<Measured[]> {
  const results: Measured[] = [];
  for (const spec of QUERIES) {
    const random = prng(seed + spec.label.length);
    const times: number[] = [];
    const samples: Array<{ query: string; ms: number; count: number }> = [];
    let counts = 0;
    let example = '';
    // Warm-up (plans, caches), then the measured requests.
    for (let i = -5; i < iterations; i += 1) {
      const query = spec.make(random, s);
      const started = process.hrtime.bigint();
      const response = await runtime.app.inject({ method: 'GET', url: `/api/v2/search?query=${encodeURIComponent(query)}`, headers });
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      if (response.statusCode !== 200) throw new Error(`${query} → ${response.statusCode} ${response.body}`);
      if (i < 0) continue;
      times.push(elapsed);
      const count = (response.json() as { count: number }).count;
      counts += count;
      samples.push({ query, ms: elapsed, count });
      example ||= query;
    }
    times.sort((a, b) => a - b);
    const plan = await explain(runtime.database.db, accountId, example);
    const sqlMs = [...plan.matchAll(/Execution Time: ([\d.]+) ms/g)].reduce((sum, match) => sum + Number(match[1]), 0);
    const slowest = samples.sort((a, b) => b.ms - a.ms).slice(0, 3);
    results.push({ label: spec.label, kind: spec.kind, p50: percentile(times, 50), p95: percentile(times, 95), p99: percentile(times, 99), meanCount: counts / times.length, example, plan, sqlMs, slowest });
    log(`    slowest: ${slowest.map((entry) => `${entry.query} ${entry.ms.toFixed(0)} ms (${entry.count})`).join(' | ')}`);
    log(`  ${spec.label.padEnd(38)} p50 ${percentile(times, 50).toFixed(1).padStart(7)} ms  p95 ${percentile(times, 95).toFixed(1).padStart(7)} ms  p99 ${percentile(times, 99).toFixed(1).padStart(7)} ms  (~${Math.round(counts / times.length)} matches)`);
  }
  return results;
}

/** EXPLAIN ANALYZE of the statements one search runs: each type's page and, when needed, its count. */
async function explain(db: Db, accountId: number, query: string): Promise<string> {
  const plan = await compileSearch(db, accountId, query, {});
  const parts: string[] = [];
  for (const statement of await searchStatements(db, accountId, plan, { endUsers: true, organizations: true, tickets: { kind: 'all' }, actorId: 0 }, { offset: 0, limit: 100 })) {
    const compiled = statement.query;
    const result = await db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) ${compiled.sql}`, [...compiled.parameters]));
    parts.push(`-- ${statement.label}\n${result.rows.map((row) => row['QUERY PLAN']).join('\n')}`);
  }
  return parts.join('\n\n');
}

const BEGIN = '<!-- search-bench:begin (written by bench/search.ts; edit outside these markers) -->';
const END = '<!-- search-bench:end -->';

function writeResults(file: string, body: string): void {
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmark results\n';
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const kind = onPostgres ? 'PostgreSQL' : 'PGlite';
  // One block per database kind and size inside our markers: a later run replaces its own block only.
  const tag = `<!-- search-run ${flags.db} ${users} -->`;
  const block = `${tag}\n${body}\n<!-- /search-run -->`;
  let inner = start >= 0 && end > start ? text.slice(start + BEGIN.length, end) : '\n';
  const old = inner.indexOf(tag);
  if (old >= 0) {
    const stop = inner.indexOf('<!-- /search-run -->', old);
    inner = inner.slice(0, old) + block + inner.slice(stop + '<!-- /search-run -->'.length);
  } else {
    inner = `${inner.trimEnd()}\n\n${block}\n`;
  }
  const section = `${BEGIN}${inner}${END}`;
  text = start >= 0 && end > start ? text.slice(0, start) + section + text.slice(end + END.length) : `${text.trimEnd()}\n\n## Search (issue 4)\n\nSee the README's Search section; targets on PostgreSQL: p95 < 50 ms for field queries, < 150 ms for free text.\n\n${section}\n`;
  fs.writeFileSync(file, text);
  log(`Results (${kind}, ${users} users) written to ${path.relative(process.cwd(), file)}`);
}

function report(results: Measured[], generation: string): string {
  const kind = onPostgres ? 'PostgreSQL 15' : 'PGlite';
  const target = (m: Measured): string => {
    if (!onPostgres) return '—';
    const limit = m.kind === 'free text' ? 150 : 50;
    return `${m.p95 < limit ? '✅' : '❌'} < ${limit} ms`;
  };
  const lines = [
    `### ${kind}: ${users.toLocaleString('en')} users, ${orgs.toLocaleString('en')} organizations`,
    '',
    `${new Date().toISOString().slice(0, 16)}Z, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}) shared with other work (load average ${os.loadavg().map((load) => load.toFixed(1)).join(' / ')} at the end); ${iterations} sequential requests per query through the app (\`GET /api/v2/search\`, owner's API token, first page of 100: page and count statements, then the 100 records presented), values drawn from the data. "SQL" is the database time of one example's statements as EXPLAIN ANALYZE reports it (their sum; on PostgreSQL they run side by side). ${generation}`,
    '',
    '| query | kind | p50 ms | p95 ms | p99 ms | mean matches | SQL ms (example) | p95 target |',
    '|---|---|--:|--:|--:|--:|--:|---|',
    ...results.map((m) => `| \`${m.label.replace(/\|/g, '\\|')}\` | ${m.kind} | ${m.p50.toFixed(1)} | ${m.p95.toFixed(1)} | ${m.p99.toFixed(1)} | ${Math.round(m.meanCount).toLocaleString('en')} | ${m.sqlMs.toFixed(1)} | ${target(m)} |`),
    '',
    'Slowest requests per query (value, end-to-end time, matches):',
    '',
    ...results.map((m) => `- ${m.label}: ${m.slowest.map((entry) => `\`${entry.query.replace(/`/g, "'")}\` ${entry.ms.toFixed(0)} ms (${entry.count.toLocaleString('en')})`).join(', ')}`),
    '',
    '<details><summary>EXPLAIN (ANALYZE) of each query\'s statements</summary>',
    '',
    ...results.flatMap((m) => [`\`${m.example}\``, '', '```', m.plan, '```', '']),
    '</details>',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const config = loadConfig({ DATA_DIR: dataDir, ...(onPostgres ? { DATABASE_URL: flags['database-url'] } : {}) });
  config.rateLimitPerMinute = 0;
  const started = Date.now();
  const runtime = await startRuntime({ config, ...(onPostgres ? { schema } : {}) });
  try {
    const db = runtime.database.db;
    const { account } = await ensureAccount(db, 'default', { name: 'Bench Owner', email: OWNER_EMAIL, password: 'bench owner password, not secret' });
    let generation = `Data reused (${flags.db}${onPostgres ? `, schema ${schema}` : ''}).`;
    const existing = Number((await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', account.id).executeTakeFirstOrThrow()).n);
    if (!flags.reuse || existing < users) {
      if (existing > 1) throw new Error(`${onPostgres ? `schema ${schema}` : dataDir} already holds ${existing} users: pass --reuse, or drop it first`);
      log(`Generating ${users} users and ${orgs} organizations on ${flags.db}…`);
      await generateOrganizations(db, account.id, orgs);
      log(`  organizations done (${((Date.now() - started) / 1000).toFixed(0)} s)`);
      await generateUsers(db, account.id, { users, seed, batchSize: 1000, log });
      log(`  users done (${((Date.now() - started) / 1000).toFixed(0)} s)`);
      await generateMemberships(db, account.id);
      await sql`VACUUM (ANALYZE)`.execute(db);
      generation = `Generated in ${((Date.now() - started) / 1000).toFixed(0)} s (inserts with every index in place, as the app writes).`;
      log(`  memberships, vacuum, analyze done (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
    const issued = await issueApiToken(db, account.id, null, 'search benchmark');
    const headers = { authorization: `Basic ${Buffer.from(`${OWNER_EMAIL}/token:${issued.token}`).toString('base64')}` };
    const s = await sample(db, account.id);
    log(`Measuring (${iterations} requests per query)…`);
    const results = await measure(runtime, headers, account.id, s);
    if (!flags['no-write']) writeResults(flags.out, report(results, generation));
  } finally {
    await runtime.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

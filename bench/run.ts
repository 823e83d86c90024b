/**
 * `npm run bench` — Roster against a bare Fastify route running the same SQL, on PGlite and on
 * PostgreSQL, with N generated users. For each database a forked server process generates the
 * data and serves both apps; this process drives the load (autocannon and a paced open-loop
 * driver), prints a table and writes the numbers into bench/RESULTS.md (between the markers;
 * the analysis around them is kept).
 *
 *   npm run bench -- --db both --users 100000 --duration 10
 *   npm run bench -- --db pglite --users 20000 --duration 5 --no-write     (quick look)
 *   npm run bench:tickets   (= --scenarios ticket --section tickets: ticket creation with a new
 *                            requester, written to its own section of RESULTS.md)
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { RequestData } from 'autocannon';
import { machineCpu, pool, runAutocannon, runPaced, type LoadResult, type RequestFactory } from './load.ts';
import { prng } from './generate.ts';
import type { ChildMessage, DbKind, ParentMessage, Ready, ServerSpec, Usage } from './server.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

const { values: flags } = parseArgs({
  options: {
    db: { type: 'string', default: 'both' },
    users: { type: 'string', default: '100000' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    repeat: { type: 'string', default: '2' },
    connections: { type: 'string', default: '10' },
    rate: { type: 'string', default: '500' },
    seed: { type: 'string', default: '20261121' },
    scenarios: { type: 'string', default: 'show,list,create' },
    modes: { type: 'string', default: 'max,rate,paced' },
    'database-url': { type: 'string', default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    out: { type: 'string', default: path.join(here, 'RESULTS.md') },
    'no-write': { type: 'boolean', default: false },
    /** The RESULTS.md block to write: '' is the users block; another name gets markers of its own. */
    section: { type: 'string', default: '' },
  },
});

const positive = (name: string, raw: string): number => {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
};
const settings = {
  dbs: (flags.db === 'both' ? ['pglite', 'postgres'] : [flags.db]) as DbKind[],
  users: Math.floor(positive('users', flags.users)),
  duration: positive('duration', flags.duration),
  warmup: Number(flags.warmup),
  repeat: Math.max(1, Math.floor(Number(flags.repeat))),
  connections: Math.floor(positive('connections', flags.connections)),
  rate: positive('rate', flags.rate),
  seed: Math.floor(Number(flags.seed)),
  scenarios: flags.scenarios.split(',').map((name) => name.trim()),
  modes: flags.modes.split(',').map((name) => name.trim()),
  databaseUrl: flags['database-url'],
};
for (const db of settings.dbs) if (db !== 'pglite' && db !== 'postgres') throw new Error('--db must be pglite, postgres or both');

type Target = 'bare' | 'roster';
type Mode = 'max' | 'rate' | 'paced';

interface Scenario {
  name: string;
  label: string;
  factory(target: Target, ready: Ready): RequestFactory;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'show',
    label: 'GET /api/v2/users/{id}',
    factory: (_target, ready) => {
      const random = prng(settings.seed + 1);
      const span = ready.generated.lastId - ready.generated.firstId + 1;
      return () => ({ method: 'GET', path: `/api/v2/users/${ready.generated.firstId + Math.floor(random() * span)}` });
    },
  },
  {
    name: 'list',
    label: 'GET /api/v2/users?page[size]=100',
    factory: () => () => ({ method: 'GET', path: '/api/v2/users?page[size]=100' }),
  },
  {
    name: 'ticket',
    label: 'POST /api/v2/tickets (new requester)',
    factory: (target) => {
      const run = Date.now().toString(36);
      return (seq) => ({
        method: 'POST',
        path: '/api/v2/tickets',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          ticket: { subject: `Bench ticket ${seq}`, comment: { body: 'My printer is on fire.' }, requester: { name: `Bench Requester ${seq}`, email: `bench-ticket-${target}-${run}-${seq}@roster-bench.example` } },
        }),
      });
    },
  },
  {
    name: 'create',
    label: 'POST /api/v2/users',
    factory: (target) => {
      const run = Date.now().toString(36);
      return (seq) => ({
        method: 'POST',
        path: '/api/v2/users',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: { name: `Bench User ${seq}`, email: `bench-${target}-${run}-${seq}@roster-bench.example` } }),
      });
    },
  },
];

interface Measurement {
  db: DbKind;
  scenario: string;
  target: Target;
  mode: Mode;
  result: LoadResult;
  /** Server process CPU per response, in ms (both apps live in that process). */
  serverCpuMs: number;
  /** The server's event loop busy fraction. */
  elu: number;
  /** Whole machine busy fraction (2 cores: loader + server + PostgreSQL). */
  machineBusy: number | null;
  /** Throughput runs are repeated: the lowest and highest rate seen. */
  rpsRange?: [number, number];
}

interface DbRun {
  db: DbKind;
  ready: Ready;
  measurements: Measurement[];
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

class Server {
  private readonly child: ChildProcess;
  private readonly waiting: Array<{ type: ChildMessage['type']; resolve: (message: ChildMessage) => void }> = [];
  private failure: Error | null = null;

  constructor(spec: ServerSpec) {
    // Forked with this process's exec arguments, so the tsx loader comes along.
    this.child = fork(path.join(here, 'server.ts'), [JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (message: ChildMessage) => {
      if (message.type === 'log') return log(`  [server] ${message.line}`);
      if (message.type === 'failed') this.fail(new Error(`server process failed: ${message.error}`));
      const index = this.waiting.findIndex((entry) => entry.type === message.type);
      if (index >= 0) this.waiting.splice(index, 1)[0]?.resolve(message);
    });
    this.child.on('exit', (code) => this.fail(new Error(`server process exited (${code ?? 'signal'})`)));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const entry of this.waiting.splice(0)) entry.resolve({ type: 'failed', error: error.message });
  }

  async next<T extends ChildMessage['type']>(type: T, message?: ParentMessage): Promise<Extract<ChildMessage, { type: T }>> {
    if (this.failure) throw this.failure;
    const reply = new Promise<ChildMessage>((resolve) => this.waiting.push({ type, resolve }));
    if (message) this.child.send(message);
    const answer = await reply;
    if (answer.type === 'failed') throw new Error(answer.error);
    return answer as Extract<ChildMessage, { type: T }>;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    let patience: NodeJS.Timeout | undefined;
    try {
      await Promise.race([this.next('stopped', { type: 'stop' }), new Promise((resolve) => (patience = setTimeout(resolve, 60_000)))]);
    } catch {
      // already gone
    } finally {
      clearTimeout(patience);
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

async function measure(server: Server, run: () => Promise<LoadResult>): Promise<Omit<Measurement, 'db' | 'scenario' | 'target' | 'mode'>> {
  const before: Usage = await server.next('usage', { type: 'usage' });
  const cpuBefore = machineCpu();
  const result = await run();
  const cpuAfter = machineCpu();
  const after: Usage = await server.next('usage', { type: 'usage' });
  const active = after.eluActive - before.eluActive;
  const idle = after.eluIdle - before.eluIdle;
  return {
    result,
    serverCpuMs: result.responses > 0 ? (after.cpuMicros - before.cpuMicros) / 1000 / result.responses : Number.NaN,
    elu: active / Math.max(1e-9, active + idle),
    machineBusy: cpuBefore && cpuAfter ? (cpuAfter.busy - cpuBefore.busy) / Math.max(1, cpuAfter.total - cpuBefore.total) : null,
  };
}

function withAuth(target: Target, ready: Ready, factory: RequestFactory, port: number): RequestFactory {
  // Both targets get the same headers (the bare app ignores them), as a real client sends them.
  const authorization = `Basic ${Buffer.from(`${ready.generated.ownerEmail}/token:${ready.generated.token}`).toString('base64')}`;
  return (seq) => {
    const spec: RequestData = factory(seq);
    return { ...spec, headers: { host: `127.0.0.1:${port}`, authorization, ...(spec.headers ?? {}) } };
  };
}

async function benchDatabase(db: DbKind): Promise<DbRun> {
  log(`\n== ${db}: ${settings.users} users ==`);
  const server = new Server({ db, users: settings.users, seed: settings.seed, databaseUrl: settings.databaseUrl });
  const measurements: Measurement[] = [];
  try {
    const ready = await server.next('ready');
    log(`  Roster on :${ready.rosterPort}, bare on :${ready.barePort}; ${ready.serverVersion.split(' on ')[0]}`);
    for (const route of ready.profile) {
      log(`  ${route.route}: ${route.roster} SQL statements per request in Roster, ${route.bare} in the bare route${route.sameStatement ? ' (same statement)' : ''}`);
    }
    for (const scenario of SCENARIOS.filter((entry) => settings.scenarios.includes(entry.name))) {
      const targets = (['bare', 'roster'] as const).map((target) => {
        const port = target === 'roster' ? ready.rosterPort : ready.barePort;
        return { target, url: `http://127.0.0.1:${port}`, request: withAuth(target, ready, scenario.factory(target, ready), port) };
      });
      const report = (target: Target, mode: Mode, measured: Omit<Measurement, 'db' | 'scenario' | 'target' | 'mode'>, note = ''): void => {
        const r = measured.result;
        log(
          `  ${scenario.label.padEnd(34)} ${target.padEnd(6)} ${mode.padEnd(5)} ${r.rps.toFixed(0).padStart(6)} req/s  ` +
            `p50 ${ms(r.p50)}  p95 ${ms(r.p95)}  p99 ${ms(r.p99)}  cpu ${measured.serverCpuMs.toFixed(2)} ms/req${note}` +
            (r.failures > 0 ? `  ${mode === 'paced' ? 'not answered in time' : 'FAILURES'}: ${r.failures}` : ''),
        );
      };
      for (const { url, request } of targets) {
        if (settings.warmup > 0) await runAutocannon({ url, connections: settings.connections, duration: settings.warmup, request });
      }
      // Throughput: bare, Roster, then Roster, bare (ABBA), so a drift during the run (caches,
      // background work) weighs on both alike; the cell pools the repeats.
      if (settings.modes.includes('max')) {
        const runsOf = new Map<Target, Array<Omit<Measurement, 'db' | 'scenario' | 'target' | 'mode'>>>();
        for (let repeat = 0; repeat < settings.repeat; repeat += 1) {
          for (const { target, url, request } of repeat % 2 === 0 ? targets : [...targets].reverse()) {
            const measured = await measure(server, () => runAutocannon({ url, connections: settings.connections, duration: settings.duration, request }));
            report(target, 'max', measured, settings.repeat > 1 ? ` (run ${repeat + 1})` : '');
            runsOf.set(target, [...(runsOf.get(target) ?? []), measured]);
          }
        }
        for (const [target, list] of runsOf) {
          const mean = (pick: (m: (typeof list)[number]) => number): number => list.reduce((sum, m) => sum + pick(m), 0) / list.length;
          const rates = list.map((m) => m.result.rps);
          measurements.push({
            db,
            scenario: scenario.name,
            target,
            mode: 'max',
            result: pool(list.map((m) => m.result)),
            serverCpuMs: mean((m) => m.serverCpuMs),
            elu: mean((m) => m.elu),
            machineBusy: list.every((m) => m.machineBusy !== null) ? mean((m) => m.machineBusy ?? 0) : null,
            rpsRange: [Math.min(...rates), Math.max(...rates)],
          });
        }
      }
      for (const { target, url, request } of targets) {
        const max = measurements.find((m) => m.scenario === scenario.name && m.target === target && m.mode === 'max');
        const modes: Array<[Mode, () => Promise<LoadResult>]> = [
          ['rate', () => runAutocannon({ url, connections: settings.connections, duration: settings.duration, overallRate: settings.rate, request })],
          ['paced', () => runPaced({ url, rate: settings.rate, duration: settings.duration, request })],
        ];
        for (const [mode, run] of modes.filter(([name]) => settings.modes.includes(name))) {
          if (max && max.result.rps < settings.rate * 0.95) {
            log(`  ${scenario.label.padEnd(34)} ${target.padEnd(6)} ${mode.padEnd(5)} skipped: saturated below ${settings.rate} req/s`);
            continue;
          }
          const measured = await measure(server, run);
          measurements.push({ db, scenario: scenario.name, target, mode, ...measured });
          report(target, mode, measured);
        }
      }
    }
    return { db, ready, measurements };
  } finally {
    await server.stop();
  }
}

const num = (value: number, digits = 0): string => (Number.isFinite(value) ? value.toFixed(digits) : value === Number.POSITIVE_INFINITY ? '∞' : '–');
const ms = (value: number): string => num(value, 1).padStart(5);
/** p50 / p95 / p99; ∞ when more requests than that percentile's share did not complete. */
const lat = (r: LoadResult | undefined, skipped = '–'): string => (r ? `${num(r.p50, 1)} / ${num(r.p95, 1)} / ${num(r.p99, 1)}` : skipped);

function find(run: DbRun, scenario: string, target: Target, mode: Mode): Measurement | undefined {
  return run.measurements.find((m) => m.scenario === scenario && m.target === target && m.mode === mode);
}

/** One markdown table per database: both apps per route, the Roster/bare ratio, latency at the fixed rate. */
function tables(runs: DbRun[]): string {
  const out: string[] = [];
  for (const run of runs) {
    out.push(`### ${run.db === 'pglite' ? 'PGlite (embedded, one connection)' : `PostgreSQL (pool of ${run.ready.poolSize})`}`, '');
    out.push(
      `| route | app | max req/s (${settings.connections} conn.${settings.repeat > 1 ? `, mean of ${settings.repeat} runs (range)` : ''}) | ratio | p50 / p95 / p99 ms at max | autocannon ${settings.rate}/s p50 / p95 / p99 ms | paced ${settings.rate}/s p50 / p95 / p99 ms | server CPU ms/req | failures |`,
      '|---|---|--:|--:|--:|--:|--:|--:|--:|',
    );
    for (const scenario of SCENARIOS.filter((entry) => settings.scenarios.includes(entry.name))) {
      const bareMax = find(run, scenario.name, 'bare', 'max');
      for (const target of ['bare', 'roster'] as const) {
        const max = find(run, scenario.name, target, 'max');
        const rate = find(run, scenario.name, target, 'rate');
        const paced = find(run, scenario.name, target, 'paced');
        const ratio = target === 'roster' && max && bareMax ? `**${(max.result.rps / bareMax.result.rps).toFixed(2)}×**` : '';
        const failures = [max, rate].reduce((sum, m) => sum + (m?.result.failures ?? 0), 0);
        const saturated = max && max.result.rps < settings.rate * 0.95 ? `saturated (max < ${settings.rate}/s)` : '–';
        const dropped = paced && paced.result.failures > 0 ? ` (${paced.result.failures} not answered in time)` : '';
        out.push(
          `| ${target === 'bare' ? scenario.label.replace('|', '\\|') : ''} | ${target === 'roster' ? 'Roster' : 'bare'} | ${max ? `${num(max.result.rps)}${max.rpsRange && settings.repeat > 1 ? ` (${num(max.rpsRange[0])}–${num(max.rpsRange[1])})` : ''}` : '–'} | ${ratio} | ${lat(max?.result)} | ${lat(rate?.result, saturated)} | ${lat(paced?.result, saturated)}${dropped} | ${max ? num(max.serverCpuMs, 2) : '–'} | ${failures} |`,
        );
      }
    }
    out.push('');
  }
  return out.join('\n');
}

function version(pkg: string): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function report(runs: DbRun[], minutes: number): string {
  const cpu = os.cpus();
  const lines: string[] = [];
  lines.push(
    `Run of ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} — \`npm run bench -- --db ${flags.db} --users ${settings.users} --duration ${settings.duration} --repeat ${settings.repeat}${flags.scenarios === 'show,list,create' ? '' : ` --scenarios ${flags.scenarios}`}${flags.section ? ` --section ${flags.section}` : ''}\` (${minutes.toFixed(1)} min in all).`,
    '',
    `- Machine: ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}; load generator, Roster and PostgreSQL all on this box, loopback only.`,
    `- Software: Node ${process.version}, fastify ${version('fastify')}, kysely ${version('kysely')}, pg ${version('pg')}, @electric-sql/pglite ${version('@electric-sql/pglite')}, autocannon ${version('autocannon')}, @faker-js/faker ${version('@faker-js/faker')}.`,
  );
  for (const run of runs) {
    const g = run.ready.generated;
    lines.push(`- ${run.db}: ${run.ready.serverVersion.split(',')[0]}; ${g.users} users + ${g.identities} identities generated and loaded in ${(g.milliseconds / 1000).toFixed(1)} s.`);
  }
  lines.push(
    `- Each cell: ${settings.warmup} s warm-up, then ${settings.duration} s. *max*: autocannon, ${settings.connections} keep-alive connections, closed loop, run ${settings.repeat}× per app in ABBA order (bare, Roster, Roster, bare) and pooled. *autocannon ${settings.rate}/s*: the same with \`overallRate: ${settings.rate}\`. *paced ${settings.rate}/s*: open loop, one request every ${(1000 / settings.rate).toFixed(1)} ms, latency counted from the scheduled instant. Latencies are per-request, in ms, over 2xx responses. Rate limiting off (\`rateLimitPerMinute: 0\`). Roster requests authenticate with \`Basic owner/token:TOKEN\` (the owner is an admin); POSTs use a new email each.`,
    '',
    '#### SQL statements per request',
    '',
    '| route | ' + runs.map((run) => `Roster (${run.db})`).join(' | ') + ' | bare |',
    '|---|' + runs.map(() => '--:|').join('') + '--:|',
  );
  const first = runs[0];
  for (const route of first?.ready.profile ?? []) {
    const counts = runs.map((run) => String(run.ready.profile.find((entry) => entry.route === route.route)?.roster ?? '–'));
    lines.push(`| ${route.route} | ${counts.join(' | ')} | ${route.bare}${route.sameStatement ? ' (one of Roster\'s, same text)' : ''} |`);
  }
  lines.push('', tables(runs));
  const targets: string[] = [];
  for (const run of runs) {
    for (const scenario of SCENARIOS.filter((entry) => settings.scenarios.includes(entry.name))) {
      const roster = find(run, scenario.name, 'roster', 'max');
      const bare = find(run, scenario.name, 'bare', 'max');
      const paced = find(run, scenario.name, 'roster', 'paced');
      const ratio = roster && bare ? roster.result.rps / bare.result.rps : Number.NaN;
      targets.push(
        `| ${run.db} | ${scenario.label.replace('|', '\\|')} | ${num(ratio, 2)}× ${ratio >= 0.6 ? '✅' : '❌'} | ${paced ? `${num(paced.result.p99, 1)} ms ${paced.result.p99 < 25 ? '✅' : '❌'}` : `saturated below ${settings.rate}/s ❌`} |`,
      );
    }
  }
  lines.push('#### Against the targets (≥ 0.6× the bare route; p99 < 25 ms at ' + settings.rate + ' req/s, paced)', '', '| database | route | Roster/bare | Roster p99 |', '|---|---|--:|--:|', ...targets, '');
  return lines.join('\n');
}

const SECTION = flags.section ? `:${flags.section}` : '';
const BEGIN = `<!-- bench${SECTION}:begin (written by bench/run.ts; edit outside these markers) -->`;
const END = `<!-- bench${SECTION}:end -->`;

function writeResults(file: string, body: string): void {
  const block = `${BEGIN}\n${body}\n${END}`;
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : `# Benchmark results\n\n${BEGIN}\n${END}\n`;
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  text = start >= 0 && end > start ? text.slice(0, start) + block + text.slice(end + END.length) : `${text.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(file, text);
}

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    process.stderr.write('bench: giving up after 30 minutes\n');
    process.exit(2);
  }, 30 * 60_000);
  watchdog.unref();
  const runs: DbRun[] = [];
  for (const db of settings.dbs) runs.push(await benchDatabase(db));
  const minutes = process.uptime() / 60;
  const body = report(runs, minutes);
  log(`\n${tables(runs)}`);
  log(body.slice(body.indexOf('#### Against')));
  if (!flags['no-write']) {
    writeResults(flags.out, body);
    log(`Results written to ${path.relative(process.cwd(), flags.out)} (${minutes.toFixed(1)} min).`);
  }
  // Closed-loop runs must be clean; the paced run's unanswered requests are a result (overload), not an error.
  const failed = runs.some((run) => run.measurements.some((m) => m.mode !== 'paced' && m.result.failures > 0));
  if (failed) {
    process.stderr.write('bench: some requests failed (see the failures column): the numbers are not valid\n');
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

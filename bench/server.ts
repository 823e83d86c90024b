/**
 * The benchmark's server process (forked by bench/run.ts, so load generation and serving do
 * not share an event loop): generates the data, starts Roster and the bare app on loopback
 * ports over the same database, counts the SQL statements each route runs, then serves until
 * told to stop, and removes its data (temp PGlite directory or PostgreSQL schema).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { startRuntime, type Runtime } from '../src/server.ts';
import { bareStatements, buildBareApp } from './bare.ts';
import { generate, type Generated } from './generate.ts';

export type DbKind = 'pglite' | 'postgres';

export interface ServerSpec {
  db: DbKind;
  users: number;
  seed: number;
  databaseUrl: string;
}

export interface RouteProfile {
  route: string;
  /** SQL statements per request (pg-boss's own polling excluded). */
  roster: number;
  bare: number;
  /** The bare route's statement is one of those Roster runs for the request. */
  sameStatement: boolean;
  statements: string[];
}

export interface Ready {
  type: 'ready';
  rosterPort: number;
  barePort: number;
  generated: Generated;
  profile: RouteProfile[];
  serverVersion: string;
  poolSize: number;
}

export interface Usage {
  type: 'usage';
  cpuMicros: number;
  eluActive: number;
  eluIdle: number;
}

export type ChildMessage = Ready | Usage | { type: 'stopped' } | { type: 'log'; line: string } | { type: 'failed'; error: string };
export type ParentMessage = { type: 'usage' } | { type: 'stop' };

function send(message: ChildMessage): void {
  process.send?.(message);
}

const log = (line: string): void => send({ type: 'log', line });

/** Records every statement sent through node-postgres while `on` is set (PGlite goes through it too). */
function statementRecorder(): { start(): void; stop(): string[] } {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  let recording: string[] | null = null;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === 'string' ? first : (first as { text?: string } | null)?.text;
    if (recording && text && !/pgboss|_boss\b|_boss"/.test(text)) recording.push(text);
    return original.apply(this, args);
  };
  return {
    start: () => {
      recording = [];
    },
    stop: () => {
      const seen = recording ?? [];
      recording = null;
      return seen;
    },
  };
}

const compact = (text: string): string => text.replace(/\s+/g, ' ').trim();

async function profileRoutes(runtime: Runtime, bare: FastifyInstance, generated: Generated, accountId: number): Promise<RouteProfile[]> {
  const recorder = statementRecorder();
  const statements = bareStatements(runtime.database, accountId);
  const authorization = `Basic ${Buffer.from(`${generated.ownerEmail}/token:${generated.token}`).toString('base64')}`;
  const headers = { host: '127.0.0.1', authorization };
  const rounds = 20;
  const routes = [
    { route: 'GET /api/v2/users/{id}', method: 'GET' as const, url: (i: number) => `/api/v2/users/${generated.firstId + i * 97}`, body: undefined, bareSql: statements.showUser.sql },
    { route: 'GET /api/v2/users?page[size]=100', method: 'GET' as const, url: () => '/api/v2/users?page[size]=100', body: undefined, bareSql: statements.listUsers.sql },
    {
      route: 'POST /api/v2/users',
      method: 'POST' as const,
      url: () => '/api/v2/users',
      body: (i: number, who: string) => JSON.stringify({ user: { name: `Profile ${i}`, email: `profile-${who}-${i}@roster-bench.example` } }),
      bareSql: statements.createUser.sql,
    },
    {
      route: 'POST /api/v2/tickets (new requester)',
      method: 'POST' as const,
      url: () => '/api/v2/tickets',
      body: (i: number, who: string) => JSON.stringify({ ticket: { subject: `Profile ${i}`, comment: { body: 'Profile ticket' }, requester: { name: `Profile ${i}`, email: `profile-ticket-${who}-${i}@roster-bench.example` } } }),
      bareSql: statements.createTicket.sql,
    },
  ];
  const profiles: RouteProfile[] = [];
  for (const route of routes) {
    const counts: Record<'roster' | 'bare', number> = { roster: 0, bare: 0 };
    let rosterStatements: string[] = [];
    for (const [who, app] of [['roster', runtime.app], ['bare', bare]] as const) {
      recorder.start();
      for (let i = 0; i < rounds; i += 1) {
        const body = route.body?.(i, who);
        const response = await app.inject({
          method: route.method,
          url: route.url(i),
          headers: body ? { ...headers, 'content-type': 'application/json' } : headers,
          ...(body ? { payload: body } : {}),
        });
        if (response.statusCode >= 300) throw new Error(`${who} ${route.route}: HTTP ${response.statusCode} ${response.body.slice(0, 300)}`);
      }
      const seen = recorder.stop();
      counts[who] = seen.length / rounds;
      if (who === 'roster') rosterStatements = [...new Set(seen.map(compact))];
    }
    profiles.push({
      route: route.route,
      roster: counts.roster,
      bare: counts.bare,
      sameStatement: rosterStatements.includes(compact(route.bareSql)),
      statements: rosterStatements,
    });
  }
  return profiles;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as ServerSpec;
  const dataDir = spec.db === 'pglite' ? fs.mkdtempSync(path.join(os.tmpdir(), 'roster-bench-')) : 'memory://';
  const schema = spec.db === 'postgres' ? `bench_${crypto.randomBytes(5).toString('hex')}` : undefined;
  const databaseUrl = spec.db === 'postgres' ? spec.databaseUrl : undefined;
  let runtime: Runtime | undefined;
  let bare: FastifyInstance | undefined;

  const cleanup = async (): Promise<void> => {
    await bare?.close().catch(() => undefined);
    await runtime?.close().catch(() => undefined);
    if (spec.db === 'pglite') fs.rmSync(dataDir, { recursive: true, force: true });
    if (schema) {
      const admin = await openDatabase({ databaseUrl, dataDir: 'memory://', poolSize: 1 });
      try {
        await sql.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${schema}_boss" CASCADE`).execute(admin.db);
      } finally {
        await admin.close();
      }
    }
  };

  process.on('message', (message: ParentMessage) => {
    if (message.type === 'usage') {
      const cpu = process.cpuUsage();
      const elu = performance.eventLoopUtilization();
      send({ type: 'usage', cpuMicros: cpu.user + cpu.system, eluActive: elu.active, eluIdle: elu.idle });
    } else if (message.type === 'stop') {
      cleanup()
        .then(() => send({ type: 'stopped' }))
        .catch((error: unknown) => send({ type: 'failed', error: String(error) }))
        .finally(() => process.disconnect());
    }
  });

  try {
    log(`generating ${spec.users} users on ${spec.db}${schema ? ` (schema ${schema})` : ` (${dataDir})`}`);
    const generated = await generate({
      database: { dataDir, databaseUrl, schema },
      users: spec.users,
      seed: spec.seed,
      log,
    });
    log(`generated ${generated.users} users, ${generated.identities} identities in ${(generated.milliseconds / 1000).toFixed(1)} s`);
    const config = { ...loadConfig({}), dataDir, databaseUrl, host: '127.0.0.1', port: 0, rateLimitPerMinute: 0, logLevel: 'warn' };
    runtime = await startRuntime({ config, logger: false, ...(schema ? { schema } : {}) });
    await runtime.app.listen({ host: '127.0.0.1', port: 0 });
    bare = await buildBareApp(runtime.database, generated.accountId);
    await bare.listen({ host: '127.0.0.1', port: 0 });
    const profile = await profileRoutes(runtime, bare, generated, generated.accountId);
    const version = await runtime.database.pool.query<{ version: string }>('SELECT version()');
    send({
      type: 'ready',
      rosterPort: (runtime.app.server.address() as AddressInfo).port,
      barePort: (bare.server.address() as AddressInfo).port,
      generated,
      profile,
      serverVersion: version.rows[0]?.version ?? 'unknown',
      poolSize: runtime.database.pool.options.max ?? 0,
    });
  } catch (error) {
    send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    await cleanup().catch(() => undefined);
    process.disconnect();
  }
}

void main();

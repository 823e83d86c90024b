import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import type { DB } from './tables.ts';

// Ids are bigint sequences; Zendesk clients expect JSON numbers, and our ids stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Db = Kysely<DB>;

export interface Database {
  db: Db;
  pool: pg.Pool;
  kind: 'pglite' | 'postgres';
  close(): Promise<void>;
}

export class DatabaseStartError extends Error {}

export interface OpenOptions {
  /** PostgreSQL connection string; when absent the embedded PGlite is used. */
  databaseUrl?: string | undefined;
  /** PGlite data directory; `memory://` keeps everything in memory (tests). */
  dataDir: string;
  /** PostgreSQL only: put every table of this instance in its own schema (isolated test runs). */
  schema?: string | undefined;
  poolSize?: number;
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.schema, options.poolSize ?? 10);
  return openPglite(options.dataDir);
}

async function openPostgres(url: string, schema: string | undefined, max: number): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    ...(schema ? { options: `-c search_path=${schema},public` } : {}),
  });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it on the next checkout.
  });
  if (schema) {
    const client = await pool.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    } finally {
      client.release();
    }
  }
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    kind: 'postgres',
    close: async () => {
      await db.destroy();
    },
  };
}

const extensions = { pg_trgm, unaccent };

async function openPglite(dataDir: string): Promise<Database> {
  const inMemory = dataDir.startsWith('memory://');
  let releaseLock = (): void => {};
  let pgDataDir = dataDir;
  if (!inMemory) {
    fs.mkdirSync(dataDir, { recursive: true });
    releaseLock = takeLock(dataDir);
    pgDataDir = path.join(dataDir, 'pg');
    try {
      assertInitialisedOrEmpty(pgDataDir);
    } catch (error) {
      releaseLock();
      throw error;
    }
  }
  let lite: PGlite;
  try {
    lite = await PGlite.create(pgDataDir, { extensions });
  } catch (error) {
    releaseLock();
    throw new DatabaseStartError(
      `Could not open the embedded database in ${pgDataDir}: ${(error as Error).message}`,
    );
  }
  // PGlite runs one connection: a pool of one serialises queries the way PGlite needs.
  const pool = new pg.Pool(createPgConfig(lite) as unknown as pg.PoolConfig);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    db,
    pool,
    kind: 'pglite',
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await db.destroy();
        await lite.close();
      } finally {
        releaseLock();
      }
    },
  };
}

/**
 * PGlite does not lock its directory and two processes on one directory corrupt it,
 * so we hold a pid file for as long as the database is open.
 */
function takeLock(dataDir: string): () => void {
  const lockPath = path.join(dataDir, 'roster.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(lockPath, 'utf8') === String(process.pid)) fs.unlinkSync(lockPath);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(fs.readFileSync(lockPath, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new DatabaseStartError(
          `The data directory ${dataDir} is in use by another Roster process (pid ${holder}). ` +
            'Stop it first, or start this one with another DATA_DIR.',
        );
      }
      // A stale lock left by a process that died: take it over.
      fs.unlinkSync(lockPath);
    }
  }
  throw new DatabaseStartError(`Could not lock the data directory ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** An interrupted first initdb leaves a directory PGlite cannot open; say so instead of crashing later. */
function assertInitialisedOrEmpty(pgDataDir: string): void {
  if (!fs.existsSync(pgDataDir)) return;
  const entries = fs.readdirSync(pgDataDir);
  if (entries.length === 0) return;
  const complete =
    fs.existsSync(path.join(pgDataDir, 'PG_VERSION')) && fs.existsSync(path.join(pgDataDir, 'global', 'pg_control'));
  if (!complete) {
    throw new DatabaseStartError(
      `The embedded database directory ${pgDataDir} is only half initialised (an earlier first start was interrupted). ` +
        'Move it away or delete it, then start again.',
    );
  }
}

/**
 * Benchmark data: N users (default 100k) made with faker in four locales, loaded with batched
 * multi-row INSERTs into a database opened, migrated and bootstrapped by Roster's own code,
 * so the schema and the stored values are exactly what the app would have written.
 *
 *   npx tsx bench/generate.ts --users 100000 --data-dir /tmp/roster-bench        (PGlite)
 *   npx tsx bench/generate.ts --database-url postgres://… --schema bench_x       (PostgreSQL)
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fakerEN, fakerFR, fakerPT_BR, fakerZH_CN, type Faker } from '@faker-js/faker';
import { sql, type Insertable } from 'kysely';
import { ensureAccount } from '../src/accounts/bootstrap.ts';
import { issueApiToken } from '../src/auth/api-tokens.ts';
import { openDatabase, type Db, type OpenOptions } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import type { UserIdentitiesTable, UsersTable } from '../src/db/tables.ts';
import { parseUserInput } from '../src/users/user-input.ts';

export const OWNER_EMAIL = 'bench-owner@roster-bench.example';
const OWNER_PASSWORD = 'bench owner password, not secret';

export interface GenerateOptions {
  database: OpenOptions;
  users: number;
  seed?: number;
  batchSize?: number;
  log?: (line: string) => void;
}

export interface Generated {
  accountId: number;
  ownerEmail: string;
  /** A fresh API token of the account, for `Basic email/token:TOKEN`. */
  token: string;
  /** Generated user ids are contiguous: firstId … lastId. */
  firstId: number;
  lastId: number;
  users: number;
  identities: number;
  milliseconds: number;
}

interface LocaleProfile {
  faker: Faker;
  locale: string;
  zones: string[];
}

const LOCALES: LocaleProfile[] = [
  { faker: fakerEN, locale: 'en-US', zones: ['Eastern Time (US & Canada)', 'Central Time (US & Canada)', 'Pacific Time (US & Canada)', 'London', 'Sydney'] },
  { faker: fakerFR, locale: 'fr', zones: ['Paris', 'Europe/Brussels', 'America/Montreal'] },
  { faker: fakerPT_BR, locale: 'pt-BR', zones: ['Brasilia', 'Lisbon', 'America/Manaus'] },
  { faker: fakerZH_CN, locale: 'zh-CN', zones: ['Beijing', 'Hong Kong', 'Asia/Taipei'] },
];

/** Small deterministic PRNG (mulberry32) for the distributions; faker draws the text. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RawUser {
  raw: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

/** One user as a client would send it to POST /api/v2/users, plus plausible timestamps. */
export function fakeUser(index: number, random: () => number, now: number): RawUser {
  const profile = LOCALES[index % LOCALES.length] as LocaleProfile;
  const { faker } = profile;
  const firstName = faker.person.firstName();
  const lastName = faker.person.lastName();
  const name = faker.person.fullName({ firstName, lastName });
  // Unique by construction: the index goes into the local part.
  const email = faker.internet.email({ firstName, lastName }).replace('@', `.${index}@`);
  const roll = random();
  const role = roll < 0.005 ? 'admin' : roll < 0.05 ? 'agent' : 'end-user';
  const raw: Record<string, unknown> = {
    name,
    email,
    role,
    locale: profile.locale,
    time_zone: faker.helpers.arrayElement(profile.zones),
    verified: random() < 0.7,
  };
  if (random() < 0.4) raw.phone = faker.phone.number({ style: 'international' });
  if (random() < 0.6) raw.tags = faker.helpers.multiple(() => faker.word.noun(), { count: { min: 1, max: 4 } });
  if (random() < 0.3) raw.notes = faker.lorem.sentence();
  if (random() < 0.1) raw.details = faker.location.streetAddress({ useFullAddress: true });
  if (random() < 0.2) raw.external_id = `crm-${index}`;
  if (random() < 0.02) raw.suspended = true;
  const createdAt = now - Math.floor(random() * 5 * 365 * 86_400_000);
  const updatedAt = createdAt + Math.floor(random() * (now - createdAt));
  return { raw, createdAt: new Date(createdAt), updatedAt: new Date(updatedAt) };
}

/** Reserves `count` ids from the users sequence, so identities can reference them in the same batch. */
async function reserveUserIds(db: Db, count: number): Promise<number[]> {
  const result = await sql<{ id: number }>`SELECT nextval(pg_get_serial_sequence('users', 'id'))::bigint AS id FROM generate_series(1, ${count})`.execute(db);
  return result.rows.map((row) => Number(row.id));
}

export async function generateUsers(
  db: Db,
  accountId: number,
  options: { users: number; seed: number; batchSize: number; log: (line: string) => void },
): Promise<{ firstId: number; lastId: number; identities: number }> {
  const random = prng(options.seed);
  LOCALES.forEach((profile, index) => profile.faker.seed(options.seed * 31 + index));
  const now = Date.parse('2026-11-01T00:00:00Z');
  let firstId = 0;
  let lastId = 0;
  let identities = 0;
  let lastLog = Date.now();
  for (let offset = 0; offset < options.users; offset += options.batchSize) {
    const count = Math.min(options.batchSize, options.users - offset);
    const ids = await reserveUserIds(db, count);
    const users: Insertable<UsersTable>[] = [];
    const rows: Insertable<UserIdentitiesTable>[] = [];
    for (let i = 0; i < count; i += 1) {
      const id = ids[i] as number;
      const fake = fakeUser(offset + i, random, now);
      // The app's own validation and normalisation (keys, tags, time zones, locales).
      const input = parseUserInput(fake.raw, 'create');
      const { user_fields, ...columns } = input.columns;
      const role = columns.role ?? 'end-user';
      users.push({
        ...columns,
        account_id: accountId,
        id,
        name: columns.name ?? '',
        role,
        user_fields: JSON.stringify(user_fields ?? {}),
        restricted_agent: role !== 'end-user' && Boolean(columns.ticket_restriction),
        created_at: fake.createdAt,
        updated_at: fake.updatedAt,
      } as Insertable<UsersTable>);
      const verified = input.verified === true;
      const verifiedAt = verified ? fake.createdAt : null;
      for (const identity of [
        ...(input.email ? [{ type: 'email' as const, ...input.email }] : []),
        ...(input.phone ? [{ type: 'phone_number' as const, ...input.phone }] : []),
      ]) {
        rows.push({
          account_id: accountId,
          user_id: id,
          type: identity.type,
          value: identity.value,
          value_key: identity.key,
          primary: true,
          verified,
          verified_at: verifiedAt,
          verification_method: verified ? 'full' : 'none',
          created_at: fake.createdAt,
          updated_at: fake.createdAt,
        });
      }
      if (firstId === 0) firstId = id;
      lastId = id;
    }
    await db.transaction().execute(async (tx) => {
      await tx.insertInto('users').values(users).execute();
      await tx.insertInto('user_identities').values(rows).execute();
    });
    identities += rows.length;
    if (Date.now() - lastLog > 5_000) {
      lastLog = Date.now();
      options.log(`  … ${offset + count} users`);
    }
  }
  if (lastId - firstId + 1 !== options.users) throw new Error(`user ids are not contiguous (${firstId}…${lastId})`);
  return { firstId, lastId, identities };
}

/** Opens the database with Roster's code, migrates, bootstraps the account, loads the users, closes. */
export async function generate(options: GenerateOptions): Promise<Generated> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const database = await openDatabase(options.database);
  try {
    await migrateToLatest(database.db);
    const { account } = await ensureAccount(database.db, 'default', { name: 'Bench Owner', email: OWNER_EMAIL, password: OWNER_PASSWORD });
    const issued = await issueApiToken(database.db, account.id, null, 'benchmark');
    const { firstId, lastId, identities } = await generateUsers(database.db, account.id, {
      users: options.users,
      seed: options.seed ?? 20261121,
      batchSize: options.batchSize ?? 1000,
      log,
    });
    // Leave nothing for the background to do during the measurements: statistics for the planner
    // (PGlite runs no autovacuum), the visibility map (else autovacuum vacuums the freshly loaded
    // tables mid-run on PostgreSQL), and a checkpoint (needs superuser or pg_checkpoint: optional).
    await sql`VACUUM (ANALYZE)`.execute(database.db);
    await sql`CHECKPOINT`.execute(database.db).catch(() => undefined);
    return {
      accountId: account.id,
      ownerEmail: OWNER_EMAIL,
      token: issued.token,
      firstId,
      lastId,
      users: options.users,
      identities,
      milliseconds: Date.now() - started,
    };
  } finally {
    await database.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '100000' },
      seed: { type: 'string', default: '20261121' },
      'data-dir': { type: 'string', default: path.resolve('bench/out/data') },
      'database-url': { type: 'string' },
      schema: { type: 'string' },
    },
  });
  const result = await generate({
    database: { dataDir: values['data-dir'], databaseUrl: values['database-url'], schema: values.schema },
    users: Number(values.users),
    seed: Number(values.seed),
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(
    `${result.users} users (${result.identities} identities), ids ${result.firstId}–${result.lastId}, in ${(result.milliseconds / 1000).toFixed(1)} s\n` +
      `API token: ${result.ownerEmail}/token:${result.token}\n`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}

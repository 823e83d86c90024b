import crypto from 'node:crypto';
import pg from 'pg';
import type { Account } from '../db/tables.ts';
import type { Credentials } from './authenticate.ts';

/**
 * Every API request authenticates; a cache of *successful* authentications keeps that statement
 * off the hot path (bench/RESULTS.md: it was one of two statements on `GET /users/{id}`).
 *
 * Correctness rests on invalidation, per account, whenever anything that could change a cached
 * answer is written: every audited write that is not a plain `*.create` (a creation cannot make
 * a cached success wrong; a suspension, deletion, role, identity, password or token change can).
 * - In this process, `audit()` calls `invalidateCredentials` inside the writing transaction, so the
 *   writer's own next request (and every later one) sees the change.
 * - Other processes (PostgreSQL mode) hear it from a trigger on `audit_events` that sends
 *   `NOTIFY roster_credentials, '<account id>'` at commit; `CredentialListener` relays it here.
 * - An entry is stored only if no invalidation happened while its authentication ran, so a read
 *   that raced a write is never kept; entries also expire after TTL_MS, and OAuth tokens at
 *   their own expiry.
 * So the cached user row is exact for who the caller is and what they may do (role, custom role,
 * active, suspended); a field that a `*.create` write can change (the default organization or
 * group, after a membership is created) may lag: read such fields from the database.
 * Keys are HMACs of the Authorization header under a per-process random key: the cache never
 * holds a credential in clear, and its keys mean nothing outside this process.
 */
const TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

/** The rule the `audit_events` trigger applies too (migration 20261122001000). */
export const invalidatesCredentials = (action: string): boolean => !action.endsWith('.create');

interface Entry {
  credentials: Credentials;
  accountId: number;
  epoch: number;
  expiresAt: number;
}

const live = new Set<CredentialCache>();

/** Every cache of this process forgets the account's entries (called from the audit writer). */
export function invalidateCredentials(accountId: number): void {
  for (const cache of live) cache.invalidate(accountId);
}

export class CredentialCache {
  private readonly entries = new Map<string, Entry>();
  private readonly epochs = new Map<number, number>();
  private readonly hmacKey = crypto.randomBytes(32);
  /** Off while cross-process invalidation is not being heard (listener down). */
  private enabled = true;

  constructor() {
    live.add(this);
  }

  async authenticate(account: Account, header: string | undefined, load: () => Promise<Credentials>): Promise<Credentials> {
    if (header === undefined || header === '' || !this.enabled) return load();
    const key = crypto.createHmac('sha256', this.hmacKey).update(`${account.id}\n${header}`).digest('base64');
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit) {
      if (hit.epoch === this.epoch(account.id) && hit.expiresAt > now) return hit.credentials;
      this.entries.delete(key);
    }
    const epoch = this.epoch(account.id);
    const credentials = await load();
    if (credentials.user && this.enabled && epoch === this.epoch(account.id)) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
      const expiresAt = Math.min(now + TTL_MS, credentials.expiresAt?.getTime() ?? Infinity);
      this.entries.set(key, { credentials, accountId: account.id, epoch, expiresAt });
    }
    return credentials;
  }

  invalidate(accountId: number): void {
    this.epochs.set(accountId, this.epoch(accountId) + 1);
  }

  /** Forget everything and stop (or resume) caching. */
  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.entries.clear();
    for (const accountId of this.epochs.keys()) this.invalidate(accountId);
  }

  /** Forget every entry (tests that TRUNCATE behind the audit log's back). */
  clear(): void {
    this.entries.clear();
  }

  close(): void {
    live.delete(this);
    this.entries.clear();
  }

  private epoch(accountId: number): number {
    return this.epochs.get(accountId) ?? 0;
  }
}

/**
 * PostgreSQL mode: LISTEN for other processes' credential-changing writes. While the listening
 * connection is down the cache is disabled (every request authenticates against the database),
 * so a missed notification can never leave a stale entry in use.
 */
export class CredentialListener {
  private client: pg.Client | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly connectionString: string,
    private readonly schema: string | undefined,
    private readonly cache: CredentialCache,
  ) {}

  async start(): Promise<void> {
    this.cache.setEnabled(false);
    const client = new pg.Client({
      connectionString: this.connectionString,
      ...(this.schema ? { options: `-c search_path=${this.schema},public` } : {}),
    });
    const down = (): void => {
      if (this.client !== client) return;
      this.client = null;
      this.cache.setEnabled(false);
      client.end().catch(() => undefined);
      this.scheduleRetry();
    };
    client.on('error', down);
    client.on('end', down);
    client.on('notification', (message) => {
      const accountId = Number(message.payload);
      if (Number.isSafeInteger(accountId)) this.cache.invalidate(accountId);
    });
    this.client = client;
    try {
      await client.connect();
      await client.query('LISTEN roster_credentials');
      if (this.client === client && !this.closed) this.cache.setEnabled(true);
    } catch {
      down();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    this.cache.setEnabled(false);
    await client?.end().catch(() => undefined);
  }

  private scheduleRetry(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      if (!this.closed) void this.start();
    }, 1_000);
    this.retry.unref();
  }
}

import crypto from 'node:crypto';
import { CompiledQuery, sql } from 'kysely';
import PgBoss from 'pg-boss';
import type { Database } from '../db/database.ts';
import type { Account, JobStatusRow } from '../db/tables.ts';
import { AppError, errors } from '../http/errors.ts';
import type { Actor } from '../policy/policy.ts';
import { resolvePermissions } from '../roles/permissions.ts';
import type { Executor } from '../users/users.repository.ts';

/** Queued or running jobs one account may have at once (Zendesk's limit). */
export const MAX_OPEN_JOBS = 30;
const QUEUE = 'roster-item-jobs';
const DEAD_LETTER = 'roster-item-jobs-dead';
/**
 * A job still active after this long is presumed cut off (its process died) and is run again.
 * Safe even if it was merely slow: each item commits with a progress guard, so two runs of one
 * job cannot apply an item twice. Shared PostgreSQL deployments resume crashed jobs after this;
 * the embedded database (one process) resumes them at start-up.
 */
const ITEM_JOB_EXPIRY_SECONDS = 120;

export interface ItemResult {
  [key: string]: unknown;
}

export interface ItemContext {
  account: Account;
  actor: Actor | null;
}

/**
 * A job over a list of items. Each item runs in its own transaction together with the
 * job's progress and result, so a job interrupted anywhere resumes at the first item whose
 * effect was not committed — never doing one twice, never losing one.
 */
/**
 * The result entry of an item that failed with a domain error: the error's code and the names of
 * the fields with their descriptions — never the values sent (job results outlive the request).
 */
export function itemFailure(index: number, error: AppError, id?: number): ItemResult {
  return {
    index,
    ...(id !== undefined ? { id } : {}),
    success: false,
    status: 'Failed',
    error: error.code,
    details: error.details
      ? Object.entries(error.details).map(([field, list]) => `${field}: ${list.map((entry) => entry.description).join('; ')}`).join('. ')
      : error.description,
  };
}

export interface ItemJobDefinition<Item> {
  type: string;
  run(tx: Executor, context: ItemContext, item: Item, index: number): Promise<ItemResult>;
  /** The result entry for an item that failed with a domain error (it does not fail the job). */
  failure(item: Item, index: number, error: AppError): ItemResult;
}

/**
 * A job that keeps its own checkpoint instead of a list of items in job_statuses.payload (CSV
 * imports: hundreds of thousands of rows would not fit there). Each call runs one slice — its
 * work committed together with its checkpoint, batch by batch — and stops after a bounded time
 * saying whether work remains; the next slice is queued as a fresh run, so no single run outlives
 * the expiry after which a crashed run is resumed. `superseded`: another run moved the checkpoint
 * on (a run presumed dead was only slow); that run carries on, this one stops without a trace.
 */
export interface SlicedJobDefinition {
  type: string;
  sliced: true;
  runSlice(context: ItemContext & { jobId: string }, payload: unknown): Promise<'done' | 'more' | 'superseded'>;
  /** The job ended as failed (its starter can no longer act, or its retries ran out): release what it holds. */
  failed(accountId: number, jobId: string): Promise<void>;
}

/**
 * A recurring system job (no account, no actor): pg-boss's cron puts one run in its own queue on
 * schedule and any process runs it. `run` must be idempotent and work from the state of the
 * data as of `now` — a run missed while the service was down is made good by the next one, which
 * is also queued at every start.
 */
export interface ScheduledJobDefinition {
  /** Stable queue name. */
  name: string;
  /** Cron expression, in UTC. */
  cron: string;
  run(now: Date): Promise<void>;
}

/**
 * A queue of small durable tasks (one mail delivery): the data names records by id only, a task
 * is queued in the caller's transaction (it exists exactly when the records it names do), and a
 * task that throws is retried with doubling delays. `run` learns which attempt it is, so the last
 * one can record a final failure instead of throwing.
 */
export interface TaskQueueDefinition<Data extends object> {
  name: string;
  retryLimit: number;
  retryDelaySeconds: number;
  expireInSeconds: number;
  run(data: Data, attempt: { retryCount: number; retryLimit: number }): Promise<void>;
}

/** A scheduled run cut off by a crash is run again after this long (each run is idempotent). */
const SCHEDULED_JOB_EXPIRY_SECONDS = 15 * 60;

interface QueueData {
  accountId: number;
  jobId: string;
}

/**
 * pg-boss's own connection to our pool. pg-boss records a job's outcome without awaiting it
 * (`complete`/`fail` after the handler returns), so a stop could close the database under such a
 * write and crash the process with an unhandled rejection. `close` waits for the queries in
 * flight; a query pg-boss sends after that is parked (never answered, never run): the process is
 * shutting down, and the job it concerns is still active in pg-boss, to be resumed on the next
 * start like any job cut off by a crash.
 */
class BossConnection {
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly executor: Executor) {}

  readonly db: PgBoss.Db = {
    executeSql: async (text: string, values: unknown[] = []) => {
      if (this.closed) return new Promise<never>(() => undefined);
      const query = this.executor.executeQuery(CompiledQuery.raw(text, values));
      this.inFlight.add(query);
      try {
        return { rows: (await query).rows as unknown[] as never[] };
      } finally {
        this.inFlight.delete(query);
      }
    },
  };

  open(): void {
    this.closed = false;
  }

  /** Waits until pg-boss has no query in flight, then parks any later one. */
  async close(settle: () => Promise<void>): Promise<void> {
    do {
      await settle();
      // Let pg-boss's post-handler bookkeeping start before looking for it.
      await new Promise((resolve) => setImmediate(resolve));
      await Promise.allSettled([...this.inFlight]);
    } while (this.inFlight.size > 0);
    this.closed = true;
  }
}

/** pg-boss talks to the database through our pool (PGlite has one connection) or a transaction. */
function bossDb(executor: Executor): PgBoss.Db {
  return {
    executeSql: async (text: string, values: unknown[] = []) => {
      const result = await executor.executeQuery(CompiledQuery.raw(text, values));
      return { rows: result.rows as unknown[] as never[] };
    },
  };
}

export interface JobsOptions {
  /** Only one process can use the database (PGlite): jobs left active by a crash are ours to resume at once. */
  soleProcess: boolean;
  /** pg-boss schema (test runs on a shared PostgreSQL use one each). */
  schema?: string;
  pollingIntervalSeconds?: number;
  work?: boolean;
  /** Attempts after the first, and the first delay (doubling); defaults 5 and 2 s. */
  retryLimit?: number;
  retryDelaySeconds?: number;
}

export class Jobs {
  private readonly boss: PgBoss;
  private readonly definitions = new Map<string, ItemJobDefinition<never> | SlicedJobDefinition>();
  private readonly scheduled = new Map<string, ScheduledJobDefinition>();
  private readonly taskQueues = new Map<string, TaskQueueDefinition<object>>();
  private readonly taskWorkers = new Map<string, string>();
  private workerId: string | undefined;
  private started = false;
  private readonly running = new Set<Promise<unknown>>();
  private readonly connection: BossConnection;

  constructor(
    private readonly database: Database,
    private readonly options: JobsOptions,
  ) {
    this.connection = new BossConnection(database.db);
    this.boss = new PgBoss({
      db: this.connection.db,
      schema: options.schema ?? 'pgboss',
      // Maintenance every few minutes is plenty; the default (every ~2 min with 2 s jitter) is fine for PostgreSQL.
      superviseIntervalSeconds: 60,
    } as PgBoss.ConstructorOptions);
    this.boss.on('error', () => {
      // pg-boss retries its own maintenance; errors here never carry job data and need no action.
    });
  }

  define<Item>(definition: ItemJobDefinition<Item> | SlicedJobDefinition): void {
    this.definitions.set(definition.type, definition as unknown as ItemJobDefinition<never>);
  }

  schedule(definition: ScheduledJobDefinition): void {
    this.scheduled.set(definition.name, definition);
  }

  defineTaskQueue<Data extends object>(definition: TaskQueueDefinition<Data>): void {
    this.taskQueues.set(definition.name, definition as unknown as TaskQueueDefinition<object>);
  }

  /** Queues a task inside the caller's transaction: it runs once that transaction commits. */
  async sendTask(tx: Executor, name: string, data: object): Promise<void> {
    if (!this.taskQueues.has(name)) throw new Error(`Unknown task queue ${name}`);
    await this.boss.send(name, data, { db: bossDb(tx) });
    const worker = this.taskWorkers.get(name);
    // The task becomes visible at commit; a poll soon after picks it up.
    if (worker) setTimeout(() => this.boss.notifyWorker(worker), 50).unref();
  }

  async start(): Promise<void> {
    this.connection.open();
    await this.boss.start();
    await this.boss.createQueue(DEAD_LETTER);
    // Retries cover transient failures (database restarts); the dead-letter queue makes a job that
    // exhausted them visibly failed instead of silently gone.
    const queue = {
      name: QUEUE,
      retryLimit: this.options.retryLimit ?? 5,
      retryDelay: this.options.retryDelaySeconds ?? 2,
      retryBackoff: true,
      expireInSeconds: ITEM_JOB_EXPIRY_SECONDS,
      deadLetter: DEAD_LETTER,
    };
    await this.boss.createQueue(QUEUE, queue);
    await this.boss.updateQueue(QUEUE, queue);
    await this.createTaskQueues();
    if (this.options.soleProcess) await this.resumeInterrupted();
    this.started = true;
    if (this.options.work === false) return;
    const polling = { pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 1, batchSize: 1 };
    this.workerId = await this.boss.work<QueueData>(QUEUE, polling, async ([job]) => {
      if (job) await this.track(this.process(job.data));
    });
    await this.boss.work<QueueData>(DEAD_LETTER, polling, async ([job]) => {
      if (job) await this.track(this.markFailed(job.data, 'The job failed after several attempts; no further items were processed'));
    });
    await this.startScheduled(polling);
    await this.startTaskQueues(polling);
  }

  private async createTaskQueues(): Promise<void> {
    for (const definition of this.taskQueues.values()) {
      const queue = { name: definition.name, retryLimit: definition.retryLimit, retryDelay: definition.retryDelaySeconds, retryBackoff: true, expireInSeconds: definition.expireInSeconds };
      await this.boss.createQueue(definition.name, queue);
      await this.boss.updateQueue(definition.name, queue);
    }
  }

  private async startTaskQueues(polling: { pollingIntervalSeconds: number; batchSize: number }): Promise<void> {
    for (const definition of this.taskQueues.values()) {
      const worker = await this.boss.work<object>(definition.name, { ...polling, includeMetadata: true }, async ([job]) => {
        if (job) await this.track(definition.run(job.data, { retryCount: job.retryCount, retryLimit: job.retryLimit }));
      });
      this.taskWorkers.set(definition.name, worker);
    }
  }

  /**
   * Scheduled jobs: a `stately` queue holds at most one waiting and one running instance, so a
   * slow run and the next tick never pile up; a run is also queued now, so work that fell due
   * while the service was down is done at start-up rather than at the next tick.
   */
  private async startScheduled(polling: { pollingIntervalSeconds: number; batchSize: number }): Promise<void> {
    for (const definition of this.scheduled.values()) {
      const queue = { name: definition.name, policy: 'stately' as const, retryLimit: 3, retryDelay: 30, expireInSeconds: SCHEDULED_JOB_EXPIRY_SECONDS };
      await this.boss.createQueue(definition.name, queue);
      await this.boss.updateQueue(definition.name, queue);
      await this.boss.schedule(definition.name, definition.cron, {}, { tz: 'UTC' });
      await this.boss.work(definition.name, polling, async () => {
        await this.track(definition.run(new Date()));
      });
      await this.boss.send(definition.name, {});
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    // Long enough for a running job to finish under load: pg-boss records a job's outcome after
    // its handler returns, and past the timeout that write could reach an already closed database.
    await this.boss.stop({ graceful: true, wait: true, timeout: 60_000 });
    await this.connection.close(async () => {
      while (this.running.size > 0) await Promise.allSettled([...this.running]);
    });
  }

  private async track<T>(promise: Promise<T>): Promise<T> {
    this.running.add(promise);
    try {
      return await promise;
    } finally {
      this.running.delete(promise);
    }
  }

  /** With a single process, an active job at start-up was cut off by a crash: put it back to work now. */
  private async resumeInterrupted(): Promise<void> {
    const schema = this.options.schema ?? 'pgboss';
    // Task queues too (a mail delivery cut off mid-send is retried now, not after its expiry).
    for (const name of [QUEUE, ...this.taskQueues.keys()]) {
      const active = await sql<{ id: string }>`SELECT id::text AS id FROM ${sql.table(`${schema}.job`)} WHERE name = ${name} AND state = 'active'`.execute(this.database.db);
      const ids = active.rows.map((row) => row.id);
      if (ids.length > 0) await this.boss.fail(name, ids);
    }
  }

  /** Records the job and queues it in one transaction: a job is never listed but unqueued. */
  async enqueue(account: Account, actor: Actor | null, type: string, items: unknown[]): Promise<JobStatusRow> {
    return this.record(account, actor, type, items.length, items);
  }

  /**
   * Records and queues a sliced job; `prepare` writes the job's own records (its checkpoint) in
   * the same transaction, so neither exists without the other.
   */
  async enqueueSliced(account: Account, actor: Actor | null, type: string, total: number, payload: unknown, prepare: (tx: Executor, jobId: string) => Promise<void>): Promise<JobStatusRow> {
    return this.record(account, actor, type, total, payload, prepare);
  }

  private async record(account: Account, actor: Actor | null, type: string, total: number, payload: unknown, prepare?: (tx: Executor, jobId: string) => Promise<void>): Promise<JobStatusRow> {
    if (!this.definitions.has(type)) throw new Error(`Unknown job type ${type}`);
    const id = crypto.randomUUID();
    const row = await this.database.db.transaction().execute(async (tx) => {
      // Serialise enqueues per account so the open-job limit cannot be raced past.
      await sql`SELECT pg_advisory_xact_lock(7213, ${account.id}::int)`.execute(tx);
      const open = await tx
        .selectFrom('job_statuses')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('account_id', '=', account.id)
        .where('status', 'in', ['queued', 'working'])
        .executeTakeFirstOrThrow();
      if (Number(open.n) >= MAX_OPEN_JOBS) throw errors.tooManyJobs();
      const inserted = await tx
        .insertInto('job_statuses')
        .values({
          account_id: account.id,
          id: id.replaceAll('-', ''),
          job_type: type,
          status: 'queued',
          total,
          results: JSON.stringify([]),
          payload: JSON.stringify(payload),
          actor_id: actor?.id ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      if (prepare) await prepare(tx, inserted.id);
      await this.boss.send(QUEUE, { accountId: account.id, jobId: inserted.id } satisfies QueueData, { id, db: bossDb(tx) });
      return inserted;
    });
    if (this.workerId) this.boss.notifyWorker(this.workerId);
    return row;
  }

  private async process(data: QueueData): Promise<void> {
    const db = this.database.db;
    const status = await findJobStatus(db, data.accountId, data.jobId);
    if (!status || status.status === 'completed' || status.status === 'failed') return;
    const definition = this.definitions.get(status.job_type);
    if (!definition) return this.markFailed(data, 'This kind of job is not known to this version of Roster');
    const account = await db.selectFrom('accounts').selectAll().where('id', '=', data.accountId).executeTakeFirst();
    if (!account) return;
    // The actor's permissions as they are now, not when the job was queued: a role taken away stops the job's work.
    const actorRow =
      status.actor_id === null
        ? undefined
        : await db
            .selectFrom('users as u')
            .leftJoin('custom_roles as r', (join) => join.onRef('r.account_id', '=', 'u.account_id').onRef('r.id', '=', 'u.custom_role_id'))
            .select(['u.id', 'u.role', 'u.is_owner', 'u.active', 'u.suspended', 'r.configuration'])
            .where('u.account_id', '=', data.accountId)
            .where('u.id', '=', status.actor_id)
            .executeTakeFirst();
    const actor: Actor | null = actorRow
      ? { id: actorRow.id, role: actorRow.role, is_owner: actorRow.is_owner, active: actorRow.active, suspended: actorRow.suspended, permissions: resolvePermissions(actorRow.role, actorRow.configuration) }
      : null;
    const items = (status.payload as unknown[] | null) ?? [];
    await setState(db, data, { status: 'working' });
    const context: ItemContext = { account, actor: actor && actor.active && !actor.suspended ? actor : null };
    if (status.actor_id !== null && !context.actor) {
      return this.markFailed(data, 'The user who started this job can no longer act');
    }
    if ('sliced' in definition) {
      const outcome = await definition.runSlice({ ...context, jobId: data.jobId }, status.payload);
      if (outcome === 'more') {
        await this.boss.send(QUEUE, data);
        if (this.workerId) this.boss.notifyWorker(this.workerId);
      }
      if (outcome === 'done') await setState(db, data, { status: 'completed', message: `Completed at ${new Date().toISOString()}`, payload: null, completed_at: new Date() });
      return;
    }

    for (let index = status.progress; index < items.length; index += 1) {
      // The embedded database answers through promises alone, never through I/O: without this
      // yield a long job would hold the event loop and starve every API request until it ends.
      await new Promise((resolve) => setImmediate(resolve));
      const item = items[index] as never;
      let result: ItemResult;
      try {
        result = await db.transaction().execute(async (tx) => {
          const itemResult = await definition.run(tx, context, item, index);
          await recordItem(tx, data, index, itemResult);
          return itemResult;
        });
        continue;
      } catch (error) {
        if (error instanceof AlreadyRecorded) continue;
        if (!(error instanceof AppError)) throw error; // infrastructure trouble: let pg-boss retry the job
        result = definition.failure(item, index, error);
      }
      await db
        .transaction()
        .execute((tx) => recordItem(tx, data, index, result))
        .catch((error: unknown) => {
          if (!(error instanceof AlreadyRecorded)) throw error;
        });
    }
    await setState(db, data, {
      status: 'completed',
      message: `Completed at ${new Date().toISOString()}`,
      payload: null,
      completed_at: new Date(),
    });
  }

  private async markFailed(data: QueueData, message: string): Promise<void> {
    await setState(this.database.db, data, { status: 'failed', message, payload: null, completed_at: new Date() });
    const status = await findJobStatus(this.database.db, data.accountId, data.jobId);
    const definition = status ? this.definitions.get(status.job_type) : undefined;
    if (definition && 'sliced' in definition) await definition.failed(data.accountId, data.jobId);
  }
}

/** Another run already committed this item: roll this attempt back and move on. */
class AlreadyRecorded extends Error {}

async function recordItem(tx: Executor, data: QueueData, index: number, result: ItemResult): Promise<void> {
  // Guarded by progress so a re-run after a crash cannot apply or append the same item twice.
  const updated = await tx
    .updateTable('job_statuses')
    .set({
      progress: index + 1,
      results: sql`results || ${JSON.stringify([result])}::jsonb` as never,
      updated_at: new Date(),
    })
    .where('account_id', '=', data.accountId)
    .where('id', '=', data.jobId)
    .where('progress', '=', index)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) throw new AlreadyRecorded();
}

async function setState(
  db: Executor,
  data: QueueData,
  patch: { status: JobStatusRow['status']; message?: string; payload?: null; completed_at?: Date },
): Promise<void> {
  await db
    .updateTable('job_statuses')
    .set({ ...patch, updated_at: new Date() })
    .where('account_id', '=', data.accountId)
    .where('id', '=', data.jobId)
    .where('status', 'not in', ['completed', 'failed'])
    .execute();
}

export async function findJobStatus(db: Executor, accountId: number, id: string): Promise<JobStatusRow | undefined> {
  return db.selectFrom('job_statuses').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

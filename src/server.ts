import type { FastifyBaseLogger } from 'fastify';
import { AccountCache } from './accounts/resolve-account.ts';
import { buildApp, type App } from './app.ts';
import { CredentialCache, CredentialListener } from './auth/credential-cache.ts';
import type { Config } from './config.ts';
import { openDatabase, type Database } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { Jobs } from './jobs/jobs.ts';
import { userJobs } from './users/users.jobs.ts';
import { organizationJobs } from './organizations/organizations.jobs.ts';
import { groupJobs } from './groups/groups.jobs.ts';
import { createFileStorage, type FileStorage } from './tickets/storage.ts';
import { ticketJobs } from './tickets/tickets.jobs.ts';
import { deletedTicketJobs } from './tickets/deleted-tickets.jobs.ts';
import { autoCloseJob } from './tickets/close-solved-tickets.ts';
import { expireUploadsJob } from './tickets/expire-uploads.ts';
import { lifecycleJobs } from './lifecycle/destroy-users.jobs.ts';
import { purgeDeletedUsersJob } from './lifecycle/purge-deleted-users.ts';
import { importJobs } from './imports/imports.jobs.ts';
import { sweepImportFilesJob } from './imports/sweep-import-files.ts';
import { exportJobs, sweepExportFilesJob } from './privacy/exports/data-exports.ts';
import { exportFilesFor } from './privacy/exports/export-files.ts';
import { erasureJobs } from './privacy/erasure/erasure.jobs.ts';
import { Mail } from './mail/outbox.ts';

export interface Runtime {
  app: App;
  accounts: AccountCache;
  credentials: CredentialCache;
  database: Database;
  jobs: Jobs;
  storage: FileStorage;
  mail: Mail;
  close(): Promise<void>;
}

export interface StartOptions {
  config: Config;
  logger?: boolean | object;
  /** PostgreSQL only: keep this instance's tables in their own schema (tests). */
  schema?: string;
  jobPollingSeconds?: number;
}

/** Opens the database, migrates it, starts the job workers and builds the app (not yet listening). */
export async function startRuntime(options: StartOptions): Promise<Runtime> {
  const { config } = options;
  const schema = config.databaseUrl ? (options.schema ?? config.databaseSchema) : undefined;
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema });
  let jobs: Jobs | undefined;
  const credentials = new CredentialCache();
  // PGlite serves one process (it holds a lock), so only PostgreSQL needs to hear other processes.
  const listener = config.databaseUrl ? new CredentialListener(config.databaseUrl, schema, credentials) : null;
  try {
    await migrateToLatest(database.db);
    // Before the jobs: permanently deleting tickets removes their files.
    const storage = createFileStorage(config.dataDir);
    jobs = new Jobs(database, {
      soleProcess: database.kind === 'pglite',
      ...(schema ? { schema: `${schema}_boss` } : {}),
      ...(options.jobPollingSeconds ? { pollingIntervalSeconds: options.jobPollingSeconds } : {}),
    });
    const mail = new Mail(database, jobs, {
      smtpUrl: config.smtpUrl,
      from: config.mailFrom,
      publicUrl: config.publicUrl,
      baseDomain: config.baseDomain,
      port: config.port,
      retryLimit: config.mailRetryLimit,
      retryDelaySeconds: config.mailRetryDelaySeconds,
    });
    for (const definition of userJobs(mail)) jobs.define(definition as never);
    for (const definition of organizationJobs) jobs.define(definition as never);
    for (const definition of groupJobs) jobs.define(definition as never);
    for (const definition of ticketJobs) jobs.define(definition as never);
    for (const definition of deletedTicketJobs(storage)) jobs.define(definition as never);
    for (const definition of importJobs(database, mail)) jobs.define(definition);
    for (const definition of erasureJobs(database, storage)) jobs.define(definition);
    jobs.schedule(sweepImportFilesJob(database, config.dataDir));
    // Personal-data and users exports; their files share one instance with the routes (exportFilesFor).
    for (const definition of exportJobs(database, exportFilesFor(database, config.dataDir))) jobs.define(definition);
    jobs.schedule(sweepExportFilesJob(database, exportFilesFor(database, config.dataDir)));
    jobs.schedule(autoCloseJob(database));
    for (const definition of lifecycleJobs) jobs.define(definition as never);
    jobs.schedule(expireUploadsJob(database, storage));
    jobs.schedule(purgeDeletedUsersJob(database, storage));
    await jobs.start();
    await listener?.start();
    const accounts = new AccountCache(database.db);
    const app = await buildApp({ config, database, jobs, accounts, credentials, storage, mail, ...(options.logger !== undefined ? { logger: options.logger } : {}) });
    const running = jobs;
    let closed = false;
    return {
      app,
      accounts,
      credentials,
      database,
      jobs: running,
      storage,
      mail,
      close: async () => {
        if (closed) return;
        closed = true;
        await app.close();
        await listener?.close();
        credentials.close();
        await running.stop();
        mail.close();
        await database.close();
      },
    };
  } catch (error) {
    await listener?.close();
    credentials.close();
    await jobs?.stop().catch(() => undefined);
    await database.close();
    throw error;
  }
}

/** Closes cleanly on SIGINT/SIGTERM (PGlite must flush and release its lock). */
export function closeOnSignals(runtime: Runtime, log: FastifyBaseLogger): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    runtime
      .close()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

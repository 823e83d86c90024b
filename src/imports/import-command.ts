import fs from 'node:fs';
import cliProgress from 'cli-progress';
import type { Config } from '../config.ts';
import { findAccountBySubdomain } from '../accounts/accounts.repository.ts';
import { startRuntime } from '../server.ts';
import { createUserImport, storeImportUpload } from './create-import.ts';
import { importDb, type ImportRow } from './import-tables.ts';
import { REPORT_HEADER, reportLine } from './imports.presenter.ts';

export interface ImportCommandOptions {
  account: string;
  dryRun?: boolean;
  update?: boolean;
  report?: string;
}

/**
 * `npm run cli -- import users.csv [--dry-run] [--update] [--account SUB] [--report FILE]`: the
 * same import the API runs — the file stored and checked, then the durable job, run here by this
 * process's job workers — with a progress bar. Interrupted (Ctrl-C, a crash), the job is resumed
 * by the next `serve` or import on the same database from its last committed batch. It runs as
 * the system, like the other commands: there is no signed-in admin on a terminal.
 */
export async function runImportCommand(config: Config, file: string, options: ImportCommandOptions, out: (line: string) => void): Promise<ImportRow> {
  const runtime = await startRuntime({ config, jobPollingSeconds: 0.5 });
  const stop = () => {
    void runtime.close().then(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const account = await findAccountBySubdomain(runtime.database.db, options.account);
    if (!account) throw new Error(`No account "${options.account}": start the server once (it creates the default account) or create it with accounts:create`);
    const stored = await storeImportUpload(fs.createReadStream(file), config.dataDir);
    const { import: created } = await createUserImport(runtime, account, null, stored, { dryRun: options.dryRun === true, update: options.update === true });
    out(`Import ${created.id}: ${created.total} rows${created.dry_run ? ' (dry run: nothing will change)' : ''}${created.update ? ', updating existing users' : ', existing users left unchanged'}.`);
    const bar = new cliProgress.SingleBar(
      { format: '{bar} {percentage}% | {value}/{total} rows | {created} created, {updated} updated, {unchanged} unchanged, {rejected} rejected | {duration_formatted}', hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(created.total, 0, { created: 0, updated: 0, unchanged: 0, rejected: 0 });
    let state = created;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      state = await importDb(runtime.database.db).selectFrom('imports').selectAll().where('account_id', '=', account.id).where('id', '=', created.id).executeTakeFirstOrThrow();
      bar.update(state.processed, { created: state.created, updated: state.updated, unchanged: state.unchanged, rejected: state.rejected });
      if (state.status === 'completed' || state.status === 'failed') break;
    }
    bar.stop();
    if (state.status === 'failed') throw new Error(`Import ${state.id} failed; see GET /api/v2/job_statuses/${state.job_id}`);
    const verb = state.dry_run ? 'would be ' : '';
    out(`${state.created} ${verb}created, ${state.updated} ${verb}updated, ${state.unchanged} unchanged, ${state.rejected} rejected.`);
    const rejected = await importDb(runtime.database.db).selectFrom('import_rows').selectAll().where('account_id', '=', account.id).where('import_id', '=', state.id).where('status', '=', 'rejected').orderBy('row_number').limit(20).execute();
    for (const row of rejected) out(`  row ${row.row_number}: ${row.description ?? row.error ?? 'rejected'}`);
    if (state.rejected > rejected.length) out(`  … and ${state.rejected - rejected.length} more rejected rows`);
    if (options.report) {
      await writeReport(runtime.database.db, account.id, state.id, options.report);
      out(`Report written to ${options.report}`);
    } else out(`Full report: GET /api/v2/imports/${state.id}/report (or --report FILE)`);
    return state;
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    await runtime.close();
  }
}

async function writeReport(db: Parameters<typeof importDb>[0], accountId: number, importId: number, target: string): Promise<void> {
  const stream = fs.createWriteStream(target);
  stream.write(REPORT_HEADER);
  let after = 0;
  for (;;) {
    const rows = await importDb(db).selectFrom('import_rows').selectAll().where('account_id', '=', accountId).where('import_id', '=', importId).where('row_number', '>', after).orderBy('row_number').limit(1000).execute();
    if (rows.length === 0) break;
    stream.write(rows.map(reportLine).join(''));
    after = rows[rows.length - 1]?.row_number ?? after;
  }
  await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

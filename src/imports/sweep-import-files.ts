import fs from 'node:fs';
import path from 'node:path';
import type { Database } from '../db/database.ts';
import type { ScheduledJobDefinition } from '../jobs/jobs.ts';
import { importDirectory } from './csv-file.ts';
import { importDb } from './import-tables.ts';

/** An upload younger than this may still be on its way to becoming an import. */
const GRACE_MILLISECONDS = 60 * 60 * 1000;

/**
 * Uploads no import refers to — a process that died while a file was arriving or being checked,
 * before its import was recorded — are deleted once they are an hour old: they hold personal
 * data and nothing will ever read them. Idempotent; run hourly and at every start.
 */
export async function sweepImportFiles(database: Database, dataDir: string, now: Date): Promise<number> {
  const directory = importDirectory(dataDir);
  let names: string[];
  try {
    names = await fs.promises.readdir(directory);
  } catch {
    return 0;
  }
  const referenced = new Set(
    (await importDb(database.db).selectFrom('imports').select('file_path').where('file_path', 'is not', null).execute()).map((row) => row.file_path),
  );
  let removed = 0;
  for (const name of names) {
    const file = path.join(directory, name);
    if (referenced.has(file)) continue;
    const stat = await fs.promises.stat(file).catch(() => undefined);
    if (!stat?.isFile() || now.getTime() - stat.mtimeMs < GRACE_MILLISECONDS) continue;
    await fs.promises.rm(file, { force: true });
    removed += 1;
  }
  return removed;
}

export function sweepImportFilesJob(database: Database, dataDir: string): ScheduledJobDefinition {
  return {
    name: 'roster-import-files-sweep',
    cron: '17 * * * *',
    run: async (now) => {
      await sweepImportFiles(database, dataDir, now);
    },
  };
}

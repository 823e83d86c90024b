import type { TestApp, Caller } from '../helpers.ts';

export interface ExportResult {
  exported: Record<string, unknown>;
  downloadUrl: string;
  /** The path and query of the signed link (inject takes a path). */
  downloadPath: string;
}

export function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

/** Waits for an export's job (as the owner, who sees every job, unless `jobAs`), then reads the export as `as`. */
export async function finishedExport(t: TestApp, created: { json(): Record<string, unknown>; statusCode: number; body: string }, key: 'personal_data_export' | 'users_export', as?: Caller, jobAs?: Caller): Promise<ExportResult> {
  if (created.statusCode !== 200) throw new Error(`export request: ${created.statusCode} ${created.body}`);
  const body = created.json() as Record<string, { id: number | string }>;
  const job = await t.waitForJob(String(body.job_status?.id), jobAs);
  if (job.status !== 'completed') throw new Error(`export job: ${JSON.stringify(job)}`);
  const path = key === 'personal_data_export' ? 'personal_data_exports' : 'users/exports';
  const shown = await t.request('GET', `/api/v2/${path}/${body[key]?.id}`, { as: as ?? t.owner });
  if (shown.statusCode !== 200) throw new Error(`export show: ${shown.statusCode} ${shown.body}`);
  const exported = shown.json()[key] as Record<string, unknown>;
  const downloadUrl = String(exported.download_url);
  return { exported, downloadUrl, downloadPath: pathOf(downloadUrl) };
}

export async function personalExport(t: TestApp, userId: number | 'me', as?: Caller): Promise<{ document: Record<string, unknown>; result: ExportResult }> {
  const created = await t.request('POST', `/api/v2/users/${userId}/personal_data_exports`, { as: as ?? t.owner });
  const result = await finishedExport(t, created, 'personal_data_export', as);
  const downloaded = await t.request('GET', result.downloadPath, { as: as ?? t.owner });
  if (downloaded.statusCode !== 200) throw new Error(`download: ${downloaded.statusCode} ${downloaded.body}`);
  return { document: downloaded.json() as Record<string, unknown>, result };
}

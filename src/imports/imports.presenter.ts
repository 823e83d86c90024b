import type { Static } from 'typebox';
import type { Import, ImportReportRow } from './imports.schemas.ts';
import type { ImportRow, ImportReportRow as ReportRow } from './import-tables.ts';

export function presentImport(row: ImportRow, baseUrl: string): Static<typeof Import> {
  const url = `${baseUrl}/api/v2/imports/${row.id}`;
  return {
    id: row.id,
    url: `${url}.json`,
    kind: row.kind,
    status: row.status,
    dry_run: row.dry_run,
    update: row.update,
    send_welcome: row.send_welcome,
    columns: row.columns,
    total: row.total,
    progress: row.processed,
    created: row.created,
    updated: row.updated,
    unchanged: row.unchanged,
    rejected: row.rejected,
    job_status_id: row.job_id,
    rows_url: `${url}/rows.json`,
    report_url: `${url}/report`,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    completed_at: row.completed_at ? row.completed_at.toISOString() : null,
  };
}

export function presentReportRow(row: ReportRow): Static<typeof ImportReportRow> {
  return { row: row.row_number, status: row.status, user_id: row.user_id, error: row.error, columns: row.columns, description: row.description };
}

const csvCell = (value: string | number | null): string => {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

export const REPORT_HEADER = 'row,status,user_id,error,columns,description\n';

export function reportLine(row: ReportRow): string {
  return `${[row.row_number, row.status, row.user_id, row.error, row.columns.join(' '), row.description].map(csvCell).join(',')}\n`;
}

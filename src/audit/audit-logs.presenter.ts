import { VERBS, type AuditEventRow } from './audit-logs.query.ts';

/**
 * Zendesk's audit-log object where it fits: id, url, actor_id, action (Zendesk's verb), action_label,
 * source_type, source_id, source_label, change_description, ip_address, created_at — plus Roster's
 * own `event` (the full action, e.g. `user.update`) and `changed_fields`. Zendesk's actor_name and
 * its "from … to …" change descriptions carry personal values: Roster records field names only,
 * so the description names fields and the actor is an id.
 */

/** Roster action suffix → Zendesk verb (the inverse of the filter's table). */
const VERB_OF = new Map(Object.entries(VERBS).flatMap(([verb, suffixes]) => suffixes.map((suffix) => [suffix, verb] as const)));

const LABELS: Record<string, string> = { create: 'Created', update: 'Updated', destroy: 'Deleted' };

const humanize = (text: string): string => {
  const words = text.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};

export function changeDescription(fields: string[]): string {
  if (fields.length === 0) return '';
  return `Changed ${fields.length === 1 ? 'field' : 'fields'}: ${fields.join(', ')}`;
}

export function presentAuditLog(row: AuditEventRow, base: string) {
  const suffix = row.action.includes('.') ? row.action.slice(row.action.indexOf('.') + 1) : row.action;
  const verb = VERB_OF.get(suffix) ?? suffix;
  const numericId = /^\d{1,15}$/.test(row.target_id) ? Number(row.target_id) : null;
  return {
    url: `${base}/api/v2/audit_logs/${row.id}.json`,
    id: Number(row.id),
    actor_id: row.actor_id === null ? null : Number(row.actor_id),
    action: verb,
    action_label: LABELS[verb] ?? humanize(suffix),
    event: row.action,
    source_type: row.target_type,
    source_id: numericId ?? row.target_id,
    source_label: `${humanize(row.target_type)} ${numericId === null ? row.target_id : `#${numericId}`}`,
    change_description: changeDescription(row.changed_fields),
    changed_fields: row.changed_fields,
    ip_address: null,
    created_at: row.created_at.toISOString(),
  };
}

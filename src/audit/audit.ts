import { sql, type RawBuilder } from 'kysely';
import { invalidateCredentials, invalidatesCredentials } from '../auth/credential-cache.ts';
import type { Executor } from '../users/users.repository.ts';

export interface AuditEntry {
  accountId: number;
  actorId: number | null;
  action: string;
  targetType: string;
  targetId: number | string;
  /** Names of the fields that changed — never their values. */
  changedFields?: string[];
}

const fieldList = (fields: string[] | undefined): string[] => [...new Set(fields ?? [])].sort();

/** Written inside the same transaction as the change it records, so neither exists without the other. */
export async function audit(db: Executor, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      account_id: entry.accountId,
      actor_id: entry.actorId,
      action: entry.action,
      target_type: entry.targetType,
      target_id: String(entry.targetId),
      changed_fields: fieldList(entry.changedFields),
    })
    .execute();
  // Every credential-changing write passes here; other processes hear it from the table's trigger.
  if (invalidatesCredentials(entry.action)) invalidateCredentials(entry.accountId);
}

/**
 * The audit row of a record created by the same statement: an `INSERT … SELECT` over the common
 * table expression `cte`, which returned the new record's `account_id` and `id`. A creation never
 * invalidates cached credentials, so there is nothing else to do.
 */
export function auditCreation(cte: string, entry: Omit<AuditEntry, 'accountId' | 'targetId'>): RawBuilder<Record<string, never>> {
  if (invalidatesCredentials(entry.action)) throw new Error(`${entry.action} is not a creation`);
  return sql`(INSERT INTO audit_events (account_id, actor_id, action, target_type, target_id, changed_fields)
    SELECT c.account_id, ${entry.actorId}::bigint, ${entry.action}, ${entry.targetType}, c.id::text, ${fieldList(entry.changedFields)}::text[]
    FROM ${sql.table(cte)} AS c)`;
}

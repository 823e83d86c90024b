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
      changed_fields: [...new Set(entry.changedFields ?? [])].sort(),
    })
    .execute();
  // Every credential-changing write passes here; other processes hear it from the table's trigger.
  if (invalidatesCredentials(entry.action)) invalidateCredentials(entry.accountId);
}

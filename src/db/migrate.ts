import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './database.ts';
import * as foundation from './migrations/20261121000000_foundation.ts';
import * as organizationsGroupsRolesFields from './migrations/20261122000000_organizations_groups_roles_fields.ts';
import * as credentialInvalidation from './migrations/20261122001000_credential_invalidation.ts';
import * as searchIndexes from './migrations/20261122030000_search_indexes.ts';
import * as tickets from './migrations/20261122040000_tickets.ts';
import * as lifecycle from './migrations/20261122060000_lifecycle.ts';
import * as imports from './migrations/20261122070000_imports.ts';
import * as mailPrivacy from './migrations/20261122080000_mail_privacy.ts';
import * as mailImportWelcome from './migrations/20261122090000_mail_import_welcome.ts';
import * as inboundMail from './migrations/20261122090500_inbound_mail.ts';
import * as ticketSearch from './migrations/20261122091000_ticket_search.ts';

// Listed explicitly (not read from disk) so the same code runs under tsx, bundlers and tests.
const migrations: Record<string, Migration> = {
  '20261121000000_foundation': foundation,
  '20261122000000_organizations_groups_roles_fields': organizationsGroupsRolesFields,
  '20261122001000_credential_invalidation': credentialInvalidation,
  '20261122030000_search_indexes': searchIndexes,
  '20261122040000_tickets': tickets,
  '20261122060000_lifecycle': lifecycle,
  '20261122070000_imports': imports,
  '20261122080000_mail_privacy': mailPrivacy,
  '20261122090000_mail_import_welcome': mailImportWelcome,
  '20261122090500_inbound_mail': inboundMail,
  '20261122091000_ticket_search': ticketSearch,
};

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

export async function migrateToLatest(db: Db): Promise<void> {
  // Kysely looks for its bookkeeping tables in every schema unless told which one: another
  // instance's tables in a sibling schema (parallel test runs) would make it skip creating ours.
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db);
  const migrationTableSchema = rows[0]?.schema ?? 'public';
  const migrator = new Migrator({ db, provider: new StaticProvider(), migrationTableSchema });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === 'Error');
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error ?? 'unknown error');
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${reason}`);
  }
}

import { sql, type Kysely } from 'kysely';

/**
 * Mail (issue 8): a CSV import may send the welcome mail to the users it creates
 * (`send_welcome=true`); the choice is recorded on the import, which its job reads batch by batch.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE imports ADD COLUMN send_welcome boolean NOT NULL DEFAULT false`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('Migrations are immutable once landed; write a new one instead');
}

import { sql, type Kysely } from 'kysely';

/**
 * Inbound mail (issue 8 item 4): a random per-account key for the ticket tokens in reply
 * addresses (`support+id123-<mac>@…`), so a reply finds its ticket even when the mail client
 * drops In-Reply-To, and a guessed ticket number alone threads nothing. Set on first use by the
 * application (src/mail/inbound/addresses.ts); never shown, holds no personal data.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE accounts ADD COLUMN inbound_mail_key text`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('Migrations are immutable once landed; write a new one instead');
}

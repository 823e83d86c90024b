import { sql, type Kysely } from 'kysely';

/**
 * Cached authentications (src/auth/credential-cache.ts) are dropped when an account's users,
 * identities, tokens or roles change. Every such write is audited, so a trigger on the audit
 * log tells every process: NOTIFY is delivered at commit, and only if the transaction commits.
 * The condition mirrors `invalidatesCredentials`: creations never make a cached success wrong.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION roster_notify_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('roster_credentials', NEW.account_id::text);
      RETURN NULL;
    END
    $$`.execute(db);
  await sql`
    CREATE TRIGGER audit_events_credentials AFTER INSERT ON audit_events
    FOR EACH ROW WHEN (NEW.action NOT LIKE '%.create')
    EXECUTE FUNCTION roster_notify_credentials()`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('Migrations are immutable once landed; write a new one instead');
}

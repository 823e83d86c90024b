import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { ensureAccount } from '../../src/accounts/bootstrap.ts';
import { loadConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/server.ts';
import { onPostgres } from '../helpers.ts';
import { startSmtpSink } from './smtp-sink.ts';

/**
 * Delivery is a durable job: a message written while the SMTP server is unreachable, with the
 * service stopped before it could be delivered, is delivered by the next start once the server
 * answers again — nothing held in memory, the job and the outbox row are all it takes.
 */
describe('mail delivery across a restart', () => {
  it('a message that could not be sent before a stop is sent after the next start', async () => {
    // A port with nothing listening (yet): connections are refused, the delivery is retried.
    const probe = await startSmtpSink();
    const url = probe.url;
    const port = Number(new URL(url).port);
    await probe.close();

    const dataDir = onPostgres ? 'memory://' : fs.mkdtempSync(path.join(os.tmpdir(), 'roster-mail-'));
    const schema = onPostgres ? `t_${crypto.randomBytes(6).toString('hex')}` : undefined;
    const config = { ...loadConfig({ DATA_DIR: dataDir, SMTP_URL: url, MAIL_RETRY_LIMIT: '20', MAIL_RETRY_DELAY_SECONDS: '1', ...(onPostgres ? { DATABASE_URL: process.env.DATABASE_URL } : {}) }), rateLimitPerMinute: 0 };
    const start = () => startRuntime({ config, ...(schema ? { schema } : {}), jobPollingSeconds: 0.5 });
    let runtime: Runtime = await start();
    let sink: Awaited<ReturnType<typeof startSmtpSink>> | undefined;
    try {
      const db = runtime.database.db;
      const { account } = await ensureAccount(db, 'default', { name: 'Owner', email: 'owner@roster-mail.dev', password: 'restart owner password' });
      const owner = await db.selectFrom('users').select('id').where('account_id', '=', account.id).where('is_owner', '=', true).executeTakeFirstOrThrow();
      const written = await db.transaction().execute((tx) => runtime.mail.enqueue(tx, { account, userId: owner.id, template: 'password_reset' }));
      expect(written?.status).toBe('queued');
      // Wait for a refused attempt to be recorded, then stop.
      let attempts = 0;
      for (let i = 0; i < 100 && attempts === 0; i += 1) {
        const row = await db.selectFrom('outbox_messages').select(['attempts', 'last_error']).where('id', '=', written?.id ?? 0).executeTakeFirstOrThrow();
        attempts = row.attempts;
        if (attempts > 0) expect(row.last_error).toMatch(/^E[A-Z]+$/);
        else await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(attempts).toBeGreaterThan(0);
      await runtime.close();

      sink = await startSmtpSink(port);
      runtime = await start();
      const [mail] = await sink.waitFor(1, 150_000);
      expect(mail?.subject).toBe('Reset your password for Roster');
      let status = '';
      for (let i = 0; i < 100 && status !== 'sent'; i += 1) {
        status = (await runtime.database.db.selectFrom('outbox_messages').select('status').where('id', '=', written?.id ?? 0).executeTakeFirstOrThrow()).status;
        if (status !== 'sent') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe('sent');
    } finally {
      await runtime.close();
      await sink?.close();
      if (schema) {
        const { openDatabase } = await import('../../src/db/database.ts');
        const admin = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: 'memory://' });
        await sql.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${schema}_boss" CASCADE`).execute(admin.db);
        await admin.close();
      } else {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    }
  }, 240_000);
});

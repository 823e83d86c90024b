import type { Runtime } from '../../server.ts';
import type { InboundMailConfig } from './inbound-config.ts';
import { startInboundSmtp, type InboundLog, type InboundSmtp } from './smtp-listener.ts';

/**
 * Starts the SMTP listener for `roster serve` (null when SMTP_INBOUND_PORT=off) and makes the
 * runtime's close stop it first, so SIGTERM ends open SMTP sessions before the database closes.
 * A port already in use closes the runtime (PGlite's lock) and fails with a clear message.
 */
export async function serveInboundMail(runtime: Runtime, config: InboundMailConfig, log: InboundLog): Promise<InboundSmtp | null> {
  if (config.port === null) return null;
  let smtp: InboundSmtp;
  try {
    smtp = await startInboundSmtp({
      db: runtime.database.db,
      storage: runtime.storage,
      mailDomain: config.mailDomain,
      maxBytes: config.maxBytes,
      port: config.port,
      host: config.host,
      findAccount: (subdomain) => runtime.accounts.get(subdomain),
      log,
    });
  } catch (error) {
    await runtime.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'EADDRINUSE' || code === 'EACCES'
      ? `The inbound SMTP port ${config.port} is not available (${code}): set SMTP_INBOUND_PORT to another port, 0 for any free port, or off`
      : `The inbound SMTP listener could not start: ${(error as Error).message}`);
  }
  const closeRuntime = runtime.close;
  runtime.close = async () => {
    await smtp.close();
    await closeRuntime();
  };
  return smtp;
}

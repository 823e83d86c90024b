/**
 * Inbound mail settings (README "Inbound mail"), read from the environment once, when the
 * routes and the listener start:
 * - SMTP_INBOUND_PORT: the SMTP listener's port (default 2525; 0 picks a free port, printed at
 *   start; `off` turns the listener off — POST /api/v2/inbound_email keeps working);
 * - SMTP_INBOUND_HOST: the interface it binds (default: HOST, else 0.0.0.0);
 * - MAIL_DOMAIN: the domain of the support addresses (default ROSTER_BASE_DOMAIN, else localhost);
 * - INBOUND_MAIL_MAX_BYTES: the largest message accepted, headers and attachments included
 *   (default 25 MiB): SMTP answers 552, the API 413.
 */
export interface InboundMailConfig {
  /** null: the listener is off. */
  port: number | null;
  host: string;
  mailDomain: string;
  maxBytes: number;
}

export class InboundMailConfigError extends Error {}

export const DEFAULT_INBOUND_PORT = 2525;
export const DEFAULT_MAX_BYTES = 25 * 1024 * 1024;
const OFF = new Set(['off', 'false', 'no', 'disabled', 'none']);

function text(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

export function loadInboundMailConfig(env: NodeJS.ProcessEnv = process.env): InboundMailConfig {
  const rawPort = text(env, 'SMTP_INBOUND_PORT');
  let port: number | null = DEFAULT_INBOUND_PORT;
  if (rawPort !== undefined) {
    if (OFF.has(rawPort.toLowerCase())) port = null;
    else if (/^\d{1,5}$/.test(rawPort) && Number(rawPort) <= 65535) port = Number(rawPort);
    else throw new InboundMailConfigError(`SMTP_INBOUND_PORT must be a port number (0 picks a free one) or "off" (got "${rawPort}")`);
  }
  const rawMax = text(env, 'INBOUND_MAIL_MAX_BYTES');
  let maxBytes = DEFAULT_MAX_BYTES;
  if (rawMax !== undefined) {
    const value = Number(rawMax);
    if (!Number.isInteger(value) || value < 1024 || value > 200 * 1024 * 1024) {
      throw new InboundMailConfigError(`INBOUND_MAIL_MAX_BYTES must be an integer between 1024 and ${200 * 1024 * 1024} (got "${rawMax}")`);
    }
    maxBytes = value;
  }
  const mailDomain = (text(env, 'MAIL_DOMAIN') ?? text(env, 'ROSTER_BASE_DOMAIN') ?? 'localhost').toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(mailDomain)) {
    throw new InboundMailConfigError(`MAIL_DOMAIN must be a domain name (got "${mailDomain}")`);
  }
  return { port, host: text(env, 'SMTP_INBOUND_HOST') ?? text(env, 'HOST') ?? '0.0.0.0', mailDomain, maxBytes };
}

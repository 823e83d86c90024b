import path from 'node:path';

/** Everything the process reads from its environment, validated once at start. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  /** PostgreSQL only: keep Roster's tables in this schema (and pg-boss's in `<schema>_boss`). */
  databaseSchema: string | undefined;
  ownerName: string | undefined;
  ownerEmail: string | undefined;
  ownerPassword: string | undefined;
  /** Hosts `<sub>.<baseDomain>` resolve to account `<sub>`; `<sub>.localhost` always does. */
  baseDomain: string | undefined;
  /** Requests per minute per account; 0 turns the limiter off. */
  rateLimitPerMinute: number;
  logLevel: string;
  /** Outbound mail (README "Mail"): smtp(s)://user:pass@host:port; unset keeps messages in the outbox. */
  smtpUrl: string | undefined;
  /** The From header of outbound mail. */
  mailFrom: string;
  /** Base of the links in mail (Help Center pages); `{subdomain}` is replaced by the account's. */
  publicUrl: string | undefined;
  /** Retries of a failed delivery after the first attempt, and the first delay in seconds (doubling). */
  mailRetryLimit: number;
  mailRetryDelaySeconds: number;
}

export class ConfigError extends Error {}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
  }
  return value;
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function smtpUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const raw = optional(env, 'SMTP_URL');
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('SMTP_URL must be a URL such as smtp://user:password@mail.example.net:587');
  }
  // The value may hold a password: the message names the rule, never the value.
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new ConfigError('SMTP_URL must start with smtp:// or smtps://');
  return raw;
}

function publicUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const raw = optional(env, 'PUBLIC_URL');
  if (raw === undefined) return undefined;
  if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(raw)) throw new ConfigError(`PUBLIC_URL must be an http(s) URL (got "${raw}")`);
  return raw.replace(/\/+$/, '');
}

function schemaFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const schema = optional(env, 'DATABASE_SCHEMA');
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,50}$/.test(schema)) {
    throw new ConfigError(`DATABASE_SCHEMA must be a lower-case SQL identifier (got "${schema}")`);
  }
  return schema;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: intFromEnv(env, 'PORT', 3000, 0, 65535),
    host: optional(env, 'HOST') ?? '0.0.0.0',
    dataDir: path.resolve(optional(env, 'DATA_DIR') ?? './data'),
    databaseUrl: optional(env, 'DATABASE_URL'),
    databaseSchema: schemaFromEnv(env),
    ownerName: optional(env, 'ROSTER_OWNER_NAME'),
    ownerEmail: optional(env, 'ROSTER_OWNER_EMAIL'),
    ownerPassword: optional(env, 'ROSTER_OWNER_PASSWORD'),
    baseDomain: optional(env, 'ROSTER_BASE_DOMAIN')?.toLowerCase(),
    rateLimitPerMinute: intFromEnv(env, 'RATE_LIMIT_PER_MINUTE', 6000, 0, 10_000_000),
    logLevel: optional(env, 'LOG_LEVEL') ?? 'info',
    smtpUrl: smtpUrlFromEnv(env),
    mailFrom: optional(env, 'MAIL_FROM') ?? 'Roster <no-reply@roster.invalid>',
    publicUrl: publicUrlFromEnv(env),
    mailRetryLimit: intFromEnv(env, 'MAIL_RETRY_LIMIT', 6, 0, 50),
    mailRetryDelaySeconds: intFromEnv(env, 'MAIL_RETRY_DELAY_SECONDS', 30, 1, 3600),
  };
}

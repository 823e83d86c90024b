import net from 'node:net';
import { errors } from '../http/errors.ts';
import type { Db } from '../db/database.ts';
import type { Account } from '../db/tables.ts';
import { DEFAULT_SUBDOMAIN, findAccountBySubdomain } from './accounts.repository.ts';

/**
 * `acme.localhost:3000` → `acme`; `acme.<baseDomain>` → `acme`; IPs, `localhost` and
 * any other host → the default account.
 */
export function subdomainFromHost(hostHeader: string | undefined, baseDomain: string | undefined): string {
  if (!hostHeader) return DEFAULT_SUBDOMAIN;
  let host = hostHeader.trim().toLowerCase();
  if (!isWellFormedHost(host)) throw errors.badRequest('The Host header is malformed');
  if (host.startsWith('[')) return DEFAULT_SUBDOMAIN; // bracketed IPv6
  host = host.replace(/:\d*$/, '').replace(/\.$/, '');
  if (net.isIP(host)) return DEFAULT_SUBDOMAIN;
  const suffixes = ['localhost', ...(baseDomain ? [baseDomain] : [])];
  for (const suffix of suffixes) {
    if (host.endsWith(`.${suffix}`)) {
      const label = host.slice(0, -(suffix.length + 1));
      if (/^[a-z0-9][a-z0-9-]{0,62}$/.test(label)) return label;
    }
  }
  return DEFAULT_SUBDOMAIN;
}

/** A host name or IP with an optional port; anything else would end up in the links we return. */
function isWellFormedHost(host: string): boolean {
  return /^(?:\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]{0,252}))(?::\d{1,5})?$/.test(host);
}

const TTL_MS = 5_000;

/**
 * Every request needs its account; a short-lived cache keeps that off the database on the hot path.
 * Writes in this process call `forget`; other processes see a change within TTL_MS.
 */
export class AccountCache {
  private readonly entries = new Map<string, { account: Account | undefined; at: number }>();

  constructor(private readonly db: Db) {}

  async get(subdomain: string): Promise<Account | undefined> {
    const hit = this.entries.get(subdomain);
    const now = Date.now();
    if (hit && now - hit.at < TTL_MS) return hit.account;
    const account = await findAccountBySubdomain(this.db, subdomain);
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(subdomain, { account, at: now });
    return account;
  }

  forget(subdomain: string): void {
    this.entries.delete(subdomain);
  }

  clear(): void {
    this.entries.clear();
  }
}

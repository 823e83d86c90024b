import { mayNotify } from '../lifecycle/suspend-user.ts';

/**
 * Why a message is not sent (recorded as the outbox row's `suppression_reason`, status
 * `suppressed`). DOMAIN.md §2: reserved, undeliverable domains are accepted as identities but
 * never receive mail; §5: suspended and deleted users receive nothing.
 */
export type SuppressionReason = 'reserved_domain' | 'undeliverable' | 'suspended_user' | 'deleted_user' | 'no_email';

/** RFC 2606 / RFC 6761 names: example.com/.net/.org and the .example, .invalid, .test, .localhost top-level domains. */
const RESERVED_EXACT = new Set(['example.com', 'example.net', 'example.org', 'example', 'invalid', 'test', 'localhost']);
const RESERVED_SUFFIXES = ['.example.com', '.example.net', '.example.org', '.example', '.invalid', '.test', '.localhost'];

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return (at < 0 ? '' : address.slice(at + 1)).trim().toLowerCase().replace(/\.+$/, '');
}

export function isReservedDomain(domain: string): boolean {
  const name = domain.toLowerCase().replace(/\.+$/, '');
  if (RESERVED_EXACT.has(name)) return true;
  return RESERVED_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

/** The first reason this recipient must not get mail, or null to send. The user rule comes first: it holds for any address. */
export function suppressionReason(
  user: { active: boolean; suspended: boolean; deleted_at?: Date | null } | null,
  identity: { value: string; deliverable_state: string } | null,
): SuppressionReason | null {
  if (user && !mayNotify(user)) return user.active ? 'suspended_user' : 'deleted_user';
  if (!identity) return 'no_email';
  if (isReservedDomain(domainOf(identity.value))) return 'reserved_domain';
  if (identity.deliverable_state === 'undeliverable') return 'undeliverable';
  return null;
}

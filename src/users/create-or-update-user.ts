import type { Account } from '../db/tables.ts';
import { normalizeIdentity } from '../identities/identity-values.ts';
import type { Actor } from '../policy/policy.ts';
import { createUser } from './create-user.ts';
import { updateUser } from './update-user.ts';
import { parseUserInput } from './user-input.ts';
import { findUserIdByExternalId, findUserIdByIdentity, type Executor } from './users.repository.ts';

/**
 * Zendesk's create_or_update: the user matched by external_id, else by email (any of their
 * email identities), is updated; otherwise one is created.
 */
export async function createOrUpdateUser(tx: Executor, account: Account, actor: Actor | null, raw: unknown): Promise<{ id: number; created: boolean }> {
  const existing = await matchExisting(tx, account.id, raw);
  if (existing === undefined) {
    return { id: await createUser(tx, account, actor, parseUserInput(raw, 'create')), created: true };
  }
  const { identities: _ignored, ...rest } = raw as Record<string, unknown>;
  await updateUser(tx, account, actor, existing, parseUserInput(rest, 'update'));
  return { id: existing, created: false };
}

async function matchExisting(tx: Executor, accountId: number, raw: unknown): Promise<number | undefined> {
  if (raw === null || typeof raw !== 'object') return undefined;
  const user = raw as Record<string, unknown>;
  if ((typeof user.external_id === 'string' || typeof user.external_id === 'number') && String(user.external_id).trim() !== '') {
    const byExternal = await findUserIdByExternalId(tx, accountId, String(user.external_id).trim());
    if (byExternal !== undefined) return byExternal;
  }
  const emails = [user.email, ...(Array.isArray(user.identities) ? user.identities.filter((i) => i?.type === 'email').map((i) => i.value) : [])];
  for (const email of emails) {
    const normalized = normalizeIdentity('email', email);
    if (!normalized.ok) continue;
    const byEmail = await findUserIdByIdentity(tx, accountId, 'email', normalized.key);
    if (byEmail !== undefined) return byEmail;
  }
  return undefined;
}

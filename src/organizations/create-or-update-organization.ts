import type { Account, OrganizationRow } from '../db/tables.ts';
import type { Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { createOrganization } from './create-organization.ts';
import { parseOrganizationInput } from './organization-input.ts';
import { findOrganization, findOrganizationByExternalId } from './organizations.repository.ts';
import { updateOrganization } from './update-organization.ts';

/**
 * Zendesk's create_or_update: the organization with this `id`, else this `external_id`, is
 * updated; otherwise one is created. Never matched by name (Zendesk: "Name is not available as a
 * matching criteria"), so a new organization whose name is taken is a 422 DuplicateValue.
 */
export async function createOrUpdateOrganization(
  tx: Executor,
  account: Account,
  actor: Actor | null,
  raw: unknown,
): Promise<{ row: OrganizationRow; created: boolean }> {
  const existing = await matchExisting(tx, account.id, raw);
  if (existing === undefined) return { row: await createOrganization(tx, account, actor, parseOrganizationInput(raw, 'create')), created: true };
  return { row: await updateOrganization(tx, account, actor, existing, parseOrganizationInput(raw, 'update')), created: false };
}

async function matchExisting(tx: Executor, accountId: number, raw: unknown): Promise<number | undefined> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const input = raw as Record<string, unknown>;
  if (typeof input.id === 'number' && Number.isSafeInteger(input.id) && input.id > 0) {
    const byId = await findOrganization(tx, accountId, input.id);
    if (byId) return byId.id;
  }
  if ((typeof input.external_id === 'string' || typeof input.external_id === 'number') && String(input.external_id).trim() !== '') {
    return (await findOrganizationByExternalId(tx, accountId, String(input.external_id).trim()))?.id;
  }
  return undefined;
}

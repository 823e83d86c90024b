import type { Account } from '../db/tables.ts';
import { validateFieldValues, type FieldValue } from '../custom-fields/validate-field-values.ts';
import { errors, type ErrorDetails } from '../http/errors.ts';
import type { Executor } from '../users/users.repository.ts';
import type { OrganizationInput } from './organization-input.ts';
import { liveGroupExists } from '../groups/groups.repository.ts';
import { findOrganizationByExternalId, findOrganizationByName } from './organizations.repository.ts';

/**
 * What a create or update must check against the database: a name and an external id no other
 * organization of the account holds (both case-insensitive), a live group, and custom field
 * values the account defines. Returns the normalized field values sent (null = unset).
 */
export async function checkOrganization(
  tx: Executor,
  account: Account,
  input: OrganizationInput,
  selfId?: number,
): Promise<Record<string, FieldValue> | undefined> {
  const { columns } = input;
  const details: ErrorDetails = {};
  if (columns.name !== undefined) {
    const holder = await findOrganizationByName(tx, account.id, columns.name);
    if (holder && holder.id !== selfId) details.name = [{ error: 'DuplicateValue', description: 'Name: has already been taken' }];
  }
  if (columns.external_id) {
    const holder = await findOrganizationByExternalId(tx, account.id, columns.external_id);
    if (holder && holder.id !== selfId) details.external_id = [{ error: 'DuplicateValue', description: 'External id has already been taken' }];
  }
  if (columns.group_id !== undefined && columns.group_id !== null && !(await liveGroupExists(tx, account.id, columns.group_id))) {
    details.group_id = [{ error: 'InvalidValue', description: 'Group is not a group of this account' }];
  }
  if (Object.keys(details).length > 0) throw errors.invalid(details);
  if (input.organizationFields === undefined) return undefined;
  return validateFieldValues(tx, account.id, 'organization', input.organizationFields);
}

/** Stored custom field values: merged over what was there, unset (null) values dropped. */
export function mergeFieldValues(stored: Record<string, unknown>, changes: Record<string, FieldValue>): string {
  const merged: Record<string, unknown> = { ...stored, ...changes };
  return JSON.stringify(Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== null && value !== undefined)));
}

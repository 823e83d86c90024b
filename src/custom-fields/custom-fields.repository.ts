import type { CustomFieldOptionRow, CustomFieldOwner, CustomFieldRow } from '../db/tables.ts';
import type { Executor } from '../users/users.repository.ts';

/** A field definition with its dropdown options (empty for other types), options in their order. */
export type FieldWithOptions = CustomFieldRow & { options: CustomFieldOptionRow[] };

/** Fields of one owner in Zendesk's order: position, then creation. */
export async function listFields(
  db: Executor,
  accountId: number,
  owner: CustomFieldOwner,
  options: { activeOnly?: boolean; keys?: string[] } = {},
): Promise<FieldWithOptions[]> {
  if (options.keys && options.keys.length === 0) return [];
  let query = db.selectFrom('custom_fields').selectAll().where('account_id', '=', accountId).where('owner', '=', owner);
  if (options.activeOnly) query = query.where('active', '=', true);
  if (options.keys) query = query.where('key', 'in', options.keys);
  const fields = await query.orderBy('position').orderBy('id').execute();
  return attachOptions(db, accountId, fields);
}

export async function findField(db: Executor, accountId: number, owner: CustomFieldOwner, id: number): Promise<FieldWithOptions | undefined> {
  const field = await db
    .selectFrom('custom_fields')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('owner', '=', owner)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!field) return undefined;
  const [withOptions] = await attachOptions(db, accountId, [field]);
  return withOptions;
}

async function attachOptions(db: Executor, accountId: number, fields: CustomFieldRow[]): Promise<FieldWithOptions[]> {
  const dropdowns = fields.filter((field) => field.type === 'dropdown').map((field) => field.id);
  const options =
    dropdowns.length === 0
      ? []
      : await db
          .selectFrom('custom_field_options')
          .selectAll()
          .where('account_id', '=', accountId)
          .where('field_id', 'in', dropdowns)
          .orderBy('position')
          .orderBy('id')
          .execute();
  return fields.map((field) => ({ ...field, options: options.filter((option) => option.field_id === field.id) }));
}

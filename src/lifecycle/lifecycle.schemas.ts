import { Type } from 'typebox';
import { DateTime, Id, Nullable, OffsetMeta } from '../http/schemas.ts';

/** Zendesk's DeletedUserObject, plus Roster's deletion date, purge date, state and whether it can be restored. */
export const DeletedUserResponse = Type.Object({
  id: Id,
  url: Type.String(),
  name: Type.String(),
  email: Nullable(Type.String()),
  created_at: DateTime,
  updated_at: DateTime,
  time_zone: Type.String(),
  phone: Nullable(Type.String()),
  shared_phone_number: Nullable(Type.Boolean()),
  photo: Nullable(Type.Object({}, { additionalProperties: true })),
  locale_id: Type.Integer(),
  locale: Type.String(),
  organization_id: Nullable(Type.Integer()),
  role: Type.String(),
  active: Type.Boolean(),
  deleted_at: DateTime,
  purge_at: DateTime,
  purged_at: Nullable(DateTime),
  state: Type.String({ enum: ['pending_purge', 'purged'] }),
  restorable: Type.Boolean(),
  merged_into_id: Nullable(Type.Integer({ description: 'Roster: the user this one was merged into (undo the merge to bring it back)' })),
});

export const DeletedUserEnvelope = Type.Object({ deleted_user: DeletedUserResponse });
export const DeletedUsersList = Type.Object({ deleted_users: Type.Array(DeletedUserResponse), ...OffsetMeta });
export const DeletedUsersQuery = Type.Object(
  {
    state: Type.Optional(Type.String({ enum: ['pending_purge', 'purged'] })),
    sort_by: Type.Optional(Type.String({ enum: ['name', 'deleted_at', 'purge_at'], description: 'Order of the list (by id when absent); works with offset and cursor pages' })),
    sort_order: Type.Optional(Type.String({ enum: ['asc', 'desc'], description: 'asc (default) or desc' })),
    sort: Type.Optional(Type.String({ description: "Zendesk's form: name, deleted_at or purge_at, with - in front for descending (instead of sort_by and sort_order)" })),
  },
  { additionalProperties: true },
);

export const MergeBody = Type.Object(
  {
    user: Type.Object(
      {
        id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The user to merge into (the survivor)' }),
        keep: Type.Optional(
          Type.Object({}, { additionalProperties: true, description: 'Roster: which side\'s name, phone, notes and details survive, e.g. {"name": "source"}; the target\'s by default' }),
        ),
      },
      { additionalProperties: true },
    ),
  },
  { additionalProperties: true },
);

export const MergeInfo = Type.Object({ id: Id, source_id: Id, target_id: Id, merged_at: DateTime, undo_until: Nullable(DateTime) });

export const MergePreviewResponse = Type.Object({
  merge_preview: Type.Object({
    source_id: Id,
    target_id: Id,
    tickets_requested: Type.Integer(),
    tickets_ccd: Type.Integer(),
    identities: Type.Array(Type.Object({ id: Id, type: Type.String(), primary_after: Type.Boolean() })),
    organization_memberships: Type.Integer(),
    conflicts: Type.Array(
      Type.Object({ field: Type.String(), source: Nullable(Type.String()), target: Nullable(Type.String()), default: Type.String({ enum: ['source', 'target'] }) }),
    ),
  }),
});

export const DestroyByQueryBody = Type.Object(
  {
    query: Type.String({ minLength: 1, maxLength: 2000, description: 'A search query over users (the search syntax of /api/v2/search)' }),
    dry_run: Type.Optional(Type.Boolean({ description: 'Report what would happen without deleting anyone' })),
  },
  { additionalProperties: true },
);

export const DestroyByQueryDryRun = Type.Object({
  dry_run: Type.Object({
    count: Type.Integer(),
    deletable: Type.Integer(),
    refused: Type.Array(Type.Object({ id: Id, name: Type.String(), error: Type.String(), description: Type.String() })),
  }),
});

export const SuspensionsResponse = Type.Object({
  suspensions: Type.Array(
    Type.Object({
      category: Type.String(),
      text: Nullable(Type.String()),
      suspended_by_id: Nullable(Type.Integer()),
      suspended_at: DateTime,
      lifted_by_id: Nullable(Type.Integer()),
      lifted_at: Nullable(DateTime),
    }),
  ),
});

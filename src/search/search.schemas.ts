import { Type } from 'typebox';
import { DateTime, Id, Nullable, OffsetMeta } from '../http/schemas.ts';
import { UserResponse } from '../users/users.schemas.ts';

/**
 * Zendesk's SearchResultObject: the result's own JSON (a user as the users API shows it, an
 * organization as the organizations API does, a ticket as the tickets API does) plus `result_type`. The fields every type shares
 * are declared; the rest pass through as presented.
 */
export const SearchResult = Type.Object(
  {
    id: Id,
    url: Type.String(),
    /** Users and organizations; a ticket has a subject instead. */
    name: Type.Optional(Type.String()),
    created_at: DateTime,
    updated_at: DateTime,
    result_type: Type.String({ enum: ['user', 'organization', 'ticket'] }),
  },
  { additionalProperties: true },
);

export const SearchQuery = Type.Object(
  {
    query: Type.Optional(Type.String({ description: 'Zendesk search syntax, e.g. `type:user organization:none`' })),
    sort_by: Type.Optional(Type.String({ description: '`created_at` (default), `updated_at` or `name`' })),
    sort_order: Type.Optional(Type.String({ description: '`desc` (default) or `asc`' })),
    page: Type.Optional(Type.Unknown({ description: 'Offset pagination: page number (the first 1,000 results)' })),
    per_page: Type.Optional(Type.Unknown({ description: 'At most 100' })),
  },
  { additionalProperties: true },
);

export const SearchResponse = Type.Object({
  results: Type.Array(SearchResult),
  facets: Type.Null(),
  next_page: Nullable(Type.String()),
  previous_page: Nullable(Type.String()),
  count: Type.Integer(),
  /**
   * Present (true) when `count` is an estimate: more than 10,000 matches of a type found through a
   * text or tag index (Zendesk's counts of large results are approximate too); /search/count is exact.
   */
  count_is_estimate: Type.Optional(Type.Boolean()),
});

export const SearchCountResponse = Type.Object({ count: Type.Integer() });

export const SearchExportQuery = Type.Object(
  {
    query: Type.Optional(Type.String()),
    filter: Type.Optional(Type.Unknown({ description: '`filter[type]`: user, organization or ticket (required)' })),
    page: Type.Optional(Type.Unknown({ description: '`page[size]` (at most 1,000, default 100), `page[after]`' })),
  },
  { additionalProperties: true },
);

export const SearchExportResponse = Type.Object({
  results: Type.Array(SearchResult),
  facets: Type.Null(),
  meta: Type.Object({ has_more: Type.Boolean(), after_cursor: Nullable(Type.String()), before_cursor: Nullable(Type.String()) }),
  links: Type.Object({ next: Nullable(Type.String()), prev: Nullable(Type.String()) }),
});

export const UsersSearchQuery = Type.Object(
  {
    query: Type.Optional(Type.String({ description: 'Zendesk search syntax over users (free text: name, email, notes, phone…)' })),
    external_id: Type.Optional(Type.String({ description: 'Exact external id, case-insensitive' })),
  },
  { additionalProperties: true },
);

export const UsersAutocompleteQuery = Type.Object(
  { name: Type.Optional(Type.String({ description: 'Start of the name (at least 2 characters; case- and accent-insensitive)' })) },
  { additionalProperties: true },
);

export const UsersList = Type.Object({ users: Type.Array(UserResponse), ...OffsetMeta });

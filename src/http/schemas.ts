import { Type, type TSchema } from 'typebox';

/** Shared schema pieces: they document the API (OpenAPI) and drive response serialisation. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
export const Id = Type.Integer({ minimum: 1 });
export const DateTime = Type.String({ format: 'date-time' });

export const IdParams = (name: string) =>
  Type.Object({ [name]: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) }, { additionalProperties: false });

export const ErrorBody = Type.Object(
  {
    error: Type.String(),
    description: Type.Optional(Type.String()),
    details: Type.Optional(Type.Record(Type.String(), Type.Array(Type.Object({ description: Type.String(), error: Type.String() })))),
  },
  { additionalProperties: false },
);

/** The error responses every authenticated route can give. */
export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  422: ErrorBody,
  429: ErrorBody,
};

export const OffsetMeta = {
  next_page: Type.Optional(Nullable(Type.String())),
  previous_page: Type.Optional(Nullable(Type.String())),
  count: Type.Optional(Type.Integer()),
  meta: Type.Optional(
    Type.Object({ has_more: Type.Boolean(), after_cursor: Nullable(Type.String()), before_cursor: Nullable(Type.String()) }),
  ),
  links: Type.Optional(Type.Object({ next: Nullable(Type.String()), prev: Nullable(Type.String()) })),
};

/** List endpoints: offset (`page`, `per_page`) or cursor (`page[size]`, `page[after]`, `page[before]`). */
export const PageQuery = {
  page: Type.Optional(
    Type.Union([
      Type.Integer({ minimum: 1, description: 'Offset pagination: page number' }),
      Type.Object(
        { size: Type.Optional(Type.String()), after: Type.Optional(Type.String()), before: Type.Optional(Type.String()) },
        { description: 'Cursor pagination: page[size], page[after], page[before]' },
      ),
    ]),
  ),
  per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
};

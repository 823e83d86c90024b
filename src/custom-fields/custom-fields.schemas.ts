import { Type } from 'typebox';
import { DateTime, Id, Nullable, OffsetMeta } from '../http/schemas.ts';

export const CustomFieldOptionResponse = Type.Object({
  id: Id,
  url: Type.String(),
  name: Type.String(),
  raw_name: Type.String(),
  value: Type.String(),
  position: Type.Integer(),
});

export const CustomFieldResponse = Type.Object({
  id: Id,
  url: Type.String(),
  key: Type.String(),
  type: Type.String({ enum: ['text', 'textarea', 'checkbox', 'date', 'integer', 'decimal', 'dropdown', 'regexp'] }),
  title: Type.String(),
  raw_title: Type.String(),
  description: Type.String(),
  raw_description: Type.String(),
  position: Type.Integer(),
  active: Type.Boolean(),
  system: Type.Boolean(),
  regexp_for_validation: Nullable(Type.String()),
  tag: Type.Optional(Nullable(Type.String())),
  custom_field_options: Type.Optional(Type.Array(CustomFieldOptionResponse)),
  created_at: DateTime,
  updated_at: DateTime,
});

/** Bodies stay open; the domain validates each attribute and answers 422 naming it. */
export const fieldBody = (wrapper: string) =>
  Type.Object(
    { [wrapper]: Type.Object({}, { additionalProperties: true, description: 'key, type, title, description, position, active, regexp_for_validation, tag, custom_field_options' }) },
    { additionalProperties: true },
  );
export const fieldEnvelope = (wrapper: string) => Type.Object({ [wrapper]: CustomFieldResponse });
export const fieldsEnvelope = (wrapper: string) => Type.Object({ [wrapper]: Type.Array(CustomFieldResponse), ...OffsetMeta });
export const reorderBody = (idsKey: string) =>
  Type.Object({ [idsKey]: Type.Array(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), { maxItems: 1000 }) }, { additionalProperties: true });

export const OptionBody = Type.Object(
  { custom_field_option: Type.Object({}, { additionalProperties: true, description: 'id (to update), name, value, position' }) },
  { additionalProperties: true },
);
export const OptionEnvelope = Type.Object({ custom_field_option: CustomFieldOptionResponse });
export const OptionsEnvelope = Type.Object({ custom_field_options: Type.Array(CustomFieldOptionResponse), ...OffsetMeta });

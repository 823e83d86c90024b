import type { Static } from 'typebox';
import type { CustomFieldOptionRow } from '../db/tables.ts';
import type { FieldWithOptions } from './custom-fields.repository.ts';
import type { CustomFieldOptionResponse, CustomFieldResponse } from './custom-fields.schemas.ts';
import { fieldsAttribute } from './validate-field-values.ts';

export function presentOption(option: CustomFieldOptionRow, fieldUrl: string): Static<typeof CustomFieldOptionResponse> {
  return {
    id: option.id,
    url: `${fieldUrl}/options/${option.id}.json`,
    name: option.name,
    raw_name: option.name,
    value: option.value,
    position: option.position,
  };
}

/** Zendesk's custom field JSON; options only on dropdowns, tag only on checkboxes. */
export function presentField(field: FieldWithOptions, baseUrl: string): Static<typeof CustomFieldResponse> {
  const fieldUrl = `${baseUrl}/api/v2/${fieldsAttribute(field.owner)}/${field.id}`;
  const json: Static<typeof CustomFieldResponse> = {
    id: field.id,
    url: `${fieldUrl}.json`,
    key: field.key,
    type: field.type,
    title: field.title,
    raw_title: field.title,
    description: field.description,
    raw_description: field.description,
    position: field.position,
    active: field.active,
    system: false,
    regexp_for_validation: field.regexp_for_validation,
    created_at: field.created_at.toISOString(),
    updated_at: field.updated_at.toISOString(),
  };
  if (field.type === 'checkbox') json.tag = field.tag;
  if (field.type === 'dropdown') json.custom_field_options = field.options.map((option) => presentOption(option, fieldUrl));
  return json;
}

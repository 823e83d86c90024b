import { Type } from 'typebox';
import { identityTypes } from '../db/tables.ts';
import { DateTime, Id, Nullable } from '../http/schemas.ts';

export const Identity = Type.Object({
  url: Type.String(),
  id: Id,
  user_id: Id,
  type: Type.String({ enum: [...identityTypes] }),
  value: Type.String(),
  verified: Type.Boolean(),
  primary: Type.Boolean(),
  created_at: DateTime,
  updated_at: DateTime,
  undeliverable_count: Type.Integer(),
  deliverable_state: Type.String(),
  verification_method: Type.String(),
  verified_at: Nullable(DateTime),
});

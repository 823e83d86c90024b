import type { Static } from 'typebox';
import type { IdentityRow } from '../db/tables.ts';
import type { Identity } from './identities.schemas.ts';

export function presentIdentity(identity: IdentityRow, baseUrl: string): Static<typeof Identity> {
  return {
    url: `${baseUrl}/api/v2/users/${identity.user_id}/identities/${identity.id}.json`,
    id: identity.id,
    user_id: identity.user_id,
    type: identity.type,
    value: identity.value,
    verified: identity.verified,
    primary: identity.primary,
    created_at: identity.created_at.toISOString(),
    updated_at: identity.updated_at.toISOString(),
    undeliverable_count: identity.undeliverable_count,
    deliverable_state: identity.deliverable_state,
    verification_method: identity.verification_method,
    verified_at: identity.verified_at?.toISOString() ?? null,
  };
}

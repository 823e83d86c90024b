import type { Static } from 'typebox';
import type { Account } from '../db/tables.ts';
import { localeId } from '../users/profile-values.ts';
import type { DeletedUserView } from './deleted-users.repository.ts';
import type { DeletedUserResponse } from './lifecycle.schemas.ts';
import { lifecycleSettings, purgeAt } from './lifecycle-settings.ts';

export function presentDeletedUser(user: DeletedUserView, baseUrl: string, account: Pick<Account, 'settings'>): Static<typeof DeletedUserResponse> {
  return {
    id: user.id,
    url: `${baseUrl}/api/v2/deleted_users/${user.id}.json`,
    name: user.name,
    email: user.email,
    created_at: user.created_at.toISOString(),
    updated_at: user.updated_at.toISOString(),
    time_zone: user.time_zone ?? 'UTC',
    phone: user.phone,
    shared_phone_number: user.shared_phone_number,
    photo: user.photo,
    locale_id: localeId(user.locale),
    locale: user.locale,
    organization_id: user.organization_id === null ? null : Number(user.organization_id),
    role: user.role,
    active: false,
    deleted_at: user.deleted_at.toISOString(),
    purge_at: (user.purged_at ?? purgeAt(account, user.deleted_at)).toISOString(),
    purged_at: user.purged_at?.toISOString() ?? null,
    state: user.purged_at ? 'purged' : 'pending_purge',
    restorable: user.restorable && user.purged_at === null && user.merged_into_id === null && lifecycleSettings(account).restoreWindow,
    merged_into_id: user.merged_into_id === null ? null : Number(user.merged_into_id),
  };
}

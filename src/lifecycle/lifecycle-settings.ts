import { effectiveSettings } from '../accounts/account-settings.routes.ts';
import type { Account } from '../db/tables.ts';

export const DAY_MS = 24 * 60 * 60 * 1000;

/** The account's purge delay and restore window, read at the moment of use (a changed setting applies to pending deletions too). */
export function lifecycleSettings(account: Pick<Account, 'settings'>): { purgeAfterDays: number; restoreWindow: boolean } {
  const settings = effectiveSettings(account.settings);
  return { purgeAfterDays: settings.user_purge_after_days, restoreWindow: settings.user_restore_window };
}

/** When a user soft-deleted at `deletedAt` is (or was due to be) purged. */
export function purgeAt(account: Pick<Account, 'settings'>, deletedAt: Date): Date {
  return new Date(deletedAt.getTime() + lifecycleSettings(account).purgeAfterDays * DAY_MS);
}

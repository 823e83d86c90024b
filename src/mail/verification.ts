import { effectiveSettings } from '../accounts/account-settings.routes.ts';
import type { Account } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import type { Executor } from '../users/users.repository.ts';
import { enqueueMail, type EnqueuedMail, type Mail } from './outbox.ts';

/**
 * Verification mail for one email identity (`request_verification`, self sign-up): a one-time
 * link that marks the address verified. The link opens a Help Center page, so the account's
 * Help Center must be on.
 */
export async function sendVerificationMail(tx: Executor, mail: Mail, account: Account, userId: number, identityId: number): Promise<EnqueuedMail | null> {
  if (!effectiveSettings(account.settings).help_center_enabled) {
    throw errors.field('base', 'InvalidValue', 'Verification mail needs the Help Center: turn on the account setting help_center_enabled');
  }
  return enqueueMail(tx, mail, { account, userId, identityId, template: 'verify_email' });
}

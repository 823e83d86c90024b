import { effectiveSettings } from '../accounts/account-settings.routes.ts';
import type { Account } from '../db/tables.ts';
import { isStaff, type Actor } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';
import { enqueueMail, type EnqueuedMail, type Mail } from './outbox.ts';

/**
 * The welcome mail (DOMAIN.md §2, seed 000): a user created by an agent or an admin gets a
 * one-time link to set a password only when the account's "send a welcome email when a new user
 * is created by an agent or administrator" (`welcome_email_on_agent_create`) AND "Help Center
 * enabled" (`help_center_enabled`) are both on — without a Help Center there is no page to set
 * the password on, so no mail goes out at all.
 *
 * `explicit`: the creator asked for it (a CSV import with send_welcome=true): the account switch
 * for agent-created users does not apply, the Help Center still must be on.
 */
export async function sendWelcomeMail(tx: Executor, mail: Mail, account: Account, actor: Actor | null, userId: number, options: { explicit?: boolean } = {}): Promise<EnqueuedMail | null> {
  const settings = effectiveSettings(account.settings);
  if (!settings.help_center_enabled) return null;
  if (!options.explicit && !(actor && isStaff(actor) && settings.welcome_email_on_agent_create)) return null;
  return enqueueMail(tx, mail, { account, userId, template: 'welcome' });
}

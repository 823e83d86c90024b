import type { Account } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import { authorize, type Actor } from '../policy/policy.ts';
import type { Target } from '../policy/policy.ts';
import type { Executor } from '../users/users.repository.ts';

/**
 * Why a user is suspended (the right to object, seed 002): a category from a fixed list, and an
 * optional short note for colleagues. Suspending requires one. The reason lives in
 * `user_suspensions` only — the audit log records `user.suspend` and field names, never the
 * reason — and is removed by the purge.
 */
export const SUSPENSION_CATEGORIES = ['objection', 'abuse', 'spam', 'fraud', 'security', 'legal', 'other'] as const;
export type SuspensionCategory = (typeof SUSPENSION_CATEGORIES)[number];
export interface SuspensionReason {
  category: SuspensionCategory;
  text: string | null;
}

const TEXT_LIMIT = 500;
// A reason describes why, not who: an address or a phone number in it would be personal data
// copied out of the profile into a record that colleagues read.
const EMAIL_LIKE = /[^\s@]+@[^\s@]+\.[^\s@]+/;
const PHONE_LIKE = /(?:\d[\s().-]*){7,}/;

/** `suspension_reason`: a category string, or `{category, text}`. */
export function parseSuspensionReason(raw: unknown): SuspensionReason {
  const missing = () => errors.field('suspension_reason', 'BlankValue', `Suspending a user needs a suspension_reason: one of ${SUSPENSION_CATEGORIES.join(', ')} (and an optional text)`);
  if (raw === undefined || raw === null || raw === '') throw missing();
  const object = typeof raw === 'string' ? { category: raw } : raw;
  if (typeof object !== 'object' || Array.isArray(object)) throw missing();
  const { category, text } = object as { category?: unknown; text?: unknown };
  if (typeof category !== 'string' || !(SUSPENSION_CATEGORIES as readonly string[]).includes(category)) {
    throw errors.field('suspension_reason', 'InvalidValue', `The category must be one of ${SUSPENSION_CATEGORIES.join(', ')}`);
  }
  if (text !== undefined && text !== null && typeof text !== 'string') throw errors.field('suspension_reason', 'InvalidValue', 'The text must be a string');
  const trimmed = typeof text === 'string' ? text.trim() : '';
  if (trimmed.length > TEXT_LIMIT) throw errors.field('suspension_reason', 'InvalidValue', `The text is limited to ${TEXT_LIMIT} characters`);
  if (EMAIL_LIKE.test(trimmed) || PHONE_LIKE.test(trimmed)) {
    throw errors.field('suspension_reason', 'InvalidValue', 'The text must not contain personal data such as email addresses or phone numbers');
  }
  return { category: category as SuspensionCategory, text: trimmed === '' ? null : trimmed };
}

/**
 * Records a suspension (with its reason) or lifts the open one, in the caller's transaction; the
 * caller updates `users.suspended` and writes the `user.suspend` / `user.unsuspend` audit entry,
 * whose credential invalidation locks the user out at once. Agents suspend end users, admins
 * suspend agents too; nobody suspends themselves or the owner.
 */
export async function changeSuspension(tx: Executor, account: Account, actor: Actor | null, target: Target, suspend: boolean, rawReason: unknown): Promise<void> {
  if (actor) authorize.suspendUser(actor, target);
  if (suspend) {
    const reason = parseSuspensionReason(rawReason);
    await tx
      .insertInto('user_suspensions')
      .values({ account_id: account.id, user_id: target.id, category: reason.category, reason: reason.text, suspended_by: actor?.id ?? null, lifted_by: null, lifted_at: null })
      .execute();
    return;
  }
  await tx
    .updateTable('user_suspensions')
    .set({ lifted_by: actor?.id ?? null, lifted_at: new Date() })
    .where('account_id', '=', account.id)
    .where('user_id', '=', target.id)
    .where('lifted_at', 'is', null)
    .execute();
}

/** The current suspension of a user, if any (shown to staff beside the profile). */
export async function currentSuspension(db: Executor, accountId: number, userId: number) {
  return db
    .selectFrom('user_suspensions')
    .select(['category', 'reason', 'suspended_by', 'suspended_at'])
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .where('lifted_at', 'is', null)
    .orderBy('id', 'desc')
    .executeTakeFirst();
}

/**
 * The notification hook (DOMAIN.md §5: suspended users get no notifications): the mail feature
 * asks this before sending anything to a user. Deleted users receive nothing either.
 */
export function mayNotify(user: { active: boolean; suspended: boolean }): boolean {
  return user.active && !user.suspended;
}

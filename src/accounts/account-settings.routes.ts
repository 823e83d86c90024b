import { Type } from 'typebox';
import type { App, Services } from '../app.ts';
import { audit } from '../audit/audit.ts';
import type { AccountSettings } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import { errorResponses } from '../http/schemas.ts';
import { requireUser } from '../http/urls.ts';
import { authorize } from '../policy/policy.ts';
import { updateAccountSettings } from './accounts.repository.ts';
import { MAIL_LOCALES } from '../mail/templates.ts';

/** Every switch with its default; later features add theirs here. */
export const SETTING_DEFAULTS = {
  require_email_on_create: false,
  auto_close_after_days: 4,
  anonymous_requests: false,
  user_purge_after_days: 30,
  user_restore_window: true,
  welcome_email_on_agent_create: true,
  help_center_enabled: true,
  locale: 'en-US',
  /** What a forgotten person's identity gets when it writes in again (src/privacy/erasure/suppression.ts). */
  forgotten_identity_policy: 'new_profile' as 'new_profile' | 'suspend',
} satisfies Required<Pick<AccountSettings, 'require_email_on_create' | 'auto_close_after_days' | 'anonymous_requests' | 'user_purge_after_days' | 'user_restore_window' | 'welcome_email_on_agent_create' | 'help_center_enabled' | 'locale' | 'forgotten_identity_policy'>>;

/** Settings whose value is one of a fixed list of strings. */
const CHOICES: Record<string, readonly string[]> = { locale: MAIL_LOCALES, forgotten_identity_policy: ['new_profile', 'suspend'] };

/** Solved tickets close after 1 to 28 days (Zendesk's automation condition allows up to 28). */
const AUTO_CLOSE_DAYS = { minimum: 1, maximum: 28 };
/** A soft-deleted user is purged after 1 to 365 days (Zendesk: 30, fixed). */
const PURGE_DAYS = { minimum: 1, maximum: 365 };
const RANGES: Record<string, { minimum: number; maximum: number }> = { auto_close_after_days: AUTO_CLOSE_DAYS, user_purge_after_days: PURGE_DAYS };

type SettingKey = keyof typeof SETTING_DEFAULTS;
const KEYS = Object.keys(SETTING_DEFAULTS) as SettingKey[];

const Settings = Type.Object({
  require_email_on_create: Type.Boolean({ description: 'Refuse to create a user without an email address' }),
  auto_close_after_days: Type.Integer({ ...AUTO_CLOSE_DAYS, description: 'Days after which a solved ticket is closed' }),
  anonymous_requests: Type.Boolean({ description: 'Anonymous visitors may submit requests (POST /api/v2/requests) with a name and email' }),
  user_purge_after_days: Type.Integer({ ...PURGE_DAYS, description: 'Days after a soft delete when the user is permanently deleted' }),
  user_restore_window: Type.Boolean({ description: 'Soft-deleted users and merges can be restored until the purge; off makes deletion irreversible' }),
  welcome_email_on_agent_create: Type.Boolean({ description: 'Send a welcome email (a link to set a password) when an agent or admin creates a user; needs help_center_enabled' }),
  help_center_enabled: Type.Boolean({ description: 'The Help Center is on: self sign-up, and the pages that welcome, verification and reset links open; off sends no welcome or verification mail' }),
  locale: Type.String({ description: 'The account\'s language: new users get it, and mail falls back to it (en-US, fr, pt-BR, zh-CN)' }),
  forgotten_identity_policy: Type.Union([Type.Literal('new_profile'), Type.Literal('suspend')], { description: 'A forgotten (erased) person who writes in again: new_profile (Zendesk) or suspend (their submission goes to suspended tickets)' }),
});

export function effectiveSettings(settings: AccountSettings): typeof SETTING_DEFAULTS {
  const result = { ...SETTING_DEFAULTS };
  for (const key of KEYS) if (typeof settings[key] === typeof SETTING_DEFAULTS[key]) (result as Record<string, unknown>)[key] = settings[key];
  return result;
}

export async function accountSettingsRoutes(app: App, { database, accounts }: Services): Promise<void> {
  const db = database.db;
  const tags = ['Account Settings'];

  app.get('/api/v2/account/settings', {
    schema: { tags, summary: 'Account settings (admins)', response: { 200: Type.Object({ settings: Settings }), ...errorResponses } },
  }, async (request) => {
    authorize.admin(requireUser(request));
    return { settings: effectiveSettings(request.ctx.account.settings) };
  });

  app.put('/api/v2/account/settings', {
    schema: {
      tags,
      summary: 'Change account settings (admins)',
      body: Type.Object({ settings: Type.Object({}, { additionalProperties: true }) }, { additionalProperties: true }),
      response: { 200: Type.Object({ settings: Settings }), ...errorResponses },
    },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.admin(actor);
    const input = request.body.settings as Record<string, unknown>;
    const patch: AccountSettings = {};
    for (const [key, value] of Object.entries(input)) {
      if (!KEYS.includes(key as SettingKey)) throw errors.field(key, 'InvalidValue', `${key} is not an account setting`);
      if (typeof SETTING_DEFAULTS[key as SettingKey] === 'number') {
        const range = RANGES[key] ?? AUTO_CLOSE_DAYS;
        if (typeof value !== 'number' || !Number.isInteger(value) || value < range.minimum || value > range.maximum) {
          throw errors.field(key, 'InvalidValue', `${key} must be a whole number from ${range.minimum} to ${range.maximum}`);
        }
      } else if (CHOICES[key]) {
        if (typeof value !== 'string' || !CHOICES[key].includes(value)) throw errors.field(key, 'InvalidValue', `${key} must be one of ${CHOICES[key].join(', ')}`);
      } else if (typeof value !== typeof SETTING_DEFAULTS[key as SettingKey]) throw errors.field(key, 'InvalidValue', `${key} must be true or false`);
      patch[key] = value;
    }
    const account = await db.transaction().execute(async (tx) => {
      const updated = await updateAccountSettings(tx, request.ctx.account.id, patch);
      await audit(tx, { accountId: updated.id, actorId: actor.id, action: 'account.settings_update', targetType: 'account', targetId: updated.id, changedFields: Object.keys(patch) });
      return updated;
    });
    accounts.forget(account.subdomain);
    return { settings: effectiveSettings(account.settings) };
  });
}

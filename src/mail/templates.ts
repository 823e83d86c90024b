import fs from 'node:fs';

/**
 * Mail templates. The words live in the message catalogs at i18n/<locale>.json (the `mail.*`
 * keys), shared with the web UI; this file only arranges them into a text part and an HTML part.
 * Every value put into the HTML part is escaped (a user's name is theirs to choose).
 */
export const MAIL_LOCALES = ['en-US', 'fr', 'pt-BR', 'zh-CN'] as const;
export type MailLocale = (typeof MAIL_LOCALES)[number];
export const DEFAULT_MAIL_LOCALE: MailLocale = 'en-US';

export const MAIL_TEMPLATES = ['welcome', 'verify_email', 'password_reset'] as const;
export type MailTemplate = (typeof MAIL_TEMPLATES)[number];

export type Catalog = Record<string, string>;

/** Where the catalogs are: the repository's i18n/ folder (also imported by the web UI). */
export const CATALOG_DIRECTORY = new URL('../../i18n/', import.meta.url);

function loadCatalog(locale: MailLocale): Catalog {
  const parsed = JSON.parse(fs.readFileSync(new URL(`${locale}.json`, CATALOG_DIRECTORY), 'utf8')) as unknown;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`i18n/${locale}.json is not an object`);
  return parsed as Catalog;
}

const catalogs = new Map<MailLocale, Catalog>(MAIL_LOCALES.map((locale) => [locale, loadCatalog(locale)]));

export function isMailLocale(value: unknown): value is MailLocale {
  return typeof value === 'string' && (MAIL_LOCALES as readonly string[]).includes(value);
}

export function isMailTemplate(value: unknown): value is MailTemplate {
  return typeof value === 'string' && (MAIL_TEMPLATES as readonly string[]).includes(value);
}

/** The user's locale if Roster has mail in it, else the account's, else en-US. */
export function chooseLocale(userLocale: string | null | undefined, accountLocale: unknown): MailLocale {
  if (isMailLocale(userLocale)) return userLocale;
  if (isMailLocale(accountLocale)) return accountLocale;
  return DEFAULT_MAIL_LOCALE;
}

export function escapeHtml(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

/** `{name}` placeholders filled from `values`; a missing value is left visible rather than guessed. */
export function interpolate(text: string, values: Record<string, string>): string {
  return text.replace(/\{([a-z_]+)\}/g, (whole, key: string) => values[key] ?? whole);
}

function message(locale: MailLocale, key: string, values: Record<string, string>): string {
  const text = catalogs.get(locale)?.[key] ?? catalogs.get(DEFAULT_MAIL_LOCALE)?.[key];
  if (text === undefined) throw new Error(`The mail catalog has no ${key}`);
  return interpolate(text, values);
}

export interface MailParams {
  /** The recipient's display name ('' for none). */
  name: string;
  /** The account's name. */
  account: string;
  /** The address the message goes to. */
  email: string;
  /** The one-time link. */
  link: string;
  /** How long the link works. */
  days?: number;
  hours?: number;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export function renderMail(template: MailTemplate, locale: MailLocale, params: MailParams): RenderedMail {
  const values: Record<string, string> = {
    name: params.name,
    account: params.account,
    email: params.email,
    days: String(params.days ?? ''),
    hours: String(params.hours ?? ''),
  };
  const greeting = params.name.trim() === '' ? message(locale, 'mail.common.greeting_anonymous', values) : message(locale, 'mail.common.greeting', values);
  const subject = message(locale, `mail.${template}.subject`, values);
  const intro = message(locale, `mail.${template}.intro`, values);
  const action = message(locale, `mail.${template}.action`, values);
  const expiry = message(locale, `mail.${template}.expiry`, values);
  const footer = message(locale, 'mail.common.footer', values);
  const text = [greeting, intro, `${action}: ${params.link}`, expiry, `-- \n${footer}`].join('\n\n') + '\n';
  const lang = escapeHtml(locale);
  const link = escapeHtml(params.link);
  const html = [
    `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body>`,
    `<p>${escapeHtml(greeting)}</p>`,
    `<p>${escapeHtml(intro)}</p>`,
    `<p><a href="${link}">${escapeHtml(action)}</a></p>`,
    `<p>${link}</p>`,
    `<p>${escapeHtml(expiry)}</p>`,
    `<hr><p>${escapeHtml(footer)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}

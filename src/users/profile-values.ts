/** The UI and mail languages Roster ships, with Zendesk's locale ids. */
export const LOCALES: Record<string, number> = { 'en-US': 1, fr: 16, 'pt-BR': 19, 'zh-CN': 10 };
const LOCALE_BY_ID = new Map(Object.entries(LOCALES).map(([locale, id]) => [id, locale]));
const LOCALE_BY_KEY = new Map(Object.keys(LOCALES).map((locale) => [locale.toLowerCase(), locale]));
const LOCALE_ALIASES: Record<string, string> = { en: 'en-US', 'en-gb': 'en-US', 'fr-fr': 'fr', 'fr-ca': 'fr', pt: 'pt-BR', zh: 'zh-CN', 'zh-hans': 'zh-CN' };

export function canonicalLocale(raw: string): string | undefined {
  const key = raw.trim().toLowerCase().replace('_', '-');
  return LOCALE_BY_KEY.get(key) ?? LOCALE_ALIASES[key];
}

export function localeById(id: number): string | undefined {
  return LOCALE_BY_ID.get(id);
}

export function localeId(locale: string): number {
  return LOCALES[locale] ?? 1;
}

/** Zendesk's (Rails) time-zone names clients commonly send, beside plain IANA names. */
const RAILS_ZONES: Record<string, string> = {
  UTC: 'Etc/UTC',
  London: 'Europe/London',
  Paris: 'Europe/Paris',
  Berlin: 'Europe/Berlin',
  Madrid: 'Europe/Madrid',
  Amsterdam: 'Europe/Amsterdam',
  Lisbon: 'Europe/Lisbon',
  Brasilia: 'America/Sao_Paulo',
  Beijing: 'Asia/Shanghai',
  'Hong Kong': 'Asia/Hong_Kong',
  Tokyo: 'Asia/Tokyo',
  Sydney: 'Australia/Sydney',
  'Eastern Time (US & Canada)': 'America/New_York',
  'Central Time (US & Canada)': 'America/Chicago',
  'Mountain Time (US & Canada)': 'America/Denver',
  'Pacific Time (US & Canada)': 'America/Los_Angeles',
};

/** Accepts a Zendesk zone name or an IANA name; returns both forms, or undefined when unknown. */
export function resolveTimeZone(raw: string): { timeZone: string; iana: string } | undefined {
  const value = raw.trim();
  const rails = RAILS_ZONES[value];
  if (rails) return { timeZone: value, iana: rails };
  if (!/^[A-Za-z_]+(?:\/[A-Za-z0-9_+-]+){0,2}$/.test(value)) return undefined;
  try {
    const iana = new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
    return { timeZone: value, iana };
  } catch {
    return undefined;
  }
}

// Presenting a user resolves its stored zone; an IANA name costs an Intl.DateTimeFormat (~80 µs).
const ianaByZone = new Map<string, string>();

export function ianaTimeZone(timeZone: string | null): string {
  if (!timeZone) return 'Etc/UTC';
  let iana = ianaByZone.get(timeZone);
  if (iana === undefined) {
    iana = resolveTimeZone(timeZone)?.iana ?? 'Etc/UTC';
    if (ianaByZone.size >= 1000) ianaByZone.clear();
    ianaByZone.set(timeZone, iana);
  }
  return iana;
}

/** Zendesk tags: lower-case, no spaces (a space-separated string is several tags), no duplicates. */
export function normalizeTags(raw: unknown): string[] | undefined {
  const items = typeof raw === 'string' ? raw.split(/[\s,]+/) : Array.isArray(raw) ? raw : undefined;
  if (!items) return undefined;
  const tags: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string' && typeof item !== 'number') return undefined;
    for (const part of String(item).toLowerCase().split(/\s+/)) {
      const tag = part.replace(/[^\p{L}\p{N}_\-/:.]/gu, '');
      if (tag && !tags.includes(tag)) tags.push(tag.slice(0, 80));
    }
  }
  return tags;
}

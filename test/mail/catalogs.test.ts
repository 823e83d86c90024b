import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOG_DIRECTORY, chooseLocale, escapeHtml, MAIL_LOCALES, MAIL_TEMPLATES, renderMail } from '../../src/mail/templates.ts';
import { domainOf, isReservedDomain, suppressionReason } from '../../src/mail/suppression.ts';
import { deliveryError, maskTokens, TOKEN_MASK } from '../../src/mail/outbox.ts';
import { LOCALES } from '../../src/users/profile-values.ts';

const read = (locale: string): Record<string, string> => JSON.parse(fs.readFileSync(new URL(`${locale}.json`, CATALOG_DIRECTORY), 'utf8')) as Record<string, string>;
const placeholders = (text: string): string[] => [...text.matchAll(/\{([a-z_]+)\}/g)].map((match) => match[1] ?? '').sort();

describe('message catalogs (i18n/<locale>.json)', () => {
  const english = read('en-US');

  it('ships a catalog for every locale a user can have', () => {
    expect([...MAIL_LOCALES].sort()).toEqual(Object.keys(LOCALES).sort());
  });

  for (const locale of MAIL_LOCALES) {
    it(`${locale} has every key of en-US, no other, with the same placeholders and no empty text`, () => {
      const catalog = read(locale);
      expect(Object.keys(catalog).sort()).toEqual(Object.keys(english).sort());
      for (const [key, text] of Object.entries(english)) {
        expect(catalog[key]?.trim(), `${locale} ${key}`).not.toBe('');
        expect(placeholders(catalog[key] ?? ''), `${locale} ${key}`).toEqual(placeholders(text));
      }
    });
  }

  it('every template has its subject, intro, action and expiry in the mail.* namespace', () => {
    for (const template of MAIL_TEMPLATES) {
      for (const part of ['subject', 'intro', 'action', 'expiry']) expect(english).toHaveProperty([`mail.${template}.${part}`]);
    }
    for (const key of Object.keys(english)) expect(key).toMatch(/^mail\./);
  });

  it('renders every template in every locale with no placeholder left over', () => {
    for (const template of MAIL_TEMPLATES) {
      for (const locale of MAIL_LOCALES) {
        const mail = renderMail(template, locale, { name: 'Ann', account: 'Acme', email: 'ann@roster-mail.dev', link: 'https://h/hc/x#token=abc', days: 7, hours: 2 });
        for (const part of [mail.subject, mail.text, mail.html]) expect(part).not.toMatch(/\{[a-z_]+\}/);
        expect(mail.text).toContain('https://h/hc/x#token=abc');
        expect(mail.html).toContain(`lang="${locale}"`);
      }
    }
  });
});

describe('rendering', () => {
  it('escapes every value in the HTML part, keeps the text part verbatim', () => {
    const mail = renderMail('welcome', 'en-US', { name: '<script>alert("x")</script> & Co', account: 'A "B" <C>', email: 'x@roster-mail.dev', link: 'https://h/hc/set_password#token=a"b<c', days: 7 });
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co');
    expect(mail.html).toContain('href="https://h/hc/set_password#token=a&quot;b&lt;c"');
    expect(mail.text).toContain('<script>alert("x")</script> & Co');
    expect(escapeHtml(`'`)).toBe('&#39;');
  });

  it('chooses the user\'s locale, then the account\'s, then en-US', () => {
    expect(chooseLocale('fr', 'zh-CN')).toBe('fr');
    expect(chooseLocale('de', 'zh-CN')).toBe('zh-CN');
    expect(chooseLocale(null, undefined)).toBe('en-US');
    expect(chooseLocale('xx', 'yy')).toBe('en-US');
  });
});

describe('suppression rules', () => {
  it('knows the reserved domains and nothing else', () => {
    for (const domain of ['example.com', 'EXAMPLE.NET', 'example.org', 'sub.example.com', 'shop.example', 'a.invalid', 'mail.test', 'host.localhost', 'localhost', 'example.com.']) {
      expect(isReservedDomain(domain), domain).toBe(true);
    }
    for (const domain of ['example-shop.com', 'examples.com', 'test.com', 'roster.dev', 'invalid.io', 'mytest', 'notexample.com']) {
      expect(isReservedDomain(domain), domain).toBe(false);
    }
    expect(domainOf('Ann@Sub.Example.COM')).toBe('sub.example.com');
  });

  it('puts the user rule first and names the reason', () => {
    const ok = { value: 'a@roster-mail.dev', deliverable_state: 'deliverable' };
    expect(suppressionReason({ active: true, suspended: false }, ok)).toBeNull();
    expect(suppressionReason({ active: true, suspended: true }, ok)).toBe('suspended_user');
    expect(suppressionReason({ active: false, suspended: true }, ok)).toBe('deleted_user');
    expect(suppressionReason({ active: true, suspended: false }, { value: 'a@example.org', deliverable_state: 'deliverable' })).toBe('reserved_domain');
    expect(suppressionReason({ active: true, suspended: false }, { value: 'a@roster-mail.dev', deliverable_state: 'undeliverable' })).toBe('undeliverable');
    expect(suppressionReason({ active: true, suspended: false }, null)).toBe('no_email');
  });
});

describe('what the outbox keeps', () => {
  it('masks link tokens in stored bodies', () => {
    expect(maskTokens('Set it: https://h/hc/set_password#token=AbC-_123\n<a href="https://h/x#token=zz9">')).toBe(`Set it: https://h/hc/set_password#token=${TOKEN_MASK}\n<a href="https://h/x#token=${TOKEN_MASK}">`);
  });

  it('records SMTP failures by code only', () => {
    expect(deliveryError(Object.assign(new Error('550 <ann@x.com> no such user'), { code: 'EENVELOPE', responseCode: 550 }))).toEqual({ label: 'EENVELOPE 550', permanent: true });
    expect(deliveryError(Object.assign(new Error('try later'), { code: 'EMESSAGE', responseCode: 451 }))).toEqual({ label: 'EMESSAGE 451', permanent: false });
    expect(deliveryError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' }))).toEqual({ label: 'ESOCKET', permanent: false });
    expect(deliveryError(Object.assign(new Error('x'), { code: 'ann@x.com' }))).toEqual({ label: 'ERROR', permanent: false });
  });
});

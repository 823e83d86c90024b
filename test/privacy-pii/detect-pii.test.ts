import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getExampleNumber, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import mobileExamples from 'libphonenumber-js/examples.mobile.json' with { type: 'json' };
import { detectPii, type PiiSpan, type PiiType } from '../../src/privacy/pii/detect-pii.ts';
import {
  cardBrand,
  cnIdCheckChar,
  cpfCheckDigits,
  IBAN_LENGTHS,
  ibanCheckDigits,
  luhnCheckDigit,
  luhnValid,
} from '../../src/privacy/pii/checks.ts';

/**
 * Property tests for the PII detector (issue 7 item 3): a valid value of each kind, embedded in
 * random text of four languages, is found with its type and exact offsets; the near-miss of each
 * checksummed kind (one wrong check digit, an impossible SSN area, a wrong IBAN checksum) is not
 * reported as that kind. Golden examples pin the whole output for realistic messages.
 */

const RUNS = 150;

// Filler words: English, French, Portuguese, Chinese — no digits and no "@", so only the value can match.
const WORDS = [
  'hello', 'please', 'update', 'my', 'account', 'thanks', 'order', 'the', 'number', 'is',
  'bonjour', 'merci', 'mon', 'numéro', 'est', 'voici', 'carte', 'très', 'à', 'été',
  'olá', 'obrigado', 'meu', 'número', 'é', 'cartão', 'você', 'não', 'ação', 'informação',
  '你好', '谢谢', '我的', '号码', '是', '请', '更新', '账户', '银行卡', '身份证',
];
const filler = fc.array(fc.constantFrom(...WORDS), { maxLength: 12 }).map((words) => words.join(' '));
// Separators as people write them; Chinese text puts values right against the characters around them.
const before = fc.constantFrom(' ', ': ', ' (', '\n', '：', ' «', '"', ' 号码', ' 邮箱');
const after = fc.constantFrom(' ', '. ', ', ', ') ', '\n', '。', '» ', '"', '谢谢 ', '，');

interface Embedded {
  text: string;
  start: number;
  end: number;
}
const embed = (value: fc.Arbitrary<string>): fc.Arbitrary<Embedded & { value: string }> =>
  fc.tuple(filler, before, value, after, filler).map(([a, b, v, c, d]) => {
    const head = `${a}${b}`;
    return { text: `${head}${v}${c}${d}`, start: head.length, end: head.length + v.length, value: v };
  });

const digits = (n: number): fc.Arbitrary<string> => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));
const group = (s: string, sizes: number[], sep: string): string => {
  const out: string[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= s.length) break;
    out.push(s.slice(at, at + size));
    at += size;
  }
  if (at < s.length) out.push(s.slice(at));
  return out.join(sep);
};

const exactly = (spans: PiiSpan[], e: Embedded, type: PiiType): boolean => spans.some((s) => s.type === type && s.start === e.start && s.end === e.end);
const overlapping = (spans: PiiSpan[], e: Embedded, type: PiiType): PiiSpan[] => spans.filter((s) => s.type === type && s.start < e.end && s.end > e.start);

// Payment cards: a known network prefix, random digits, the Luhn digit; bare, in 4-groups or Amex 4-6-5.
const CARD_PREFIXES: [string, number][] = [['4', 16], ['4', 13], ['51', 16], ['55', 16], ['2221', 16], ['34', 15], ['37', 15], ['6011', 16], ['65', 16], ['3530', 16], ['62', 19], ['36', 14]];
const cardDigits = fc.constantFrom(...CARD_PREFIXES).chain(([prefix, length]) => digits(length - prefix.length - 1).map((middle) => prefix + middle + luhnCheckDigit(prefix + middle)));
const formatCard = (d: string, style: number): string => {
  if (style === 0) return d;
  const sizes = d.length === 15 ? [4, 6, 5] : [4, 4, 4, 4, 4];
  return group(d, sizes, style === 1 ? ' ' : '-');
};
const card = fc.tuple(cardDigits, fc.integer({ min: 0, max: 2 })).map(([d, style]) => ({ digits: d, text: formatCard(d, style), style }));

// IBANs: a country of the registry, a random BBAN of its length, the right check digits; compact or printed.
const IBAN_COUNTRIES = ['DE', 'FR', 'GB', 'BR', 'NL', 'ES', 'IT', 'PT', 'BE', 'CH'];
const ibanParts = fc.constantFrom(...IBAN_COUNTRIES).chain((country) =>
  fc.array(fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'), { minLength: (IBAN_LENGTHS[country] ?? 0) - 4, maxLength: (IBAN_LENGTHS[country] ?? 0) - 4 })
    .map((chars) => ({ country, bban: chars.join('') })));
const printIban = (compact: string, spaced: boolean): string => (spaced ? group(compact, Array(9).fill(4), ' ') : compact);

// CPF: nine digits (not all alike) and their two check digits; formatted or bare.
const cpfBase = digits(9).filter((d) => !/^(\d)\1+$/.test(d));
const formatCpf = (d: string, formatted: boolean): string => (formatted ? `${d.slice(0, 3)}.${d.slice(3, 6)}.${d.slice(6, 9)}-${d.slice(9)}` : d);

// Chinese resident IDs: province, area, a birth date 1930–2020, sequence, MOD 11-2 check.
const PROVINCES = ['11', '31', '44', '51', '62', '65', '81'];
const cnFirst17 = fc
  .tuple(fc.constantFrom(...PROVINCES), digits(4), fc.date({ min: new Date('1930-01-01T00:00:00Z'), max: new Date('2020-12-31T00:00:00Z'), noInvalidDate: true }), digits(3))
  .map(([province, area, date, seq]) => `${province}${area}${date.toISOString().slice(0, 10).replaceAll('-', '')}${seq}`);

// SSNs: area 001–899 without 666, group 01–99, serial 0001–9999.
const ssnParts = fc.tuple(
  fc.integer({ min: 1, max: 899 }).filter((a) => a !== 666),
  fc.integer({ min: 1, max: 99 }),
  fc.integer({ min: 1, max: 9999 }),
);
const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const formatSsn = (a: string, g: string, s: string, style: number): string => (style === 0 ? `${a}-${g}-${s}` : style === 1 ? `${a} ${g} ${s}` : `${a}${g}${s}`);

// Phones: a country's example mobile number with random last digits, kept when libphonenumber calls it valid.
const PHONE_COUNTRIES: CountryCode[] = ['US', 'FR', 'BR', 'CN', 'DE', 'GB', 'JP', 'IN', 'PT'];
const phone = fc
  .tuple(fc.constantFrom(...PHONE_COUNTRIES), digits(4), fc.integer({ min: 0, max: 2 }))
  .map(([country, tail, style]) => {
    const example = getExampleNumber(country, mobileExamples);
    if (!example) return null;
    const national = String(example.nationalNumber);
    const parsed = parsePhoneNumberFromString(national.slice(0, -4) + tail, country);
    if (!parsed?.isValid()) return null;
    const text = style === 0 ? parsed.formatInternational() : style === 1 ? parsed.formatNational() : parsed.number;
    return { country, text, e164: parsed.number };
  })
  .filter((p): p is { country: CountryCode; text: string; e164: string } => p !== null);

describe('detectPii: valid values are found with their type', () => {
  it('payment cards (Luhn, 13–19 digits, spaces or dashes); a known network prefix raises confidence', () => {
    fc.assert(
      fc.property(card.chain((c) => embed(fc.constant(c.text)).map((e) => ({ ...e, c }))), (e) => {
        const spans = detectPii(e.text);
        expect(exactly(spans, e, 'credit_card')).toBe(true);
        const span = spans.find((s) => s.type === 'credit_card');
        expect(span?.confidence).toBeGreaterThanOrEqual(cardBrand(e.c.digits) ? 0.75 : 0.5);
      }),
      { numRuns: RUNS },
    );
  });

  it('IBANs (mod-97, country length), compact or in groups of four', () => {
    fc.assert(
      fc.property(
        fc.tuple(ibanParts, fc.boolean()).chain(([{ country, bban }, spaced]) => embed(fc.constant(printIban(`${country}${ibanCheckDigits(country, bban)}${bban}`, spaced)))),
        (e) => {
          expect(exactly(detectPii(e.text), e, 'iban')).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('IPv4 and IPv6 addresses', () => {
    fc.assert(fc.property(embed(fc.ipV4()), (e) => { expect(exactly(detectPii(e.text), e, 'ipv4')).toBe(true); }), { numRuns: RUNS });
    const v6 = fc.ipV6().filter((ip) => /[0-9a-f]/i.test(ip));
    fc.assert(fc.property(embed(v6), (e) => { expect(exactly(detectPii(e.text), e, 'ipv6')).toBe(true); }), { numRuns: RUNS });
  });

  it('Brazilian CPFs, formatted 000.000.000-00 or bare', () => {
    fc.assert(
      fc.property(fc.tuple(cpfBase, fc.boolean()).chain(([base, formatted]) => embed(fc.constant(formatCpf(base + cpfCheckDigits(base), formatted)))), (e) => {
        expect(exactly(detectPii(e.text), e, 'br_cpf')).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('Chinese resident IDs (MOD 11-2 check character, X in either case)', () => {
    fc.assert(
      fc.property(fc.tuple(cnFirst17, fc.boolean()).chain(([first, lower]) => {
        const check = cnIdCheckChar(first);
        return embed(fc.constant(first + (lower ? check.toLowerCase() : check)));
      }), (e) => {
        expect(exactly(detectPii(e.text), e, 'cn_resident_id')).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('US SSNs (dashes, spaces, bare)', () => {
    fc.assert(
      fc.property(fc.tuple(ssnParts, fc.integer({ min: 0, max: 2 })).chain(([[a, g, s], style]) => embed(fc.constant(formatSsn(pad(a, 3), pad(g, 2), pad(s, 4), style)))), (e) => {
        expect(exactly(detectPii(e.text), e, 'us_ssn')).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('email addresses', () => {
    fc.assert(fc.property(embed(fc.emailAddress()), (e) => { expect(exactly(detectPii(e.text), e, 'email')).toBe(true); }), { numRuns: RUNS });
  });

  it('phone numbers of several countries, international or national (with that default country) or E.164', () => {
    fc.assert(
      fc.property(phone.chain((p) => embed(fc.constant(p.text)).map((e) => ({ ...e, p }))), (e) => {
        const spans = detectPii(e.text, { defaultCountry: e.p.country });
        const found = overlapping(spans, e, 'phone');
        expect(found).toHaveLength(1);
        const span = found[0];
        expect(span && e.text.slice(span.start, span.end).replace(/\D/g, '')).toBe(e.value.replace(/\D/g, ''));
      }),
      { numRuns: RUNS },
    );
  });

  it('identity values of the ticket’s people and the requester’s name, wherever they appear', () => {
    const person = fc.record({
      name: fc.constantFrom('Maria da Silva', 'Jean Dupont', 'Zoë Müller', '王小明', 'Ana-Luísa Costa'),
      handle: fc.stringMatching(/^[a-z][a-z0-9_]{3,12}$/),
    });
    fc.assert(
      fc.property(person, filler, filler, (p, a, b) => {
        const text = `${a} ${p.name} ${b} @${p.handle} ${a}`;
        const spans = detectPii(text, { people: [{ userId: 9, name: p.name, identities: [{ type: 'twitter', value: p.handle }] }] });
        const nameAt = text.indexOf(p.name);
        expect(spans).toContainEqual({ start: nameAt, end: nameAt + p.name.length, type: 'person_name', confidence: 0.9, userId: 9 });
        const handleAt = text.indexOf(`@${p.handle}`) + 1;
        expect(spans).toContainEqual({ start: handleAt, end: handleAt + p.handle.length, type: 'identity', confidence: 1, userId: 9, identityType: 'twitter' });
      }),
      { numRuns: RUNS },
    );
  });
});

describe('detectPii: near-misses are not reported as that type', () => {
  const wrongDigit = (d: string): fc.Arbitrary<string> => fc.integer({ min: 1, max: 9 }).map((k) => String((Number(d) + k) % 10));

  it('a card number with a wrong Luhn digit', () => {
    fc.assert(
      fc.property(
        fc.tuple(card, fc.integer({ min: 1, max: 9 })).chain(([c, k]) => {
          const bad = c.digits.slice(0, -1) + String((Number(c.digits.slice(-1)) + k) % 10);
          return embed(fc.constant(formatCard(bad, c.style)));
        }),
        (e) => {
          expect(luhnValid(e.value.replace(/\D/g, ''))).toBe(false);
          expect(overlapping(detectPii(e.text), e, 'credit_card')).toEqual([]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('an IBAN with a wrong checksum', () => {
    fc.assert(
      fc.property(
        fc.tuple(ibanParts, fc.integer({ min: 1, max: 96 }), fc.boolean()).chain(([{ country, bban }, k, spaced]) => {
          const check = (Number(ibanCheckDigits(country, bban)) + k) % 97;
          const wrong = check < 2 ? check + 97 : check; // 00, 01 and 99 are never issued; keep two digits
          return embed(fc.constant(printIban(`${country}${pad(wrong % 100, 2)}${bban}`, spaced)));
        }),
        (e) => {
          expect(overlapping(detectPii(e.text), e, 'iban')).toEqual([]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a CPF with a wrong check digit', () => {
    fc.assert(
      fc.property(
        fc.tuple(cpfBase, fc.boolean(), fc.boolean()).chain(([base, formatted, first]) => {
          const check = cpfCheckDigits(base);
          const which = first ? check.charAt(0) : check.charAt(1);
          return wrongDigit(which).chain((bad) => embed(fc.constant(formatCpf(base + (first ? bad + check.charAt(1) : check.charAt(0) + bad), formatted))));
        }),
        (e) => {
          expect(overlapping(detectPii(e.text), e, 'br_cpf')).toEqual([]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a Chinese resident ID with a wrong check character', () => {
    fc.assert(
      fc.property(
        fc.tuple(cnFirst17, fc.constantFrom(...'0123456789X')).filter(([first, c]) => cnIdCheckChar(first) !== c).chain(([first, c]) => embed(fc.constant(first + c))),
        (e) => {
          expect(overlapping(detectPii(e.text), e, 'cn_resident_id')).toEqual([]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('an SSN with an impossible area (000, 666, 9xx), group 00 or serial 0000', () => {
    const bad = fc.oneof(
      fc.tuple(fc.constantFrom(0, 666, 900, 912, 999), fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 9999 })),
      fc.tuple(fc.integer({ min: 1, max: 665 }), fc.constant(0), fc.integer({ min: 1, max: 9999 })),
      fc.tuple(fc.integer({ min: 1, max: 665 }), fc.integer({ min: 1, max: 99 }), fc.constant(0)),
    );
    fc.assert(
      fc.property(fc.tuple(bad, fc.integer({ min: 0, max: 2 })).chain(([[a, g, s], style]) => embed(fc.constant(formatSsn(pad(a, 3), pad(g, 2), pad(s, 4), style)))), (e) => {
        expect(overlapping(detectPii(e.text), e, 'us_ssn')).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('random text of the four languages without numbers reports nothing', () => {
    fc.assert(fc.property(filler, filler, (a, b) => { expect(detectPii(`${a}. ${b}`)).toEqual([]); }), { numRuns: RUNS });
  });
});

describe('detectPii: spans', () => {
  it('never overlap, stay inside the text, and come in order, whatever the input', () => {
    const noisy = fc.array(
      fc.oneof(
        fc.constantFrom(...WORDS),
        card.map((c) => c.text),
        fc.ipV4(),
        fc.emailAddress(),
        digits(11),
        fc.string({ unit: 'binary', maxLength: 20 }),
      ),
      { maxLength: 20 },
    ).map((parts) => parts.join(' '));
    fc.assert(
      fc.property(noisy, (text) => {
        const spans = detectPii(text, { defaultCountry: 'BR', people: [{ name: 'Ana', identities: [{ type: 'email', value: 'a@b.co' }] }] });
        let last = 0;
        for (const span of spans) {
          expect(span.start).toBeGreaterThanOrEqual(last);
          expect(span.end).toBeGreaterThan(span.start);
          expect(span.end).toBeLessThanOrEqual(text.length);
          expect(span.confidence).toBeGreaterThan(0);
          expect(span.confidence).toBeLessThanOrEqual(1);
          last = span.end;
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('detectPii: golden examples in four languages', () => {
  const show = (text: string, spans: PiiSpan[]) => spans.map((s) => [s.type, text.slice(s.start, s.end), s.confidence]);

  it('English', () => {
    const text = 'Hi, this is John Carter. Please charge my Visa 4111-1111-1111-1111 and call me on (415) 555-2671. ' +
      'My SSN is 123-45-6789, the login came from 203.0.113.42. Reply to john.carter@example.com.';
    const spans = detectPii(text, { defaultCountry: 'US', people: [{ userId: 1, name: 'John Carter', identities: [{ type: 'email', value: 'john.carter@example.com' }] }] });
    expect(show(text, spans)).toEqual([
      ['person_name', 'John Carter', 0.9],
      ['credit_card', '4111-1111-1111-1111', 0.9],
      ['phone', '(415) 555-2671', 0.7],
      ['us_ssn', '123-45-6789', 0.85],
      ['ipv4', '203.0.113.42', 0.8],
      ['identity', 'john.carter@example.com', 1],
    ]);
  });

  it('French', () => {
    const text = 'Bonjour, je suis Amélie Poulain. Mon IBAN est FR76 3000 6000 0112 3456 7890 189 et mon portable le 06 12 34 56 78. ' +
      'Écrivez-moi à amelie@exemple.fr ; adresse IP 2001:db8:85a3::8a2e:370:7334.';
    const spans = detectPii(text, { defaultCountry: 'FR', people: [{ userId: 2, name: 'Amélie Poulain' }] });
    expect(show(text, spans)).toEqual([
      ['person_name', 'Amélie Poulain', 0.9],
      ['iban', 'FR76 3000 6000 0112 3456 7890 189', 0.97],
      ['phone', '06 12 34 56 78', 0.7],
      ['email', 'amelie@exemple.fr', 0.95],
      ['ipv6', '2001:db8:85a3::8a2e:370:7334', 0.85],
    ]);
  });

  it('Portuguese', () => {
    const text = 'Olá, meu nome é João Silva, CPF 529.982.247-25 (ou 52998224725), celular (11) 98765-4321, ' +
      'cartão Mastercard 5555 5555 5555 4444. Obrigado, João.';
    const spans = detectPii(text, { defaultCountry: 'BR', people: [{ userId: 3, name: 'João Silva', identities: [{ type: 'phone_number', value: '+5511987654321' }] }] });
    expect(show(text, spans)).toEqual([
      ['person_name', 'João Silva', 0.9],
      ['br_cpf', '529.982.247-25', 0.95],
      ['br_cpf', '52998224725', 0.75],
      ['identity', '(11) 98765-4321', 0.98],
      ['credit_card', '5555 5555 5555 4444', 0.9],
      ['person_name', 'João', 0.6],
    ]);
  });

  it('Chinese', () => {
    const text = '您好，我是王小明，身份证号码11010519491231002X，手机13812345678，邮箱wang.xm@example.cn。银行卡6222 0212 3456 7890 129。谢谢王小明！';
    const spans = detectPii(text, { defaultCountry: 'CN', people: [{ userId: 4, name: '王小明', identities: [{ type: 'email', value: 'wang.xm@example.cn' }] }] });
    const card = '6222 0212 3456 7890 129';
    expect(luhnValid(card.replaceAll(' ', ''))).toBe(false);
    expect(show(text, spans)).toEqual([
      ['person_name', '王小明', 0.9],
      ['cn_resident_id', '11010519491231002X', 0.95],
      ['phone', '13812345678', 0.7],
      ['identity', 'wang.xm@example.cn', 1],
      ['person_name', '王小明', 0.9],
    ]);
  });
});

describe('detectPii: throughput', () => {
  it('scans a 1 MB generated text (one value every ~20 words, four languages) at a useful rate', () => {
    const values = ['maria@example.com', '+33 6 12 34 56 78', '(415) 555-2671', '4111 1111 1111 1111', 'DE89 3704 0044 0532 0130 00', '10.0.0.1', '2001:db8::1', '529.982.247-25', '11010519491231002X', '123-45-6789', 'order 12345', 'v1.2.3'];
    const parts: string[] = [];
    let bytes = 0;
    for (let i = 0; bytes < 1_000_000; i++) {
      const word = i % 20 === 0 ? (values[(i / 20) % values.length] ?? '') : (WORDS[(i * 7) % WORDS.length] ?? '');
      parts.push(word);
      bytes += Buffer.byteLength(word) + 1;
    }
    const text = parts.join(' ');
    const started = performance.now();
    const spans = detectPii(text, { defaultCountry: 'US', people: [{ userId: 1, name: 'Maria Silva', identities: [{ type: 'email', value: 'maria@example.com' }] }] });
    const seconds = (performance.now() - started) / 1000;
    const rate = Buffer.byteLength(text) / 1e6 / seconds;
    console.log(`detectPii throughput: ${rate.toFixed(2)} MB/s (${Buffer.byteLength(text)} bytes, ${spans.length} spans, ${(seconds * 1000).toFixed(0)} ms)`);
    expect(spans.length).toBeGreaterThan(4000);
    // A guard against a quadratic regression (1 MB within 20 s even on a loaded 2-core machine), not a benchmark.
    expect(rate).toBeGreaterThan(0.05);
  });
});

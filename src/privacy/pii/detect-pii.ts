import { isIP } from 'node:net';
import { findPhoneNumbersInText, isSupportedCountry, type CountryCode } from 'libphonenumber-js';
import { cardBrand, cnIdValid, cpfValid, IBAN_LENGTHS, ibanRemainder, luhnValid, ssnValid } from './checks.ts';

/**
 * PII detection (issue 7 item 3): a pure function from a text (and what is known about the people
 * of its ticket) to the spans that look like personal data. Offsets are UTF-16 code units into
 * the text, as JavaScript strings index it; `text.slice(start, end)` is the span. Spans never
 * overlap: where two detections overlap, the more confident one wins (then the more specific
 * type, then the longer span).
 *
 * The result holds positions and types only — the caller decides whether showing the matched text
 * is allowed (the API may, since the caller can read the comment; job results and logs must not).
 */

export type PiiType =
  | 'email'
  | 'phone'
  | 'credit_card'
  | 'iban'
  | 'ipv4'
  | 'ipv6'
  | 'br_cpf'
  | 'cn_resident_id'
  | 'us_ssn'
  /** A value of one of the ticket's people's identities (email, phone, handle…). */
  | 'identity'
  /** The requester's name (or, with lower confidence, a part of it). */
  | 'person_name';

export interface PiiSpan {
  start: number;
  end: number;
  type: PiiType;
  /** 0..1: how sure the detector is that the span is this kind of personal data. */
  confidence: number;
  /** For `identity` and `person_name`: whose value it is. */
  userId?: number;
  /** For `identity`: the identity's type (email, phone_number, twitter, …). */
  identityType?: string;
}

export interface PiiPerson {
  userId?: number;
  /** Full name to look for (the requester's); parts of three letters or more are found with lower confidence. */
  name?: string;
  identities?: { type: string; value: string }[];
}

export interface PiiContext {
  /** Country for phone numbers written without an international prefix (ISO 3166-1 alpha-2). */
  defaultCountry?: string;
  people?: PiiPerson[];
}

/** Higher wins a tie in confidence: checksummed national identifiers over generic shapes. */
const SPECIFICITY: Record<PiiType, number> = {
  identity: 10,
  cn_resident_id: 9,
  br_cpf: 8,
  iban: 8,
  credit_card: 7,
  us_ssn: 6,
  email: 5,
  ipv6: 5,
  ipv4: 4,
  phone: 3,
  person_name: 2,
};

const EMAIL = /(?<![A-Za-z0-9!#$%&'*+/=?^_`{|}~.-])[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![A-Za-z0-9-]|\.[A-Za-z0-9])/g;
const CARD = /(?<![0-9+]|[0-9][ -])[0-9](?:[ -]?[0-9]){12,18}(?![0-9]|[ -][0-9])/g;
const IBAN_START = /(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}/g;
const IPV4 = /(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9]|\.[0-9])/g;
const IPV6 = /(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,8}(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{0,4})(?![0-9A-Za-z:]|\.[0-9])/g;
const CPF_FORMATTED = /(?<![0-9.])[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}(?![0-9])/g;
const CPF_BARE = /(?<![0-9])[0-9]{11}(?![0-9])/g;
const CN_ID = /(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])/g;
const SSN_FORMATTED = /(?<![0-9-])[0-9]{3}([- ])[0-9]{2}\1[0-9]{4}(?![0-9]|-[0-9])/g;
const SSN_BARE = /(?<![0-9])[0-9]{9}(?![0-9])/g;

function* matches(pattern: RegExp, text: string): Generator<RegExpExecArray> {
  const re = new RegExp(pattern.source, pattern.flags);
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    yield m;
    if (m[0] === '') re.lastIndex++;
  }
}

const digitsOf = (s: string): string => s.replace(/[^0-9]/g, '');

function emails(text: string, out: PiiSpan[]): void {
  if (!text.includes('@')) return;
  for (const m of matches(EMAIL, text)) out.push({ start: m.index, end: m.index + m[0].length, type: 'email', confidence: 0.95 });
}

/** How cards are printed: one run, groups of four (the last shorter), or Amex/Diners 4-6-5 and 4-6-4. */
const CARD_GROUPING = /^(?:[0-9]+|[0-9]{4}(?:[ -][0-9]{4}){1,3}(?:[ -][0-9]{1,4})?|[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5})$/;

function cards(text: string, out: PiiSpan[]): void {
  for (const m of matches(CARD, text)) {
    const raw = m[0];
    // One kind of separator at most: "4111 1111-1111 1111" is not how cards are written.
    if (raw.includes(' ') && raw.includes('-')) continue;
    if (!CARD_GROUPING.test(raw)) continue;
    const digits = digitsOf(raw);
    if (!luhnValid(digits) || /^(\d)\1+$/.test(digits)) continue;
    const brand = cardBrand(digits);
    const confidence = brand?.lengths.includes(digits.length) ? 0.9 : brand ? 0.75 : 0.55;
    out.push({ start: m.index, end: m.index + raw.length, type: 'credit_card', confidence });
  }
}

function ibans(text: string, out: PiiSpan[]): void {
  for (const m of matches(IBAN_START, text)) {
    const length = IBAN_LENGTHS[m[0].slice(0, 2)];
    if (length === undefined) continue;
    // Gather `length` alphanumerics, allowing single spaces between them (the printed 4-groups).
    let compact = m[0];
    let i = m.index + 4;
    while (compact.length < length && i < text.length) {
      const ch = text.charAt(i);
      if (/[A-Z0-9]/.test(ch)) {
        compact += ch;
        i++;
      } else if (ch === ' ' && /[A-Z0-9]/.test(text.charAt(i + 1)) && compact.length % 4 === 0) {
        i++;
      } else break;
    }
    if (compact.length !== length || /[A-Za-z0-9]/.test(text.charAt(i))) continue;
    if (ibanRemainder(compact) !== 1) continue;
    out.push({ start: m.index, end: i, type: 'iban', confidence: 0.97 });
  }
}

function ips(text: string, out: PiiSpan[]): void {
  if (text.includes('.')) {
    for (const m of matches(IPV4, text)) {
      if (isIP(m[0]) === 4) out.push({ start: m.index, end: m.index + m[0].length, type: 'ipv4', confidence: 0.8 });
    }
  }
  if (text.includes(':')) {
    for (const m of matches(IPV6, text)) {
      // "::" alone, or a clock time, is not an address worth flagging.
      if (!/[0-9A-Fa-f]/.test(m[0]) || isIP(m[0]) !== 6) continue;
      out.push({ start: m.index, end: m.index + m[0].length, type: 'ipv6', confidence: 0.85 });
    }
  }
}

function cpfs(text: string, out: PiiSpan[]): void {
  for (const m of matches(CPF_FORMATTED, text)) {
    if (cpfValid(digitsOf(m[0]))) out.push({ start: m.index, end: m.index + m[0].length, type: 'br_cpf', confidence: 0.95 });
  }
  for (const m of matches(CPF_BARE, text)) {
    if (cpfValid(m[0])) out.push({ start: m.index, end: m.index + m[0].length, type: 'br_cpf', confidence: 0.75 });
  }
}

function chineseIds(text: string, out: PiiSpan[]): void {
  for (const m of matches(CN_ID, text)) {
    if (cnIdValid(m[0])) out.push({ start: m.index, end: m.index + m[0].length, type: 'cn_resident_id', confidence: 0.95 });
  }
}

function ssns(text: string, out: PiiSpan[]): void {
  for (const m of matches(SSN_FORMATTED, text)) {
    if (ssnValid(digitsOf(m[0]))) out.push({ start: m.index, end: m.index + m[0].length, type: 'us_ssn', confidence: m[1] === '-' ? 0.85 : 0.6 });
  }
  // Nine bare digits are an SSN only as often as they are anything else.
  for (const m of matches(SSN_BARE, text)) {
    if (ssnValid(m[0])) out.push({ start: m.index, end: m.index + m[0].length, type: 'us_ssn', confidence: 0.35 });
  }
}

function country(code: string | undefined): CountryCode | undefined {
  const upper = code?.toUpperCase();
  return upper && isSupportedCountry(upper) ? upper : undefined;
}

/** Phone numbers (libphonenumber-js, valid numbers only); returns them with their E.164 form for identity matching. */
function phones(text: string, defaultCountry: CountryCode | undefined, out: PiiSpan[]): Map<PiiSpan, string> {
  const e164 = new Map<PiiSpan, string>();
  for (const [from, to] of phoneWindows(text)) {
    const window = text.slice(from, to);
    for (const found of findPhoneNumbersInText(window, defaultCountry ? { defaultCountry } : {})) {
      const start = from + found.startsAt;
      const end = from + found.endsAt;
      const international = text.slice(start, end).trimStart().startsWith('+');
      const span: PiiSpan = { start, end, type: 'phone', confidence: international ? PHONE_CONFIDENCE : 0.7 };
      out.push(span);
      e164.set(span, found.number.number);
    }
  }
  return e164;
}

const PHONE_CONFIDENCE = 0.8;

/** The text with the given spans replaced by spaces (same length, so offsets still hold). */
function blank(text: string, spans: PiiSpan[]): string {
  if (spans.length === 0) return text;
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const parts: string[] = [];
  let at = 0;
  for (const span of sorted) {
    if (span.start < at) {
      if (span.end > at) {
        parts.push(' '.repeat(span.end - at));
        at = span.end;
      }
      continue;
    }
    parts.push(text.slice(at, span.start), ' '.repeat(span.end - span.start));
    at = span.end;
  }
  parts.push(text.slice(at));
  return parts.join('');
}

const DIGIT_RUN = /[0-9](?:[0-9 \t().\-/\u00a0]{0,40}[0-9])?/g;
const WINDOW_MARGIN = 8;

/**
 * The phone matcher is by far the slowest step; it runs only over windows around runs of five or
 * more digits (with a margin for a leading "+", a bracket or an "ext."), merged where they touch.
 */
function phoneWindows(text: string): [number, number][] {
  const windows: [number, number][] = [];
  for (const m of matches(DIGIT_RUN, text)) {
    if (digitsOf(m[0]).length < 5) continue;
    const from = Math.max(0, m.index - WINDOW_MARGIN);
    const to = Math.min(text.length, m.index + m[0].length + WINDOW_MARGIN);
    const last = windows[windows.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else windows.push([from, to]);
  }
  return windows;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const WORDISH = /[\p{L}\p{N}_]/u;
const HAN = /\p{Script=Han}/u;

/** Every occurrence of `value` (case-insensitive), not inside a longer word (except around Chinese characters, which have no spaces). */
function literal(text: string, value: string, make: (start: number, end: number) => PiiSpan, out: PiiSpan[]): void {
  const trimmed = value.trim();
  if (trimmed.length < 2) return;
  const first = trimmed.charAt(0);
  const last = trimmed.charAt(trimmed.length - 1);
  const re = new RegExp(escapeRegExp(trimmed).replace(/\s+/g, '\\s+'), 'giu');
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const before = text.charAt(m.index - 1);
    const after = text.charAt(m.index + m[0].length);
    const openLeft = !WORDISH.test(first) || HAN.test(first) || !WORDISH.test(before) || HAN.test(before);
    const openRight = !WORDISH.test(last) || HAN.test(last) || !WORDISH.test(after) || HAN.test(after);
    if (openLeft && openRight) out.push(make(m.index, m.index + m[0].length));
  }
}

function people(text: string, context: PiiContext, phoneNumbers: Map<PiiSpan, string>, out: PiiSpan[]): void {
  for (const person of context.people ?? []) {
    const userId = person.userId;
    for (const identity of person.identities ?? []) {
      const make = (start: number, end: number): PiiSpan => ({ start, end, type: 'identity', confidence: 1, userId, identityType: identity.type });
      literal(text, identity.value, make, out);
      // A phone identity also matches the same number written another way.
      const digits = digitsOf(identity.value);
      if (identity.type === 'phone_number' && digits.length >= 6) {
        for (const [span, number] of phoneNumbers) {
          if (digitsOf(number) === digits || digitsOf(number).endsWith(digits)) out.push({ ...make(span.start, span.end), confidence: 0.98 });
        }
      }
    }
    const name = person.name?.trim();
    if (name) {
      literal(text, name, (start, end) => ({ start, end, type: 'person_name', confidence: 0.9, userId }), out);
      const parts = name.split(/\s+/).filter((part) => part.length >= 3 && part !== name);
      for (const part of new Set(parts)) literal(text, part, (start, end) => ({ start, end, type: 'person_name', confidence: 0.6, userId }), out);
    }
  }
}

/** Keeps the best of overlapping spans: confidence, then specificity, then length. */
function resolve(text: string, spans: PiiSpan[]): PiiSpan[] {
  const ranked = [...spans].sort(
    (a, b) => b.confidence - a.confidence || SPECIFICITY[b.type] - SPECIFICITY[a.type] || b.end - b.start - (a.end - a.start) || a.start - b.start,
  );
  const taken = new Uint8Array(text.length);
  const kept: PiiSpan[] = [];
  for (const span of ranked) {
    if (span.end <= span.start) continue;
    let free = true;
    for (let i = span.start; i < span.end; i++) {
      if (taken[i]) {
        free = false;
        break;
      }
    }
    if (!free) continue;
    taken.fill(1, span.start, span.end);
    kept.push(span);
  }
  return kept.sort((a, b) => a.start - b.start);
}

export function detectPii(text: string, context: PiiContext = {}): PiiSpan[] {
  const found: PiiSpan[] = [];
  emails(text, found);
  ibans(text, found);
  cards(text, found);
  ips(text, found);
  cpfs(text, found);
  chineseIds(text, found);
  ssns(text, found);
  // Phones last, over the text with every span a phone could not outrank blanked out: the phone
  // matcher is the slowest step, and card numbers, IBANs and IDs are digit runs it would parse.
  const phoneNumbers = phones(blank(text, found.filter((span) => span.confidence > PHONE_CONFIDENCE)), country(context.defaultCountry), found);
  people(text, context, phoneNumbers, found);
  return resolve(text, found);
}

export { country as supportedCountry };

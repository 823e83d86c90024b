import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { IdentityType } from '../../db/tables.ts';
import type { DeletionStash } from '../../lifecycle/lifecycle.repository.ts';
import type { Executor } from '../../users/users.repository.ts';

/**
 * What identifies a person in free text (issue 7 item 4): their name and every identity value,
 * found by exact, case-insensitive, accent-aware matching — `zoe`, `ZOË` and `Zoe\u0308` all read as
 * `Zoë` — and a phone number however it is written (`+1 415 555 0100`, `(415) 555-0100`,
 * `415.555.0100`). Used by the erasure plan and run and by the permanent delete alike
 * (src/privacy/erasure/scrub-person.ts); never stored, never logged.
 */

export type TermKind = 'name' | 'email' | 'phone' | 'identity';

export interface Term {
  kind: TermKind;
  /** A regular expression over folded text (`phone`: over the raw text). */
  pattern: RegExp;
}

export interface Mention {
  start: number;
  end: number;
  kind: TermKind;
}

/** Letters, digits and underscore: a match may not run on into one of these. */
const WORD = /[\p{L}\p{N}_]/u;
const SEPARATORS = '[\\s().\\-/\\u00a0]*';

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A character's comparable form: decomposed, marks dropped, lower-cased (may be empty for a lone mark). */
const foldChar = (char: string): string => char.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

export function foldText(text: string): string {
  return [...text].map(foldChar).join('');
}

/** The folded text with, for each folded unit, the span of the source character it came from. */
function fold(text: string): { folded: string; starts: number[]; ends: number[] } {
  let folded = '';
  const starts: number[] = [];
  const ends: number[] = [];
  for (let index = 0; index < text.length; ) {
    const point = text.codePointAt(index) ?? 0;
    const width = point > 0xffff ? 2 : 1;
    const folding = foldChar(text.slice(index, index + width));
    for (let unit = 0; unit < folding.length; unit += 1) {
      folded += folding[unit];
      starts.push(index);
      ends.push(index + width);
    }
    index += width;
  }
  return { folded, starts, ends };
}

function literalTerm(kind: TermKind, value: string): Term | undefined {
  const folded = foldText(value.trim());
  if ([...folded].length < 3) return undefined;
  const body = folded.split(/\s+/u).filter((part) => part !== '').map(escapeRegExp).join('\\s+');
  return { kind, pattern: new RegExp(body, 'gu') };
}

/** Digits with any separators between them. */
const digitsPattern = (digits: string): string => [...digits].join(SEPARATORS);

/**
 * A phone number in any of its usual spellings: with or without `+` and country code, with a
 * trunk `0`, with spaces, dots, dashes or brackets anywhere, not inside a longer digit run.
 */
function phoneTerm(valueKey: string): Term | undefined {
  const digits = valueKey.replace(/\D/g, '');
  if (digits.length < 6) return undefined;
  const parsed = parsePhoneNumberFromString(`+${digits}`);
  const national = parsed?.nationalNumber ?? '';
  const country = parsed?.countryCallingCode ?? '';
  const forms = [`\\+?${SEPARATORS}${digitsPattern(digits)}`];
  if (national.length >= 6 && country !== '') {
    forms.push(`(?:(?:\\+|00)${SEPARATORS}${digitsPattern(country)}${SEPARATORS})?(?:\\(?0\\)?${SEPARATORS})?\\(?${digitsPattern(national)}`);
  }
  return { kind: 'phone', pattern: new RegExp(`(?<!\\d)(?:${forms.join('|')})(?!\\d)`, 'g') };
}

export interface PersonIdentifier {
  type: IdentityType;
  value: string;
  value_key: string;
}

export interface Person {
  name: string;
  identifiers: PersonIdentifier[];
}

/** Matchers for a person: their name and each identity (emails and handles literally, phones in any spelling). */
export function personTerms(person: Person): Term[] {
  const terms: Term[] = [];
  const name = literalTerm('name', person.name);
  if (name) terms.push(name);
  for (const identifier of person.identifiers) {
    if (identifier.type === 'phone_number') {
      const phone = phoneTerm(identifier.value_key);
      if (phone) terms.push(phone);
      continue;
    }
    const literal = literalTerm(identifier.type === 'email' ? 'email' : 'identity', identifier.value);
    if (literal) terms.push(literal);
  }
  return terms;
}

/** Every mention of the person in `text`, merged where they overlap, as source offsets (UTF-16). */
export function findMentions(text: string, terms: Term[]): Mention[] {
  if (text === '' || terms.length === 0) return [];
  const { folded, starts, ends } = fold(text);
  const found: Mention[] = [];
  for (const term of terms) {
    term.pattern.lastIndex = 0;
    if (term.kind === 'phone') {
      for (const match of text.matchAll(term.pattern)) found.push({ start: match.index, end: match.index + match[0].length, kind: term.kind });
      continue;
    }
    for (const match of folded.matchAll(term.pattern)) {
      const first = match.index;
      const last = first + match[0].length - 1;
      const before = first > 0 ? folded[first - 1] ?? '' : '';
      const after = folded[last + 1] ?? '';
      const head = match[0][0] ?? '';
      const tail = match[0][match[0].length - 1] ?? '';
      // Not inside a longer word: `Ann Lee` is not found in `Joann Leeds`.
      if ((WORD.test(head) && WORD.test(before)) || (WORD.test(tail) && WORD.test(after))) continue;
      const start = starts[first];
      const end = ends[last];
      if (start !== undefined && end !== undefined) found.push({ start, end, kind: term.kind });
    }
  }
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Mention[] = [];
  for (const mention of found) {
    const previous = merged[merged.length - 1];
    if (previous && mention.start < previous.end) {
      previous.end = Math.max(previous.end, mention.end);
      continue;
    }
    merged.push({ ...mention });
  }
  return merged;
}

/**
 * The person as the database knows them: the name and their identities — live ones, and the
 * copies a soft delete keeps for a restore (user_deletions.stash) — so a purge after a soft
 * delete still knows what to look for.
 */
export async function loadPerson(db: Executor, accountId: number, userId: number): Promise<Person | undefined> {
  const user = await db.selectFrom('users').select(['name']).where('account_id', '=', accountId).where('id', '=', userId).executeTakeFirst();
  if (!user) return undefined;
  const live = await db.selectFrom('user_identities').select(['type', 'value', 'value_key']).where('account_id', '=', accountId).where('user_id', '=', userId).orderBy('id').execute();
  const deletion = await db.selectFrom('user_deletions').select('stash').where('account_id', '=', accountId).where('user_id', '=', userId).executeTakeFirst();
  const stash = deletion?.stash as DeletionStash | null | undefined;
  const identifiers: PersonIdentifier[] = [...live];
  for (const identity of stash?.identities ?? []) {
    if (!identifiers.some((known) => known.type === identity.type && known.value_key === identity.value_key)) identifiers.push({ type: identity.type, value: identity.value, value_key: identity.value_key });
  }
  return { name: user.name, identifiers };
}

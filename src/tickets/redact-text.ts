/**
 * The text side of redaction (DOMAIN.md §6): every character of a redacted string becomes `▇`.
 * Pure functions over a comment's three bodies; src/tickets/redact-comment.ts stores the result.
 * Characters are counted as code points, so an emoji or a CJK character becomes one `▇`.
 */
export const REDACTION_MARK = '▇';

const mask = (text: string): string => REDACTION_MARK.repeat([...text].length);

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Every occurrence of `text` in a plain string, masked. A run of whitespace in `text` matches any
 * run of whitespace — a name or a postal address broken over two lines is still the same datum,
 * and a copy left behind because of a line break would defeat the redaction.
 */
export function redactPlain(source: string, text: string): string {
  if (text === '') return source;
  const pattern = new RegExp(text.split(/\s+/u).map(escapeRegExp).join('\\s+'), 'gu');
  return source.replace(pattern, (match) => mask(match));
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** One character of an HTML text run: what it reads as, and where it sits in the source. */
export interface SourceChar {
  char: string;
  start: number;
  end: number;
}

export type Segment = { kind: 'tag'; source: string } | { kind: 'text'; chars: SourceChar[]; start: number; source: string };

function decodeEntity(entity: string): string | undefined {
  const name = entity.slice(1, -1).toLowerCase();
  if (name.startsWith('#x')) return codePoint(Number.parseInt(name.slice(2), 16));
  if (name.startsWith('#')) return codePoint(Number.parseInt(name.slice(1), 10));
  return NAMED[name];
}

function codePoint(code: number): string | undefined {
  return Number.isInteger(code) && code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : undefined;
}

/** A text run as the characters a reader sees (entities decoded), each mapped to its source span. */
function decodeRun(source: string, offset: number): SourceChar[] {
  const chars: SourceChar[] = [];
  const entity = /&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/giy;
  let index = 0;
  while (index < source.length) {
    if (source[index] === '&') {
      entity.lastIndex = index;
      const match = entity.exec(source);
      const decoded = match ? decodeEntity(match[0]) : undefined;
      if (match && decoded !== undefined) {
        chars.push({ char: decoded, start: offset + index, end: offset + index + match[0].length });
        index += match[0].length;
        continue;
      }
    }
    const point = source.codePointAt(index) ?? 0;
    const width = point > 0xffff ? 2 : 1;
    chars.push({ char: source.slice(index, index + width), start: offset + index, end: offset + index + width });
    index += width;
  }
  return chars;
}

/** Tags and text runs, in order. A `<` that opens no tag is text, as browsers read it. */
export function segments(html: string): Segment[] {
  const result: Segment[] = [];
  const tag = /<\/?[a-z!][^>]*>/gi;
  let last = 0;
  for (const match of html.matchAll(tag)) {
    const at = match.index;
    if (at > last) result.push({ kind: 'text', chars: decodeRun(html.slice(last, at), last), start: last, source: html.slice(last, at) });
    result.push({ kind: 'tag', source: match[0] });
    last = at + match[0].length;
  }
  if (last < html.length) result.push({ kind: 'text', chars: decodeRun(html.slice(last), last), start: last, source: html.slice(last) });
  return result;
}

/** The forms a string takes inside a tag's attributes (a mailto: link, an image's alt, a query string). */
function attributeForms(text: string): string[] {
  const escaped = text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
  return [...new Set([text, escaped, encodeURIComponent(text), encodeURI(text)])].filter((form) => form !== '');
}

export const BREAK_TAG = /^<(?:br\b|\/?(?:p|div|li|h[1-6]|tr|blockquote)\b)/i;

/** A readable character, or a run of whitespace (which matches any other run of whitespace). */
interface Unit {
  space: boolean;
  char: string;
  /** Source characters the unit covers (none for a line-breaking tag). */
  positions: number[];
}

function units(chars: { char: string; position: number | null }[]): Unit[] {
  const result: Unit[] = [];
  for (const { char, position } of chars) {
    const space = /^\s$/u.test(char);
    const last = result[result.length - 1];
    if (space && last?.space) {
      if (position !== null) last.positions.push(position);
      continue;
    }
    result.push({ space, char, positions: position === null ? [] : [position] });
  }
  return result;
}

/** Masks `text` inside a tag's attribute values only: the tag's own syntax stays intact. */
function redactAttributes(tag: string, text: string): string {
  return tag.replace(/(=\s*)("[^"]*"|'[^']*'|[^\s"'>]+)/g, (_match, equals: string, value: string) => {
    let masked = value;
    for (const form of attributeForms(text)) masked = masked.split(form).join(mask(text));
    return equals + masked;
  });
}

/**
 * Every occurrence of `text` in an HTML body, masked: in the text a reader sees (across entities
 * and across inline tags — `Ann <b>Lee</b>` matches `Ann Lee`, the tags stay) and inside tags'
 * attributes (an address in a `mailto:` link is as much a copy as the link's text).
 */
export function redactHtml(html: string, text: string): string {
  if (text === '') return html;
  const parts = segments(html);
  // The readable characters of the whole body, in order, across text runs; a line-breaking tag
  // (<br>, a paragraph's edge) reads as whitespace without a source character of its own.
  const readable: { char: string; position: number | null }[] = [];
  let count = 0;
  for (const part of parts) {
    if (part.kind === 'tag') {
      if (BREAK_TAG.test(part.source)) readable.push({ char: '\n', position: null });
      continue;
    }
    for (const char of part.chars) readable.push({ char: char.char, position: count++ });
  }
  const body = units(readable);
  const target = units([...text].map((char) => ({ char, position: null })));
  const masked = new Set<number>();
  for (let index = 0; index + target.length <= body.length; index += 1) {
    let matches = true;
    for (let offset = 0; offset < target.length; offset += 1) {
      const here = body[index + offset];
      const wanted = target[offset];
      if (!here || !wanted || here.space !== wanted.space || (!here.space && here.char !== wanted.char)) {
        matches = false;
        break;
      }
    }
    if (!matches) continue;
    for (let offset = 0; offset < target.length; offset += 1) {
      for (const position of body[index + offset]?.positions ?? []) masked.add(position);
    }
    index += target.length - 1;
  }
  let position = 0;
  let output = '';
  for (const part of parts) {
    if (part.kind === 'tag') {
      output += redactAttributes(part.source, text);
      continue;
    }
    for (const char of part.chars) {
      output += masked.has(position) ? REDACTION_MARK : part.source.slice(char.start - part.start, char.end - part.start);
      position += 1;
    }
  }
  return output;
}

/** What a `<redact>`-marked html_body asks for (PUT /api/v2/comment_redactions/{id}). */
export interface MarkedRedaction {
  /** The stored html_body with each marked region masked and each `redact`-attributed tag removed. */
  html: string;
  /** The html_body without the markers: must equal the stored one, or the caller is editing, not redacting. */
  unmarked: string;
  /** The readable text of each marked region, to mask in the plain bodies too. */
  texts: string[];
}

const REDACT_OPEN = /^<redact\s*>$/i;
const REDACT_CLOSE = /^<\/redact\s*>$/i;
const REDACT_ATTRIBUTE = /\s+redact(?:\s*=\s*(?:""|''|"redact"|'redact'|redact))?(?=[\s/>])/i;

/**
 * Reads Zendesk's agent-workspace redaction markup: text inside `<redact>…</redact>` is masked
 * (tags inside it stay), and an element carrying the `redact` attribute (a link, an inline
 * image) loses its tag, attributes and all.
 */
export function applyRedactMarkup(marked: string): MarkedRedaction {
  let html = '';
  let unmarked = '';
  let depth = 0;
  const texts: string[] = [];
  let current = '';
  for (const part of segments(marked)) {
    if (part.kind === 'tag') {
      if (REDACT_OPEN.test(part.source)) {
        depth += 1;
        continue;
      }
      if (REDACT_CLOSE.test(part.source)) {
        if (depth > 0) depth -= 1;
        if (depth === 0 && current !== '') {
          texts.push(current);
          current = '';
        }
        continue;
      }
      if (REDACT_ATTRIBUTE.test(part.source)) {
        unmarked += part.source.replace(REDACT_ATTRIBUTE, '');
        continue;
      }
      html += part.source;
      unmarked += part.source;
      continue;
    }
    unmarked += part.source;
    if (depth === 0) {
      html += part.source;
      continue;
    }
    for (const char of part.chars) {
      html += REDACTION_MARK;
      current += char.char;
    }
  }
  if (current !== '') texts.push(current);
  return { html, unmarked, texts };
}

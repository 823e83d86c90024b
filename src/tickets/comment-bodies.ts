/**
 * A comment's three bodies (Zendesk's body, html_body, plain_body) from what the caller sent:
 * plain text becomes escaped HTML paragraphs; HTML is kept minus what could run in a viewer's
 * browser, and its text becomes the plain bodies. Every copy of the text lives in these three
 * columns only, which is what redaction relies on.
 */
export interface CommentBodies {
  body: string;
  html_body: string;
  plain_body: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,6}|#39);/gi, (match, name: string) => {
    const lower = name.toLowerCase();
    if (lower.startsWith('#x')) return safeCodePoint(Number.parseInt(lower.slice(2), 16)) ?? match;
    if (lower.startsWith('#') && lower !== '#39') return safeCodePoint(Number.parseInt(lower.slice(1), 10)) ?? match;
    return ENTITIES[lower] ?? match;
  });
}

function safeCodePoint(code: number): string | undefined {
  return Number.isInteger(code) && code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : undefined;
}

/** Drops scripts, styles, frames, event-handler attributes and javascript: URLs. */
export function sanitizeHtml(html: string): string {
  return html
    .replace(/<(script|style|iframe|object|embed|template)\b[^]*?<\/\1\s*>/gi, '')
    .replace(/<\/?(script|style|iframe|object|embed|template|meta|link|base)\b[^>]*>/gi, '')
    .replace(/\s+on[a-z]+\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi, '')
    .replace(/(href|src)\s*=\s*(["']?)\s*javascript:[^"'\s>]*\2/gi, '$1="#"');
}

export function htmlToText(html: string): string {
  const text = html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|h[1-6]|tr|blockquote)>/gi, '\n')
    .replace(/<[^>]*>/g, '');
  return decodeEntities(text).replace(/\n{3,}/g, '\n\n').trim();
}

function textToHtml(text: string): string {
  const paragraphs = text.split(/\n{2,}/).map((paragraph) => `<p>${escapeHtml(paragraph).replaceAll('\n', '<br>')}</p>`);
  return `<div class="zd-comment" dir="auto">${paragraphs.join('')}</div>`;
}

export function commentBodies(body: string | undefined, htmlBody: string | undefined): CommentBodies {
  if (htmlBody !== undefined && htmlBody.trim() !== '') {
    const html = sanitizeHtml(htmlBody);
    const text = htmlToText(html);
    return { body: body !== undefined && body.trim() !== '' ? body : text, html_body: html, plain_body: text };
  }
  const text = body ?? '';
  return { body: text, html_body: textToHtml(text), plain_body: text };
}

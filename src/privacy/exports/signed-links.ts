import crypto from 'node:crypto';

/**
 * Signed download links: `?expires=<unix seconds>&signature=<base64url HMAC-SHA256>` over the
 * account id, the export id, what is downloaded (the file, or one attachment) and the expiry,
 * under the server's link key (ExportFiles.linkKey). The URL carries ids and a time only — no
 * personal data — and changing any of them breaks the signature.
 */
export interface LinkSubject {
  accountId: number;
  exportId: number;
  /** 'file', or `attachment:<id>`. */
  item: string;
}

function mac(key: Buffer, subject: LinkSubject, expires: number): Buffer {
  return crypto.createHmac('sha256', key).update(`roster-export-link\n${subject.accountId}\n${subject.exportId}\n${subject.item}\n${expires}`).digest();
}

export function signLink(key: Buffer, subject: LinkSubject, expiresAt: Date): { expires: number; signature: string } {
  const expires = Math.floor(expiresAt.getTime() / 1000);
  return { expires, signature: mac(key, subject, expires).toString('base64url') };
}

export type LinkCheck = 'valid' | 'invalid' | 'expired';

/** Checks the signature first (a forged expiry is `invalid`, never `expired`), then the time. */
export function checkLink(key: Buffer, subject: LinkSubject, expires: unknown, signature: unknown, now: Date): LinkCheck {
  if (typeof expires !== 'string' || !/^\d{1,12}$/.test(expires) || typeof signature !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(signature)) return 'invalid';
  const expected = mac(key, subject, Number(expires));
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return 'invalid';
  return Number(expires) * 1000 <= now.getTime() ? 'expired' : 'valid';
}

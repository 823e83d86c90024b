import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

/**
 * Export files (DATA_DIR/exports/files). Why they are encrypted — crypto-shredding:
 *
 * Deleting a file is not transactional, and the database row is the only thing that says an
 * export exists. Unlinking inside a transaction that later rolls back would leave a row claiming
 * a downloadable file that is gone; unlinking after the commit leaves a window (a crash between
 * the commit and the unlink) in which the person's data outlives its deletion. So the row holds
 * the file's only key: `storage_key` is 32 random bytes from which both the file NAME (a one-way
 * hash) and the AES-256-GCM KEY (another one-way hash) are derived. Setting `storage_key` to
 * null in the same transaction as the deletion makes the bytes unreadable exactly when that
 * transaction commits — and not at all if it rolls back. The ciphertext left on disk carries no
 * readable personal data; the sweep (sweepExportFiles) unlinks every file no live row refers to.
 *
 * Each file is one or more parts (a users export is written 5,000 users per part, so a resumed
 * job continues where it stopped); a part is gzip (RFC 1952), encrypted: [12-byte IV][ciphertext]
 * [16-byte GCM tag]. Concatenated gzip members are one valid gzip stream; downloads serve the
 * decompressed text.
 */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const STORAGE_KEY = /^[0-9a-f]{64}$/;
const FILE_NAME = /^[0-9a-f]{64}$/;
/** A temporary file a crashed writer left behind is removed once it is this old. */
const TEMP_GRACE_MS = 60 * 60 * 1000;
/**
 * A finished part is left alone this long: a job may have claimed its key after the sweep read
 * the live keys. Its bytes are unreadable anyway once no row holds the key.
 */
const PART_GRACE_MS = 10 * 60 * 1000;

export function newStorageKey(): string {
  return crypto.randomBytes(32).toString('hex');
}

function derive(purpose: string, storageKey: string, part = 0): Buffer {
  if (!STORAGE_KEY.test(storageKey)) throw new Error('Invalid export storage key');
  return crypto.createHash('sha256').update(`roster-export-${purpose}\n${storageKey}\n${part}`).digest();
}

/** The file name of one part: a one-way hash, so a file name never leads back to its key. */
export function partFileName(storageKey: string, part: number): string {
  return derive('file', storageKey, part).toString('hex');
}

export class ExportFiles {
  readonly directory: string;
  private signingKey: Buffer | undefined;

  constructor(private readonly root: string) {
    this.directory = path.join(root, 'files');
  }

  private file(name: string): string {
    return path.join(this.directory, name);
  }

  /**
   * Writes part `part` of the export keyed `storageKey` from `lines`; returns the number of
   * (uncompressed) bytes. Written to a temporary name and renamed into place, so a reader or a
   * concurrent run of the same job never sees half a part.
   */
  async writePart(storageKey: string, part: number, lines: AsyncIterable<string> | Iterable<string>): Promise<number> {
    await fs.promises.mkdir(this.directory, { recursive: true, mode: 0o700 });
    const target = this.file(partFileName(storageKey, part));
    const temporary = `${target}.${crypto.randomBytes(6).toString('hex')}.tmp`;
    const iv = crypto.randomBytes(IV_BYTES);
    const cipher = crypto.createCipheriv('aes-256-gcm', derive('key', storageKey), iv);
    let bytes = 0;
    const counted = async function* (): AsyncGenerator<Buffer> {
      for await (const line of lines) {
        const chunk = Buffer.from(line, 'utf8');
        bytes += chunk.length;
        yield chunk;
      }
    };
    try {
      const out = fs.createWriteStream(temporary, { flags: 'wx', mode: 0o600 });
      out.write(iv);
      await pipeline(Readable.from(counted()), zlib.createGzip(), cipher, out);
      await fs.promises.appendFile(temporary, cipher.getAuthTag());
      await fs.promises.rename(temporary, target);
    } catch (error) {
      await fs.promises.rm(temporary, { force: true });
      throw error;
    }
    return bytes;
  }

  /** True when every part of the export is on disk. */
  async exists(storageKey: string, parts: number): Promise<boolean> {
    for (let part = 0; part < parts; part += 1) {
      const stat = await fs.promises.stat(this.file(partFileName(storageKey, part))).catch(() => undefined);
      if (!stat?.isFile()) return false;
    }
    return true;
  }

  /** The export's text (all parts, decrypted and decompressed), as a stream. */
  read(storageKey: string, parts: number): Readable {
    const files = this;
    async function* text(): AsyncGenerator<Buffer> {
      for (let part = 0; part < parts; part += 1) {
        const name = files.file(partFileName(storageKey, part));
        const { size } = await fs.promises.stat(name);
        if (size < IV_BYTES + TAG_BYTES) throw new Error('Export part is truncated');
        const handle = await fs.promises.open(name, 'r');
        const iv = Buffer.alloc(IV_BYTES);
        const tag = Buffer.alloc(TAG_BYTES);
        try {
          await handle.read(iv, 0, IV_BYTES, 0);
          await handle.read(tag, 0, TAG_BYTES, size - TAG_BYTES);
        } finally {
          await handle.close();
        }
        const decipher = crypto.createDecipheriv('aes-256-gcm', derive('key', storageKey), iv);
        decipher.setAuthTag(tag);
        const body = size - TAG_BYTES > IV_BYTES ? fs.createReadStream(name, { start: IV_BYTES, end: size - TAG_BYTES - 1 }) : Readable.from([]);
        const gunzip = zlib.createGunzip();
        // An error anywhere (a bad tag, a truncated file) destroys gunzip, so the loop below throws it.
        pipeline(body, decipher, gunzip).catch(() => undefined);
        yield* gunzip;
      }
    }
    return Readable.from(text());
  }

  /** Removes the parts of an export (idempotent). */
  async remove(storageKey: string, parts: number): Promise<void> {
    for (let part = 0; part < parts; part += 1) await fs.promises.rm(this.file(partFileName(storageKey, part)), { force: true });
  }

  /**
   * Unlinks every file whose name is not in `live` (the part names of live exports) once it is
   * ten minutes old (an hour for a temporary file: a writer may still be at work). A part no live
   * row refers to is unreadable already — its key is gone. Returns the count removed.
   */
  async removeAllBut(live: Set<string>, now: Date): Promise<number> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.directory);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      if (live.has(name)) continue;
      const file = this.file(name);
      const stat = await fs.promises.stat(file).catch(() => undefined);
      const grace = FILE_NAME.test(name) ? PART_GRACE_MS : TEMP_GRACE_MS;
      if (!stat?.isFile() || now.getTime() - stat.mtimeMs < grace) continue;
      await fs.promises.rm(file, { force: true });
      removed += 1;
    }
    return removed;
  }

  /**
   * The key that signs download links: 32 random bytes made on first use and kept beside the
   * files (DATA_DIR/exports/signing-key), so links survive restarts and every process sharing
   * DATA_DIR — which downloads need anyway — accepts them.
   */
  async linkKey(): Promise<Buffer> {
    if (this.signingKey) return this.signingKey;
    const file = path.join(this.root, 'signing-key');
    await fs.promises.mkdir(this.root, { recursive: true, mode: 0o700 });
    try {
      await fs.promises.writeFile(file, crypto.randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const text = (await fs.promises.readFile(file, 'utf8')).trim();
    if (!/^[0-9a-f]{64}$/.test(text)) throw new Error('The export signing key file is malformed');
    this.signingKey = Buffer.from(text, 'hex');
    return this.signingKey;
  }
}

const instances = new WeakMap<object, ExportFiles>();

/**
 * The export files of one running service: DATA_DIR/exports, or with the in-memory database
 * (tests) a fresh temporary directory. One instance per database handle, so the routes and the
 * jobs of a runtime share it (and its link key) without another field on the shared services.
 */
export function exportFilesFor(database: object, dataDir: string): ExportFiles {
  let files = instances.get(database);
  if (!files) {
    const root = dataDir.startsWith('memory://')
      ? path.join(os.tmpdir(), `roster-exports-${process.pid}-${crypto.randomBytes(4).toString('hex')}`)
      : path.join(dataDir, 'exports');
    files = new ExportFiles(root);
    instances.set(database, files);
  }
  return files;
}

import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * Where attachment bytes live. The database keeps only a storage key; this interface is all the
 * tickets feature (and redaction) uses, so an S3-compatible store can replace the local
 * directory without touching them.
 */
export interface FileStorage {
  put(bytes: Buffer): Promise<string>;
  /** undefined when the key holds nothing (already deleted, or never written). */
  get(key: string): Promise<Buffer | undefined>;
  /** Idempotent: deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
}

const KEY = /^[0-9a-f]{2}\/[0-9a-f]{30}$/;

/** Files under one directory, named by random keys (never by the uploaded file name). */
export class LocalFileStorage implements FileStorage {
  constructor(private readonly root: string) {}

  private file(key: string): string {
    // Keys come from our own rows, but a key that is not ours must never reach the file system.
    if (!KEY.test(key)) throw new Error('Invalid storage key');
    return path.join(this.root, key);
  }

  async put(bytes: Buffer): Promise<string> {
    const id = crypto.randomBytes(16).toString('hex');
    const key = `${id.slice(0, 2)}/${id.slice(2)}`;
    const file = this.file(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, bytes, { flag: 'wx' });
    return key;
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.file(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.file(key), { force: true });
  }
}

/**
 * Attachments go to DATA_DIR/attachments. With the in-memory database (`memory://`, tests) they
 * go to a fresh temporary directory: nothing persists there either.
 */
export function createFileStorage(dataDir: string): FileStorage {
  const root = dataDir.startsWith('memory://')
    ? path.join(os.tmpdir(), `roster-attachments-${process.pid}-${crypto.randomBytes(4).toString('hex')}`)
    : path.join(dataDir, 'attachments');
  return new LocalFileStorage(root);
}

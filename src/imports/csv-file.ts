import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse, type Info } from 'csv-parse';
import { AppError, errors } from '../http/errors.ts';

/** Largest file an import takes (a million users with every column is about 200 MB). */
export const MAX_IMPORT_BYTES = 1024 * 1024 * 1024;
/** One record's longest text: a row is a person, not a document; longer is a damaged file. */
const MAX_RECORD_CHARS = 256 * 1024;

/**
 * Where uploads wait while their import runs: DATA_DIR/imports, or a private temporary directory
 * with the in-memory database (tests), where nothing persists either.
 */
export function importDirectory(dataDir: string): string {
  return dataDir.startsWith('memory://') ? path.join(os.tmpdir(), `roster-imports-${process.pid}`) : path.join(dataDir, 'imports');
}

/**
 * Refuses what is not UTF-8 text on the way to the disk (binary files, other encodings: their
 * rows would be stored garbled), and anything over the size limit, without holding the file.
 */
class TextGuard extends Transform {
  bytes = 0;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) return done(new AppLimit(`The file is larger than ${Math.round(this.limit / 1024 / 1024)} MB`, 413));
    if (chunk.includes(0)) return done(new AppLimit('The file is not a CSV text file (it contains NUL bytes)', 400));
    try {
      this.decoder.decode(chunk, { stream: true });
    } catch {
      return done(new AppLimit('The file is not UTF-8 text; save it as "CSV UTF-8"', 400));
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    try {
      this.decoder.decode();
    } catch {
      return done(new AppLimit('The file is not UTF-8 text; save it as "CSV UTF-8"', 400));
    }
    done();
  }
}

class AppLimit extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Streams an upload into the import directory under a random name; the file is removed on any failure. */
export async function storeUpload(source: Readable, directory: string, limit = MAX_IMPORT_BYTES): Promise<{ file: string; bytes: number }> {
  // A multipart part cut short (the body ended inside it) arrives already destroyed: piping it would wait forever.
  if (source.destroyed) throw errors.badRequest('The upload ended before the file did', 'InvalidMultipart');
  await fs.promises.mkdir(directory, { recursive: true, mode: 0o700 });
  const file = path.join(directory, `${crypto.randomBytes(16).toString('hex')}.csv`);
  const guard = new TextGuard(limit);
  try {
    await pipeline(source, guard, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  } catch (error) {
    await removeFile(file);
    if (error instanceof AppLimit) {
      if (error.status === 413) throw new AppError('PayloadTooLarge', 413, error.message);
      throw errors.badRequest(error.message, 'InvalidFile');
    }
    // A multipart file cut at its size limit, or a client that went away mid-upload.
    if ((error as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE') throw errors.badRequest('The upload ended before the file did', 'InvalidMultipart');
    if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw new AppError('PayloadTooLarge', 413, `The file is larger than ${Math.round(limit / 1024 / 1024)} MB`);
    throw error;
  }
  if (guard.bytes === 0) {
    await removeFile(file);
    throw errors.badRequest('The file is empty', 'InvalidFile');
  }
  return { file, bytes: guard.bytes };
}

export async function removeFile(file: string | null): Promise<void> {
  if (file) await fs.promises.rm(file, { force: true });
}

/** Separators spreadsheets write: commas, semicolons where the comma is the decimal mark (fr, pt-BR), tabs. */
const DELIMITERS = [',', ';', '\t'] as const;

/** The separator of a file, read from its first line: the candidate found most often outside quotes. */
export async function detectDelimiter(file: string): Promise<string> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    const counts = new Map<string, number>(DELIMITERS.map((d) => [d, 0]));
    let quoted = false;
    for (const char of text) {
      if (char === '"') quoted = !quoted;
      else if (!quoted && (char === '\n' || char === '\r')) break;
      else if (!quoted && counts.has(char)) counts.set(char, (counts.get(char) ?? 0) + 1);
    }
    let best = ',';
    for (const [delimiter, count] of counts) if (count > (counts.get(best) ?? 0)) best = delimiter;
    return best;
  } finally {
    await handle.close();
  }
}

export interface CsvRecord {
  cells: string[];
  /** Byte offset (in the file) just past this record: where a resumed read starts. */
  end: number;
}

/**
 * The records of a file from `start` (a record boundary) as a stream, parsed by csv-parse: one
 * record at a time, so a file of any size takes the same memory. Malformed CSV surfaces as the
 * 400 of `csvProblem`, never with the offending text.
 */
export async function* readRecords(file: string, start: number, delimiter: string): AsyncGenerator<CsvRecord> {
  const parser = fs.createReadStream(file, { start }).pipe(
    parse({
      delimiter,
      bom: start === 0,
      // Fixed rather than discovered: csv-parse learns the line ending from the first one it meets,
      // and a read resumed at a record boundary may meet another one first (a blank `\r\n` line
      // in a `\n` file), which would split the same bytes into other records.
      record_delimiter: ['\r\n', '\n', '\r'],
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: MAX_RECORD_CHARS,
    }),
  );
  try {
    for await (const entry of parser as AsyncIterable<{ record: string[]; info: Info }>) {
      yield { cells: entry.record, end: start + entry.info.bytes };
    }
  } catch (error) {
    throw csvProblem(error);
  } finally {
    parser.destroy();
  }
}

/** csv-parse's messages quote the text they choke on: answer with the line and the kind of problem only. */
export function csvProblem(error: unknown): unknown {
  if (!(error instanceof CsvError)) return error;
  const line = (error as CsvError & { lines?: number }).lines;
  const where = typeof line === 'number' ? `Line ${line}: ` : '';
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return errors.badRequest(`${where}a quoted field is never closed (a missing ")`, 'InvalidCSV');
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return errors.badRequest(`${where}text follows the closing quote of a field; double quotes inside a quoted field ("")`, 'InvalidCSV');
    case 'INVALID_OPENING_QUOTE':
      return errors.badRequest(`${where}a quote appears inside a field that does not start with one; quote the whole field and double the quotes inside it`, 'InvalidCSV');
    case 'CSV_MAX_RECORD_SIZE':
      return errors.badRequest(`${where}a row is longer than ${MAX_RECORD_CHARS} characters`, 'InvalidCSV');
    default:
      return errors.badRequest(`${where}the file is not valid CSV`, 'InvalidCSV');
  }
}

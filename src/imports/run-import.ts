import crypto from 'node:crypto';
import fs from 'node:fs';
import { sql } from 'kysely';
import type { Account } from '../db/tables.ts';
import type { Db } from '../db/database.ts';
import { AppError, toAppError } from '../http/errors.ts';
import { phoneKey } from '../identities/identity-values.ts';
import { findOrganizationByName } from '../organizations/organizations.repository.ts';
import type { Actor } from '../policy/policy.ts';
import { validateFieldValues } from '../custom-fields/validate-field-values.ts';
import { createUser } from '../users/create-user.ts';
import { updateUser } from '../users/update-user.ts';
import { parseUserInput, type UserInput } from '../users/user-input.ts';
import { findUser, type Executor, type UserView } from '../users/users.repository.ts';
import { createInBulk } from './create-in-bulk.ts';
import { readRecords, removeFile, type CsvRecord } from './csv-file.ts';
import type { Mail } from '../mail/outbox.ts';
import { sendWelcomeMail } from '../mail/welcome.ts';
import { rejectionOf, rowToUser, type Rejection } from './import-columns.ts';
import { importDb, type ImportRow, type RowStatus } from './import-tables.ts';

/** Rows per transaction: large enough to amortise the bookkeeping, small enough not to hold the embedded database's one connection for long. */
export const BATCH_ROWS = 500;
/** A slice stops after its first batch past this; the next slice is queued as a fresh run (src/jobs/jobs.ts, SlicedJobDefinition). */
const SLICE_MILLISECONDS = 20_000;

export interface ImportContext {
  account: Account;
  actor: Actor | null;
  /** Outbound mail, for imports with send_welcome (the welcome mail is written in the row's batch). */
  mail?: Mail;
}

/** Test seams: stop a run between batches (a crash after a commit) or inside one (before its commit). */
export interface SliceHooks {
  afterCommit?(batch: number): void | Promise<void>;
  beforeCommit?(batch: number): void | Promise<void>;
}

interface Line extends CsvRecord {
  row: number;
}

interface Outcome {
  row: number;
  status: RowStatus;
  user_id: number | null;
  error: string | null;
  columns: string[];
  description: string | null;
}

/** Another run committed this batch first (a run presumed dead was only slow): this one stops. */
class Superseded extends Error {}

/** A statement failed in a row applied without its own savepoint: the batch is redone, every row with one. */
class RedoCarefully extends Error {}

/**
 * One slice of an import: reads the stored file from the checkpoint, and commits each batch of
 * rows in one transaction together with the report rows, the checkpoint and the job's progress
 * — so a run cut off anywhere resumes at the first row whose batch did not commit, and no row is
 * ever applied twice (a batch checks, under a row lock, that the checkpoint is still where it
 * started). A dry run does the same work and rolls the batch's effects back to a savepoint
 * before writing its report: what it reports is what the same code did.
 */
export async function runImportSlice(db: Db, context: ImportContext, jobId: string, hooks: SliceHooks = {}): Promise<'done' | 'more' | 'superseded'> {
  const found = await importDb(db).selectFrom('imports').selectAll().where('account_id', '=', context.account.id).where('job_id', '=', jobId).executeTakeFirst();
  if (!found || found.status === 'completed' || found.status === 'failed') return 'done';
  const started = Date.now();
  let current: ImportRow = found;
  if (!current.file_path || !fs.existsSync(current.file_path)) {
    // The file goes before the import is marked ended (finishImport): a run cut off in between finds every row done.
    if (current.processed >= current.total) {
      await finishImport(db, current, 'completed');
      return 'done';
    }
    throw new Error('The import file is missing');
  }

  let batch: Line[] = [];
  let row = current.next_row;
  let batches = 0;
  const commit = async (): Promise<boolean> => {
    batches += 1;
    try {
      current = await commitBatch(db, context, current, batch, () => hooks.beforeCommit?.(batches));
    } catch (error) {
      if (error instanceof Superseded) return false;
      throw error;
    }
    batch = [];
    await hooks.afterCommit?.(batches);
    // The embedded database answers through promises alone: let requests in between batches.
    await new Promise((resolve) => setImmediate(resolve));
    return true;
  };

  for await (const record of readRecords(current.file_path, Number(current.byte_offset), current.delimiter)) {
    batch.push({ ...record, row });
    row += 1;
    if (batch.length < BATCH_ROWS) continue;
    if (!(await commit())) return 'superseded';
    if (Date.now() - started > SLICE_MILLISECONDS) return 'more';
  }
  if (batch.length > 0 && !(await commit())) return 'superseded';
  await finishImport(db, current, 'completed');
  return 'done';
}

async function commitBatch(db: Db, context: ImportContext, state: ImportRow, lines: Line[], beforeCommit: () => void | Promise<void>): Promise<ImportRow> {
  try {
    return await commitBatchOnce(db, context, state, lines, beforeCommit, false);
  } catch (error) {
    if (!(error instanceof RedoCarefully)) throw error;
    return commitBatchOnce(db, context, state, lines, beforeCommit, true);
  }
}

async function commitBatchOnce(db: Db, context: ImportContext, state: ImportRow, lines: Line[], beforeCommit: () => void | Promise<void>, careful: boolean): Promise<ImportRow> {
  const first = lines[0];
  const last = lines[lines.length - 1];
  if (!first || !last) return state;
  return db.transaction().execute(async (tx) => {
    const t = importDb(tx);
    const locked = await t.selectFrom('imports').select('next_row').where('account_id', '=', state.account_id).where('id', '=', state.id).forUpdate().executeTakeFirst();
    if (!locked || locked.next_row !== first.row) throw new Superseded();

    // Rows whose cells are all empty (spreadsheets leave them at the end) are not rows to import.
    const filled = lines.filter((line) => line.cells.some((cell) => cell.trim() !== ''));
    const { outcomes, keys } = await applyRows(tx, context, state, filled, careful);
    // Welcome mail (send_welcome) for the users this batch created, however they were created; committed with them.
    if (state.send_welcome && !state.dry_run && context.mail) {
      for (const outcome of outcomes) if (outcome.status === 'created' && outcome.user_id !== null) await sendWelcomeMail(tx, context.mail, context.account, context.actor, outcome.user_id, { explicit: true });
    }

    if (outcomes.length > 0) {
      await t.insertInto('import_rows').values(outcomes.map((o) => ({ account_id: state.account_id, import_id: state.id, row_number: o.row, status: o.status, user_id: o.user_id, error: o.error, columns: o.columns, description: o.description }))).execute();
    }
    if (keys.length > 0) {
      await t.insertInto('import_keys').values(keys.map(([key, rowNumber]) => ({ account_id: state.account_id, import_id: state.id, key, row_number: rowNumber }))).onConflict((oc) => oc.doNothing()).execute();
    }
    const count = (status: RowStatus): number => outcomes.filter((o) => o.status === status).length;
    const next = await t
      .updateTable('imports')
      .set((eb) => ({
        status: 'working',
        byte_offset: last.end,
        next_row: last.row + 1,
        processed: eb('processed', '+', outcomes.length),
        created: eb('created', '+', count('created')),
        updated: eb('updated', '+', count('updated')),
        unchanged: eb('unchanged', '+', count('unchanged')),
        rejected: eb('rejected', '+', count('rejected')),
        updated_at: new Date(),
      }))
      .where('account_id', '=', state.account_id)
      .where('id', '=', state.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await tx.updateTable('job_statuses').set({ progress: next.processed, updated_at: new Date() }).where('account_id', '=', state.account_id).where('id', '=', state.job_id).execute();
    await beforeCommit();
    return next;
  });
}

interface Prepared {
  line: Line;
  raw: Record<string, unknown>;
  input: UserInput;
  match: number | undefined;
  /** The user already holding the row's email, if any. */
  emailOwner: number | undefined;
}

/**
 * Applies a batch's rows in file order. Every row is independent of every other row of the file:
 * a row naming a person an earlier row already named (same email, external id or matched user)
 * is rejected, so no row's outcome depends on another row's effect — which is what lets a dry
 * run, whose batches each roll back, report exactly what the real run does.
 */
async function applyRows(tx: Executor, context: ImportContext, state: ImportRow, lines: Line[], careful: boolean): Promise<{ outcomes: Outcome[]; keys: Array<[string, number]> }> {
  const accountId = context.account.id;
  const outcomes = new Map<number, Outcome>();
  const reject = (row: number, rejection: Rejection): void => {
    outcomes.set(row, { row, status: 'rejected', user_id: null, error: rejection.error, columns: rejection.columns, description: rejection.description });
  };

  const prepared: Prepared[] = [];
  for (const line of lines) {
    const extra = line.cells.slice(state.columns.length).filter((cell) => cell.trim() !== '').length;
    if (extra > 0) {
      reject(line.row, { error: 'InvalidRow', columns: [], description: `The row has ${line.cells.length} cells; the header has ${state.columns.length} columns` });
      continue;
    }
    const raw = rowToUser(state.columns, line.cells);
    try {
      prepared.push({ line, raw, input: parseUserInput(raw, 'update'), match: undefined, emailOwner: undefined });
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      reject(line.row, rejectionOf(error.code, error.details, error.description));
    }
  }

  // Who each row names, in two statements for the whole batch: external_id first, then any email identity (as create_or_update matches).
  const externalIds = [...new Set(prepared.flatMap((p) => (p.input.columns.external_id ? [p.input.columns.external_id.toLowerCase()] : [])))];
  const emails = [...new Set(prepared.flatMap((p) => (p.input.email ? [p.input.email.key] : [])))];
  const byExternal = new Map<string, number>();
  if (externalIds.length > 0) {
    const rows = await tx.selectFrom('users').select(['id', sql<string>`lower(external_id)`.as('key')]).where('account_id', '=', accountId).where(sql<string>`lower(external_id)`, 'in', externalIds).execute();
    for (const r of rows) byExternal.set(r.key, r.id);
  }
  const byEmail = new Map<string, number>();
  if (emails.length > 0) {
    const rows = await tx.selectFrom('user_identities').select(['user_id', 'value_key']).where('account_id', '=', accountId).where('type', '=', 'email').where('value_key', 'in', emails).execute();
    for (const r of rows) byEmail.set(r.value_key, r.user_id);
  }

  // The in-file duplicate registry: keyed hashes, never the emails or ids themselves.
  const hash = (key: string): string => crypto.createHmac('sha256', state.salt).update(key).digest('base64url').slice(0, 24);
  const keysOf = (p: Prepared): Array<[string, string]> => {
    const keys: Array<[string, string]> = [];
    if (p.input.email) keys.push([hash(`e:${p.input.email.key}`), 'email']);
    if (p.input.columns.external_id) keys.push([hash(`x:${p.input.columns.external_id.toLowerCase()}`), 'external_id']);
    if (p.match !== undefined) keys.push([hash(`u:${p.match}`), p.input.columns.external_id && byExternal.has(p.input.columns.external_id.toLowerCase()) ? 'external_id' : 'email']);
    return keys;
  };
  for (const p of prepared) {
    const external = p.input.columns.external_id?.toLowerCase();
    p.emailOwner = p.input.email ? byEmail.get(p.input.email.key) : undefined;
    p.match = (external !== undefined ? byExternal.get(external) : undefined) ?? p.emailOwner;
  }
  const allKeys = [...new Set(prepared.flatMap((p) => keysOf(p).map(([key]) => key)))];
  const seen = new Map<string, number>();
  if (allKeys.length > 0) {
    const rows = await importDb(tx).selectFrom('import_keys').select(['key', 'row_number']).where('account_id', '=', state.account_id).where('import_id', '=', state.id).where('key', 'in', allKeys).execute();
    for (const r of rows) seen.set(r.key, r.row_number);
  }
  const registered: Array<[string, number]> = [];
  const independent: Prepared[] = [];
  for (const p of prepared) {
    const keys = keysOf(p);
    const clash = keys.find(([key]) => seen.has(key));
    if (clash) {
      reject(p.line.row, { error: 'DuplicateInFile', columns: [clash[1]], description: `Names the same person as row ${seen.get(clash[0])} of this file; each person appears once per import` });
      continue;
    }
    for (const [key] of keys) {
      seen.set(key, p.line.row);
      registered.push([key, p.line.row]);
    }
    independent.push(p);
  }

  if (state.dry_run) await sql`SAVEPOINT import_dry_run`.execute(tx);
  // The usual row, a new user, is created in bulk (src/imports/create-in-bulk.ts); the rest go one by one below.
  const bulkCreated = new Set<number>();
  if (!careful) {
    const fresh = independent.filter((p) => p.match === undefined).map((p) => ({ row: p.line.row, raw: p.raw }));
    let result: Awaited<ReturnType<typeof createInBulk>>;
    try {
      result = await createInBulk(tx, context.account, context.actor, fresh);
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new RedoCarefully();
    }
    for (const [row, id] of result.created) {
      bulkCreated.add(row);
      outcomes.set(row, { row, status: 'created', user_id: id, error: null, columns: [], description: null });
    }
  }
  for (const p of independent) {
    if (bulkCreated.has(p.line.row)) continue;
    // A savepoint per row costs a subtransaction, and past 64 of them in one transaction every
    // visibility check in PostgreSQL slows down (the subtransaction cache overflows): the usual
    // row — a new user with no organization — goes without. Its only write is createUser's one
    // statement and every refusal comes before it, so a refusal leaves nothing behind; a failed
    // statement (a race for the same email) has the batch redone with a savepoint on every row.
    const guarded = careful || p.match !== undefined || p.input.organization !== undefined;
    if (guarded) await sql`SAVEPOINT import_row`.execute(tx);
    try {
      const outcome = await applyRow(tx, context, state, p);
      if (guarded) await sql`RELEASE SAVEPOINT import_row`.execute(tx);
      outcomes.set(p.line.row, outcome);
    } catch (error) {
      if (!guarded && !(error instanceof AppError)) throw new RedoCarefully();
      const appError = toAppError(error);
      if (!appError) throw error; // infrastructure trouble: the batch rolls back and the job retries it
      if (guarded) await sql`ROLLBACK TO SAVEPOINT import_row`.execute(tx);
      reject(p.line.row, rejectionOf(appError.code, appError.details, appError.description));
    }
  }
  if (state.dry_run) {
    await sql`ROLLBACK TO SAVEPOINT import_dry_run`.execute(tx);
    // A dry run's "created" users never existed: no id to show.
    for (const outcome of outcomes.values()) if (outcome.status === 'created') outcome.user_id = null;
  }
  return { outcomes: [...outcomes.values()].sort((a, b) => a.row - b.row), keys: registered };
}

async function applyRow(tx: Executor, context: ImportContext, state: ImportRow, p: Prepared): Promise<Outcome> {
  const row = p.line.row;
  const done = (status: RowStatus, userId: number | null, description: string | null = null): Outcome => ({ row, status, user_id: userId, error: null, columns: [], description });
  if (p.match === undefined) {
    const id = await createUser(tx, context.account, context.actor, parseUserInput(p.raw, 'create'));
    return done('created', id);
  }
  if (!state.update) return done('unchanged', p.match, 'A user with this email or external id exists; import with update to change it');
  const user = await findUser(tx, context.account.id, p.match);
  if (!user) return done('unchanged', p.match);
  if (user.role === 'admin' && p.input.columns.role !== undefined && p.input.columns.role !== 'admin') {
    // An import never takes the admin role away: a file with role=agent on every row must not lock the account's admins out.
    throw new AppError('RecordInvalid', 422, undefined, { role: [{ error: 'InvalidValue', description: "An import does not change an admin's role; change it on the user's profile" }] });
  }
  const changes = await changedFields(tx, context.account.id, user, p);
  if (Object.keys(changes).length === 0) return done('unchanged', user.id);
  await updateUser(tx, context.account, context.actor, user.id, parseUserInput(changes, 'update'));
  return done('updated', user.id);
}

/** The row's values that differ from the user's: only those are written (and named in the audit log). */
async function changedFields(tx: Executor, accountId: number, user: UserView, p: Prepared): Promise<Record<string, unknown>> {
  const { raw, input } = p;
  const columns = input.columns;
  const changes: Record<string, unknown> = {};
  if (columns.name !== undefined && columns.name !== user.name) changes.name = raw.name;
  if (input.email && p.emailOwner !== user.id) changes.email = raw.email;
  if (input.phone && (user.phone === null || phoneKey(user.phone) !== input.phone.key)) changes.phone = raw.phone;
  if (columns.external_id !== undefined && columns.external_id !== user.external_id) changes.external_id = raw.external_id;
  if (columns.details !== undefined && columns.details !== user.details) changes.details = raw.details;
  if (columns.notes !== undefined && columns.notes !== user.notes) changes.notes = raw.notes;
  if (columns.role !== undefined && columns.role !== user.role) changes.role = raw.role;
  if (columns.ticket_restriction !== undefined && columns.ticket_restriction !== user.ticket_restriction) changes.ticket_restriction = raw.ticket_restriction;
  if (columns.tags !== undefined && [...columns.tags].sort().join(' ') !== [...user.tags].sort().join(' ')) changes.tags = raw.tags;
  if (input.organization && 'name' in input.organization) {
    const organization = await findOrganizationByName(tx, accountId, input.organization.name);
    if (!organization || organization.id !== user.organization_id) changes.organization = raw.organization;
  }
  if (columns.user_fields) {
    const values = await validateFieldValues(tx, accountId, 'user', columns.user_fields);
    const stored = user.user_fields as Record<string, unknown>;
    const sent = raw.user_fields as Record<string, unknown>;
    const changed = Object.keys(values).filter((key) => (stored[key] ?? null) !== values[key]);
    if (changed.length > 0) changes.user_fields = Object.fromEntries(changed.map((key) => [key, sent[key]]));
  }
  return changes;
}

/**
 * Ends an import: no more file (it holds personal data), then its status and no more registry.
 * The file is removed first so that a crash in between can never leave it behind unreferenced;
 * the run that resumes finds every row done and ends the import (runImportSlice).
 */
export async function finishImport(db: Db, state: Pick<ImportRow, 'account_id' | 'id' | 'job_id' | 'file_path'>, status: 'completed' | 'failed'): Promise<void> {
  await removeFile(state.file_path);
  await db.transaction().execute(async (tx) => {
    const t = importDb(tx);
    const ended = await t
      .updateTable('imports')
      .set({ status, file_path: null, completed_at: new Date(), updated_at: new Date() })
      .where('account_id', '=', state.account_id)
      .where('id', '=', state.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await t.deleteFrom('import_keys').where('account_id', '=', state.account_id).where('import_id', '=', state.id).execute();
    if (status === 'completed') {
      const summary = { import_id: ended.id, dry_run: ended.dry_run, created: ended.created, updated: ended.updated, unchanged: ended.unchanged, rejected: ended.rejected };
      await tx.updateTable('job_statuses').set({ results: JSON.stringify([summary]), updated_at: new Date() }).where('account_id', '=', state.account_id).where('id', '=', state.job_id).execute();
    }
  });
}

/** The job failed for good: the import ends as failed and its file is removed. */
export async function failImport(db: Db, accountId: number, jobId: string): Promise<void> {
  const found = await importDb(db).selectFrom('imports').select(['account_id', 'id', 'job_id', 'file_path', 'status']).where('account_id', '=', accountId).where('job_id', '=', jobId).executeTakeFirst();
  if (found && found.status !== 'completed') await finishImport(db, found, 'failed');
}

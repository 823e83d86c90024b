import { sql, type Selectable } from 'kysely';
import { audit } from '../../audit/audit.ts';
import type { Database } from '../../db/database.ts';
import type { Account, ErasureRequestsTable } from '../../db/tables.ts';
import { errors } from '../../http/errors.ts';
import type { Jobs } from '../../jobs/jobs.ts';
import { countOpenRequested } from '../../lifecycle/lifecycle.repository.ts';
import { PURGED_NAME, purgeUser } from '../../lifecycle/purge-deleted-users.ts';
import { checkDeletable, findLiveUser, softDeleteUser } from '../../lifecycle/soft-delete-user.ts';
import { authorizeErasure, type Actor } from '../../policy/policy.ts';
import { purgeDeletedTicket } from '../../tickets/deleted-tickets.ts';
import { softDeleteTicket } from '../../tickets/delete-ticket.ts';
import type { FileStorage } from '../../tickets/storage.ts';
import { deleteSuspendedTickets } from '../../tickets/suspended-tickets.ts';
import type { Executor } from '../../users/users.repository.ts';
import { hashIdentifier, identifierSalt } from '../identifier-hash.ts';
import { loadPerson, type Person } from './person-terms.ts';
import { applyScrub, planScrub, scrubCounts, termsFor, type AttachmentToRedact, type TextSpan } from './scrub-person.ts';
import { suppressIdentifiers } from './suppression.ts';

/**
 * Forget user (issue 7 item 4; DOMAIN.md §6 "Erasure"): seed 002's manual workflow — find the
 * person in ticket conversations, redact or delete, then soft and permanently delete the user —
 * as one plan (dry run) and one durable job that runs it step by step, ending in a receipt that
 * holds counts and keyed hashes only. Irreversible: the restore window does not apply.
 */

export type ErasureRequestRow = Selectable<ErasureRequestsTable>;

export const ERASE_USER_JOB = 'erase_user';
export const OPEN_TICKET_CHOICES = ['close', 'reassign_to_placeholder', 'delete'] as const;
export const CLOSED_TICKET_CHOICES = ['scrub', 'delete'] as const;
export type OpenTicketChoice = (typeof OPEN_TICKET_CHOICES)[number];
export type ClosedTicketChoice = (typeof CLOSED_TICKET_CHOICES)[number];

export interface ErasureOptions {
  open_tickets?: OpenTicketChoice;
  closed_tickets: ClosedTicketChoice;
}

/** The job's steps, in order; `erasure_requests.step` is the last one committed. */
export const ERASURE_STEPS = ['prepare', 'tickets', 'scrub', 'collaborators', 'delete_user', 'done'] as const;
export type ErasureStep = (typeof ERASURE_STEPS)[number];

/** The requester placeholder for reassigned open tickets: one per account, never deletable (shared). */
export const PLACEHOLDER_NAME = 'Forgotten user';
const PLACEHOLDER_MARK = 'roster:forgotten-user';

/** `{"dry_run": …, "open_tickets": …, "closed_tickets": …}`, also wrapped as `{"erasure": {…}}`. */
export function parseErasureRequest(raw: unknown): { dryRun: boolean; options: ErasureOptions } {
  let body: Record<string, unknown> = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) throw errors.badRequest('The request body must be a JSON object');
  const wrapped = body.erasure;
  if (wrapped !== undefined) {
    if (wrapped === null || typeof wrapped !== 'object' || Array.isArray(wrapped)) throw errors.field('erasure', 'InvalidValue', 'Erasure: must be an object');
    body = wrapped as Record<string, unknown>;
  }
  const dryRun = body.dry_run ?? false;
  if (typeof dryRun !== 'boolean') throw errors.field('dry_run', 'InvalidValue', 'Dry run: must be true or false');
  const open = body.open_tickets;
  if (open !== undefined && open !== null && !OPEN_TICKET_CHOICES.includes(open as OpenTicketChoice)) {
    throw errors.field('open_tickets', 'InvalidValue', `Open tickets: must be one of ${OPEN_TICKET_CHOICES.join(', ')}`);
  }
  const closed = body.closed_tickets ?? 'scrub';
  if (!CLOSED_TICKET_CHOICES.includes(closed as ClosedTicketChoice)) {
    throw errors.field('closed_tickets', 'InvalidValue', `Closed tickets: must be one of ${CLOSED_TICKET_CHOICES.join(', ')}`);
  }
  return { dryRun, options: { ...(typeof open === 'string' ? { open_tickets: open as OpenTicketChoice } : {}), closed_tickets: closed as ClosedTicketChoice } };
}

interface TicketRef {
  id: number;
  status: string;
}

export interface ErasurePlan {
  user_id: number;
  options: ErasureOptions;
  tickets: { requested: number[]; email_cc: number[]; follower: number[]; commented: number[]; mentioned: number[] };
  open_tickets: { action: OpenTicketChoice | null; ticket_ids: number[] };
  closed_tickets: { scrub: number[]; delete: number[] };
  suspended_tickets: { delete: number[] };
  text_spans: TextSpan[];
  attachments: AttachmentToRedact[];
  counts: Record<string, number>;
}

/** Everything that refuses an erasure, before any work: who may (policy), then the data rules. */
async function checkErasable(tx: Executor, account: Account, actor: Actor, userId: number, options: ErasureOptions) {
  const target = await findLiveUser(tx, account.id, userId);
  authorizeErasure.eraseUser(actor, options.open_tickets === 'delete' || options.closed_tickets === 'delete');
  const open = await countOpenRequested(tx, account.id, userId);
  // Zendesk's own refusal (the soft delete's rule) unless the request says what to do with them.
  if (open > 0 && options.open_tickets === undefined) {
    throw errors.field('open_tickets', 'InvalidValue', `User is requester on ${open} ${open === 1 ? 'ticket' : 'tickets'} that ${open === 1 ? 'is' : 'are'} not closed. Choose open_tickets: ${OPEN_TICKET_CHOICES.join(', ')}`);
  }
  // Owner, self, last admin and shared placeholders: the soft delete's rules; its open-ticket
  // rule is the handling step's (checked above with the erasure's own wording).
  await checkDeletable(tx, account, actor, target, { openTicketsHandled: true });
  return target;
}

const ids = (rows: { id: number }[]): number[] => rows.map((row) => Number(row.id));

/** Tickets the erasure handles itself (requester's tickets, their suspended tickets), and what happens to each. */
async function ticketDecisions(db: Executor, accountId: number, userId: number, options: ErasureOptions) {
  const requested: TicketRef[] = await db
    .selectFrom('tickets')
    .select(['id', 'status'])
    .where('account_id', '=', accountId)
    .where('requester_id', '=', userId)
    .where('deleted_at', 'is', null)
    .orderBy('id')
    .execute();
  const open = requested.filter((ticket) => ticket.status !== 'closed').map((ticket) => Number(ticket.id));
  const closed = requested.filter((ticket) => ticket.status === 'closed').map((ticket) => Number(ticket.id));
  const deleteIds = [...(options.open_tickets === 'delete' ? open : []), ...(options.closed_tickets === 'delete' ? closed : [])].sort((a, b) => a - b);
  const suspended = ids(await db.selectFrom('suspended_tickets').select('id').where('account_id', '=', accountId).where('author_id', '=', userId).orderBy('id').execute());
  return { requested: requested.map((ticket) => Number(ticket.id)), open, closed, deleteIds, suspended };
}

async function collaboratorCounts(db: Executor, accountId: number, userId: number, skip: number[]) {
  let query = db
    .selectFrom('ticket_collaborators')
    .select(['ticket_id', 'kind'])
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId);
  if (skip.length > 0) query = query.where('ticket_id', 'not in', skip);
  const rows = await query.orderBy('ticket_id').execute();
  return {
    email_cc: rows.filter((row) => row.kind === 'email_cc').map((row) => Number(row.ticket_id)),
    follower: rows.filter((row) => row.kind === 'follower').map((row) => Number(row.ticket_id)),
  };
}

async function personOrFail(db: Executor, accountId: number, userId: number): Promise<Person> {
  const person = await loadPerson(db, accountId, userId);
  if (!person) throw errors.notFound();
  return person;
}

/** The plan (dry run): reads only; the counts are what the job's receipt will show. */
export async function planErasure(tx: Executor, storage: FileStorage, account: Account, actor: Actor, userId: number, options: ErasureOptions): Promise<ErasurePlan> {
  await checkErasable(tx, account, actor, userId, options);
  const person = await personOrFail(tx, account.id, userId);
  const terms = termsFor(person, PURGED_NAME);
  const decisions = await ticketDecisions(tx, account.id, userId, options);
  const scrub = await planScrub(tx, storage, account.id, terms, { authoredAttachments: true, userId, skipTicketIds: decisions.deleteIds, skipSuspendedTicketIds: decisions.suspended });
  const people = await collaboratorCounts(tx, account.id, userId, decisions.deleteIds);
  const commented = ids(
    await tx
      .selectFrom('ticket_comments')
      .select('ticket_id as id')
      .distinct()
      .where('account_id', '=', account.id)
      .where('author_id', '=', userId)
      .orderBy('ticket_id')
      .execute(),
  );
  const mentioned = [...new Set(scrub.spans.map((span) => span.ticket_id).filter((id): id is number => id !== null))].sort((a, b) => a - b);
  const deleting = new Set(decisions.deleteIds);
  const involved = new Set([...decisions.requested, ...people.email_cc, ...people.follower, ...commented, ...mentioned]);
  const closedInvolved = ids(
    involved.size === 0
      ? []
      : await tx.selectFrom('tickets').select('id').where('account_id', '=', account.id).where('id', 'in', [...involved]).where('status', '=', 'closed').orderBy('id').execute(),
  );
  const action = decisions.open.length > 0 ? (options.open_tickets ?? null) : null;
  const counts = {
    identifiers: person.identifiers.length,
    tickets_closed: action === 'close' ? decisions.open.length : 0,
    tickets_reassigned: action === 'reassign_to_placeholder' ? decisions.open.length : 0,
    tickets_deleted: decisions.deleteIds.length,
    suspended_tickets_deleted: decisions.suspended.length,
    ...scrubCounts(scrub),
    email_ccs_removed: people.email_cc.length,
    followers_removed: people.follower.length,
    users_deleted: 1,
  };
  return {
    user_id: userId,
    options,
    tickets: { requested: decisions.requested, email_cc: people.email_cc, follower: people.follower, commented, mentioned },
    open_tickets: { action, ticket_ids: decisions.open },
    closed_tickets: { scrub: closedInvolved.filter((id) => !deleting.has(id)), delete: closedInvolved.filter((id) => deleting.has(id)) },
    suspended_tickets: { delete: decisions.suspended },
    text_spans: scrub.spans,
    attachments: scrub.attachments,
    counts,
  };
}

/**
 * Records the request and queues its job in one transaction (the refusals are checked inside it,
 * so a refused request leaves neither). One erasure per user at a time.
 */
export async function startErasure(jobs: Jobs, account: Account, actor: Actor, userId: number, options: ErasureOptions): Promise<{ erasure: ErasureRequestRow; jobId: string }> {
  let erasure: ErasureRequestRow | undefined;
  const job = await jobs.enqueueSliced(account, actor, ERASE_USER_JOB, ERASURE_STEPS.length, null, async (tx, jobId) => {
    await sql`SELECT pg_advisory_xact_lock(7214, ${userId}::int)`.execute(tx);
    await checkErasable(tx, account, actor, userId, options);
    const running = await tx
      .selectFrom('erasure_requests')
      .select('id')
      .where('account_id', '=', account.id)
      .where('user_id', '=', userId)
      .where('status', 'in', ['queued', 'working'])
      .executeTakeFirst();
    if (running) throw errors.field('base', 'InvalidValue', 'An erasure of this user is already under way');
    erasure = await tx
      .insertInto('erasure_requests')
      .values({ account_id: account.id, user_id: userId, actor_id: actor.id, job_id: jobId, status: 'queued', options: JSON.stringify(options) })
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, { accountId: account.id, actorId: actor.id, action: 'erasure.create', targetType: 'user', targetId: userId, changedFields: Object.keys(options) });
  });
  if (!erasure) throw new Error('The erasure was not recorded');
  return { erasure, jobId: job.id };
}

/** The account's requester placeholder for reassigned tickets, created on first use. */
async function placeholderUser(tx: Executor, accountId: number): Promise<number> {
  await sql`SELECT pg_advisory_xact_lock(7215, ${accountId}::int)`.execute(tx);
  const existing = await tx
    .selectFrom('users')
    .select('id')
    .where('account_id', '=', accountId)
    .where('shared', '=', true)
    .where('external_id', '=', PLACEHOLDER_MARK)
    .executeTakeFirst();
  if (existing) return existing.id;
  const created = await tx
    .insertInto('users')
    .values({ account_id: accountId, name: PLACEHOLDER_NAME, role: 'end-user', shared: true, external_id: PLACEHOLDER_MARK, tags: [], user_fields: JSON.stringify({}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  await audit(tx, { accountId, actorId: null, action: 'user.create', targetType: 'user', targetId: created.id, changedFields: ['name', 'role', 'shared'] });
  return created.id;
}

interface StepContext {
  tx: Executor;
  storage: FileStorage;
  account: Account;
  actor: Actor;
  erasure: ErasureRequestRow;
  options: ErasureOptions;
}

/** Records one scrub batch changes at most (each batch is its own transaction). */
const SCRUB_BATCH = 200;

/**
 * One step's work; returns the counts it adds to the receipt, and `again` when the step did one
 * bounded batch and must run once more (the scrub). Runs in the step's transaction.
 */
async function runStep(step: ErasureStep, context: StepContext): Promise<{ counts: Record<string, number>; again?: true }> {
  const { tx, storage, account, actor, erasure, options } = context;
  const userId = erasure.user_id;
  const now = new Date();
  switch (step) {
    case 'prepare': {
      // The receipt's hashes and the suppression list, while the identities still exist.
      const person = await personOrFail(tx, account.id, userId);
      const salt = await identifierSalt(tx, account.id);
      const hashes = [...new Set(person.identifiers.map((identifier) => hashIdentifier(salt, identifier.type, identifier.value_key)))];
      await suppressIdentifiers(tx, account.id, erasure.id, hashes);
      await tx.updateTable('erasure_requests').set({ identifier_hashes: hashes, started_at: now }).where('account_id', '=', account.id).where('id', '=', erasure.id).execute();
      return { counts: { identifiers: person.identifiers.length } };
    }
    case 'tickets': {
      const decisions = await ticketDecisions(tx, account.id, userId, options);
      let closed = 0;
      let reassigned = 0;
      const handled = decisions.open.filter((id) => !decisions.deleteIds.includes(id));
      if (handled.length > 0 && options.open_tickets === 'close') {
        await tx
          .updateTable('tickets')
          .set({ status: 'closed', closed_at: now, solved_at: sql`coalesce(solved_at, ${now})` as never, updated_at: now })
          .where('account_id', '=', account.id)
          .where('id', 'in', handled)
          .execute();
        for (const id of handled) await audit(tx, { accountId: account.id, actorId: actor.id, action: 'ticket.update', targetType: 'ticket', targetId: id, changedFields: ['status'] });
        closed = handled.length;
      } else if (handled.length > 0 && options.open_tickets === 'reassign_to_placeholder') {
        const placeholder = await placeholderUser(tx, account.id);
        await tx.updateTable('tickets').set({ requester_id: placeholder, updated_at: now }).where('account_id', '=', account.id).where('id', 'in', handled).execute();
        for (const id of handled) await audit(tx, { accountId: account.id, actorId: actor.id, action: 'ticket.update', targetType: 'ticket', targetId: id, changedFields: ['requester_id'] });
        reassigned = handled.length;
      } else if (handled.length > 0) {
        throw errors.field('open_tickets', 'InvalidValue', 'The user has tickets that are not closed');
      }
      for (const id of decisions.deleteIds) {
        await softDeleteTicket(tx, account, actor, id);
        await purgeDeletedTicket(tx, storage, account, actor, id);
      }
      if (decisions.suspended.length > 0) await deleteSuspendedTickets(tx, storage, account, actor, decisions.suspended);
      return { counts: { tickets_closed: closed, tickets_reassigned: reassigned, tickets_deleted: decisions.deleteIds.length, suspended_tickets_deleted: decisions.suspended.length } };
    }
    case 'scrub': {
      const person = await personOrFail(tx, account.id, userId);
      const terms = termsFor(person, PURGED_NAME);
      // In bounded batches: a scrubbed record no longer matches, so each batch finds the next ones,
      // and the step ends with a batch that finds nothing.
      const plan = await planScrub(tx, storage, account.id, terms, { authoredAttachments: true, userId, limit: SCRUB_BATCH });
      const counts = await applyScrub(tx, storage, account.id, actor.id, terms, plan);
      const empty = Object.values(counts).every((count) => count === 0);
      return empty ? { counts: { ...counts } } : { counts: { ...counts }, again: true };
    }
    case 'collaborators': {
      const removed = await tx.deleteFrom('ticket_collaborators').where('account_id', '=', account.id).where('user_id', '=', userId).returning(['ticket_id', 'kind']).execute();
      for (const ticketId of new Set(removed.map((row) => row.ticket_id))) {
        const kinds = removed.filter((row) => row.ticket_id === ticketId).map((row) => (row.kind === 'email_cc' ? 'email_cc_ids' : 'follower_ids'));
        await audit(tx, { accountId: account.id, actorId: actor.id, action: 'ticket.update', targetType: 'ticket', targetId: ticketId, changedFields: kinds });
      }
      return { counts: { email_ccs_removed: removed.filter((row) => row.kind === 'email_cc').length, followers_removed: removed.filter((row) => row.kind === 'follower').length } };
    }
    case 'delete_user': {
      // Soft then permanent delete at once: forget is irreversible, so no restore window.
      const user = await tx.selectFrom('users').select(['active']).where('account_id', '=', account.id).where('id', '=', userId).executeTakeFirst();
      if (user?.active) await softDeleteUser(tx, account, actor, userId, { now, checked: true });
      await purgeUser(tx, account.id, actor.id, userId, now, storage);
      return { counts: { users_deleted: 1 } };
    }
    case 'done': {
      await audit(tx, { accountId: account.id, actorId: actor.id, action: 'erasure.complete', targetType: 'erasure_request', targetId: erasure.id, changedFields: ['status'] });
      return { counts: {} };
    }
  }
}

const nextStep = (step: string | null): ErasureStep | undefined => {
  const index = step === null ? 0 : ERASURE_STEPS.indexOf(step as ErasureStep) + 1;
  return ERASURE_STEPS[index];
};

/**
 * Runs the erasure's remaining steps, each in its own transaction together with the step marker
 * and its counts: a crash anywhere resumes at the first step not committed, and a step is never
 * applied twice (each also finds nothing left to do when run on its own result). Another run that
 * moved the marker on first makes this one stop.
 */
export async function runErasure(db: Database['db'], storage: FileStorage, account: Account, actor: Actor, jobId: string): Promise<'done' | 'superseded'> {
  for (;;) {
    const outcome = await db.transaction().execute(async (tx) => {
      const erasure = await tx.selectFrom('erasure_requests').selectAll().where('account_id', '=', account.id).where('job_id', '=', jobId).forUpdate().executeTakeFirst();
      if (!erasure || erasure.status === 'completed' || erasure.status === 'failed') return 'done' as const;
      const step = nextStep(erasure.step);
      if (!step) return 'done' as const;
      const options = erasure.options as unknown as ErasureOptions;
      const { again, counts } = await runStep(step, { tx, storage, account, actor, erasure, options });
      const finished = step === 'done';
      // Counts add up: a step run in batches adds each batch's, and a step cut off by a crash
      // rolled its counts back with its work.
      const total: Record<string, number> = { ...(erasure.counts as Record<string, number>) };
      for (const [key, value] of Object.entries(counts)) total[key] = (total[key] ?? 0) + value;
      await tx
        .updateTable('erasure_requests')
        .set({
          step: again ? erasure.step : step,
          status: finished ? 'completed' : 'working',
          counts: JSON.stringify(total),
          ...(finished ? { completed_at: new Date() } : {}),
        })
        .where('account_id', '=', account.id)
        .where('id', '=', erasure.id)
        .execute();
      if (!again) await tx.updateTable('job_statuses').set({ progress: ERASURE_STEPS.indexOf(step) + 1, updated_at: new Date() }).where('account_id', '=', account.id).where('id', '=', jobId).execute();
      return finished ? ('done' as const) : ('more' as const);
    });
    if (outcome === 'done') return 'done';
    // Let requests in between steps (the embedded database has one connection).
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The job ended as failed (its starter can no longer act, or its retries ran out). */
export async function failErasure(db: Executor, accountId: number, jobId: string): Promise<void> {
  await db.updateTable('erasure_requests').set({ status: 'failed', completed_at: new Date() }).where('account_id', '=', accountId).where('job_id', '=', jobId).where('status', 'in', ['queued', 'working']).execute();
}

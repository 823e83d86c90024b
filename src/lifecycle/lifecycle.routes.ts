import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { App, Services } from '../app.ts';
import { AppError, errors } from '../http/errors.ts';
import { applyPage, cursorPage, envelope, offsetPage, parsePage } from '../http/pagination.ts';
import { parseIdList, parseStringList, queryString } from '../http/params.ts';
import { errorResponses, IdParams } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { JobStatusEnvelope } from '../jobs/job-statuses.schemas.ts';
import { presentJobStatus } from '../jobs/job-statuses.presenter.ts';
import { authorize, authorizeSearch } from '../policy/policy.ts';
import { compileSearch, searchPage } from '../search/run-search.ts';
import { presentUser } from '../users/users.presenter.ts';
import { findUser, findUsersByExternalIds, selectUsers, type UserView } from '../users/users.repository.ts';
import { CountResponse, UserEnvelope, UserResponse } from '../users/users.schemas.ts';
import { presentDeletedUser } from './deleted-users.presenter.ts';
import { countDeletedUsers, selectDeletedUsers, type DeletedUserState, type DeletedUserView } from './deleted-users.repository.ts';
import { parseDeletedUserSort, parseSortedPage, sortedCursorPage, sortedDeletedUsers } from './deleted-users-sort.ts';
import { destroyManyUsers } from './destroy-users.jobs.ts';
import {
  DeletedUserEnvelope,
  DeletedUsersList,
  DeletedUsersQuery,
  DestroyByQueryBody,
  DestroyByQueryDryRun,
  MergeBody,
  MergeInfo,
  MergePreviewResponse,
  SuspensionsResponse,
} from './lifecycle.schemas.ts';
import { findUndoableMerge, mergeUsers, parseChoices, previewMerge, undoMerge } from './merge-users.ts';
import { permanentlyDeleteUser } from './purge-deleted-users.ts';
import { restoreUser } from './restore-user.ts';
import { checkDeletable, softDeleteUser } from './soft-delete-user.ts';
import { lifecycleSettings } from './lifecycle-settings.ts';

const tags = ['User lifecycle'];
const UserParams = IdParams('user_id');
const DeletedUserParams = IdParams('deleted_user_id');
/** destroy_by_query deletes at most as many users as destroy_many takes. */
const QUERY_LIMIT = 100;

export async function lifecycleRoutes(app: App, { database, jobs, storage }: Services): Promise<void> {
  const db = database.db;
  const showUser = async (request: FastifyRequest, userId: number) => {
    const user = await findUser(db, request.ctx.account.id, userId);
    if (!user) throw errors.notFound();
    return presentUser(user, baseUrl(request), requireUser(request));
  };
  const deletedUser = async (request: FastifyRequest, userId: number): Promise<DeletedUserView> => {
    const row = await selectDeletedUsers(db, request.ctx.account.id).where('u.id', '=', userId).executeTakeFirst();
    if (!row) throw errors.notFound();
    return row as DeletedUserView;
  };
  const enqueueDeletes = async (request: FastifyRequest, ids: number[]) => {
    const row = await jobs.enqueue(request.ctx.account, requireUser(request), destroyManyUsers.type, ids);
    return { job_status: presentJobStatus(row, baseUrl(request)) };
  };

  // Soft delete
  app.delete('/api/v2/users/:user_id', {
    schema: { tags, summary: 'Delete a user (soft delete: active false, purged after the account\'s delay)', params: UserParams, response: { 200: UserEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const userId = request.params.user_id as number;
    await db.transaction().execute((tx) => softDeleteUser(tx, request.ctx.account, actor, userId));
    return { user: await showUser(request, userId) };
  });

  app.delete('/api/v2/users/destroy_many', {
    schema: {
      tags,
      summary: 'Delete up to 100 users by ids or external_ids (a job; refusals are per-user results)',
      querystring: Type.Object({ ids: Type.Optional(Type.String()), external_ids: Type.Optional(Type.String()) }, { additionalProperties: true }),
      response: { 200: JobStatusEnvelope, ...errorResponses },
    },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.deleteManyUsers(actor);
    const { ids, external_ids: externalIds } = request.query;
    const userIds =
      ids !== undefined
        ? parseIdList(ids, 'ids')
        : (await findUsersByExternalIds(db, request.ctx.account.id, parseStringList(externalIds, 'ids or external_ids'))).map((user) => user.id);
    if (userIds.length === 0) throw errors.field('external_ids', 'InvalidValue', 'No user has these external ids');
    return enqueueDeletes(request, userIds);
  });

  app.post('/api/v2/users/destroy_by_query', {
    schema: {
      tags,
      summary: 'Delete the users a search query finds (at most 100; a job), or with dry_run report who would be refused and why',
      body: DestroyByQueryBody,
      response: { 200: Type.Union([JobStatusEnvelope, DestroyByQueryDryRun]), ...errorResponses },
    },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.deleteManyUsers(actor);
    const visibility = authorizeSearch(actor);
    const accountId = request.ctx.account.id;
    const plan = await compileSearch(db, accountId, request.body.query, { only: 'user' });
    const { hits, count } = await searchPage(db, accountId, plan, visibility, { offset: 0, limit: QUERY_LIMIT + 1 }, { concurrent: false });
    if (count > QUERY_LIMIT) throw errors.field('query', 'InvalidValue', `The query finds ${count} users; destroy_by_query deletes at most ${QUERY_LIMIT} at a time: narrow the query`);
    const ids = hits.map((hit) => hit.id).sort((a, b) => a - b);
    if (request.body.dry_run !== true) {
      if (ids.length === 0) throw errors.field('query', 'InvalidValue', 'The query finds no users');
      return enqueueDeletes(request, ids);
    }
    const users = ids.length === 0 ? [] : ((await selectUsers(db, accountId).where('u.id', 'in', ids).orderBy('u.id').execute()) as UserView[]);
    const refused: Array<{ id: number; name: string; error: string; description: string }> = [];
    for (const user of users) {
      // Read-only: the checks run in a transaction that is always rolled back.
      const refusal = await db
        .transaction()
        .execute(async (tx) => {
          await checkDeletable(tx, request.ctx.account, actor, user);
          throw new DryRunDone();
        })
        .catch((error: unknown) => (error instanceof DryRunDone ? undefined : error));
      if (refusal === undefined) continue;
      if (!(refusal instanceof AppError)) throw refusal;
      const description = refusal.details ? Object.values(refusal.details).flat().map((detail) => detail.description).join('; ') : (refusal.description ?? refusal.code);
      refused.push({ id: user.id, name: user.name, error: refusal.code, description });
    }
    return { dry_run: { count: users.length, deletable: users.length - refused.length, refused } };
  });

  // Suspension history (the reasons are kept here, not in the audit log)
  app.get('/api/v2/users/:user_id/suspensions', {
    schema: { tags, summary: 'A user\'s suspensions and their reasons (staff)', params: UserParams, response: { 200: SuspensionsResponse, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.staff(actor);
    const user = await findUser(db, request.ctx.account.id, request.params.user_id as number);
    if (!user) throw errors.notFound();
    const rows = await db
      .selectFrom('user_suspensions')
      .selectAll()
      .where('account_id', '=', request.ctx.account.id)
      .where('user_id', '=', user.id)
      .orderBy('id', 'desc')
      .limit(100)
      .execute();
    return {
      suspensions: rows.map((row) => ({
        category: row.category,
        text: row.reason,
        suspended_by_id: row.suspended_by,
        suspended_at: row.suspended_at.toISOString(),
        lifted_by_id: row.lifted_by,
        lifted_at: row.lifted_at?.toISOString() ?? null,
      })),
    };
  });

  // Merge
  app.get('/api/v2/users/:user_id/merge_preview', {
    schema: {
      tags,
      summary: 'What merging this user into target_id would move, and the fields where they differ',
      params: UserParams,
      querystring: Type.Object({ target_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) }, { additionalProperties: true }),
      response: { 200: MergePreviewResponse, ...errorResponses },
    },
  }, async (request) => {
    const actor = requireUser(request);
    const preview = await previewMerge(db, request.ctx.account, actor, request.params.user_id as number, request.query.target_id);
    return { merge_preview: preview };
  });

  app.put('/api/v2/users/:user_id/merge', {
    schema: {
      tags,
      summary: 'Merge this end user into another (tickets, CCs, identities and memberships move; this user is deleted)',
      params: UserParams,
      body: MergeBody,
      response: { 200: Type.Object({ user: UserResponse, merge: MergeInfo }), ...errorResponses },
    },
  }, async (request) => {
    const actor = requireUser(request);
    const sourceId = request.params.user_id as number;
    const targetId = request.body.user.id;
    const choices = parseChoices(request.body.user.keep);
    const now = new Date();
    const mergeId = await db.transaction().execute((tx) => mergeUsers(tx, request.ctx.account, actor, sourceId, targetId, choices, now));
    const merge = await findUndoableMerge(db, request.ctx.account, sourceId);
    const undoable = merge !== undefined && merge.snapshot !== null && lifecycleSettings(request.ctx.account).restoreWindow;
    return {
      user: await showUser(request, targetId),
      merge: { id: mergeId, source_id: sourceId, target_id: targetId, merged_at: now.toISOString(), undo_until: undoable ? merge.undo_until.toISOString() : null },
    };
  });

  app.put('/api/v2/users/:user_id/merge/undo', {
    schema: { tags, summary: 'Undo the merge of this (merged, deleted) user within the restore window', params: UserParams, response: { 200: UserEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const userId = request.params.user_id as number;
    await db.transaction().execute((tx) => undoMerge(tx, request.ctx.account, actor, userId));
    return { user: await showUser(request, userId) };
  });

  // Deleted users
  const stateOf = (query: Record<string, unknown>): DeletedUserState | undefined => {
    const state = queryString(query.state, 'state');
    if (state === undefined) return undefined;
    if (state !== 'pending_purge' && state !== 'purged') throw errors.badRequest('state must be pending_purge or purged');
    return state;
  };

  app.get('/api/v2/deleted_users', {
    schema: { tags, summary: 'List deleted users (soft-deleted and permanently deleted), with deletion and purge dates', querystring: DeletedUsersQuery, response: { 200: DeletedUsersList, ...errorResponses } },
  }, async (request) => {
    authorize.viewDeletedUsers(requireUser(request));
    const query = request.query as Record<string, unknown>;
    const state = stateOf(query);
    const accountId = request.ctx.account.id;
    const sort = parseDeletedUserSort(query);
    if (sort) {
      const sortedPage = parseSortedPage(query, sort);
      const sorted = await sortedDeletedUsers(db, request.ctx.account, state, sort, sortedPage);
      const presentSorted = (row: DeletedUserView) => presentDeletedUser(row, baseUrl(request), request.ctx.account);
      if (sortedPage.kind === 'cursor') return envelope('deleted_users', sortedCursorPage(request, sorted, sortedPage, sort), presentSorted);
      return envelope('deleted_users', offsetPage(request, sorted, sortedPage, await countDeletedUsers(db, accountId, state)), presentSorted);
    }
    const page = parsePage(query);
    const rows = (await applyPage(selectDeletedUsers(db, accountId, state), 'u.id', page).execute()) as DeletedUserView[];
    const present = (row: DeletedUserView) => presentDeletedUser(row, baseUrl(request), request.ctx.account);
    if (page.kind === 'cursor') return envelope('deleted_users', cursorPage(request, rows, page, (row) => row.id), present);
    return envelope('deleted_users', offsetPage(request, rows, page, await countDeletedUsers(db, accountId, state)), present);
  });

  app.get('/api/v2/deleted_users/count', {
    schema: { tags, summary: 'Count deleted users', querystring: DeletedUsersQuery, response: { 200: CountResponse, ...errorResponses } },
  }, async (request) => {
    authorize.viewDeletedUsers(requireUser(request));
    const value = await countDeletedUsers(db, request.ctx.account.id, stateOf(request.query as Record<string, unknown>));
    return { count: { value, refreshed_at: new Date().toISOString() } };
  });

  app.get('/api/v2/deleted_users/:deleted_user_id', {
    schema: { tags, summary: 'Show a deleted user', params: DeletedUserParams, response: { 200: DeletedUserEnvelope, ...errorResponses } },
  }, async (request) => {
    authorize.viewDeletedUsers(requireUser(request));
    const row = await deletedUser(request, request.params.deleted_user_id as number);
    return { deleted_user: presentDeletedUser(row, baseUrl(request), request.ctx.account) };
  });

  app.delete('/api/v2/deleted_users/:deleted_user_id', {
    schema: { tags, summary: 'Permanently delete a deleted user (admins): every personal datum is removed', params: DeletedUserParams, response: { 200: DeletedUserEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const userId = request.params.deleted_user_id as number;
    await db.transaction().execute((tx) => permanentlyDeleteUser(tx, storage, request.ctx.account, actor, userId));
    return { deleted_user: presentDeletedUser(await deletedUser(request, userId), baseUrl(request), request.ctx.account) };
  });

  app.put('/api/v2/deleted_users/:deleted_user_id/restore', {
    schema: { tags, summary: 'Restore a soft-deleted user with its identities and memberships (admins; within the restore window)', params: DeletedUserParams, response: { 200: UserEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const userId = request.params.deleted_user_id as number;
    await db.transaction().execute((tx) => restoreUser(tx, request.ctx.account, actor, userId));
    return { user: await showUser(request, userId) };
  });
}

/** Rolls back a dry run's transaction once its checks passed. */
class DryRunDone extends Error {}

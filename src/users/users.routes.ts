import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { App, Services } from '../app.ts';
import { errors } from '../http/errors.ts';
import { applyPage, cursorPage, envelope, offsetPage, parsePage } from '../http/pagination.ts';
import { parseIdList, parseStringList, queryString } from '../http/params.ts';
import { errorResponses, IdParams, OffsetMeta } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { JobStatusEnvelope } from '../jobs/job-statuses.schemas.ts';
import { presentJobStatus } from '../jobs/job-statuses.presenter.ts';
import { authorize, type Actor } from '../policy/policy.ts';
import { createOrUpdateUser } from './create-or-update-user.ts';
import { createUser } from './create-user.ts';
import { updateUser } from './update-user.ts';
import { parseUserInput } from './user-input.ts';
import { anonymousUser, presentUser } from './users.presenter.ts';
import {
  findUser,
  findUsersByExternalIds,
  findUsersByIds,
  selectUsers,
  userFilterExpression,
  type UserFilter,
  type UserView,
} from './users.repository.ts';
import {
  CountResponse,
  ListUsersQuery,
  RelatedResponse,
  UserBody,
  UserEnvelope,
  UserResponse,
  UsersBody,
} from './users.schemas.ts';
import { CREATE_MANY_USERS, CREATE_OR_UPDATE_MANY_USERS, updateManyUsers, type UpdateItem } from './users.jobs.ts';
import { sendWelcomeMail } from '../mail/welcome.ts';
import { userTicketCounts } from '../tickets/tickets.repository.ts';

const tags = ['Users'];
const UsersList = Type.Object({ users: Type.Array(UserResponse), ...OffsetMeta });
const UserParams = IdParams('user_id');
const JobResponse = { 200: JobStatusEnvelope, ...errorResponses };

const ROLES = ['end-user', 'agent', 'admin'];

function listFilter(query: Record<string, unknown>): UserFilter {
  const roles: string[] = [];
  for (const raw of [query.role, query['role[]']]) {
    if (raw === undefined) continue;
    for (const role of Array.isArray(raw) ? raw : [raw]) {
      if (typeof role !== 'string' || !ROLES.includes(role)) throw errors.badRequest('role must be one of end-user, agent, admin');
      roles.push(role);
    }
  }
  const permissionSet = queryString(query.permission_set, 'permission_set');
  if (permissionSet !== undefined && !/^\d{1,15}$/.test(permissionSet)) throw errors.badRequest('permission_set must be a custom role id');
  return {
    roles,
    externalId: queryString(query.external_id, 'external_id'),
    permissionSet: permissionSet === undefined ? undefined : Number(permissionSet),
  };
}

export async function usersRoutes(app: App, { database, jobs, mail }: Services): Promise<void> {
  const db = database.db;
  const show = (request: FastifyRequest, user: UserView, viewer: Actor | null) => presentUser(user, baseUrl(request), viewer);
  const job = async (request: FastifyRequest, type: string, items: unknown[]) => {
    const actor = requireUser(request);
    const row = await jobs.enqueue(request.ctx.account, actor, type, items);
    return { job_status: presentJobStatus(row, baseUrl(request)) };
  };

  app.get('/api/v2/users', {
    schema: { tags, summary: 'List users', querystring: ListUsersQuery, response: { 200: UsersList, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.listUsers(actor);
    const query = request.query as Record<string, unknown>;
    const page = parsePage(query);
    const filter = userFilterExpression(listFilter(query));
    // Deleted users are listed under /api/v2/deleted_users (src/lifecycle/), as in Zendesk; GET /users/{id} still shows one.
    const base = selectUsers(db, request.ctx.account.id).where(filter).where('u.active', '=', true);
    const rows = (await applyPage(base, 'u.id', page).execute()) as UserView[];
    const present = (user: UserView) => show(request, user, actor);
    if (page.kind === 'cursor') return envelope('users', cursorPage(request, rows, page, (user) => user.id), present);
    const count = await db
      .selectFrom('users as u')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('u.account_id', '=', request.ctx.account.id)
      .where(filter)
      .where('u.active', '=', true)
      .executeTakeFirstOrThrow();
    return envelope('users', offsetPage(request, rows, page, Number(count.n)), present);
  });

  app.get('/api/v2/users/count', {
    schema: { tags, summary: 'Count users', querystring: ListUsersQuery, response: { 200: CountResponse, ...errorResponses } },
  }, async (request) => {
    authorize.listUsers(requireUser(request));
    const filter = userFilterExpression(listFilter(request.query as Record<string, unknown>));
    const count = await db
      .selectFrom('users as u')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('u.account_id', '=', request.ctx.account.id)
      .where(filter)
      .where('u.active', '=', true)
      .executeTakeFirstOrThrow();
    return { count: { value: Number(count.n), refreshed_at: new Date().toISOString() } };
  });

  app.get('/api/v2/users/show_many', {
    schema: {
      tags,
      summary: 'Show many users (ids or external_ids, at most 100)',
      querystring: Type.Object({ ids: Type.Optional(Type.String()), external_ids: Type.Optional(Type.String()) }, { additionalProperties: true }),
      response: { 200: Type.Object({ users: Type.Array(UserResponse) }), ...errorResponses },
    },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.listUsers(actor);
    const { ids, external_ids: externalIds } = request.query;
    const users =
      ids !== undefined
        ? await findUsersByIds(db, request.ctx.account.id, parseIdList(ids, 'ids'))
        : await findUsersByExternalIds(db, request.ctx.account.id, parseStringList(externalIds, 'ids or external_ids'));
    return { users: users.map((user) => show(request, user, actor)) };
  });

  app.get('/api/v2/users/me', {
    config: { auth: 'optional' },
    schema: { tags, summary: 'The calling user (an anonymous placeholder when not signed in)', response: { 200: Type.Object({ user: Type.Object({}, { additionalProperties: true }) }), ...errorResponses } },
  }, async (request) => {
    const actor = request.ctx.user;
    if (!actor) return { user: anonymousUser() };
    const user = await findUser(db, request.ctx.account.id, actor.id);
    if (!user) throw errors.unauthenticated();
    return { user: show(request, user, actor) };
  });

  app.get('/api/v2/users/:user_id', {
    schema: { tags, summary: 'Show a user', params: UserParams, response: { 200: UserEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const user = await findUser(db, request.ctx.account.id, request.params.user_id as number);
    if (!user) throw errors.notFound();
    authorize.viewUser(actor, user);
    return { user: show(request, user, actor) };
  });

  app.get('/api/v2/users/:user_id/related', {
    schema: { tags, summary: 'Counts of records related to a user', params: UserParams, response: { 200: RelatedResponse, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const user = await findUser(db, request.ctx.account.id, request.params.user_id as number);
    if (!user) throw errors.notFound();
    authorize.viewUser(actor, user);
    // Counted through the caller's ticket scope, as every ticket list is; Roster has no organization subscriptions.
    const counts = await userTicketCounts(db, request.ctx.account.id, actor, user.id);
    return { user_related: { ...counts, organization_subscriptions: 0 } };
  });

  app.post('/api/v2/users', {
    schema: { tags, summary: 'Create a user', body: UserBody, response: { 201: UserEnvelope, ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    const input = parseUserInput(request.body?.user, 'create');
    const user = await db.transaction().execute(async (tx) => {
      const id = await createUser(tx, request.ctx.account, actor, input);
      await sendWelcomeMail(tx, mail, request.ctx.account, actor, id);
      return findUser(tx, request.ctx.account.id, id);
    });
    if (!user) throw errors.notFound();
    reply.code(201).header('Location', `${baseUrl(request)}/api/v2/users/${user.id}.json`);
    return { user: show(request, user, actor) };
  });

  app.post('/api/v2/users/create_or_update', {
    schema: { tags, summary: 'Create a user, or update the one with this external_id or email', body: UserBody, response: { 200: UserEnvelope, 201: UserEnvelope, ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    const raw = request.body?.user;
    if (raw === null || typeof raw !== 'object') throw errors.missingParameter('user');
    const { id, created } = await db.transaction().execute(async (tx) => {
      const outcome = await createOrUpdateUser(tx, request.ctx.account, actor, raw);
      if (outcome.created) await sendWelcomeMail(tx, mail, request.ctx.account, actor, outcome.id);
      return outcome;
    });
    const user = await findUser(db, request.ctx.account.id, id);
    if (!user) throw errors.notFound();
    if (created) reply.code(201).header('Location', `${baseUrl(request)}/api/v2/users/${id}.json`);
    return { user: show(request, user, actor) };
  });

  app.post('/api/v2/users/create_many', {
    schema: { tags, summary: 'Create up to 100 users (a job)', body: UsersBody, response: JobResponse },
  }, async (request) => {
    authorize.bulk(requireUser(request));
    return job(request, CREATE_MANY_USERS, request.body.users);
  });

  app.post('/api/v2/users/create_or_update_many', {
    schema: { tags, summary: 'Create or update up to 100 users (a job)', body: UsersBody, response: JobResponse },
  }, async (request) => {
    authorize.bulk(requireUser(request));
    return job(request, CREATE_OR_UPDATE_MANY_USERS, request.body.users);
  });

  app.put('/api/v2/users/update_many', {
    schema: {
      tags,
      summary: 'Update many users: one change to ids/external_ids, or a list of users with their ids (a job)',
      querystring: Type.Object({ ids: Type.Optional(Type.String()), external_ids: Type.Optional(Type.String()) }, { additionalProperties: true }),
      body: Type.Object({}, { additionalProperties: true }),
      response: JobResponse,
    },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.bulk(actor);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const accountId = request.ctx.account.id;
    let items: UpdateItem[];
    if (request.query.ids !== undefined || request.query.external_ids !== undefined) {
      if (body.user === null || typeof body.user !== 'object' || Array.isArray(body.user)) throw errors.missingParameter('user');
      parseUserInput(body.user, 'update'); // refuse a malformed change up front rather than once per user
      const ids =
        request.query.ids !== undefined
          ? parseIdList(request.query.ids, 'ids')
          : (await findUsersByExternalIds(db, accountId, parseStringList(request.query.external_ids, 'external_ids'))).map((user) => user.id);
      items = ids.map((id) => ({ id, user: body.user }));
    } else if (Array.isArray(body.users)) {
      if (body.users.length > 100) throw errors.badRequest('users takes at most 100 users');
      items = [];
      for (const entry of body.users as unknown[]) {
        const user = (entry ?? {}) as Record<string, unknown>;
        const { id, external_id: externalId, ...changes } = user;
        let userId = typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : undefined;
        if (userId === undefined && (typeof externalId === 'string' || typeof externalId === 'number')) {
          userId = (await findUsersByExternalIds(db, accountId, [String(externalId)]))[0]?.id;
        }
        if (userId === undefined) throw errors.badRequest('Every user in users needs an id or a known external_id');
        items.push({ id: userId, user: changes });
      }
    } else {
      throw errors.missingParameter('ids, external_ids or users');
    }
    return job(request, updateManyUsers.type, items);
  });

  app.put('/api/v2/users/:user_id', {
    schema: { tags, summary: 'Update a user', params: UserParams, body: UserBody, response: { 200: UserEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const input = parseUserInput(request.body?.user, 'update');
    const userId = request.params.user_id as number;
    const user = await db.transaction().execute(async (tx) => {
      await updateUser(tx, request.ctx.account, actor, userId, input);
      return findUser(tx, request.ctx.account.id, userId);
    });
    if (!user) throw errors.notFound();
    return { user: show(request, user, actor) };
  });
}

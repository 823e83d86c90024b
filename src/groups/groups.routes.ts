import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { App, Services } from '../app.ts';
import type { GroupMembershipRow, GroupRow } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import { applyPage, cursorPage, envelope, offsetPage, parsePage } from '../http/pagination.ts';
import { parseIdList } from '../http/params.ts';
import { errorResponses, IdParams, OffsetMeta } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { JobStatusEnvelope } from '../jobs/job-statuses.schemas.ts';
import { presentJobStatus } from '../jobs/job-statuses.presenter.ts';
import { authorize } from '../policy/policy.ts';
import { presentUser } from '../users/users.presenter.ts';
import { selectUsers, type UserView } from '../users/users.repository.ts';
import { UserResponse } from '../users/users.schemas.ts';
import { createManyGroupMemberships, destroyManyGroupMemberships } from './groups.jobs.ts';
import { presentGroup, presentGroupMembership } from './groups.presenter.ts';
import { findGroup, findMembership, listUserMemberships, selectGroups, selectMemberships, type GroupFilter, type MembershipFilter } from './groups.repository.ts';
import {
  GroupBody,
  GroupEnvelope,
  GroupMembershipBody,
  GroupMembershipEnvelope,
  GroupMembershipsBody,
  GroupMembershipsEnvelope,
  GroupsEnvelope,
  GroupsQuery,
} from './groups.schemas.ts';
import { createGroup, createMembership, deleteGroup, deleteMembership, makeDefaultMembership, updateGroup } from './manage-groups.ts';

const tags = ['Groups'];
const membershipTags = ['Group Memberships'];
const MembershipParams = Type.Object({
  user_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  group_membership_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
});
const ListQuery = Type.Object({}, { additionalProperties: true });
const CountResponse = Type.Object({ count: Type.Object({ value: Type.Integer(), refreshed_at: Type.String({ format: 'date-time' }) }) });
const JobResponse = { 200: JobStatusEnvelope, ...errorResponses };
const UsersList = Type.Object({ users: Type.Array(UserResponse), ...OffsetMeta });

export async function groupsRoutes(app: App, { database, jobs }: Services): Promise<void> {
  const db = database.db;

  const listGroups = async (request: FastifyRequest, filter: GroupFilter) => {
    const accountId = request.ctx.account.id;
    const page = parsePage(request.query as Record<string, unknown>);
    const rows = (await applyPage(selectGroups(db, accountId, filter), 'g.id', page).execute()) as GroupRow[];
    const present = (row: GroupRow) => presentGroup(row, baseUrl(request));
    if (page.kind === 'cursor') return envelope('groups', cursorPage(request, rows, page, (row) => row.id), present);
    const count = await selectGroups(db, accountId, filter).clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return envelope('groups', offsetPage(request, rows, page, Number(count.n)), present);
  };
  const listMemberships = async (request: FastifyRequest, filter: MembershipFilter) => {
    const accountId = request.ctx.account.id;
    const page = parsePage(request.query as Record<string, unknown>);
    const rows = (await applyPage(selectMemberships(db, accountId, filter), 'm.id', page).execute()) as GroupMembershipRow[];
    const present = (row: GroupMembershipRow) => presentGroupMembership(row, baseUrl(request));
    if (page.kind === 'cursor') return envelope('group_memberships', cursorPage(request, rows, page, (row) => row.id), present);
    const count = await selectMemberships(db, accountId, filter).clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return envelope('group_memberships', offsetPage(request, rows, page, Number(count.n)), present);
  };
  /** The user of a `/users/{id}/…` path: 404 when it is not in this account. */
  const pathUser = async (request: FastifyRequest, userId: number): Promise<void> => {
    const user = await db.selectFrom('users').select('id').where('account_id', '=', request.ctx.account.id).where('id', '=', userId).executeTakeFirst();
    if (!user) throw errors.notFound();
  };
  const pathGroup = async (request: FastifyRequest, groupId: number): Promise<void> => {
    if (!(await findGroup(db, request.ctx.account.id, groupId))) throw errors.notFound();
  };

  // Groups

  app.get('/api/v2/groups', {
    schema: { tags, summary: 'List groups (live ones; exclude_deleted=false adds deleted ones)', querystring: GroupsQuery, response: { 200: GroupsEnvelope, ...errorResponses } },
  }, async (request) => {
    authorize.viewGroups(requireUser(request));
    return listGroups(request, { includeDeleted: (request.query as { exclude_deleted?: boolean }).exclude_deleted === false });
  });

  app.get('/api/v2/groups/assignable', {
    schema: { tags, summary: 'Groups the caller can assign work to', querystring: ListQuery, response: { 200: GroupsEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.viewGroups(actor);
    return listGroups(request, { assignableBy: actor });
  });

  app.get('/api/v2/groups/count', {
    schema: { tags, summary: 'Count live groups', response: { 200: CountResponse, ...errorResponses } },
  }, async (request) => {
    authorize.viewGroups(requireUser(request));
    const count = await selectGroups(db, request.ctx.account.id).clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { count: { value: Number(count.n), refreshed_at: new Date().toISOString() } };
  });

  app.get('/api/v2/users/:user_id/groups', {
    schema: { tags, summary: 'Groups a user belongs to', params: IdParams('user_id'), querystring: ListQuery, response: { 200: GroupsEnvelope, ...errorResponses } },
  }, async (request) => {
    authorize.viewGroups(requireUser(request));
    const userId = request.params.user_id as number;
    await pathUser(request, userId);
    return listGroups(request, { userId });
  });

  app.get('/api/v2/users/:user_id/groups/count', {
    schema: { tags, summary: 'Count the live groups a user belongs to', params: IdParams('user_id'), response: { 200: CountResponse, ...errorResponses } },
  }, async (request) => {
    authorize.viewGroups(requireUser(request));
    const userId = request.params.user_id as number;
    await pathUser(request, userId);
    const count = await selectGroups(db, request.ctx.account.id, { userId }).clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { count: { value: Number(count.n), refreshed_at: new Date().toISOString() } };
  });

  app.get('/api/v2/groups/:group_id', {
    schema: { tags, summary: 'Show a group (a deleted one too, with deleted: true)', params: IdParams('group_id'), response: { 200: GroupEnvelope, ...errorResponses } },
  }, async (request) => {
    authorize.viewGroups(requireUser(request));
    const group = await findGroup(db, request.ctx.account.id, request.params.group_id as number);
    if (!group) throw errors.notFound();
    return { group: presentGroup(group, baseUrl(request)) };
  });

  app.post('/api/v2/groups', {
    schema: { tags, summary: 'Create a group (admins, agents with group_access)', body: GroupBody, response: { 201: GroupEnvelope, ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorize.manageGroups(actor);
    const group = await db.transaction().execute(async (tx) => {
      const id = await createGroup(tx, request.ctx.account, actor, request.body?.group);
      return findGroup(tx, request.ctx.account.id, id);
    });
    if (!group) throw errors.notFound();
    reply.code(201).header('Location', `${baseUrl(request)}/api/v2/groups/${group.id}.json`);
    return { group: presentGroup(group, baseUrl(request)) };
  });

  app.put('/api/v2/groups/:group_id', {
    schema: { tags, summary: 'Update a group (admins, agents with group_access)', params: IdParams('group_id'), body: GroupBody, response: { 200: GroupEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.manageGroups(actor);
    const id = request.params.group_id as number;
    const group = await db.transaction().execute(async (tx) => {
      await updateGroup(tx, request.ctx.account, actor, id, request.body?.group);
      return findGroup(tx, request.ctx.account.id, id);
    });
    if (!group) throw errors.notFound();
    return { group: presentGroup(group, baseUrl(request)) };
  });

  app.delete('/api/v2/groups/:group_id', {
    schema: { tags, summary: 'Delete a group (soft: it stays visible with deleted: true; its memberships go)', params: IdParams('group_id'), response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorize.manageGroups(actor);
    await db.transaction().execute((tx) => deleteGroup(tx, request.ctx.account, actor, request.params.group_id as number));
    return reply.code(204).send(null);
  });

  app.get('/api/v2/groups/:group_id/users', {
    schema: { tags, summary: 'The users of a group (a user list: end_user_list_access applies)', params: IdParams('group_id'), querystring: ListQuery, response: { 200: UsersList, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.viewGroups(actor);
    authorize.listUsers(actor);
    const groupId = request.params.group_id as number;
    await pathGroup(request, groupId);
    const accountId = request.ctx.account.id;
    const members = selectUsers(db, accountId).where((eb) =>
      eb.exists(
        eb
          .selectFrom('group_memberships as gm')
          .select('gm.id')
          .whereRef('gm.account_id', '=', 'u.account_id')
          .whereRef('gm.user_id', '=', 'u.id')
          .where('gm.group_id', '=', groupId),
      ),
    );
    const page = parsePage(request.query as Record<string, unknown>);
    const rows = (await applyPage(members, 'u.id', page).execute()) as UserView[];
    const present = (user: UserView) => presentUser(user, baseUrl(request), actor);
    if (page.kind === 'cursor') return envelope('users', cursorPage(request, rows, page, (user) => user.id), present);
    const count = await db
      .selectFrom('group_memberships')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('account_id', '=', accountId)
      .where('group_id', '=', groupId)
      .executeTakeFirstOrThrow();
    return envelope('users', offsetPage(request, rows, page, Number(count.n)), present);
  });

  // Group memberships

  app.get('/api/v2/group_memberships', {
    schema: { tags: membershipTags, summary: 'List group memberships', querystring: ListQuery, response: { 200: GroupMembershipsEnvelope, ...errorResponses } },
  }, async (request) => {
    authorize.viewGroups(requireUser(request));
    return listMemberships(request, {});
  });

  app.get('/api/v2/group_memberships/assignable', {
    schema: { tags: membershipTags, summary: 'Memberships of the groups the caller can assign work to', querystring: ListQuery, response: { 200: GroupMembershipsEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.viewGroups(actor);
    return listMemberships(request, { assignableBy: actor });
  });

  app.get('/api/v2/users/:user_id/group_memberships', {
    schema: { tags: membershipTags, summary: 'A user\'s group memberships', params: IdParams('user_id'), querystring: ListQuery, response: { 200: GroupMembershipsEnvelope, ...errorResponses } },
  }, async (request) => {
    authorize.viewGroups(requireUser(request));
    const userId = request.params.user_id as number;
    await pathUser(request, userId);
    return listMemberships(request, { userId });
  });

  app.get('/api/v2/groups/:group_id/memberships', {
    schema: { tags: membershipTags, summary: 'A group\'s memberships', params: IdParams('group_id'), querystring: ListQuery, response: { 200: GroupMembershipsEnvelope, ...errorResponses } },
  }, async (request) => {
    authorize.viewGroups(requireUser(request));
    const groupId = request.params.group_id as number;
    await pathGroup(request, groupId);
    return listMemberships(request, { groupId });
  });

  app.get('/api/v2/groups/:group_id/memberships/assignable', {
    schema: { tags: membershipTags, summary: 'A group\'s memberships, if the caller can assign work to the group', params: IdParams('group_id'), querystring: ListQuery, response: { 200: GroupMembershipsEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.viewGroups(actor);
    const groupId = request.params.group_id as number;
    await pathGroup(request, groupId);
    return listMemberships(request, { groupId, assignableBy: actor });
  });

  app.get('/api/v2/group_memberships/:group_membership_id', {
    schema: { tags: membershipTags, summary: 'Show a group membership', params: IdParams('group_membership_id'), response: { 200: GroupMembershipEnvelope, ...errorResponses } },
  }, async (request) => {
    authorize.viewGroups(requireUser(request));
    const membership = await findMembership(db, request.ctx.account.id, request.params.group_membership_id as number);
    if (!membership) throw errors.notFound();
    return { group_membership: presentGroupMembership(membership, baseUrl(request)) };
  });

  app.get('/api/v2/users/:user_id/group_memberships/:group_membership_id', {
    schema: { tags: membershipTags, summary: 'Show one of a user\'s group memberships', params: MembershipParams, response: { 200: GroupMembershipEnvelope, ...errorResponses } },
  }, async (request) => {
    authorize.viewGroups(requireUser(request));
    const { user_id: userId, group_membership_id: id } = request.params as { user_id: number; group_membership_id: number };
    const membership = await findMembership(db, request.ctx.account.id, id, userId);
    if (!membership) throw errors.notFound();
    return { group_membership: presentGroupMembership(membership, baseUrl(request)) };
  });

  const create = async (request: FastifyRequest, raw: unknown, userId?: number) => {
    const actor = requireUser(request);
    authorize.manageGroups(actor);
    const membership = await db.transaction().execute((tx) => createMembership(tx, request.ctx.account, actor, raw, userId));
    return { group_membership: presentGroupMembership(membership, baseUrl(request)) };
  };

  app.post('/api/v2/group_memberships', {
    schema: { tags: membershipTags, summary: 'Put an agent into a group (admins, agents with group_access)', body: GroupMembershipBody, response: { 201: GroupMembershipEnvelope, ...errorResponses } },
  }, async (request, reply) => {
    const result = await create(request, request.body?.group_membership);
    reply.code(201).header('Location', result.group_membership.url);
    return result;
  });

  app.post('/api/v2/users/:user_id/group_memberships', {
    schema: { tags: membershipTags, summary: 'Put this agent into a group', params: IdParams('user_id'), body: GroupMembershipBody, response: { 201: GroupMembershipEnvelope, ...errorResponses } },
  }, async (request, reply) => {
    const result = await create(request, request.body?.group_membership, request.params.user_id as number);
    reply.code(201).header('Location', result.group_membership.url);
    return result;
  });

  app.delete('/api/v2/group_memberships/:group_membership_id', {
    schema: { tags: membershipTags, summary: 'Remove a group membership', params: IdParams('group_membership_id'), response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorize.manageGroups(actor);
    await db.transaction().execute((tx) => deleteMembership(tx, request.ctx.account, actor, request.params.group_membership_id as number));
    return reply.code(204).send(null);
  });

  app.delete('/api/v2/users/:user_id/group_memberships/:group_membership_id', {
    schema: { tags: membershipTags, summary: 'Remove one of a user\'s group memberships', params: MembershipParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorize.manageGroups(actor);
    const { user_id: userId, group_membership_id: id } = request.params as { user_id: number; group_membership_id: number };
    await db.transaction().execute((tx) => deleteMembership(tx, request.ctx.account, actor, id, userId));
    return reply.code(204).send(null);
  });

  app.put('/api/v2/users/:user_id/group_memberships/:group_membership_id/make_default', {
    schema: { tags: membershipTags, summary: 'Make a membership the user\'s default group (their default_group_id)', params: MembershipParams, response: { 200: GroupMembershipsEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const { user_id: userId, group_membership_id: id } = request.params as { user_id: number; group_membership_id: number };
    authorize.setDefaultGroup(actor, userId);
    const memberships = await db.transaction().execute(async (tx) => {
      await makeDefaultMembership(tx, request.ctx.account, actor, userId, id);
      return listUserMemberships(tx, request.ctx.account.id, userId);
    });
    return { group_memberships: memberships.map((row) => presentGroupMembership(row, baseUrl(request))) };
  });

  app.post('/api/v2/group_memberships/create_many', {
    schema: { tags: membershipTags, summary: 'Create up to 100 group memberships (a job)', body: GroupMembershipsBody, response: JobResponse },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.manageGroups(actor);
    authorize.bulk(actor);
    const row = await jobs.enqueue(request.ctx.account, actor, createManyGroupMemberships.type, request.body.group_memberships);
    return { job_status: presentJobStatus(row, baseUrl(request)) };
  });

  app.delete('/api/v2/group_memberships/destroy_many', {
    schema: {
      tags: membershipTags,
      summary: 'Delete up to 100 group memberships (a job)',
      querystring: Type.Object({ ids: Type.Optional(Type.String()) }, { additionalProperties: true }),
      response: JobResponse,
    },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.manageGroups(actor);
    authorize.bulk(actor);
    const ids = parseIdList(request.query.ids, 'ids');
    const row = await jobs.enqueue(request.ctx.account, actor, destroyManyGroupMemberships.type, ids);
    return { job_status: presentJobStatus(row, baseUrl(request)) };
  });
}

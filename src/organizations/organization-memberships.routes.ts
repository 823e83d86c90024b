import { sql } from 'kysely';
import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { App, Services } from '../app.ts';
import { errors } from '../http/errors.ts';
import { applyPage, cursorPage, envelope, offsetPage, parsePage } from '../http/pagination.ts';
import { parseIdList } from '../http/params.ts';
import { errorResponses, IdParams } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { JobStatusEnvelope } from '../jobs/job-statuses.schemas.ts';
import { presentJobStatus } from '../jobs/job-statuses.presenter.ts';
import { authorize, isStaff } from '../policy/policy.ts';
import { findUser } from '../users/users.repository.ts';
import { addMembership, makeMembershipDefault, removeMembership } from './organization-memberships.ts';
import { createManyMemberships, destroyManyMemberships } from './organizations.jobs.ts';
import { parseMembershipInput, type MembershipInput } from './organization-input.ts';
import { presentMembership } from './organizations.presenter.ts';
import {
  findMembership,
  findMembershipOf,
  findOrganization,
  membershipsOfUser,
  selectMemberships,
  type MembershipView,
} from './organizations.repository.ts';
import {
  MembershipBody,
  MembershipEnvelope,
  MembershipParams,
  MembershipsBody,
  MembershipsList,
  UserMembershipParams,
  UserOrganizationParams,
} from './organizations.schemas.ts';

const tags = ['Organization Memberships'];
const JobResponse = { 200: JobStatusEnvelope, ...errorResponses };
const MembershipsOnly = Type.Object({ organization_memberships: Type.Array(MembershipsList.properties.organization_memberships.items) });

export async function organizationMembershipsRoutes(app: App, { database, jobs }: Services): Promise<void> {
  const db = database.db;
  const present = (request: FastifyRequest) => {
    const base = baseUrl(request);
    return (row: MembershipView) => presentMembership(row, base);
  };

  /** The membership, 404 when it is not there or (under a user's path) not that user's. */
  const membershipOf = async (request: FastifyRequest, id: number, userId?: number): Promise<MembershipView> => {
    const membership = await findMembership(db, request.ctx.account.id, id);
    if (!membership || (userId !== undefined && membership.user_id !== userId)) throw errors.notFound();
    return membership;
  };

  const list = async (request: FastifyRequest, scope: { userId?: number; organizationId?: number }) => {
    const actor = requireUser(request);
    const accountId = request.ctx.account.id;
    const page = parsePage(request.query as Record<string, unknown>);
    // End users see only their own memberships, whatever the list.
    const userId = isStaff(actor) ? scope.userId : actor.id;
    let query = selectMemberships(db, accountId);
    if (userId !== undefined) query = query.where('m.user_id', '=', userId);
    if (scope.organizationId !== undefined) query = query.where('m.organization_id', '=', scope.organizationId);
    if (page.kind === 'cursor') {
      const rows = await applyPage(query, 'm.id', page).execute();
      return envelope('organization_memberships', cursorPage(request, rows, page, (row) => row.id), present(request));
    }
    // Zendesk lists a user's memberships default first, then by organization name.
    const ordered = scope.userId !== undefined || !isStaff(actor) ? query.orderBy('m.is_default', 'desc').orderBy(sql`lower(o.name)`) : query;
    const rows = await ordered.orderBy('m.id').offset((page.page - 1) * page.perPage).limit(page.perPage).execute();
    const count = await query.clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return envelope('organization_memberships', offsetPage(request, rows, page, Number(count.n)), present(request));
  };

  app.get('/api/v2/organization_memberships', {
    schema: { tags, summary: 'List memberships (an end user gets their own)', response: { 200: MembershipsList, ...errorResponses } },
  }, async (request) => list(request, {}));

  app.get('/api/v2/users/:user_id/organization_memberships', {
    schema: { tags, summary: "A user's memberships, the default first", params: IdParams('user_id'), response: { 200: MembershipsList, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const userId = request.params.user_id as number;
    if (!(await findUser(db, request.ctx.account.id, userId))) throw errors.notFound();
    authorize.viewMemberships(actor, userId);
    return list(request, { userId });
  });

  app.get('/api/v2/organizations/:organization_id/organization_memberships', {
    schema: { tags, summary: "An organization's memberships", params: IdParams('organization_id'), response: { 200: MembershipsList, ...errorResponses } },
  }, async (request) => {
    authorize.listOrganizations(requireUser(request));
    const organizationId = request.params.organization_id as number;
    if (!(await findOrganization(db, request.ctx.account.id, organizationId))) throw errors.notFound();
    return list(request, { organizationId });
  });

  app.get('/api/v2/organization_memberships/:organization_membership_id', {
    schema: { tags, summary: 'Show a membership', params: MembershipParams, response: { 200: MembershipEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const membership = await membershipOf(request, request.params.organization_membership_id as number);
    authorize.viewMemberships(actor, membership.user_id);
    return { organization_membership: present(request)(membership) };
  });

  app.get('/api/v2/users/:user_id/organization_memberships/:organization_membership_id', {
    schema: { tags, summary: "Show one of a user's memberships", params: UserMembershipParams, response: { 200: MembershipEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const { user_id: userId, organization_membership_id: id } = request.params as { user_id: number; organization_membership_id: number };
    authorize.viewMemberships(actor, userId);
    const membership = await membershipOf(request, id, userId);
    return { organization_membership: present(request)(membership) };
  });

  const create = async (request: FastifyRequest, item: MembershipInput) => {
    const actor = requireUser(request);
    const membership = await db.transaction().execute(async (tx) => {
      const id = await addMembership(tx, request.ctx.account, actor, { userId: item.user_id, organizationId: item.organization_id, makeDefault: item.default });
      return findMembership(tx, request.ctx.account.id, id);
    });
    if (!membership) throw errors.notFound();
    return membership;
  };

  app.post('/api/v2/organization_memberships', {
    schema: { tags, summary: 'Put a user into an organization', body: MembershipBody, response: { 201: MembershipEnvelope, ...errorResponses } },
  }, async (request, reply) => {
    const membership = await create(request, parseMembershipInput(request.body?.organization_membership));
    reply.code(201).header('Location', `${baseUrl(request)}/api/v2/organization_memberships/${membership.id}.json`);
    return { organization_membership: present(request)(membership) };
  });

  app.post('/api/v2/users/:user_id/organization_memberships', {
    schema: { tags, summary: 'Put this user into an organization', params: IdParams('user_id'), body: MembershipBody, response: { 201: MembershipEnvelope, ...errorResponses } },
  }, async (request, reply) => {
    const userId = request.params.user_id as number;
    if (!(await findUser(db, request.ctx.account.id, userId))) throw errors.notFound();
    const membership = await create(request, parseMembershipInput(request.body?.organization_membership, userId));
    reply.code(201).header('Location', `${baseUrl(request)}/api/v2/organization_memberships/${membership.id}.json`);
    return { organization_membership: present(request)(membership) };
  });

  app.post('/api/v2/organization_memberships/create_many', {
    schema: { tags, summary: 'Create up to 100 memberships (a job)', body: MembershipsBody, response: JobResponse },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.manageOrganizations(actor);
    authorize.bulk(actor);
    // Each item is validated by the job, so one malformed item fails alone, as in create_many for users.
    const row = await jobs.enqueue(request.ctx.account, actor, createManyMemberships.type, request.body.organization_memberships);
    return { job_status: presentJobStatus(row, baseUrl(request)) };
  });

  app.delete('/api/v2/organization_memberships/destroy_many', {
    schema: {
      tags,
      summary: 'Delete up to 100 memberships by ids (a job)',
      querystring: Type.Object({ ids: Type.Optional(Type.String()) }, { additionalProperties: true }),
      response: JobResponse,
    },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.manageOrganizations(actor);
    authorize.bulk(actor);
    const ids = parseIdList(request.query.ids, 'ids');
    const row = await jobs.enqueue(request.ctx.account, actor, destroyManyMemberships.type, ids);
    return { job_status: presentJobStatus(row, baseUrl(request)) };
  });

  const remove = async (request: FastifyRequest, id: number): Promise<void> => {
    const actor = requireUser(request);
    await db.transaction().execute((tx) => removeMembership(tx, request.ctx.account, actor, id));
  };

  app.delete('/api/v2/organization_memberships/:organization_membership_id', {
    schema: { tags, summary: 'Take a user out of an organization', params: MembershipParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const membership = await membershipOf(request, request.params.organization_membership_id as number);
    await remove(request, membership.id);
    return reply.code(204).send(null);
  });

  app.delete('/api/v2/users/:user_id/organization_memberships/:organization_membership_id', {
    schema: { tags, summary: 'Take this user out of an organization', params: UserMembershipParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const { user_id: userId, organization_membership_id: id } = request.params as { user_id: number; organization_membership_id: number };
    const membership = await membershipOf(request, id, userId);
    await remove(request, membership.id);
    return reply.code(204).send(null);
  });

  app.delete('/api/v2/users/:user_id/organizations/:organization_id', {
    schema: { tags, summary: 'Unassign a user from an organization', params: UserOrganizationParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const { user_id: userId, organization_id: organizationId } = request.params as { user_id: number; organization_id: number };
    const membership = await findMembershipOf(db, request.ctx.account.id, userId, organizationId);
    if (!membership) throw errors.notFound();
    await remove(request, membership.id);
    return reply.code(204).send(null);
  });

  app.put('/api/v2/users/:user_id/organization_memberships/:organization_membership_id/make_default', {
    schema: { tags, summary: "Make a membership the user's default; answers all of the user's memberships", params: UserMembershipParams, response: { 200: MembershipsOnly, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const { user_id: userId, organization_membership_id: id } = request.params as { user_id: number; organization_membership_id: number };
    const membership = await membershipOf(request, id, userId);
    const memberships = await db.transaction().execute(async (tx) => {
      await makeMembershipDefault(tx, request.ctx.account, actor, membership);
      return membershipsOfUser(tx, request.ctx.account.id, userId);
    });
    return { organization_memberships: memberships.map(present(request)) };
  });

  app.put('/api/v2/users/:user_id/organizations/:organization_id/make_default', {
    schema: { tags, summary: "Make an organization the user's default", params: UserOrganizationParams, response: { 200: MembershipEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const { user_id: userId, organization_id: organizationId } = request.params as { user_id: number; organization_id: number };
    const membership = await findMembershipOf(db, request.ctx.account.id, userId, organizationId);
    if (!membership) throw errors.notFound();
    const updated = await db.transaction().execute(async (tx) => {
      await makeMembershipDefault(tx, request.ctx.account, actor, membership);
      return findMembership(tx, request.ctx.account.id, membership.id);
    });
    if (!updated) throw errors.notFound();
    return { organization_membership: present(request)(updated) };
  });
}

import { sql } from 'kysely';
import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { App, Services } from '../app.ts';
import type { OrganizationRow } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import { applyPage, cursorPage, envelope, offsetPage, parsePage } from '../http/pagination.ts';
import { parseIdList, parseStringList, queryString } from '../http/params.ts';
import { errorResponses, IdParams, OffsetMeta } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { JobStatusEnvelope } from '../jobs/job-statuses.schemas.ts';
import { presentJobStatus } from '../jobs/job-statuses.presenter.ts';
import { authorize, isStaff } from '../policy/policy.ts';
import { foldedPrefix } from '../search/text-match.ts';
import { presentUser } from '../users/users.presenter.ts';
import { findUser, selectUsers, type UserView } from '../users/users.repository.ts';
import { UserResponse } from '../users/users.schemas.ts';
import { createOrUpdateOrganization } from './create-or-update-organization.ts';
import { createOrganization } from './create-organization.ts';
import { deleteOrganization } from './delete-organization.ts';
import { parseOrganizationInput } from './organization-input.ts';
import { presentOrganization } from './organizations.presenter.ts';
import {
  activeOrganizationFieldKeys,
  countMembers,
  findOrganization,
  findOrganizationsByExternalIds,
  findOrganizationsByIds,
  isMember,
  selectOrganizations,
} from './organizations.repository.ts';
import {
  CountResponse,
  IdsQuery,
  OrganizationBody,
  OrganizationEnvelope,
  OrganizationParams,
  OrganizationsBody,
  OrganizationsList,
  RelatedResponse,
} from './organizations.schemas.ts';
import {
  createManyOrganizations,
  destroyManyOrganizations,
  updateManyOrganizations,
  type OrganizationUpdateItem,
} from './organizations.jobs.ts';
import { updateOrganization } from './update-organization.ts';
import { organizationTicketCount } from '../tickets/tickets.repository.ts';

const tags = ['Organizations'];
const JobResponse = { 200: JobStatusEnvelope, ...errorResponses };
const UsersList = Type.Object({ users: Type.Array(UserResponse), ...OffsetMeta });
/** Zendesk: autocomplete needs at least two characters of the name. */
const AUTOCOMPLETE_MIN = 2;

export async function organizationsRoutes(app: App, { database, jobs }: Services): Promise<void> {
  const db = database.db;
  /** Presents rows with the account's active organization field keys, read once per request. */
  const presenter = async (request: FastifyRequest) => {
    const keys = await activeOrganizationFieldKeys(db, request.ctx.account.id);
    const base = baseUrl(request);
    return (row: OrganizationRow) => presentOrganization(row, base, keys);
  };
  const job = async (request: FastifyRequest, type: string, items: unknown[]) => {
    const actor = requireUser(request);
    const row = await jobs.enqueue(request.ctx.account, actor, type, items);
    return { job_status: presentJobStatus(row, baseUrl(request)) };
  };
  /** Ids from `ids=` or `external_ids=` (unknown external ids are skipped, as Zendesk does). */
  const idsFromQuery = async (request: FastifyRequest, query: { ids?: string; external_ids?: string }): Promise<number[]> => {
    if (query.ids !== undefined) return parseIdList(query.ids, 'ids');
    const externalIds = parseStringList(query.external_ids, 'ids or external_ids');
    return (await findOrganizationsByExternalIds(db, request.ctx.account.id, externalIds)).map((row) => row.id);
  };

  app.get('/api/v2/organizations', {
    schema: { tags, summary: 'List organizations', response: { 200: OrganizationsList, ...errorResponses } },
  }, async (request) => {
    authorize.listOrganizations(requireUser(request));
    const page = parsePage(request.query as Record<string, unknown>);
    const accountId = request.ctx.account.id;
    const rows = await applyPage(selectOrganizations(db, accountId), 'o.id', page).execute();
    const present = await presenter(request);
    if (page.kind === 'cursor') return envelope('organizations', cursorPage(request, rows, page, (row) => row.id), present);
    const count = await db
      .selectFrom('organizations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('account_id', '=', accountId)
      .executeTakeFirstOrThrow();
    return envelope('organizations', offsetPage(request, rows, page, Number(count.n)), present);
  });

  app.get('/api/v2/organizations/count', {
    schema: { tags, summary: 'Count organizations', response: { 200: CountResponse, ...errorResponses } },
  }, async (request) => {
    authorize.listOrganizations(requireUser(request));
    const count = await db
      .selectFrom('organizations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('account_id', '=', request.ctx.account.id)
      .executeTakeFirstOrThrow();
    return { count: { value: Number(count.n), refreshed_at: new Date().toISOString() } };
  });

  app.get('/api/v2/organizations/show_many', {
    schema: {
      tags,
      summary: 'Show many organizations (ids or external_ids, at most 100)',
      querystring: IdsQuery,
      response: { 200: Type.Object({ organizations: Type.Array(OrganizationEnvelope.properties.organization) }), ...errorResponses },
    },
  }, async (request) => {
    authorize.listOrganizations(requireUser(request));
    const accountId = request.ctx.account.id;
    const { ids, external_ids: externalIds } = request.query;
    const rows =
      ids !== undefined
        ? await findOrganizationsByIds(db, accountId, parseIdList(ids, 'ids'))
        : await findOrganizationsByExternalIds(db, accountId, parseStringList(externalIds, 'ids or external_ids'));
    return { organizations: rows.map(await presenter(request)) };
  });

  app.get('/api/v2/organizations/search', {
    schema: {
      tags,
      summary: 'Organizations whose name or external_id is exactly this (case-insensitive)',
      querystring: Type.Object({ name: Type.Optional(Type.String()), external_id: Type.Optional(Type.String()) }, { additionalProperties: true }),
      response: { 200: OrganizationsList, ...errorResponses },
    },
  }, async (request) => {
    authorize.listOrganizations(requireUser(request));
    const query = request.query as Record<string, unknown>;
    const name = queryString(query.name, 'name');
    const externalId = queryString(query.external_id, 'external_id');
    if (name !== undefined && externalId !== undefined) throw errors.badRequest('Search by name or by external_id, not both');
    if ((name ?? externalId ?? '').trim() === '') throw errors.missingParameter('name or external_id');
    const page = parsePage(query);
    if (page.kind === 'cursor') throw errors.pagination('Search results use offset pagination (page, per_page)');
    const column = name !== undefined ? sql.ref('o.name') : sql.ref('o.external_id');
    // Exact and case-insensitive, lower() on both sides as the unique indexes compare.
    const filtered = selectOrganizations(db, request.ctx.account.id).where(sql<boolean>`lower(${column}) = lower(${(name ?? externalId ?? '').trim()})`);
    const rows = await applyPage(filtered, 'o.id', page).execute();
    const count = await filtered.clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return envelope('organizations', offsetPage(request, rows, page, Number(count.n)), await presenter(request));
  });

  app.get('/api/v2/organizations/autocomplete', {
    schema: {
      tags,
      summary: 'Organizations whose name starts with `name` (at least 2 characters; case- and accent-insensitive)',
      querystring: Type.Object({ name: Type.Optional(Type.String()) }, { additionalProperties: true }),
      response: { 200: OrganizationsList, ...errorResponses },
    },
  }, async (request) => {
    authorize.listOrganizations(requireUser(request));
    const query = request.query as Record<string, unknown>;
    const name = queryString(query.name, 'name')?.trim();
    if (name === undefined || name === '') throw errors.missingParameter('name');
    if ([...name].length < AUTOCOMPLETE_MIN) throw errors.badRequest(`name must be at least ${AUTOCOMPLETE_MIN} characters`);
    const page = parsePage(query);
    if (page.kind === 'cursor') throw errors.pagination('Autocomplete uses offset pagination (page, per_page)');
    // The search module's folding (lower + unaccent, trigram-indexed), as users/autocomplete does.
    const filtered = selectOrganizations(db, request.ctx.account.id).where(foldedPrefix('o.name', name));
    const offset = (page.page - 1) * page.perPage;
    const rows = await filtered.orderBy('o.name').orderBy('o.id').offset(offset).limit(page.perPage).execute();
    const count = await filtered.clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return envelope('organizations', offsetPage(request, rows, page, Number(count.n)), await presenter(request));
  });

  app.get('/api/v2/organizations/:organization_id', {
    schema: { tags, summary: 'Show an organization', params: OrganizationParams, response: { 200: OrganizationEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const accountId = request.ctx.account.id;
    const row = await findOrganization(db, accountId, request.params.organization_id as number);
    if (!row) throw errors.notFound();
    // Membership matters only for end users; staff see every organization.
    authorize.viewOrganization(actor, !isStaff(actor) && (await isMember(db, accountId, actor.id, row.id)));
    return { organization: (await presenter(request))(row) };
  });

  app.get('/api/v2/organizations/:organization_id/related', {
    schema: { tags, summary: "An organization's user and ticket counts", params: OrganizationParams, response: { 200: RelatedResponse, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.listOrganizations(actor);
    const accountId = request.ctx.account.id;
    const row = await findOrganization(db, accountId, request.params.organization_id as number);
    if (!row) throw errors.notFound();
    // Tickets counted through the caller's ticket scope, as every ticket list is.
    const ticketsCount = await organizationTicketCount(db, accountId, actor, row.id);
    return { organization_related: { tickets_count: ticketsCount, users_count: await countMembers(db, accountId, row.id) } };
  });

  app.get('/api/v2/organizations/:organization_id/users', {
    schema: { tags, summary: 'Users who belong to an organization', params: OrganizationParams, response: { 200: UsersList, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.listOrganizations(actor);
    // A list of users, so also the user-list permission (end_user_list_access).
    authorize.listUsers(actor);
    const accountId = request.ctx.account.id;
    const organizationId = request.params.organization_id as number;
    if (!(await findOrganization(db, accountId, organizationId))) throw errors.notFound();
    const page = parsePage(request.query as Record<string, unknown>);
    const members = db
      .selectFrom('organization_memberships as m')
      .select('m.user_id')
      .where('m.account_id', '=', accountId)
      .where('m.organization_id', '=', organizationId);
    const rows = (await applyPage(selectUsers(db, accountId).where('u.id', 'in', members), 'u.id', page).execute()) as UserView[];
    const present = (user: UserView) => presentUser(user, baseUrl(request), actor);
    if (page.kind === 'cursor') return envelope('users', cursorPage(request, rows, page, (user) => user.id), present);
    return envelope('users', offsetPage(request, rows, page, await countMembers(db, accountId, organizationId)), present);
  });

  app.get('/api/v2/users/:user_id/organizations', {
    schema: { tags, summary: 'Organizations a user belongs to', params: IdParams('user_id'), response: { 200: OrganizationsList, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const accountId = request.ctx.account.id;
    const userId = request.params.user_id as number;
    const user = await findUser(db, accountId, userId);
    if (!user) throw errors.notFound();
    authorize.viewMemberships(actor, user.id);
    const page = parsePage(request.query as Record<string, unknown>);
    const filtered = selectOrganizations(db, accountId).where((eb) =>
      eb('o.id', 'in', eb.selectFrom('organization_memberships as m').select('m.organization_id').where('m.account_id', '=', accountId).where('m.user_id', '=', userId)),
    );
    const rows = await applyPage(filtered, 'o.id', page).execute();
    const present = await presenter(request);
    if (page.kind === 'cursor') return envelope('organizations', cursorPage(request, rows, page, (row) => row.id), present);
    const count = await filtered.clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return envelope('organizations', offsetPage(request, rows, page, Number(count.n)), present);
  });

  app.post('/api/v2/organizations', {
    schema: { tags, summary: 'Create an organization', body: OrganizationBody, response: { 201: OrganizationEnvelope, ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorize.manageOrganizations(actor);
    const input = parseOrganizationInput(request.body?.organization, 'create');
    const row = await db.transaction().execute((tx) => createOrganization(tx, request.ctx.account, actor, input));
    reply.code(201).header('Location', `${baseUrl(request)}/api/v2/organizations/${row.id}.json`);
    return { organization: (await presenter(request))(row) };
  });

  app.post('/api/v2/organizations/create_or_update', {
    schema: {
      tags,
      summary: 'Update the organization with this id or external_id, else create one',
      body: OrganizationBody,
      response: { 200: OrganizationEnvelope, 201: OrganizationEnvelope, ...errorResponses },
    },
  }, async (request, reply) => {
    const actor = requireUser(request);
    const raw = request.body?.organization;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw errors.missingParameter('organization');
    const { row, created } = await db.transaction().execute((tx) => createOrUpdateOrganization(tx, request.ctx.account, actor, raw));
    if (created) reply.code(201).header('Location', `${baseUrl(request)}/api/v2/organizations/${row.id}.json`);
    return { organization: (await presenter(request))(row) };
  });

  app.post('/api/v2/organizations/create_many', {
    schema: { tags, summary: 'Create up to 100 organizations (a job)', body: OrganizationsBody, response: JobResponse },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.manageOrganizations(actor);
    authorize.bulk(actor);
    return job(request, createManyOrganizations.type, request.body.organizations);
  });

  app.put('/api/v2/organizations/update_many', {
    schema: {
      tags,
      summary: 'Update many organizations: one change to ids/external_ids, or a list of organizations with their ids (a job)',
      querystring: IdsQuery,
      body: Type.Object({}, { additionalProperties: true }),
      response: JobResponse,
    },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.bulk(actor);
    const body = (request.body ?? {}) as Record<string, unknown>;
    let items: OrganizationUpdateItem[];
    if (request.query.ids !== undefined || request.query.external_ids !== undefined) {
      if (body.organization === null || typeof body.organization !== 'object' || Array.isArray(body.organization)) {
        throw errors.missingParameter('organization');
      }
      // Refuse a malformed change (or one this caller may not make) up front rather than once per organization.
      authorize.updateOrganization(actor, parseOrganizationInput(body.organization, 'update').fields);
      items = (await idsFromQuery(request, request.query)).map((id) => ({ id, organization: body.organization }));
    } else if (Array.isArray(body.organizations)) {
      if (body.organizations.length > 100) throw errors.badRequest('organizations takes at most 100 organizations');
      items = [];
      for (const entry of body.organizations as unknown[]) {
        if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw errors.badRequest('Every organization in organizations must be an object');
        const { id, external_id: externalId, ...changes } = entry as Record<string, unknown>;
        let organizationId = typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : undefined;
        if (organizationId === undefined && (typeof externalId === 'string' || typeof externalId === 'number')) {
          organizationId = (await findOrganizationsByExternalIds(db, request.ctx.account.id, [String(externalId)]))[0]?.id;
        }
        if (organizationId === undefined) throw errors.badRequest('Every organization in organizations needs an id or a known external_id');
        items.push({ id: organizationId, organization: changes });
      }
    } else {
      throw errors.missingParameter('ids, external_ids or organizations');
    }
    return job(request, updateManyOrganizations.type, items);
  });

  app.delete('/api/v2/organizations/destroy_many', {
    schema: { tags, summary: 'Delete up to 100 organizations by ids or external_ids (a job)', querystring: IdsQuery, response: JobResponse },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.manageOrganizations(actor);
    authorize.bulk(actor);
    return job(request, destroyManyOrganizations.type, await idsFromQuery(request, request.query));
  });

  app.put('/api/v2/organizations/:organization_id', {
    schema: { tags, summary: 'Update an organization', params: OrganizationParams, body: OrganizationBody, response: { 200: OrganizationEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const input = parseOrganizationInput(request.body?.organization, 'update');
    const id = request.params.organization_id as number;
    const row = await db.transaction().execute((tx) => updateOrganization(tx, request.ctx.account, actor, id, input));
    return { organization: (await presenter(request))(row) };
  });

  app.delete('/api/v2/organizations/:organization_id', {
    schema: { tags, summary: 'Delete an organization and its memberships', params: OrganizationParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    const id = request.params.organization_id as number;
    await db.transaction().execute((tx) => deleteOrganization(tx, request.ctx.account, actor, id));
    return reply.code(204).send(null);
  });
}

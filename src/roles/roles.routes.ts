import { Type } from 'typebox';
import type { App, Services } from '../app.ts';
import { errors } from '../http/errors.ts';
import { errorResponses, IdParams } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { authorize } from '../policy/policy.ts';
import { createCustomRole, deleteCustomRole, updateCustomRole } from './manage-custom-roles.ts';
import { presentCustomRole } from './roles.presenter.ts';
import { findCustomRole, listCustomRoles } from './roles.repository.ts';
import { CustomRoleBody, CustomRoleEnvelope, CustomRolesEnvelope, OwnerBody, OwnerResponse } from './roles.schemas.ts';
import { transferOwnership } from './transfer-ownership.ts';

const tags = ['Custom Roles'];
const Params = IdParams('custom_role_id');

export async function rolesRoutes(app: App, { database }: Services): Promise<void> {
  const db = database.db;

  app.get('/api/v2/custom_roles', {
    schema: { tags, summary: 'List custom roles (agents and admins)', response: { 200: CustomRolesEnvelope, ...errorResponses } },
  }, async (request) => {
    authorize.viewCustomRoles(requireUser(request));
    const roles = await listCustomRoles(db, request.ctx.account.id);
    return { custom_roles: roles.map((role) => presentCustomRole(role, baseUrl(request))) };
  });

  app.get('/api/v2/custom_roles/:custom_role_id', {
    schema: { tags, summary: 'Show a custom role (agents and admins)', params: Params, response: { 200: CustomRoleEnvelope, ...errorResponses } },
  }, async (request) => {
    authorize.viewCustomRoles(requireUser(request));
    const role = await findCustomRole(db, request.ctx.account.id, request.params.custom_role_id as number);
    if (!role) throw errors.notFound();
    return { custom_role: presentCustomRole(role, baseUrl(request)) };
  });

  // Zendesk answers a custom role creation with 200 (the reference), not 201.
  app.post('/api/v2/custom_roles', {
    schema: { tags, summary: 'Create a custom role (admins)', body: CustomRoleBody, response: { 200: CustomRoleEnvelope, ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorize.manageCustomRoles(actor);
    const role = await db.transaction().execute(async (tx) => {
      const id = await createCustomRole(tx, request.ctx.account, actor, request.body?.custom_role);
      return findCustomRole(tx, request.ctx.account.id, id);
    });
    if (!role) throw errors.notFound();
    reply.header('Location', `${baseUrl(request)}/api/v2/custom_roles/${role.id}.json`);
    return { custom_role: presentCustomRole(role, baseUrl(request)) };
  });

  app.put('/api/v2/custom_roles/:custom_role_id', {
    schema: { tags, summary: 'Update a custom role (admins); its agents\' permissions change at once', params: Params, body: CustomRoleBody, response: { 200: CustomRoleEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.manageCustomRoles(actor);
    const id = request.params.custom_role_id as number;
    const role = await db.transaction().execute(async (tx) => {
      await updateCustomRole(tx, request.ctx.account, actor, id, request.body?.custom_role);
      return findCustomRole(tx, request.ctx.account.id, id);
    });
    if (!role) throw errors.notFound();
    return { custom_role: presentCustomRole(role, baseUrl(request)) };
  });

  app.delete('/api/v2/custom_roles/:custom_role_id', {
    schema: { tags, summary: 'Delete a custom role no user holds (admins)', params: Params, response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorize.manageCustomRoles(actor);
    await db.transaction().execute((tx) => deleteCustomRole(tx, request.ctx.account, actor, request.params.custom_role_id as number));
    return reply.code(204).send(null);
  });

  app.put('/api/v2/account/owner', {
    schema: { tags: ['Account Settings'], summary: 'Transfer the account ownership to another admin (the owner only)', body: OwnerBody, response: { 200: OwnerResponse, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.transferOwnership(actor);
    const owner = request.body?.owner;
    if (owner === null || typeof owner !== 'object') throw errors.missingParameter('owner');
    const result = await db.transaction().execute((tx) => transferOwnership(tx, request.ctx.account, actor, owner.user_id));
    return { owner: { user_id: result.userId, previous_owner_id: result.previousOwnerId } };
  });
}

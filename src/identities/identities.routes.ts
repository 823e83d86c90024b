import { Type } from 'typebox';
import type { App, Services } from '../app.ts';
import type { IdentityType } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import { envelope, offsetPage, parsePage, cursorPage, applyPage } from '../http/pagination.ts';
import { errorResponses, IdParams, OffsetMeta } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { authorize } from '../policy/policy.ts';
import { findUser } from '../users/users.repository.ts';
import { identityTypes } from '../db/tables.ts';
import { presentIdentity } from './identities.presenter.ts';
import { Identity } from './identities.schemas.ts';
import { findIdentity, listIdentities } from './identities.repository.ts';
import {
  addIdentity,
  deleteIdentity,
  makeIdentityPrimary,
  requestVerification,
  updateIdentity,
  verifyIdentity,
} from './manage-identities.ts';
import { sendVerificationMail } from '../mail/verification.ts';

const IdentityEnvelope = Type.Object({ identity: Identity });
const IdentitiesEnvelope = Type.Object({ identities: Type.Array(Identity), ...OffsetMeta });
const IdentityBody = Type.Object({ identity: Type.Object({}, { additionalProperties: true }) }, { additionalProperties: true });
const UserParams = IdParams('user_id');
const Params = Type.Object({
  user_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  user_identity_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
});
const tags = ['User Identities'];

export async function identitiesRoutes(app: App, { database, mail }: Services): Promise<void> {
  const db = database.db;
  const base = '/api/v2/users/:user_id/identities';

  app.get(base, {
    schema: { tags, summary: 'List a user\'s identities', params: UserParams, querystring: Type.Object({}, { additionalProperties: true }), response: { 200: IdentitiesEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const userId = request.params.user_id as number;
    const user = await findUser(db, request.ctx.account.id, userId);
    if (!user) throw errors.notFound();
    authorize.viewUser(actor, user);
    const query = request.query as Record<string, unknown>;
    const rawTypes = query['type[]'] ?? query.type;
    const types = (rawTypes === undefined ? [] : Array.isArray(rawTypes) ? rawTypes : [rawTypes]) as unknown[];
    if (!types.every((type) => (identityTypes as readonly unknown[]).includes(type))) {
      throw errors.badRequest(`type must be one of ${identityTypes.join(', ')}`);
    }
    const page = parsePage(query);
    const present = (row: Parameters<typeof presentIdentity>[0]) => presentIdentity(row, baseUrl(request));
    if (page.kind === 'cursor') {
      let query = db.selectFrom('user_identities').selectAll().where('account_id', '=', request.ctx.account.id).where('user_id', '=', userId);
      if (types.length > 0) query = query.where('type', 'in', types as IdentityType[]);
      const rows = await applyPage(query, 'id', page).execute();
      return envelope('identities', cursorPage(request, rows, page, (row) => row.id), present);
    }
    // A user has a handful of identities: Zendesk's order (primary first) over the whole list, then the page.
    const all = await listIdentities(db, request.ctx.account.id, userId, types as IdentityType[]);
    const rows = all.slice((page.page - 1) * page.perPage, page.page * page.perPage);
    return envelope('identities', offsetPage(request, rows, page, all.length), present);
  });

  app.get(`${base}/:user_identity_id`, {
    schema: { tags, summary: 'Show an identity', params: Params, response: { 200: IdentityEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const { user_id: userId, user_identity_id: id } = request.params as { user_id: number; user_identity_id: number };
    const user = await findUser(db, request.ctx.account.id, userId);
    if (!user) throw errors.notFound();
    authorize.viewUser(actor, user);
    const identity = await findIdentity(db, request.ctx.account.id, userId, id);
    if (!identity) throw errors.notFound();
    return { identity: presentIdentity(identity, baseUrl(request)) };
  });

  app.post(base, {
    schema: { tags, summary: 'Add an identity', params: UserParams, body: IdentityBody, response: { 201: IdentityEnvelope, ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    const userId = request.params.user_id as number;
    const identity = await db.transaction().execute((tx) => addIdentity(tx, request.ctx.account, actor, userId, request.body?.identity));
    reply.code(201).header('Location', `${baseUrl(request)}/api/v2/users/${userId}/identities/${identity.id}.json`);
    return { identity: presentIdentity(identity, baseUrl(request)) };
  });

  app.put(`${base}/:user_identity_id`, {
    schema: { tags, summary: 'Update an identity (value, verified)', params: Params, body: IdentityBody, response: { 200: IdentityEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const { user_id: userId, user_identity_id: id } = request.params as { user_id: number; user_identity_id: number };
    const identity = await db.transaction().execute((tx) => updateIdentity(tx, request.ctx.account, actor, userId, id, request.body?.identity));
    return { identity: presentIdentity(identity, baseUrl(request)) };
  });

  app.delete(`${base}/:user_identity_id`, {
    schema: { tags, summary: 'Delete an identity', params: Params, response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    const { user_id: userId, user_identity_id: id } = request.params as { user_id: number; user_identity_id: number };
    await db.transaction().execute((tx) => deleteIdentity(tx, request.ctx.account, actor, userId, id));
    return reply.code(204).send(null);
  });

  app.put(`${base}/:user_identity_id/make_primary`, {
    schema: { tags, summary: 'Make an identity the primary one of its type', params: Params, response: { 200: IdentitiesEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const { user_id: userId, user_identity_id: id } = request.params as { user_id: number; user_identity_id: number };
    const identities = await db.transaction().execute(async (tx) => {
      await makeIdentityPrimary(tx, request.ctx.account, actor, userId, id);
      return listIdentities(tx, request.ctx.account.id, userId);
    });
    return { identities: identities.map((row) => presentIdentity(row, baseUrl(request))) };
  });

  app.put(`${base}/:user_identity_id/verify`, {
    schema: { tags, summary: 'Mark an identity verified', params: Params, response: { 200: IdentityEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const { user_id: userId, user_identity_id: id } = request.params as { user_id: number; user_identity_id: number };
    const identity = await db.transaction().execute((tx) => verifyIdentity(tx, request.ctx.account, actor, userId, id));
    return { identity: presentIdentity(identity, baseUrl(request)) };
  });

  app.put(`${base}/:user_identity_id/request_verification`, {
    schema: { tags, summary: 'Send a verification email to an email identity', params: Params, response: { 200: Type.Null({ description: 'Empty response' }), ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    const { user_id: userId, user_identity_id: id } = request.params as { user_id: number; user_identity_id: number };
    await db.transaction().execute(async (tx) => {
      await requestVerification(tx, request.ctx.account, actor, userId, id);
      await sendVerificationMail(tx, mail, request.ctx.account, userId, id);
    });
    return reply.code(200).send(null);
  });
}

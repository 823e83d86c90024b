import { Type } from 'typebox';
import type { App, Services } from '../app.ts';
import { audit } from '../audit/audit.ts';
import { errors } from '../http/errors.ts';
import { DateTime, errorResponses, Id, IdParams, Nullable } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { authorize } from '../policy/policy.ts';
import { hashToken, newToken, tokenHint } from './secrets.ts';

const SCOPES = ['read', 'write'];
const tags = ['OAuth'];

const Client = Type.Object({
  id: Id,
  url: Type.String(),
  name: Type.String(),
  identifier: Type.String(),
  secret: Type.Optional(Type.String({ description: 'Returned once, when the client is created' })),
  user_id: Nullable(Type.Integer()),
  created_at: DateTime,
  updated_at: DateTime,
});
const Token = Type.Object({
  id: Id,
  url: Type.String(),
  user_id: Id,
  client_id: Id,
  token: Type.String(),
  full_token: Type.Optional(Type.String({ description: 'Returned once, when the token is created' })),
  scopes: Type.Array(Type.String()),
  created_at: DateTime,
  expires_at: Nullable(DateTime),
});

export async function oauthRoutes(app: App, { database }: Services): Promise<void> {
  const db = database.db;

  app.get('/api/v2/oauth/clients', {
    schema: { tags, summary: 'List OAuth clients (admins)', response: { 200: Type.Object({ clients: Type.Array(Client) }), ...errorResponses } },
  }, async (request) => {
    authorize.admin(requireUser(request));
    const rows = await db.selectFrom('oauth_clients').selectAll().where('account_id', '=', request.ctx.account.id).orderBy('id').execute();
    return {
      clients: rows.map((row) => ({
        id: row.id,
        url: `${baseUrl(request)}/api/v2/oauth/clients/${row.id}.json`,
        name: row.name,
        identifier: row.identifier,
        user_id: row.user_id,
        created_at: row.created_at.toISOString(),
        updated_at: row.updated_at.toISOString(),
      })),
    };
  });

  app.post('/api/v2/oauth/clients', {
    schema: {
      tags,
      summary: 'Register an OAuth client (admins); the secret is shown once',
      body: Type.Object({ client: Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }), identifier: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,100}$' }) }, { additionalProperties: true }) }, { additionalProperties: true }),
      response: { 201: Type.Object({ client: Client }), ...errorResponses },
    },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorize.admin(actor);
    const { name, identifier } = request.body.client;
    const secret = newToken();
    const row = await db.transaction().execute(async (tx) => {
      const taken = await tx.selectFrom('oauth_clients').select('id').where('account_id', '=', request.ctx.account.id).where('identifier', '=', identifier).executeTakeFirst();
      if (taken) throw errors.field('identifier', 'DuplicateValue', 'Identifier has already been taken');
      const inserted = await tx
        .insertInto('oauth_clients')
        .values({ account_id: request.ctx.account.id, name: name.trim(), identifier, secret_hash: hashToken(secret), user_id: actor.id })
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(tx, { accountId: request.ctx.account.id, actorId: actor.id, action: 'oauth_client.create', targetType: 'oauth_client', targetId: inserted.id, changedFields: ['name', 'identifier'] });
      return inserted;
    });
    reply.code(201).header('Location', `${baseUrl(request)}/api/v2/oauth/clients/${row.id}.json`);
    return {
      client: {
        id: row.id,
        url: `${baseUrl(request)}/api/v2/oauth/clients/${row.id}.json`,
        name: row.name,
        identifier: row.identifier,
        secret,
        user_id: row.user_id,
        created_at: row.created_at.toISOString(),
        updated_at: row.updated_at.toISOString(),
      },
    };
  });

  app.delete('/api/v2/oauth/clients/:oauth_client_id', {
    schema: { tags, summary: 'Delete an OAuth client and revoke its tokens (admins)', params: IdParams('oauth_client_id'), response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorize.admin(actor);
    const id = (request.params as { oauth_client_id: number }).oauth_client_id;
    const deleted = await db.transaction().execute(async (tx) => {
      const row = await tx.deleteFrom('oauth_clients').where('account_id', '=', request.ctx.account.id).where('id', '=', id).returning('id').executeTakeFirst();
      if (row) await audit(tx, { accountId: request.ctx.account.id, actorId: actor.id, action: 'oauth_client.delete', targetType: 'oauth_client', targetId: id });
      return row;
    });
    if (!deleted) throw errors.notFound();
    return reply.code(204).send(null);
  });

  app.post('/api/v2/oauth/tokens', {
    schema: {
      tags,
      summary: 'Issue an OAuth access token for the calling admin, with scopes read and/or write',
      body: Type.Object(
        { token: Type.Object({ client_id: Type.Integer({ minimum: 1 }), scopes: Type.Array(Type.String(), { minItems: 1, maxItems: 10 }) }, { additionalProperties: true }) },
        { additionalProperties: true },
      ),
      response: { 201: Type.Object({ token: Token }), ...errorResponses },
    },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorize.admin(actor);
    const { client_id: clientId, scopes } = request.body.token;
    if (!scopes.every((scope) => SCOPES.includes(scope))) throw errors.field('scopes', 'InvalidValue', 'Scopes must be read and/or write');
    const token = newToken();
    const row = await db.transaction().execute(async (tx) => {
      const client = await tx.selectFrom('oauth_clients').select('id').where('account_id', '=', request.ctx.account.id).where('id', '=', clientId).executeTakeFirst();
      if (!client) throw errors.field('client_id', 'InvalidValue', 'There is no OAuth client with this id');
      const inserted = await tx
        .insertInto('oauth_tokens')
        .values({ account_id: request.ctx.account.id, client_id: clientId, user_id: actor.id, token_hash: hashToken(token), token_hint: tokenHint(token), scopes: [...new Set(scopes)] })
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(tx, { accountId: request.ctx.account.id, actorId: actor.id, action: 'oauth_token.create', targetType: 'oauth_token', targetId: inserted.id, changedFields: ['scopes'] });
      return inserted;
    });
    reply.code(201).header('Location', `${baseUrl(request)}/api/v2/oauth/tokens/${row.id}.json`);
    return {
      token: {
        id: row.id,
        url: `${baseUrl(request)}/api/v2/oauth/tokens/${row.id}.json`,
        user_id: row.user_id,
        client_id: row.client_id,
        token: row.token_hint,
        full_token: token,
        scopes: row.scopes,
        created_at: row.created_at.toISOString(),
        expires_at: row.expires_at?.toISOString() ?? null,
      },
    };
  });

  app.delete('/api/v2/oauth/tokens/:oauth_token_id', {
    schema: { tags, summary: 'Revoke an OAuth token (admins, or its own user)', params: IdParams('oauth_token_id'), response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    const id = (request.params as { oauth_token_id: number }).oauth_token_id;
    const deleted = await db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('oauth_tokens').select(['id', 'user_id']).where('account_id', '=', request.ctx.account.id).where('id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      if (row.user_id !== actor.id) authorize.admin(actor);
      await tx.deleteFrom('oauth_tokens').where('account_id', '=', request.ctx.account.id).where('id', '=', id).execute();
      await audit(tx, { accountId: request.ctx.account.id, actorId: actor.id, action: 'oauth_token.delete', targetType: 'oauth_token', targetId: id });
      return row;
    });
    if (!deleted) throw errors.notFound();
    return reply.code(204).send(null);
  });
}

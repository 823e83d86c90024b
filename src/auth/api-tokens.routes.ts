import { Type, type Static } from 'typebox';
import type { App, Services } from '../app.ts';
import type { Selectable } from 'kysely';
import type { ApiTokensTable } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import { DateTime, errorResponses, Id, IdParams, Nullable } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { authorize } from '../policy/policy.ts';
import { issueApiToken, revokeApiToken } from './api-tokens.ts';

const ApiToken = Type.Object({
  id: Id,
  url: Type.String(),
  token: Type.String({ description: 'The first characters only' }),
  full_token: Type.Optional(Type.String({ description: 'Returned once, when the token is created' })),
  description: Nullable(Type.String()),
  active: Type.Boolean(),
  created_at: DateTime,
  updated_at: DateTime,
});
const tags = ['API Tokens'];

function present(row: Selectable<ApiTokensTable>, base: string): Static<typeof ApiToken> {
  return {
    id: row.id,
    url: `${base}/api/v2/api_tokens/${row.id}.json`,
    token: row.token_hint,
    description: row.description,
    active: row.active,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export async function apiTokensRoutes(app: App, { database }: Services): Promise<void> {
  const db = database.db;

  app.get('/api/v2/api_tokens', {
    schema: { tags, summary: 'List API tokens (admins)', response: { 200: Type.Object({ api_tokens: Type.Array(ApiToken) }), ...errorResponses } },
  }, async (request) => {
    authorize.admin(requireUser(request));
    const rows = await db.selectFrom('api_tokens').selectAll().where('account_id', '=', request.ctx.account.id).orderBy('id').execute();
    return { api_tokens: rows.map((row) => present(row, baseUrl(request))) };
  });

  app.post('/api/v2/api_tokens', {
    schema: {
      tags,
      summary: 'Create an API token (admins); the full token is shown once',
      body: Type.Object({ api_token: Type.Optional(Type.Object({ description: Type.Optional(Nullable(Type.String({ maxLength: 255 }))) }, { additionalProperties: true })) }, { additionalProperties: true }),
      response: { 201: Type.Object({ api_token: ApiToken }), ...errorResponses },
    },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorize.admin(actor);
    const description = request.body?.api_token?.description ?? null;
    const issued = await issueApiToken(db, request.ctx.account.id, actor.id, description);
    const row = await db.selectFrom('api_tokens').selectAll().where('account_id', '=', request.ctx.account.id).where('id', '=', issued.id).executeTakeFirstOrThrow();
    reply.code(201).header('Location', `${baseUrl(request)}/api/v2/api_tokens/${issued.id}.json`);
    return { api_token: { ...present(row, baseUrl(request)), full_token: issued.token } };
  });

  app.delete('/api/v2/api_tokens/:api_token_id', {
    schema: { tags, summary: 'Revoke an API token (admins)', params: IdParams('api_token_id'), response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorize.admin(actor);
    const id = (request.params as { api_token_id: number }).api_token_id;
    if (!(await revokeApiToken(db, request.ctx.account.id, actor.id, id))) throw errors.notFound();
    return reply.code(204).send(null);
  });
}

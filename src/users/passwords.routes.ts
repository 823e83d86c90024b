import { Type } from 'typebox';
import type { App, Services } from '../app.ts';
import { audit } from '../audit/audit.ts';
import { hashPassword, verifyPassword } from '../auth/secrets.ts';
import { errors } from '../http/errors.ts';
import { errorResponses, IdParams } from '../http/schemas.ts';
import { requireUser } from '../http/urls.ts';
import { authorize } from '../policy/policy.ts';
import { findUser, type Executor } from './users.repository.ts';

export const PASSWORD_REQUIREMENTS = [
  'must be at least 8 characters',
  'must be at most 128 characters',
  'must be different from the email address',
];

/** Checks a new password against the requirements above; descriptions never echo it. */
export function checkPassword(password: unknown, email: string | null): string {
  if (typeof password !== 'string' || password.length === 0) throw errors.field('password', 'BlankValue', 'Password: cannot be blank');
  if (password.length < 8) throw errors.field('password', 'InvalidValue', 'Password must be at least 8 characters');
  if (password.length > 128) throw errors.field('password', 'InvalidValue', 'Password must be at most 128 characters');
  if (email && password.toLowerCase() === email.toLowerCase()) {
    throw errors.field('password', 'InvalidValue', 'Password must be different from the email address');
  }
  return password;
}

async function storePassword(tx: Executor, accountId: number, actorId: number, userId: number, password: string): Promise<void> {
  await tx
    .updateTable('users')
    .set({ password_hash: await hashPassword(password), updated_at: new Date() })
    .where('account_id', '=', accountId)
    .where('id', '=', userId)
    .execute();
  await audit(tx, { accountId, actorId, action: 'user.password_change', targetType: 'user', targetId: userId, changedFields: ['password'] });
}

const tags = ['Users'];
const Params = IdParams('user_id');
const Body = Type.Object(
  { password: Type.Optional(Type.String({ maxLength: 1024 })), previous_password: Type.Optional(Type.String({ maxLength: 1024 })) },
  { additionalProperties: true },
);

export async function passwordsRoutes(app: App, { database }: Services): Promise<void> {
  const db = database.db;

  app.post('/api/v2/users/:user_id/password', {
    schema: { tags, summary: 'Set a user\'s password (admins; an admin\'s only by the owner)', params: Params, body: Body, response: { 200: Type.Null({ description: 'Empty response' }), ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    const target = await findUser(db, request.ctx.account.id, request.params.user_id as number);
    if (!target) throw errors.notFound();
    authorize.setPassword(actor, target);
    const password = checkPassword(request.body?.password, target.email);
    await db.transaction().execute((tx) => storePassword(tx, request.ctx.account.id, actor.id, target.id, password));
    return reply.code(200).send(null);
  });

  app.put('/api/v2/users/:user_id/password', {
    schema: { tags, summary: 'Change your own password', params: Params, body: Body, response: { 200: Type.Null({ description: 'Empty response' }), ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    const target = await findUser(db, request.ctx.account.id, request.params.user_id as number);
    if (!target) throw errors.notFound();
    authorize.changeOwnPassword(actor, target);
    if (!(await verifyPassword(request.body?.previous_password ?? '', target.password_hash))) {
      throw errors.field('previous_password', 'InvalidValue', 'Previous password is not correct');
    }
    const password = checkPassword(request.body?.password, target.email);
    await db.transaction().execute((tx) => storePassword(tx, request.ctx.account.id, actor.id, target.id, password));
    return reply.code(200).send(null);
  });

  app.get('/api/v2/users/:user_id/password/requirements', {
    schema: { tags, summary: 'Password requirements', params: Params, response: { 200: Type.Object({ requirements: Type.Array(Type.String()) }), ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const target = await findUser(db, request.ctx.account.id, request.params.user_id as number);
    if (!target) throw errors.notFound();
    authorize.viewUser(actor, target);
    return { requirements: PASSWORD_REQUIREMENTS };
  });
}

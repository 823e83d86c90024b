import { Type } from 'typebox';
import type { App, Services } from '../app.ts';
import { effectiveSettings } from '../accounts/account-settings.routes.ts';
import { audit } from '../audit/audit.ts';
import { hashPassword } from '../auth/secrets.ts';
import type { Account, UserTokenPurpose } from '../db/tables.ts';
import { AppError, errors } from '../http/errors.ts';
import { ErrorBody, errorResponses } from '../http/schemas.ts';
import { normalizeIdentity } from '../identities/identity-values.ts';
import { mayNotify } from '../lifecycle/suspend-user.ts';
import { checkPassword } from '../users/passwords.routes.ts';
import { createUser } from '../users/create-user.ts';
import { parseUserInput } from '../users/user-input.ts';
import { findUser, type Executor } from '../users/users.repository.ts';
import { enqueueMail, type Mail } from './outbox.ts';
import { consumeToken, retireTokens, TOKEN_PURPOSES } from './tokens.ts';
import { sendVerificationMail } from './verification.ts';

const tags = ['Mail'];
/** Sign-up and reset requests answer the same whatever the address: nobody learns who has an account here. */
const ACCEPTED = {
  status: 'accepted',
  description: 'If this address can receive mail from us, a message with a link is on its way to it.',
};
const Accepted = Type.Object({ status: Type.String(), description: Type.String() });
const TokenResult = Type.Object({
  token: Type.Object({
    purpose: Type.String({ enum: [...TOKEN_PURPOSES] }),
    user_id: Type.Integer(),
    identity_verified: Type.Boolean({ description: 'The address the link was sent to is now verified' }),
    password_set: Type.Boolean(),
  }),
});

function emailKey(raw: unknown): string {
  const normalized = normalizeIdentity('email', raw);
  if (!normalized.ok) throw errors.field('email', normalized.error, normalized.description);
  return normalized.key;
}

async function findEmailIdentity(db: Executor, accountId: number, key: string) {
  return db
    .selectFrom('user_identities as i')
    .innerJoin('users as u', (join) => join.onRef('u.account_id', '=', 'i.account_id').onRef('u.id', '=', 'i.user_id'))
    .select(['i.id', 'i.user_id', 'u.role'])
    .where('i.account_id', '=', accountId)
    .where('i.type', '=', 'email')
    .where('i.value_key', '=', key)
    .orderBy('i.id')
    .executeTakeFirst();
}

/** A reset link for the holder of this address, if any (and, for end users, only with a Help Center to open it in). */
async function requestPasswordReset(tx: Executor, mail: Mail, account: Account, key: string): Promise<void> {
  const identity = await findEmailIdentity(tx, account.id, key);
  if (!identity) return;
  if (identity.role === 'end-user' && !effectiveSettings(account.settings).help_center_enabled) return;
  await enqueueMail(tx, mail, { account, userId: identity.user_id, identityId: identity.id, template: 'password_reset' });
}

/**
 * Self sign-up: a new end user with an unverified address, and a verification mail. An address
 * already in use gets a password reset mail instead — the answer is the same either way.
 */
async function signUp(tx: Executor, mail: Mail, account: Account, user: { name: string; email: string; locale?: string | undefined }): Promise<void> {
  const key = emailKey(user.email);
  if (await findEmailIdentity(tx, account.id, key)) return requestPasswordReset(tx, mail, account, key);
  const input = parseUserInput({ name: user.name, email: user.email, ...(user.locale === undefined ? {} : { locale: user.locale }) }, 'create');
  input.verified = false;
  const id = await createUser(tx, account, null, input);
  const identity = await findEmailIdentity(tx, account.id, key);
  if (identity) await sendVerificationMail(tx, mail, account, id, identity.id);
}

/** What a link does once its token checks out (the token is already marked used in this transaction). */
async function useToken(tx: Executor, account: Account, purpose: UserTokenPurpose, token: string, password: string | undefined): Promise<{ user_id: number; identity_verified: boolean; password_set: boolean }> {
  const now = new Date();
  const consumed = await consumeToken(tx, account.id, purpose, token, now);
  const user = await findUser(tx, account.id, consumed.user_id);
  // A user suspended or deleted since the mail was written cannot use it.
  if (!user || !mayNotify(user)) throw new AppError('InvalidToken', 404, 'This link is not valid');
  const wantsPassword = purpose !== 'verify_identity' || (password !== undefined && user.password_hash === null);
  if (purpose !== 'verify_identity' && password === undefined) throw errors.field('password', 'BlankValue', 'Password: cannot be blank');
  if (wantsPassword) {
    const checked = checkPassword(password, user.email);
    await tx.updateTable('users').set({ password_hash: await hashPassword(checked), updated_at: now }).where('account_id', '=', account.id).where('id', '=', user.id).execute();
    await audit(tx, { accountId: account.id, actorId: user.id, action: 'user.password_change', targetType: 'user', targetId: user.id, changedFields: ['password'] });
  }
  // Opening the link proves the address is theirs: a welcome or reset link verifies it as well.
  let verified = false;
  if (consumed.identity_id !== null) {
    const updated = await tx
      .updateTable('user_identities')
      .set({ verified: true, verified_at: now, updated_at: now })
      .where('account_id', '=', account.id)
      .where('id', '=', consumed.identity_id)
      .where('user_id', '=', user.id)
      .where('verified', '=', false)
      .executeTakeFirst();
    verified = true;
    if (Number(updated.numUpdatedRows) > 0) {
      await audit(tx, { accountId: account.id, actorId: user.id, action: 'identity.verify', targetType: 'user_identity', targetId: consumed.identity_id, changedFields: ['verified'] });
    }
  }
  await retireTokens(tx, account.id, user.id, purpose, now);
  return { user_id: user.id, identity_verified: verified, password_set: wantsPassword };
}

/**
 * The anonymous side of mail (README "Mail"): self sign-up, password reset requests, and the
 * endpoint the links' Help Center pages call with the token in the BODY (never in a URL, which
 * would end up in access logs).
 */
export async function accountMailRoutes(app: App, { database, mail }: Services): Promise<void> {
  const db = database.db;

  app.post('/api/v2/users/signup', {
    config: { auth: 'optional' },
    schema: {
      tags,
      summary: 'Self sign-up (Help Center on): creates an end user with an unverified address and sends a verification mail; the answer never says whether the address was known',
      security: [],
      body: Type.Object(
        {
          user: Type.Object(
            { name: Type.String({ minLength: 1, maxLength: 255 }), email: Type.String({ maxLength: 320 }), locale: Type.Optional(Type.String({ maxLength: 20 })) },
            { additionalProperties: false },
          ),
        },
        { additionalProperties: false },
      ),
      response: { 202: Accepted, ...errorResponses },
    },
  }, async (request, reply) => {
    const account = request.ctx.account;
    if (!effectiveSettings(account.settings).help_center_enabled) throw errors.forbidden('Sign-up is not available: this account has no Help Center');
    try {
      await db.transaction().execute((tx) => signUp(tx, mail, account, request.body.user));
    } catch (error) {
      // A concurrent sign-up with the same address: the same answer as any known address.
      if (!(error instanceof AppError && error.details?.email?.some((entry) => entry.error === 'DuplicateValue'))) throw error;
    }
    return reply.code(202).send(ACCEPTED);
  });

  app.post('/api/v2/users/password_reset', {
    config: { auth: 'optional' },
    schema: {
      tags,
      summary: 'Ask for a password reset mail; the answer is the same whether or not the address belongs to a user',
      security: [],
      body: Type.Object({ email: Type.String({ maxLength: 320 }) }, { additionalProperties: false }),
      response: { 202: Accepted, ...errorResponses },
    },
  }, async (request, reply) => {
    const account = request.ctx.account;
    const key = emailKey(request.body.email);
    await db.transaction().execute((tx) => requestPasswordReset(tx, mail, account, key));
    return reply.code(202).send(ACCEPTED);
  });

  app.post('/api/v2/users/tokens/:purpose', {
    config: { auth: 'optional' },
    schema: {
      tags,
      summary: 'Use a one-time link from a mail: set_password (welcome), verify_identity, reset_password. The token goes in the body',
      security: [],
      params: Type.Object({ purpose: Type.String({ enum: [...TOKEN_PURPOSES] }) }, { additionalProperties: false }),
      body: Type.Object(
        {
          token: Type.String({ minLength: 1, maxLength: 200 }),
          password: Type.Optional(Type.String({ maxLength: 1024, description: 'Required for set_password and reset_password; optional for verify_identity (a user without a password sets one)' })),
        },
        { additionalProperties: false },
      ),
      response: { 200: TokenResult, ...errorResponses, 410: ErrorBody },
    },
  }, async (request) => {
    const purpose = request.params.purpose as UserTokenPurpose;
    const result = await db.transaction().execute((tx) => useToken(tx, request.ctx.account, purpose, request.body.token, request.body.password));
    return { token: { purpose, ...result } };
  });
}

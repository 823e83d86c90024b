import type { Db } from '../db/database.ts';
import { audit } from '../audit/audit.ts';
import { hashToken, newToken, tokenHint } from './secrets.ts';

export interface IssuedToken {
  id: number;
  token: string;
}

/** Creates an API token; the clear token exists only in the return value, never at rest. */
export async function issueApiToken(db: Db, accountId: number, actorId: number | null, description: string | null): Promise<IssuedToken> {
  const token = newToken();
  const row = await db.transaction().execute(async (tx) => {
    const inserted = await tx
      .insertInto('api_tokens')
      .values({ account_id: accountId, description, token_hash: hashToken(token), token_hint: tokenHint(token), created_by: actorId })
      .returning('id')
      .executeTakeFirstOrThrow();
    await audit(tx, { accountId, actorId, action: 'api_token.create', targetType: 'api_token', targetId: inserted.id, changedFields: ['description'] });
    return inserted;
  });
  return { id: row.id, token };
}

/** Deletes an API token (audited, which also drops cached authentications everywhere); false when there is none. */
export async function revokeApiToken(db: Db, accountId: number, actorId: number | null, id: number): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const row = await tx.deleteFrom('api_tokens').where('account_id', '=', accountId).where('id', '=', id).returning('id').executeTakeFirst();
    if (row) await audit(tx, { accountId, actorId, action: 'api_token.delete', targetType: 'api_token', targetId: id });
    return row !== undefined;
  });
}

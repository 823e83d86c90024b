import crypto from 'node:crypto';
import { Type } from 'typebox';
import type { App, Services } from '../app.ts';
import { audit } from '../audit/audit.ts';
import { errors } from '../http/errors.ts';
import { errorResponses } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { isAdmin, isStaff, type Actor } from '../policy/policy.ts';
import { presentAttachment } from './tickets.presenter.ts';
import { UPLOAD_TTL_MS } from './expire-uploads.ts';
import { findAttachment } from './tickets.repository.ts';
import { AttachmentEnvelope, AttachmentParams, UploadEnvelope, UploadQuery, UploadTokenParams } from './tickets.schemas.ts';

const tags = ['Attachments'];
/** Zendesk's upload limit. */
const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

/** The file name as stored: no path, no control characters, bounded. */
export function cleanFileName(raw: string): string {
  const base = raw.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 255);
  return clean === '' || clean === '.' || clean === '..' ? 'file' : clean;
}

export function contentTypeOf(header: string | undefined): string {
  const type = (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  // node-zendesk and curl send application/binary for "some file": keep what Zendesk shows then.
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(type) ? type : 'application/octet-stream';
}

/**
 * Uploads (POST /api/v2/uploads?filename=…, raw bytes) and attachment reads. The bytes go to
 * the storage backend (src/tickets/storage.ts), the row keeps only metadata and a random storage
 * key; a comment attaches the upload by its token. Registered in a scope of its own so that
 * only these routes take raw bodies of any content type.
 */
export async function uploadsRoutes(app: App, { database, storage }: Services): Promise<void> {
  const db = database.db;

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_UPLOAD_BYTES }, (_request, body, done) => done(null, body));

    scope.post('/api/v2/uploads', {
      bodyLimit: MAX_UPLOAD_BYTES,
      schema: {
        tags,
        summary: 'Upload a file (the raw request body) to attach to a comment by its token',
        querystring: UploadQuery,
        response: { 201: UploadEnvelope, ...errorResponses },
      },
    }, async (request, reply) => {
      const actor = requireUser(request);
      const query = request.query as { filename: string; token?: string };
      if (query.token !== undefined) throw errors.badRequest('Adding files to an existing upload token is not supported; upload each file on its own token');
      const bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const key = await storage.put(bytes);
      const token = crypto.randomBytes(18).toString('base64url');
      const row = await db
        .transaction()
        .execute(async (tx) => {
          const inserted = await tx
            .insertInto('ticket_attachments')
            .values({
              account_id: request.ctx.account.id,
              token,
              uploader_id: actor.id,
              file_name: cleanFileName(query.filename),
              content_type: contentTypeOf(request.headers['content-type']),
              size: bytes.length,
              storage_key: key,
            })
            .returningAll()
            .executeTakeFirstOrThrow();
          await audit(tx, { accountId: request.ctx.account.id, actorId: actor.id, action: 'upload.create', targetType: 'attachment', targetId: inserted.id });
          return inserted;
        })
        .catch(async (error: unknown) => {
          // Nothing refers to the bytes if the row was not written.
          await storage.delete(key);
          throw error;
        });
      const attachment = presentAttachment(row, baseUrl(request));
      reply.code(201);
      return { upload: { token, expires_at: new Date(row.created_at.getTime() + UPLOAD_TTL_MS).toISOString(), attachment, attachments: [attachment] } };
    });
  });

  app.delete('/api/v2/uploads/:token', {
    schema: { tags, summary: 'Delete an upload not yet attached to a comment (its uploader, or an admin)', params: UploadTokenParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    const accountId = request.ctx.account.id;
    await db.transaction().execute(async (tx) => {
      const row = await tx
        .selectFrom('ticket_attachments')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('token', '=', request.params.token)
        .where('comment_id', 'is', null)
        .where('suspended_ticket_id', 'is', null)
        .forUpdate()
        .executeTakeFirst();
      if (!row || (row.uploader_id !== actor.id && !isAdmin(actor))) throw errors.notFound();
      // Bytes first, with the row locked: a failure after this leaves a row without bytes (removed
      // by the expiry sweep), never bytes without a row.
      await storage.delete(row.storage_key);
      await tx.deleteFrom('ticket_attachments').where('account_id', '=', accountId).where('id', '=', row.id).execute();
      await audit(tx, { accountId, actorId: actor.id, action: 'upload.delete', targetType: 'attachment', targetId: row.id });
    });
    return reply.code(204).send(null);
  });

  /** An attachment is readable by whoever may read its comment; an unattached upload by its uploader. */
  const readable = async (accountId: number, id: number, actor: Actor & { ticket_restriction?: string | null }) => {
    const row = await findAttachment(db, accountId, id, actor);
    if (!row) throw errors.notFound();
    const mayRead = row.ticket_id === null
      ? row.uploader_id === actor.id || isAdmin(actor)
      : row.ticket_visible === true && (isStaff(actor) || row.comment_public === true);
    if (!mayRead) throw errors.notFound();
    return row;
  };

  app.get('/api/v2/attachments/:attachment_id', {
    schema: { tags, summary: 'Show an attachment', params: AttachmentParams, response: { 200: AttachmentEnvelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    const row = await readable(request.ctx.account.id, request.params.attachment_id as number, actor);
    return { attachment: presentAttachment(row, baseUrl(request)) };
  });

  app.get('/api/v2/attachments/:attachment_id/content', {
    schema: {
      tags,
      summary: "Download an attachment's file",
      params: AttachmentParams,
      response: { 200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'The file' }), ...errorResponses },
    },
  }, async (request, reply) => {
    const actor = requireUser(request);
    const row = await readable(request.ctx.account.id, request.params.attachment_id as number, actor);
    const bytes = await storage.get(row.storage_key);
    if (!bytes) throw errors.notFound();
    // Served as a download, never rendered inline: an uploaded HTML file must not run in our origin.
    return reply
      .header('content-type', row.content_type)
      .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(row.file_name)}`)
      .header('x-content-type-options', 'nosniff')
      .send(bytes);
  });
}

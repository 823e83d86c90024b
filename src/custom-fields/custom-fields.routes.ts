import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { App, Services } from '../app.ts';
import type { CustomFieldOwner } from '../db/tables.ts';
import { errors } from '../http/errors.ts';
import { errorResponses, IdParams } from '../http/schemas.ts';
import { baseUrl, requireUser } from '../http/urls.ts';
import { authorize } from '../policy/policy.ts';
import { findField, listFields } from './custom-fields.repository.ts';
import { presentField, presentOption } from './custom-fields.presenter.ts';
import { fieldBody, fieldEnvelope, fieldsEnvelope, OptionBody, OptionEnvelope, OptionsEnvelope, reorderBody } from './custom-fields.schemas.ts';
import { createField, deleteField, deleteOption, reorderFields, updateField, upsertOption } from './manage-custom-fields.ts';
import { fieldsAttribute } from './validate-field-values.ts';

const EmptyResponse = Type.Null({ description: 'Empty response' });

/**
 * `/api/v2/user_fields` and `/api/v2/organization_fields`: the same API over one definition
 * table. Reading the definitions is for staff; changing them needs manage_user_fields or
 * manage_organization_fields (admins always). A field count stays small (Zendesk caps it), so
 * lists come whole, in position order, with the offset envelope.
 */
function fieldRoutes(app: App, { database }: Services, owner: CustomFieldOwner): void {
  const db = database.db;
  const plural = fieldsAttribute(owner);
  const singular = owner === 'user' ? 'user_field' : 'organization_field';
  const idParam = `${singular}_id`;
  const base = `/api/v2/${plural}`;
  const tags = [owner === 'user' ? 'User Fields' : 'Organization Fields'];
  const Params = IdParams(idParam);
  const Envelope = fieldEnvelope(singular);
  const fieldId = (request: FastifyRequest): number => (request.params as Record<string, number>)[idParam] as number;
  const show = async (request: FastifyRequest, id: number) => {
    const field = await findField(db, request.ctx.account.id, owner, id);
    if (!field) throw errors.notFound();
    return { [singular]: presentField(field, baseUrl(request)) };
  };

  app.get(base, {
    schema: { tags, summary: `List ${owner} fields in their order`, response: { 200: fieldsEnvelope(plural), ...errorResponses } },
  }, async (request) => {
    authorize.viewCustomFields(requireUser(request));
    const fields = await listFields(db, request.ctx.account.id, owner);
    return { [plural]: fields.map((field) => presentField(field, baseUrl(request))), count: fields.length, next_page: null, previous_page: null };
  });

  app.get(`${base}/:${idParam}`, {
    schema: { tags, summary: `Show a ${owner} field`, params: Params, response: { 200: Envelope, ...errorResponses } },
  }, async (request) => {
    authorize.viewCustomFields(requireUser(request));
    return show(request, fieldId(request));
  });

  app.post(base, {
    schema: { tags, summary: `Create a ${owner} field (text, textarea, checkbox, date, integer, decimal, dropdown, regexp)`, body: fieldBody(singular), response: { 201: Envelope, ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorize.manageCustomFields(actor, owner);
    const raw = (request.body as Record<string, unknown> | undefined)?.[singular];
    const id = await db.transaction().execute((tx) => createField(tx, request.ctx.account, actor, owner, raw));
    reply.code(201).header('Location', `${baseUrl(request)}${base}/${id}.json`);
    return show(request, id);
  });

  app.put(`${base}/reorder`, {
    schema: { tags, summary: `Reorder ${owner} fields`, body: reorderBody(`${singular}_ids`), response: { 200: EmptyResponse, ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorize.manageCustomFields(actor, owner);
    const ids = (request.body as Record<string, number[]>)[`${singular}_ids`] ?? [];
    await db.transaction().execute((tx) => reorderFields(tx, request.ctx.account, actor, owner, ids));
    return reply.code(200).send(null);
  });

  app.put(`${base}/:${idParam}`, {
    schema: { tags, summary: `Update a ${owner} field (a dropdown's options are replaced as sent)`, params: Params, body: fieldBody(singular), response: { 200: Envelope, ...errorResponses } },
  }, async (request) => {
    const actor = requireUser(request);
    authorize.manageCustomFields(actor, owner);
    const id = fieldId(request);
    const raw = (request.body as Record<string, unknown> | undefined)?.[singular];
    await db.transaction().execute((tx) => updateField(tx, request.ctx.account, actor, owner, id, raw));
    return show(request, id);
  });

  app.delete(`${base}/:${idParam}`, {
    schema: { tags, summary: `Delete a ${owner} field and its values`, params: Params, response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorize.manageCustomFields(actor, owner);
    await db.transaction().execute((tx) => deleteField(tx, request.ctx.account, actor, owner, fieldId(request)));
    return reply.code(204).send(null);
  });

  if (owner !== 'user') return;

  // Zendesk's option sub-API exists for user fields only.
  const OptionParams = Type.Object({
    [idParam]: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    option_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  });
  const optionId = (request: FastifyRequest): number => (request.params as Record<string, number>).option_id as number;

  app.get(`${base}/:${idParam}/options`, {
    schema: { tags, summary: 'List a dropdown user field\'s options', params: Params, response: { 200: OptionsEnvelope, ...errorResponses } },
  }, async (request) => {
    authorize.viewCustomFields(requireUser(request));
    const field = await findField(db, request.ctx.account.id, owner, fieldId(request));
    if (!field) throw errors.notFound();
    const fieldUrl = `${baseUrl(request)}${base}/${field.id}`;
    return { custom_field_options: field.options.map((option) => presentOption(option, fieldUrl)), count: field.options.length, next_page: null, previous_page: null };
  });

  app.get(`${base}/:${idParam}/options/:option_id`, {
    schema: { tags, summary: 'Show a user field option', params: OptionParams, response: { 200: OptionEnvelope, ...errorResponses } },
  }, async (request) => {
    authorize.viewCustomFields(requireUser(request));
    const field = await findField(db, request.ctx.account.id, owner, fieldId(request));
    const option = field?.options.find((candidate) => candidate.id === optionId(request));
    if (!field || !option) throw errors.notFound();
    return { custom_field_option: presentOption(option, `${baseUrl(request)}${base}/${field.id}`) };
  });

  app.post(`${base}/:${idParam}/options`, {
    schema: { tags, summary: 'Create an option, or update the one with this id (201 created, 200 updated)', params: Params, body: OptionBody, response: { 200: OptionEnvelope, 201: OptionEnvelope, ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorize.manageCustomFields(actor, owner);
    const id = fieldId(request);
    const { id: saved, created } = await db.transaction().execute((tx) => upsertOption(tx, request.ctx.account, actor, owner, id, request.body?.custom_field_option));
    const field = await findField(db, request.ctx.account.id, owner, id);
    const option = field?.options.find((candidate) => candidate.id === saved);
    if (!field || !option) throw errors.notFound();
    reply.code(created ? 201 : 200).header('Location', `${baseUrl(request)}${base}/${id}/options.json`);
    return { custom_field_option: presentOption(option, `${baseUrl(request)}${base}/${id}`) };
  });

  app.delete(`${base}/:${idParam}/options/:option_id`, {
    schema: { tags, summary: 'Delete a user field option (its value is removed from users)', params: OptionParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    const actor = requireUser(request);
    authorize.manageCustomFields(actor, owner);
    await db.transaction().execute((tx) => deleteOption(tx, request.ctx.account, actor, owner, fieldId(request), optionId(request)));
    return reply.code(204).send(null);
  });
}

export async function customFieldsRoutes(app: App, services: Services): Promise<void> {
  fieldRoutes(app, services, 'user');
  fieldRoutes(app, services, 'organization');
}

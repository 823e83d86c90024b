import { ticketPriorities, ticketStatuses, ticketTypes, type TicketPriority, type TicketStatus, type TicketType } from '../db/tables.ts';
import { errors, type ErrorDetails } from '../http/errors.ts';
import { nameValue } from '../http/input-values.ts';
import { normalizeIdentity } from '../identities/identity-values.ts';
import { normalizeTags } from '../users/profile-values.ts';

/** A person named in a ticket: an existing user by id, or an address (a user is found or created). */
export type PersonRef = { id: number } | { email: string; emailKey: string; name: string | undefined };

export interface CommentInput {
  body: string | undefined;
  htmlBody: string | undefined;
  public: boolean | undefined;
  authorId: number | undefined;
  uploads: string[];
}

/** CCs or followers: replaced as a whole (`*_ids`), or added to and removed from. */
export interface PeopleChange {
  set?: PersonRef[];
  add: PersonRef[];
  remove: PersonRef[];
}

export interface TicketInput {
  subject?: string;
  comment?: CommentInput;
  requester?: PersonRef;
  submitterId?: number;
  assignee?: { id: number } | { emailKey: string } | null;
  groupId?: number | null;
  organizationId?: number | null;
  status?: TicketStatus;
  priority?: TicketPriority | null;
  type?: TicketType | null;
  tags?: string[];
  addTags: string[];
  removeTags: string[];
  externalId?: string | null;
  dueAt?: Date | null;
  recipient?: string | null;
  emailCcs: PeopleChange;
  followers: PeopleChange;
  /** Field names the caller sent that Roster acts on (audit: names, never values). */
  fields: string[];
}

const TEXT_LIMIT = 65_535;
const SUBJECT_LIMIT = 255;
const MAX_PEOPLE = 48; // Zendesk's limit of CCs on a ticket
const MAX_UPLOADS = 50;

type Raw = Record<string, unknown>;
const isObject = (value: unknown): value is Raw => value !== null && typeof value === 'object' && !Array.isArray(value);

function positiveId(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^\d{1,15}$/.test(value.trim()) ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) && number > 0 ? number : undefined;
}

/**
 * Validates a ticket (or request) object from the API into what the domain functions take.
 * Collects every problem before failing with one 422; descriptions never echo the values.
 * `mode` decides which write-once fields are accepted (requester objects and `collaborators`
 * on create, additions and removals on update), as in Zendesk.
 */
export function parseTicketInput(raw: unknown, mode: 'create' | 'update', root = 'ticket'): TicketInput {
  if (!isObject(raw)) throw errors.missingParameter(root);
  const input = raw;
  const details: ErrorDetails = {};
  const fail = (field: string, error: string, description: string): void => {
    (details[field] ??= []).push({ error, description });
  };
  const has = (key: string): boolean => Object.hasOwn(input, key) && input[key] !== undefined;
  const result: TicketInput = { addTags: [], removeTags: [], emailCcs: { add: [], remove: [] }, followers: { add: [], remove: [] }, fields: [] };
  const take = (key: string): unknown => {
    result.fields.push(key);
    return input[key];
  };

  const person = (value: unknown, field: string, allowNew: boolean): PersonRef | undefined => {
    const id = positiveId(value);
    if (id !== undefined) return { id };
    if (typeof value === 'string' || (isObject(value) && ('email' in value || 'user_email' in value))) {
      if (!allowNew && typeof value !== 'string') return fail(field, 'InvalidValue', 'must be a user id'), undefined;
      const email = typeof value === 'string' ? value : (value.email ?? value.user_email);
      const normalized = normalizeIdentity('email', email);
      if (!normalized.ok) return fail(field, normalized.error, `Email: ${normalized.description.replace(/^Email:? ?/i, '')}`), undefined;
      let name: string | undefined;
      if (isObject(value) && (value.name ?? value.user_name) !== undefined && (value.name ?? value.user_name) !== null) {
        const checked = nameValue(value.name ?? value.user_name);
        if (typeof checked === 'string') name = checked;
        else return fail(field, checked.error, checked.description), undefined;
      }
      return { email: normalized.value, emailKey: normalized.key, name };
    }
    if (isObject(value) && ('id' in value || 'user_id' in value)) {
      const objectId = positiveId(value.id ?? value.user_id);
      if (objectId !== undefined) return { id: objectId };
    }
    fail(field, 'InvalidValue', 'must be a user id, an email address or {name, email}');
    return undefined;
  };
  const people = (key: string, allowNew: boolean): PersonRef[] | undefined => {
    const value = take(key);
    if (!Array.isArray(value)) return fail(key, 'InvalidValue', 'must be a list'), undefined;
    if (value.length > MAX_PEOPLE) return fail(key, 'InvalidValue', `takes at most ${MAX_PEOPLE} people`), undefined;
    const list: PersonRef[] = [];
    for (const item of value) {
      const ref = person(item, key, allowNew);
      if (ref) list.push(ref);
    }
    return list;
  };
  /** Zendesk's `email_ccs` / `followers`: [{user_id | user_email, user_name, action: put|delete}]. */
  const actions = (key: string, change: PeopleChange): void => {
    const value = take(key);
    if (!Array.isArray(value) || value.length > MAX_PEOPLE) return fail(key, 'InvalidValue', `must be a list of at most ${MAX_PEOPLE} entries`);
    for (const item of value) {
      if (!isObject(item)) {
        fail(key, 'InvalidValue', 'entries must be objects with user_id or user_email');
        continue;
      }
      const action = item.action ?? 'put';
      if (action !== 'put' && action !== 'delete') {
        fail(key, 'InvalidValue', 'action must be put or delete');
        continue;
      }
      const ref = person(item, key, action === 'put');
      if (ref) (action === 'put' ? change.add : change.remove).push(ref);
    }
  };
  const enumValue = <T extends string>(key: string, values: readonly T[], nullable: boolean): T | null | undefined => {
    const value = take(key);
    if (value === null || value === '') {
      if (nullable) return null;
      fail(key, 'BlankValue', `${key} cannot be blank`);
      return undefined;
    }
    const text = typeof value === 'string' ? value.trim().toLowerCase() : value;
    if (values.includes(text as T)) return text as T;
    fail(key, 'InvalidValue', `${key} must be one of ${values.join(', ')}`);
    return undefined;
  };
  const optionalId = (key: string): number | null | undefined => {
    const value = take(key);
    if (value === null) return null;
    const id = positiveId(value);
    if (id === undefined) fail(key, 'InvalidValue', `${key} must be an id`);
    return id;
  };

  if (has('subject')) {
    const value = take('subject');
    if (value === null) result.subject = '';
    else if (typeof value !== 'string' && typeof value !== 'number') fail('subject', 'InvalidValue', 'Subject is invalid');
    else if (String(value).length > SUBJECT_LIMIT) fail('subject', 'InvalidValue', `Subject is too long (maximum is ${SUBJECT_LIMIT} characters)`);
    else result.subject = String(value).trim();
  }

  if (has('comment')) {
    const value = take('comment');
    const comment = typeof value === 'string' ? { body: value } : value;
    if (!isObject(comment)) fail('comment', 'InvalidValue', 'Comment must be an object with body or html_body');
    else {
      const text = (key: 'body' | 'html_body'): string | undefined => {
        const v = comment[key];
        if (v === undefined || v === null) return undefined;
        if (typeof v !== 'string' && typeof v !== 'number') return fail(`comment.${key}`, 'InvalidValue', 'must be text'), undefined;
        if (String(v).length > TEXT_LIMIT) return fail(`comment.${key}`, 'InvalidValue', `is too long (maximum is ${TEXT_LIMIT} characters)`), undefined;
        return String(v);
      };
      const body = text('body');
      const htmlBody = text('html_body');
      let isPublic: boolean | undefined;
      if (comment.public !== undefined && comment.public !== null) {
        if (typeof comment.public === 'boolean') isPublic = comment.public;
        else if (comment.public === 'true' || comment.public === 'false') isPublic = comment.public === 'true';
        else fail('comment.public', 'InvalidValue', 'must be true or false');
      }
      let authorId: number | undefined;
      if (comment.author_id !== undefined && comment.author_id !== null) {
        authorId = positiveId(comment.author_id);
        if (authorId === undefined) fail('comment.author_id', 'InvalidValue', 'must be a user id');
      }
      const uploads: string[] = [];
      if (comment.uploads !== undefined && comment.uploads !== null) {
        const list = typeof comment.uploads === 'string' ? [comment.uploads] : comment.uploads;
        if (!Array.isArray(list) || list.length > MAX_UPLOADS || !list.every((token) => typeof token === 'string' && token.length > 0 && token.length <= 100)) {
          fail('comment.uploads', 'InvalidValue', `must be a list of at most ${MAX_UPLOADS} upload tokens`);
        } else uploads.push(...new Set(list as string[]));
      }
      if ((body ?? '').trim() === '' && (htmlBody ?? '').trim() === '' && uploads.length === 0) {
        fail('comment.body', 'BlankValue', 'Comment: cannot be blank');
      }
      result.comment = { body, htmlBody, public: isPublic, authorId, uploads };
    }
  }

  if (has('requester_id')) {
    const id = positiveId(take('requester_id'));
    if (id === undefined) fail('requester_id', 'InvalidValue', 'requester_id must be a user id');
    else result.requester = { id };
  } else if (has('requester')) {
    if (mode === 'update' && !isObject(input.requester)) result.requester = person(take('requester'), 'requester', false);
    else result.requester = person(take('requester'), 'requester', true);
  }
  if (has('submitter_id')) {
    const id = positiveId(take('submitter_id'));
    if (id === undefined) fail('submitter_id', 'InvalidValue', 'submitter_id must be a user id');
    else result.submitterId = id;
  }
  if (has('assignee_id')) {
    const id = optionalId('assignee_id');
    if (id !== undefined) result.assignee = id === null ? null : { id };
  } else if (has('assignee_email')) {
    const value = take('assignee_email');
    if (value === null) result.assignee = null;
    else {
      const normalized = normalizeIdentity('email', value);
      if (normalized.ok) result.assignee = { emailKey: normalized.key };
      else fail('assignee_email', normalized.error, 'Assignee email is invalid');
    }
  }
  if (has('group_id')) {
    const id = optionalId('group_id');
    if (id !== undefined) result.groupId = id;
  }
  if (has('organization_id')) {
    const id = optionalId('organization_id');
    if (id !== undefined) result.organizationId = id;
  }
  if (has('status')) {
    const status = enumValue('status', ticketStatuses, false);
    if (status) result.status = status;
  }
  if (has('priority')) {
    const priority = enumValue('priority', ticketPriorities, true);
    if (priority !== undefined) result.priority = priority;
  }
  if (has('type')) {
    const type = enumValue('type', ticketTypes, true);
    if (type !== undefined) result.type = type;
  }
  const tagList = (key: string): string[] | undefined => {
    const value = take(key);
    const tags = value === null ? [] : normalizeTags(value);
    if (!tags) fail(key, 'InvalidValue', 'Tags must be a list of words');
    return tags;
  };
  if (has('tags')) result.tags = tagList('tags');
  if (mode === 'update' && has('additional_tags')) result.addTags = tagList('additional_tags') ?? [];
  if (mode === 'update' && has('remove_tags')) result.removeTags = tagList('remove_tags') ?? [];
  if (has('external_id')) {
    const value = take('external_id');
    if (value === null || value === '') result.externalId = null;
    else if ((typeof value !== 'string' && typeof value !== 'number') || String(value).length > 255) fail('external_id', 'InvalidValue', 'External id is invalid');
    else result.externalId = String(value).trim();
  }
  if (has('due_at')) {
    const value = take('due_at');
    const date = typeof value === 'string' ? new Date(value) : undefined;
    if (value === null) result.dueAt = null;
    else if (!date || Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1970 || date.getUTCFullYear() > 9999) fail('due_at', 'InvalidValue', 'Due date must be an ISO 8601 date');
    else result.dueAt = date;
  }
  if (mode === 'create' && has('recipient')) {
    const value = take('recipient');
    if (value === null) result.recipient = null;
    else {
      const normalized = normalizeIdentity('email', value);
      if (normalized.ok) result.recipient = normalized.value;
      else fail('recipient', normalized.error, 'Recipient must be an email address');
    }
  }

  // CCs: `collaborator_ids` / `email_cc_ids` replace the list; `collaborators` (create) and
  // `additional_collaborators` (update) add to it, and may name new people by address.
  for (const key of ['email_cc_ids', 'collaborator_ids']) {
    if (has(key)) {
      const list = people(key, false);
      if (list) result.emailCcs.set = [...(result.emailCcs.set ?? []), ...list];
    }
  }
  if (has('collaborators')) result.emailCcs.add.push(...(people('collaborators', true) ?? []));
  if (has('additional_collaborators')) result.emailCcs.add.push(...(people('additional_collaborators', true) ?? []));
  if (has('email_ccs')) actions('email_ccs', result.emailCcs);
  if (has('follower_ids')) result.followers.set = people('follower_ids', false) ?? [];
  if (has('followers')) actions('followers', result.followers);

  if (Object.keys(details).length > 0) throw errors.invalid(details);
  return result;
}

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyRedactMarkup, redactHtml, redactPlain } from '../../src/tickets/redact-text.ts';
import { createTestApp, type TestApp } from '../helpers.ts';
import { agentWithRole, closeTicket, columnsContaining, createTicket, upload } from './ticket-privacy-helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});
beforeEach(async () => {
  await t.reset();
});

const SECRET = '4111-1111-1111-1111';
const MASK = '▇'.repeat(SECRET.length);

describe('redaction of text (unit)', () => {
  it('masks every occurrence, one ▇ per character (code points)', () => {
    expect(redactPlain('card 1234 and 1234', '1234')).toBe('card ▇▇▇▇ and ▇▇▇▇');
    expect(redactPlain('名前は李小龍です', '李小龍')).toBe('名前は▇▇▇です');
    expect(redactPlain('hi 👋 there', '👋')).toBe('hi ▇ there');
  });

  it('masks HTML text across entities and inline tags, and inside attributes', () => {
    expect(redactHtml('<p>O&#39;Brien called</p>', "O'Brien")).toBe('<p>▇▇▇▇▇▇▇ called</p>');
    expect(redactHtml('<p>Ann <b>Lee</b> wrote</p>', 'Ann Lee')).toBe('<p>▇▇▇▇<b>▇▇▇</b> wrote</p>');
    expect(redactHtml('<a href="mailto:ann@x.test">ann@x.test</a>', 'ann@x.test')).toBe('<a href="mailto:▇▇▇▇▇▇▇▇▇▇">▇▇▇▇▇▇▇▇▇▇</a>');
    expect(redactHtml('<p>a &lt; b</p>', '<')).toBe('<p>a ▇ b</p>');
  });

  it('lets a run of whitespace match any whitespace, line breaks and line-breaking tags included', () => {
    expect(redactPlain('Ann\nLee lives at 1 Main St,\n  Springfield', 'Ann Lee')).toBe('▇▇▇▇▇▇▇ lives at 1 Main St,\n  Springfield');
    expect(redactPlain('1 Main St,\n  Springfield', '1 Main St, Springfield')).toBe('▇'.repeat(24));
    expect(redactHtml('<p>1 Main St,<br>Springfield</p>', '1 Main St,\nSpringfield')).toBe('<p>▇▇▇▇▇▇▇▇▇▇<br>▇▇▇▇▇▇▇▇▇▇▇</p>');
    expect(redactHtml('<p>Ann</p><p>Lee</p>', 'Ann\n\nLee')).toBe('<p>▇▇▇</p><p>▇▇▇</p>');
    expect(redactPlain('a\uD800b', '\uD800')).toBe('a▇b');
  });

  it('reads <redact> markup and redact attributes', () => {
    const marked = applyRedactMarkup('<div>My ID is <redact>847564</redact>! <a href="http://x.test/ann" redact><redact>link</redact></a></div>');
    expect(marked.unmarked).toBe('<div>My ID is 847564! <a href="http://x.test/ann">link</a></div>');
    expect(marked.html).toBe('<div>My ID is ▇▇▇▇▇▇! ▇▇▇▇</a></div>');
    expect(marked.texts).toEqual(['847564', 'link']);
  });
});

describe('PUT /api/v2/tickets/:ticket_id/comments/:ticket_comment_id/redact', () => {
  it('masks each character of every occurrence in body, html_body and plain_body, and answers the comment', async () => {
    const { id, commentId } = await createTicket(t, { comment: { body: `My card is ${SECRET}.\n\nAgain: ${SECRET}` } });
    const response = await t.request('PUT', `/api/v2/tickets/${id}/comments/${commentId}/redact`, { body: { text: SECRET } });
    expect(response.statusCode, response.body).toBe(200);
    const { comment } = response.json();
    expect(comment.id).toBe(commentId);
    expect(comment.body).toBe(`My card is ${MASK}.\n\nAgain: ${MASK}`);
    expect(comment.plain_body).toBe(comment.body);
    expect(comment.html_body).not.toContain(SECRET);
    expect(comment.html_body.split(MASK)).toHaveLength(3);
    // The ticket's description is the first comment: redacted there too.
    expect((await t.request('GET', `/api/v2/tickets/${id}`)).json().ticket.description).toBe(comment.body);
  });

  it('redacts a string written over several lines from every body', async () => {
    const address = '12 Rose Lane\nFlat 3\nSpringfield';
    const { id, commentId } = await createTicket(t, { comment: { body: `Ship to:\n${address}\n\nThanks` } });
    const response = await t.request('PUT', `/api/v2/tickets/${id}/comments/${commentId}/redact`, { body: { text: address } });
    expect(response.statusCode, response.body).toBe(200);
    for (const piece of ['Rose Lane', 'Flat 3', 'Springfield']) expect(await columnsContaining(t, piece), piece).toEqual([]);
    expect(response.json().comment.plain_body).toBe(`Ship to:\n${'▇'.repeat(address.length)}\n\nThanks`);
  });

  it('leaves no copy of the text in any text column of any table, the audit log included', async () => {
    const email = 'ann.secret-person@mail.test';
    const { id, commentId } = await createTicket(t, { comment: { html_body: `<p>Write to <a href="mailto:${email}">${email}</a></p>`, body: `Write to ${email}` } });
    const update = await t.request('PUT', `/api/v2/tickets/${id}`, { body: { ticket: { comment: { body: `second note with ${email}`, public: false } } } });
    expect(update.statusCode, update.body).toBe(200);
    expect(await columnsContaining(t, email)).toEqual(expect.arrayContaining(['ticket_comments.body']));
    const comments = (await t.request('GET', `/api/v2/tickets/${id}/comments`)).json().comments as { id: number }[];
    for (const comment of comments) {
      const response = await t.request('PUT', `/api/v2/tickets/${id}/comments/${comment.id}/redact`, { body: { text: email } });
      expect(response.statusCode, response.body).toBe(200);
    }
    expect(await columnsContaining(t, email)).toEqual([]);
    // Audited by comment and body names only.
    const audit = await t.runtime.database.db.selectFrom('audit_events').selectAll().where('action', '=', 'ticket_comment.redact').where('target_id', '=', String(commentId)).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]?.changed_fields).toEqual(['body', 'html_body', 'plain_body']);
  });

  it('changes nothing (and audits nothing) when the text does not occur', async () => {
    const { id, commentId } = await createTicket(t);
    const response = await t.request('PUT', `/api/v2/tickets/${id}/comments/${commentId}/redact`, { body: { text: 'absent words' } });
    expect(response.statusCode).toBe(200);
    expect(response.json().comment.body).toBe('It is very colourful.');
    const audit = await t.runtime.database.db.selectFrom('audit_events').select('id').where('action', '=', 'ticket_comment.redact').execute();
    expect(audit).toHaveLength(0);
  });

  it('works on closed tickets (DOMAIN.md §4: beyond Zendesk)', async () => {
    const { id, commentId } = await createTicket(t, { comment: { body: `closed with ${SECRET}` } });
    await closeTicket(t, id);
    const response = await t.request('PUT', `/api/v2/tickets/${id}/comments/${commentId}/redact`, { body: { text: SECRET } });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().comment.body).toBe(`closed with ${MASK}`);
  });

  it('needs the redact permission: admins yes, plain agents and end users no, an agent whose role grants it yes', async () => {
    const { id, commentId } = await createTicket(t, { comment: { body: `x ${SECRET}` } });
    const agent = await t.user({ role: 'agent', name: 'Plain Agent' });
    const endUser = await t.user({ role: 'end-user', name: 'End User' });
    const redactor = await agentWithRole(t, 'Redactors', { redact: true });
    const url = `/api/v2/tickets/${id}/comments/${commentId}/redact`;
    const refused = await t.request('PUT', url, { as: agent, body: { text: SECRET } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().description).toContain('redact');
    expect((await t.request('PUT', url, { as: endUser, body: { text: SECRET } })).statusCode).toBe(403);
    expect((await t.request('PUT', url, { as: null, body: { text: SECRET } })).statusCode).toBe(401);
    expect((await t.request('PUT', url, { as: redactor, body: { text: SECRET } })).statusCode).toBe(200);
  });

  it('keeps to the ticket scope: a restricted agent with redact cannot reach a ticket outside their groups', async () => {
    const { id, commentId } = await createTicket(t);
    const restricted = await agentWithRole(t, 'Group redactors', { redact: true, ticket_access: 'within-groups' });
    const response = await t.request('PUT', `/api/v2/tickets/${id}/comments/${commentId}/redact`, { as: restricted, body: { text: 'colourful' } });
    expect(response.statusCode).toBe(403);
  });

  it('answers 400 without text, 422 for blank or non-string text, 404 for a comment of another ticket', async () => {
    const first = await createTicket(t);
    const second = await createTicket(t);
    const url = `/api/v2/tickets/${first.id}/comments/${first.commentId}/redact`;
    expect((await t.request('PUT', url, { body: {} })).statusCode).toBe(400);
    expect((await t.request('PUT', url)).statusCode).toBe(400);
    expect((await t.request('PUT', url, { body: { text: '' } })).statusCode).toBe(422);
    expect((await t.request('PUT', url, { body: { text: 42 } })).statusCode).toBe(422);
    expect((await t.request('PUT', `/api/v2/tickets/${first.id}/comments/${second.commentId}/redact`, { body: { text: 'x' } })).statusCode).toBe(404);
    expect((await t.request('PUT', `/api/v2/tickets/999999/comments/${first.commentId}/redact`, { body: { text: 'x' } })).statusCode).toBe(404);
  });
});

describe('PUT /api/v2/comment_redactions/:ticket_comment_id', () => {
  it('masks the text inside <redact> tags and removes redact-attributed elements, on a closed ticket too', async () => {
    const { id, commentId } = await createTicket(t, { comment: { html_body: '<p>My ID number is 847564! See <a href="https://x.test/ann-lee">my page</a></p>' } });
    await closeTicket(t, id);
    const stored = (await t.request('GET', `/api/v2/tickets/${id}/comments`)).json().comments[0].html_body as string;
    const marked = stored.replace('847564', '<redact>847564</redact>').replace('<a href="https://x.test/ann-lee">my page', '<a href="https://x.test/ann-lee" redact><redact>my page</redact>');
    const response = await t.request('PUT', `/api/v2/comment_redactions/${commentId}`, { body: { ticket_id: id, html_body: marked } });
    expect(response.statusCode, response.body).toBe(200);
    const { comment } = response.json();
    expect(comment.html_body).toContain('My ID number is ▇▇▇▇▇▇!');
    expect(comment.html_body).not.toContain('ann-lee');
    expect(comment.plain_body).toBe('My ID number is ▇▇▇▇▇▇! See ▇▇▇▇▇▇▇');
    expect(comment.body).not.toContain('847564');
    expect(await columnsContaining(t, '847564')).toEqual([]);
    expect(await columnsContaining(t, 'ann-lee')).toEqual([]);
  });

  it('refuses an html_body that changes anything but the markers (422), and needs the redact permission', async () => {
    const { id, commentId } = await createTicket(t);
    const stored = (await t.request('GET', `/api/v2/tickets/${id}/comments`)).json().comments[0].html_body as string;
    const edited = await t.request('PUT', `/api/v2/comment_redactions/${commentId}`, { body: { ticket_id: id, html_body: `${stored}<p>new words</p>` } });
    expect(edited.statusCode).toBe(422);
    expect(edited.json().details.html_body).toBeDefined();
    const agent = await t.user({ role: 'agent', name: 'Plain Agent' });
    expect((await t.request('PUT', `/api/v2/comment_redactions/${commentId}`, { as: agent, body: { ticket_id: id, html_body: stored } })).statusCode).toBe(403);
    expect((await t.request('PUT', `/api/v2/comment_redactions/${commentId}`, { body: { html_body: stored } })).statusCode).toBe(400);
    expect((await t.request('PUT', `/api/v2/comment_redactions/${commentId}`, { body: { ticket_id: id } })).statusCode).toBe(400);
    expect((await t.request('PUT', `/api/v2/comment_redactions/${commentId}`, { body: { ticket_id: 'x', html_body: stored } })).statusCode).toBe(422);
  });

  it('redacts the attachments named in external_attachment_urls', async () => {
    const token = await upload(t, 'passport-ann.txt', 'passport number X123');
    const { id, commentId } = await createTicket(t, { comment: { body: 'scan attached', uploads: [token] } });
    const [attachment] = (await t.request('GET', `/api/v2/tickets/${id}/comments`)).json().comments[0].attachments;
    const response = await t.request('PUT', `/api/v2/comment_redactions/${commentId}`, { body: { ticket_id: id, external_attachment_urls: [attachment.content_url] } });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().comment.attachments[0]).toMatchObject({ id: attachment.id, file_name: 'redacted.txt', size: 0 });
    const unknown = await t.request('PUT', `/api/v2/comment_redactions/${commentId}`, { body: { ticket_id: id, external_attachment_urls: ['https://elsewhere.test/file.png'] } });
    expect(unknown.statusCode).toBe(422);
  });
});

describe('PUT|DELETE /api/v2/tickets/:ticket_id/comments/:comment_id/attachments/:attachment_id/redact', () => {
  it('replaces the file with an empty redacted.txt and removes its bytes from storage', async () => {
    const token = await upload(t, 'ann-lee-id-card.txt', 'ID CARD BYTES');
    const { id, commentId } = await createTicket(t, { comment: { body: 'scan attached', uploads: [token] } });
    const [attachment] = (await t.request('GET', `/api/v2/tickets/${id}/comments`)).json().comments[0].attachments;
    const db = t.runtime.database.db;
    const before = await db.selectFrom('ticket_attachments').select('storage_key').where('id', '=', attachment.id).executeTakeFirstOrThrow();
    expect((await t.runtime.storage.get(before.storage_key))?.toString()).toBe('ID CARD BYTES');

    const response = await t.request('PUT', `/api/v2/tickets/${id}/comments/${commentId}/attachments/${attachment.id}/redact`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().attachment).toMatchObject({ id: attachment.id, file_name: 'redacted.txt', content_type: 'text/plain', size: 0 });
    expect(await t.runtime.storage.get(before.storage_key)).toBeUndefined();
    const content = await t.request('GET', `/api/v2/attachments/${attachment.id}/content`);
    expect(content.statusCode).toBe(200);
    expect(content.body).toBe('');
    expect(await columnsContaining(t, 'ann-lee-id-card')).toEqual([]);
    const audit = await db.selectFrom('audit_events').selectAll().where('action', '=', 'ticket_attachment.redact').execute();
    expect(audit.map((row) => row.target_id)).toEqual([String(attachment.id)]);
    // Again: nothing left to do, same answer.
    expect((await t.request('DELETE', `/api/v2/tickets/${id}/comments/${commentId}/attachments/${attachment.id}/redact`)).statusCode).toBe(200);
  });

  it('answers DELETE as node-zendesk sends it, needs redact, and 404s an attachment of another comment', async () => {
    const token = await upload(t, 'a.txt', 'bytes');
    const { id, commentId } = await createTicket(t, { comment: { body: 'file', uploads: [token] } });
    const other = await createTicket(t);
    const [attachment] = (await t.request('GET', `/api/v2/tickets/${id}/comments`)).json().comments[0].attachments;
    const agent = await t.user({ role: 'agent', name: 'Plain Agent' });
    expect((await t.request('DELETE', `/api/v2/tickets/${id}/comments/${commentId}/attachments/${attachment.id}/redact`, { as: agent, body: {} })).statusCode).toBe(403);
    expect((await t.request('PUT', `/api/v2/tickets/${other.id}/comments/${other.commentId}/attachments/${attachment.id}/redact`)).statusCode).toBe(404);
    const response = await t.request('DELETE', `/api/v2/tickets/${id}/comments/${commentId}/attachments/${attachment.id}/redact`, { body: {} });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().attachment.file_name).toBe('redacted.txt');
  });
});

describe('PUT /api/v2/tickets/:ticket_id/comments/:ticket_comment_id/make_private', () => {
  it('makes a public comment an internal note; the ticket stays public while another comment is', async () => {
    const { id, commentId } = await createTicket(t);
    const agent = await t.user({ role: 'agent', name: 'Plain Agent' });
    const response = await t.request('PUT', `/api/v2/tickets/${id}/comments/${commentId}/make_private`, { as: agent });
    expect(response.statusCode, response.body).toBe(200);
    const [comment] = (await t.request('GET', `/api/v2/tickets/${id}/comments`)).json().comments;
    expect(comment.public).toBe(false);
    expect((await t.request('GET', `/api/v2/tickets/${id}`)).json().ticket.is_public).toBe(false);
    // Idempotent.
    expect((await t.request('PUT', `/api/v2/tickets/${id}/comments/${commentId}/make_private`)).statusCode).toBe(200);
    const audit = await t.runtime.database.db.selectFrom('audit_events').select('changed_fields').where('action', '=', 'ticket_comment.make_private').execute();
    expect(audit).toEqual([{ changed_fields: ['public'] }]);
  });

  it('refuses end users (403), restricted agents outside their scope (403), closed tickets (422)', async () => {
    const { id, commentId } = await createTicket(t);
    const endUser = await t.user({ role: 'end-user', name: 'End User' });
    const restricted = await agentWithRole(t, 'Restricted', { ticket_access: 'within-groups' });
    const url = `/api/v2/tickets/${id}/comments/${commentId}/make_private`;
    expect((await t.request('PUT', url, { as: endUser })).statusCode).toBe(403);
    expect((await t.request('PUT', url, { as: restricted })).statusCode).toBe(403);
    await closeTicket(t, id);
    expect((await t.request('PUT', url)).statusCode).toBe(422);
    expect((await t.request('PUT', `/api/v2/tickets/${id}/comments/999999/make_private`)).statusCode).toBe(404);
  });
});

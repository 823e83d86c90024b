import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { markHtml } from '../../src/privacy/pii/redaction-suggestions.ts';
import { applyRedactMarkup } from '../../src/tickets/redact-text.ts';
import { createTestApp, type Caller, type TestApp } from '../helpers.ts';

/**
 * GET /api/v2/tickets/{id}/redaction_suggestions (issue 7 item 3): findings per comment over
 * plain_body, in the shapes both redaction endpoints take, and the round trip through them.
 */

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

interface Suggestion {
  start: number;
  end: number;
  type: string;
  confidence: number;
  text: string;
  user_id?: number;
  identity_type?: string;
}
interface CommentSuggestions {
  comment_id: number;
  public: boolean;
  suggestions: Suggestion[];
  comment_redaction: { ticket_id: number; html_body: string } | null;
}

const CARD = '4111 1111 1111 1111';
const IBAN = 'DE89 3704 0044 0532 0130 00';

async function ticketFor(requester: { name: string; email: string; phone?: string }, body: string) {
  const response = await t.request('POST', '/api/v2/tickets', {
    body: { ticket: { subject: 'Billing', requester: { name: requester.name, email: requester.email }, comment: { body } } },
  });
  expect(response.statusCode, response.body).toBe(201);
  const ticket = response.json().ticket as { id: number; requester_id: number };
  if (requester.phone) {
    const added = await t.request('POST', `/api/v2/users/${ticket.requester_id}/identities`, { body: { identity: { type: 'phone_number', value: requester.phone } } });
    expect(added.statusCode, added.body).toBe(201);
  }
  return ticket;
}

async function suggestions(ticketId: number, as: Caller = t.owner, query = ''): Promise<CommentSuggestions[]> {
  const response = await t.request('GET', `/api/v2/tickets/${ticketId}/redaction_suggestions${query}`, { as });
  expect(response.statusCode, response.body).toBe(200);
  expect(response.json().offsets).toBe('plain_body');
  return response.json().redaction_suggestions;
}

describe('GET /api/v2/tickets/:ticket_id/redaction_suggestions', () => {
  it('finds PII of every comment over plain_body, with the requester’s identities and name', async () => {
    const body = `Hello, I am Marta Quintela. My card ${CARD} was charged twice; refund to ${IBAN}.\n\nCall me on +351 912 345 678 or write to marta.q@example.pt. CPF 529.982.247-25.`;
    const ticket = await ticketFor({ name: 'Marta Quintela', email: 'marta.q@example.pt', phone: '+351912345678' }, body);
    const agent = await t.user({ role: 'agent', name: 'Agent Smith' });
    const reply = await t.request('PUT', `/api/v2/tickets/${ticket.id}`, { as: agent, body: { ticket: { comment: { body: 'Noted, Marta. We logged your address 198.51.100.7.', public: false } } } });
    expect(reply.statusCode, reply.body).toBe(200);

    const result = await suggestions(ticket.id);
    expect(result).toHaveLength(2);
    const [first, second] = result;
    const comments = (await t.request('GET', `/api/v2/tickets/${ticket.id}/comments`)).json().comments as { id: number; plain_body: string }[];
    expect(first?.comment_id).toBe(comments[0]?.id);
    // Offsets index plain_body; text is the slice they name.
    for (const [index, entry] of result.entries()) {
      const plain = comments[index]?.plain_body ?? '';
      for (const s of entry.suggestions) expect(plain.slice(s.start, s.end)).toBe(s.text);
    }
    expect(first?.suggestions.map((s) => [s.type, s.text])).toEqual([
      ['person_name', 'Marta Quintela'],
      ['credit_card', CARD],
      ['iban', IBAN],
      ['identity', '+351 912 345 678'],
      ['identity', 'marta.q@example.pt'],
      ['br_cpf', '529.982.247-25'],
    ]);
    const identity = first?.suggestions.find((s) => s.text === 'marta.q@example.pt');
    expect(identity).toMatchObject({ confidence: 1, user_id: ticket.requester_id, identity_type: 'email' });
    expect(second).toMatchObject({ public: false });
    expect(second?.suggestions.map((s) => [s.type, s.text])).toEqual([
      ['person_name', 'Marta'],
      ['ipv4', '198.51.100.7'],
    ]);
  });

  it('takes default_country for national phone numbers (else the requester’s locale region)', async () => {
    const ticket = await ticketFor({ name: 'Pat Doe', email: 'pat@example.com' }, 'Ring me: 06 12 34 56 78');
    expect((await suggestions(ticket.id))[0]?.suggestions).toEqual([]);
    const fr = await suggestions(ticket.id, t.owner, '?default_country=FR');
    expect(fr[0]?.suggestions).toEqual([{ start: 9, end: 23, type: 'phone', confidence: 0.7, text: '06 12 34 56 78' }]);
    const bad = await t.request('GET', `/api/v2/tickets/${ticket.id}/redaction_suggestions?default_country=XX`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('InvalidParameter');
  });

  it('min_confidence leaves out weaker findings, in the suggestions and in the marked html_body alike', async () => {
    const ticket = await ticketFor({ name: 'Kim Park', email: 'kim@example.com' }, 'Order 123456789 shipped; card 4111 1111 1111 1111; call (415) 555-2671');
    const all = (await suggestions(ticket.id, t.owner, '?default_country=US'))[0];
    expect(all?.suggestions.map((s) => [s.type, s.confidence])).toEqual([['us_ssn', 0.35], ['credit_card', 0.9], ['phone', 0.7]]);
    const strong = (await suggestions(ticket.id, t.owner, '?default_country=US&min_confidence=0.8'))[0];
    expect(strong?.suggestions.map((s) => s.type)).toEqual(['credit_card']);
    expect(strong?.comment_redaction?.html_body.match(/<redact>/g)).toHaveLength(1);
    expect((await suggestions(ticket.id, t.owner, '?min_confidence=1'))[0]?.suggestions).toEqual([]);
    for (const bad of ['2', '-0.1', 'abc', '0.5.1']) {
      const response = await t.request('GET', `/api/v2/tickets/${ticket.id}/redaction_suggestions?min_confidence=${bad}`);
      expect(response.statusCode, bad).toBe(400);
    }
  });

  it('suggestions feed PUT …/comments/{id}/redact: redacting each text leaves nothing to suggest', async () => {
    const ticket = await ticketFor({ name: 'Lee Wong', email: 'lee.wong@example.com' }, `Card ${CARD}, mail lee.wong@example.com, SSN 123-45-6789.`);
    const [entry] = await suggestions(ticket.id);
    expect(entry?.suggestions.length).toBe(3);
    for (const s of entry?.suggestions ?? []) {
      const redacted = await t.request('PUT', `/api/v2/tickets/${ticket.id}/comments/${entry?.comment_id}/redact`, { body: { text: s.text } });
      expect(redacted.statusCode, redacted.body).toBe(200);
    }
    const after = await suggestions(ticket.id);
    expect(after[0]?.suggestions).toEqual([]);
    const comment = (await t.request('GET', `/api/v2/tickets/${ticket.id}/comments`)).json().comments[0];
    for (const value of [CARD, 'lee.wong@example.com', '123-45-6789']) {
      expect(comment.plain_body).not.toContain(value);
      expect(comment.html_body).not.toContain(value);
    }
  });

  it('comment_redaction feeds PUT /api/v2/comment_redactions/{id} as it stands', async () => {
    const ticket = await ticketFor({ name: 'Ana Lima', email: 'ana@example.br' }, `Meu IBAN é ${IBAN} & meu CPF 529.982.247-25`);
    const [entry] = await suggestions(ticket.id);
    expect(entry?.comment_redaction?.html_body).toContain(`<redact>${IBAN}</redact>`);
    const redacted = await t.request('PUT', `/api/v2/comment_redactions/${entry?.comment_id}`, { body: entry?.comment_redaction });
    expect(redacted.statusCode, redacted.body).toBe(200);
    const comment = redacted.json().comment;
    expect(comment.html_body).not.toContain('3704');
    expect(comment.plain_body).not.toContain('529.982.247-25');
    expect(comment.plain_body).toContain('Meu IBAN é ▇');
    expect((await suggestions(ticket.id))[0]?.comment_redaction).toBeNull();
  });

  it('is for staff who can see the ticket: end users 403, a restricted agent outside the ticket 403, unknown ticket 404', async () => {
    const requester = await t.user({ name: 'Req User' });
    const created = await t.request('POST', '/api/v2/tickets', { body: { ticket: { subject: 'S', requester_id: requester.id, comment: { body: 'my card 4111111111111111' } } } });
    const id = created.json().ticket.id as number;
    expect((await t.request('GET', `/api/v2/tickets/${id}/redaction_suggestions`, { as: requester })).statusCode).toBe(403);
    const role = await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: { name: 'Groups only', configuration: { ticket_access: 'within-groups' } } } });
    const restricted = await t.user({ role: 'agent', name: 'Restricted', custom_role_id: role.json().custom_role.id });
    expect((await t.request('GET', `/api/v2/tickets/${id}/redaction_suggestions`, { as: restricted })).statusCode).toBe(403);
    const agent = await t.user({ role: 'agent', name: 'Plain Agent' });
    expect((await suggestions(id, agent))[0]?.suggestions.map((s) => s.type)).toEqual(['credit_card']);
    expect((await t.request('GET', '/api/v2/tickets/999999/redaction_suggestions')).statusCode).toBe(404);
    expect((await t.request('GET', '/api/v2/tickets/0/redaction_suggestions')).statusCode).toBe(400);
  });
});

describe('markHtml', () => {
  it('wraps findings of the readable text (entities decoded, across inline tags) and unmarks to the original', () => {
    const html = '<div><p>Mail <a href="mailto:jo@example.com">jo@example.com</a> &amp; card 4111&#32;1111 1111 1111</p><p>IBAN <b>DE89</b> 3704 0044 0532 0130 00</p></div>';
    const marked = markHtml(html, {});
    expect(marked).not.toBeNull();
    const read = applyRedactMarkup(marked ?? '');
    expect(read.unmarked).toBe(html);
    expect(read.texts).toEqual(['jo@example.com', '4111 1111 1111 1111', 'DE89 3704 0044 0532 0130 00']);
    expect(markHtml('<p>nothing here</p>', {})).toBeNull();
  });
});

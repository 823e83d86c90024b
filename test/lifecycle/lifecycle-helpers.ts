import type { Caller, TestApp } from '../helpers.ts';

export const DAY = 24 * 60 * 60 * 1000;

/** A ticket requested by `requesterId`; `closed` goes through solved and close_solved (nobody sets closed by hand). */
export async function ticketFor(t: TestApp, requesterId: number, status: 'open' | 'solved' | 'closed' = 'open', extra: Record<string, unknown> = {}): Promise<number> {
  const created = await t.request('POST', '/api/v2/tickets', {
    body: { ticket: { subject: 'Lifecycle', comment: { body: 'Hello' }, requester_id: requesterId, status: status === 'closed' ? 'solved' : status, ...extra } },
  });
  if (created.statusCode !== 201) throw new Error(`ticket: ${created.statusCode} ${created.body}`);
  const id = created.json().ticket.id as number;
  if (status === 'closed') {
    const closed = await t.request('POST', '/api/v2/tickets/close_solved', { body: { ids: [id] } });
    if (closed.statusCode >= 300) throw new Error(`close: ${closed.body}`);
  }
  return id;
}

export async function customRole(t: TestApp, name: string, configuration: Record<string, unknown>): Promise<number> {
  const response = await t.request('POST', '/api/v2/custom_roles', { body: { custom_role: { name, configuration } } });
  if (response.statusCode !== 201 && response.statusCode !== 200) throw new Error(`role: ${response.body}`);
  return response.json().custom_role.id as number;
}

export function detailsBase(body: { details?: Record<string, Array<{ description: string }>> }): string | undefined {
  return body.details?.base?.[0]?.description;
}

export type { Caller };

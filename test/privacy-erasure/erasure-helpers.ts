import { expect } from 'vitest';
import type { Caller, TestApp } from '../helpers.ts';

/** A person with two emails and a phone, for the erasure tests. Names and addresses are unique per call. */
export interface Subject {
  caller: Caller;
  id: number;
  name: string;
  emails: [string, string, ...string[]];
  phone: string;
  /** The phone as it may be written in text. */
  phoneForms: string[];
}

let sequence = 0;

export async function createSubject(t: TestApp, options: { role?: string; name?: string } = {}): Promise<Subject> {
  sequence += 1;
  const tag = `${process.pid.toString(36)}${sequence}`;
  const name = options.name ?? `Zoë Quintana-Velasquez ${tag}`;
  const emails: [string, string] = [`zoe.quintana.${tag}@example.org`, `zq${tag}@mailbox.example.net`];
  const local = String(5550100 + sequence).padStart(7, '0');
  const phone = `+1 415 ${local.slice(0, 3)} ${local.slice(3)}`;
  const caller = await t.user({ name, email: emails[0], role: options.role ?? 'end-user', phone });
  const added = await t.request('POST', `/api/v2/users/${caller.id}/identities`, { body: { identity: { type: 'email', value: emails[1] } } });
  expect(added.statusCode, added.body).toBe(201);
  const phoneForms = [phone, `+1415${local}`, `(415) ${local.slice(0, 3)}-${local.slice(3)}`, `415.${local.slice(0, 3)}.${local.slice(3)}`, `1415${local}`];
  return { caller, id: caller.id, name, emails, phone, phoneForms };
}

/** Every string that must not survive the person's erasure (compared case-insensitively). */
export function needles(subject: Subject): string[] {
  const digits = subject.phone.replace(/\D/g, '');
  return [subject.name, ...subject.emails, ...subject.phoneForms, digits, digits.slice(1)];
}

export async function ticketAs(t: TestApp, body: Record<string, unknown>, as?: Caller): Promise<number> {
  const response = await t.request('POST', '/api/v2/tickets', { ...(as ? { as } : {}), body: { ticket: body } });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().ticket.id as number;
}

export async function comment(t: TestApp, ticketId: number, body: Record<string, unknown>, as?: Caller): Promise<void> {
  const response = await t.request('PUT', `/api/v2/tickets/${ticketId}`, { ...(as ? { as } : {}), body: { ticket: { comment: body } } });
  expect(response.statusCode, response.body).toBe(200);
}

export async function erase(t: TestApp, userId: number, body: Record<string, unknown>, as?: Caller) {
  return t.request('POST', `/api/v2/users/${userId}/erasure`, { ...(as ? { as } : {}), body });
}

/** Runs a real erasure and waits for its receipt. */
export async function eraseAndWait(t: TestApp, userId: number, body: Record<string, unknown> = {}, as?: Caller): Promise<Record<string, unknown>> {
  const started = await erase(t, userId, body, as);
  expect(started.statusCode, started.body).toBe(200);
  const job = await t.waitForJob(started.json().job_status.id as string, as);
  expect(job.status, JSON.stringify(job)).toBe('completed');
  const receipt = await t.request('GET', `/api/v2/erasure_receipts/${started.json().erasure_receipt.id}`, { ...(as ? { as } : {}) });
  expect(receipt.statusCode, receipt.body).toBe(200);
  return receipt.json().erasure_receipt as Record<string, unknown>;
}

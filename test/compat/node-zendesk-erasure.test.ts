import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers.ts';
import { connect, isZendeskError, numberField, record, records, stringField, type Zendesk } from './zendesk-client.ts';

/**
 * Forget user through the real node-zendesk client (v6) over TCP: it has no erasure methods, so
 * its generic requests do it — the dry run's plan, the job watched with jobstatuses.watch, the
 * receipt and the receipts list (getAll follows the pages), and a refusal as a Zendesk error.
 */

let t: TestApp;
let client: Zendesk;

beforeAll(async () => {
  t = await createTestApp();
  await t.runtime.app.listen({ port: 0, host: '127.0.0.1' });
  client = connect(t, { throwOriginalException: true });
});

afterAll(async () => {
  await t?.close();
});

const newUser = async (name: string): Promise<number> => numberField(record((await client.users.create({ user: { name, email: `${name.toLowerCase().replaceAll(' ', '.')}@compat.test` } })).result, 'user'), 'id');

describe('node-zendesk and forget user', () => {
  it('dry run, job, receipt and receipts list through generic requests; the plan\'s counts are the receipt\'s', async () => {
    const id = await newUser('Compat Forget');
    await t.request('POST', '/api/v2/tickets', { body: { ticket: { subject: 'About Compat Forget', comment: { body: 'Mail compat.forget@compat.test' }, requester_id: id } } });
    const planned = await client.users.request('POST', ['users', id, 'erasure'], { dry_run: true, open_tickets: 'close' });
    const plan = record(record(planned.result, 'plan response').erasure_plan, 'erasure_plan');
    expect(record(plan.open_tickets, 'open_tickets').action).toBe('close');

    const started = await client.users.request('POST', ['users', id, 'erasure'], { open_tickets: 'close' });
    const body = record(started.result, 'erasure response');
    const job = record(body.job_status, 'job_status');
    const finished = record(await client.jobstatuses.watch(stringField(job, 'id'), 200, 5), 'watched job');
    expect(finished.status).toBe('completed');
    const receiptId = numberField(record(body.erasure_receipt, 'erasure_receipt'), 'id');
    const shown = await client.users.get(['erasure_receipts', receiptId]);
    const receipt = record(record(shown.result, 'receipt response').erasure_receipt, 'erasure_receipt');
    expect(receipt).toMatchObject({ id: receiptId, user_id: id, status: 'completed' });
    expect(receipt.counts).toEqual(plan.counts);
    expect(JSON.stringify(receipt)).not.toContain('compat.forget');

    const pages = records(await client.users.getAll(['erasure_receipts']), 'pages');
    const listed = pages.flatMap((page) => records(page.erasure_receipts, 'erasure_receipts'));
    expect(listed.map((entry) => entry.id)).toContain(receiptId);
  });

  it('a refusal (open tickets without open_tickets) comes back as a 422 naming the count', async () => {
    const id = await newUser('Compat Busy Forget');
    await t.request('POST', '/api/v2/tickets', { body: { ticket: { comment: { body: 'open' }, requester_id: id } } });
    await expect(client.users.request('POST', ['users', id, 'erasure'], { dry_run: true })).rejects.toSatisfy(
      (error: unknown) => isZendeskError(error) && error.statusCode === 422 && JSON.stringify(record(error.result, 'error').details).includes('User is requester on 1 ticket that is not closed.'),
    );
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { embeddedServer, freePort } from './serve-process.ts';

/**
 * Forget-user durability, end to end: a real `roster serve` process on the embedded database,
 * killed with SIGKILL while an erasure job is under way, then started again: the job resumes at
 * the first step it had not committed and ends with the receipt the dry run announced — every
 * count as planned, so no step ran twice and none was skipped.
 */
const server = embeddedServer('erasure-crash', 'owner@erasure-crash.test');
afterAll(server.cleanup);

const MARK = '▇';

describe('an erasure on the embedded database', () => {
  it('survives SIGKILL mid-run and resumes to the planned receipt', async () => {
    const port = await freePort();
    const first = await server.start(port);
    const token = /API token: +(\S+)/.exec(first.output())?.[1];
    expect(token).toBeDefined();
    const headers = { authorization: `Basic ${Buffer.from(`owner@erasure-crash.test/token:${token}`).toString('base64')}`, 'content-type': 'application/json' };
    const base = `http://127.0.0.1:${port}/api/v2`;
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    };

    const name = 'Émilie Crashtest-Durand';
    const created = await call('POST', '/users', { user: { name, email: 'emilie.crash@example.org', phone: '+33 6 12 34 56 78' } });
    expect(created.status).toBe(201);
    const userId = (created.json.user as { id: number }).id;
    // Enough mentions that the scrub takes a while: tickets by others naming her in subject and text.
    const tickets = 600;
    for (let batch = 0; batch < tickets; batch += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, tickets - batch) }, (_, i) =>
          call('POST', '/tickets', { ticket: { subject: `Call back ${name} #${batch + i}`, comment: { body: `Ring EMILIE CRASHTEST-DURAND on 06 12 34 56 78 or write to emilie.crash@example.org (${batch + i})` } } }),
        ),
      );
    }
    await call('POST', '/tickets', { ticket: { subject: 'Her own', comment: { body: 'open request' }, requester_id: userId } });

    const plan = await call('POST', `/users/${userId}/erasure`, { dry_run: true, open_tickets: 'close' });
    expect(plan.status).toBe(200);
    const planned = (plan.json.erasure_plan as { counts: Record<string, number> }).counts;
    expect(planned.redacted_subjects).toBe(tickets);

    const started = await call('POST', `/users/${userId}/erasure`, { open_tickets: 'close' });
    expect(started.status).toBe(200);
    const receiptId = (started.json.erasure_receipt as { id: number }).id;
    const jobId = (started.json.job_status as { id: string }).id;

    // Kill the process while the job is running (after it started, before it ended).
    let cutAt: string | null | undefined;
    for (let i = 0; i < 20_000 && cutAt === undefined; i += 1) {
      const { json } = await call('GET', `/erasure_receipts/${receiptId}`);
      const receipt = json.erasure_receipt as { status: string; step: string | null };
      if (receipt.status === 'working' && receipt.step !== 'done') cutAt = receipt.step;
      else if (receipt.status === 'completed') break;
      else await new Promise((resolve) => setTimeout(resolve, 2));
    }
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    expect(cutAt).toBeDefined(); // the job really was cut off in the middle

    const second = await server.start(port);
    let receipt: { status: string; step: string | null; counts: Record<string, number> } | undefined;
    for (let i = 0; i < 1200; i += 1) {
      receipt = (await call('GET', `/erasure_receipts/${receiptId}`)).json.erasure_receipt as typeof receipt;
      if (receipt?.status === 'completed' || receipt?.status === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(receipt).toMatchObject({ status: 'completed', step: 'done' });
    expect(receipt?.counts).toEqual(planned);
    const job = (await call('GET', `/job_statuses/${jobId}`)).json.job_status as { status: string };
    expect(job.status).toBe('completed');
    // Every mention is masked; the user is permanently deleted.
    const listed = await call('GET', '/tickets?per_page=100');
    for (const ticket of listed.json.tickets as Array<{ subject: string }>) expect(ticket.subject.toLowerCase()).not.toContain('crashtest');
    expect(JSON.stringify(listed.json)).toContain(MARK);
    const deleted = (await call('GET', `/deleted_users/${userId}`)).json.deleted_user as { name: string };
    expect(deleted.name).toBe('Permanently Deleted User');

    second.child.kill('SIGTERM');
    expect(await new Promise((resolve) => second.child.once('exit', resolve))).toBe(0);
  }, 600_000);
});

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedServer, freePort } from './serve-process.ts';

/**
 * The start contract and job durability, end to end: a real `roster serve` process on the
 * embedded database, killed with SIGKILL in the middle of a bulk job, then started again.
 */
const server = embeddedServer('crash', 'owner@crash.test');
const { dataDir, start } = server;
afterAll(server.cleanup);

describe('roster serve on the embedded database', () => {
  it('prints the sign-in once, survives SIGKILL mid-job, resumes every job with each item applied exactly once, and closes cleanly on SIGTERM', async () => {
    const port = await freePort();
    const first = await start(port);
    const printed = first.output();
    expect(printed).toContain('sign in as: owner@crash.test');
    const token = /API token: +(\S+)/.exec(printed)?.[1];
    expect(token).toBeDefined();
    const headers = { authorization: `Basic ${Buffer.from(`owner@crash.test/token:${token}`).toString('base64')}`, 'content-type': 'application/json' };
    const base = `http://127.0.0.1:${port}/api/v2`;

    // Several bulk jobs, run one after another: whenever we look, one of them is likely half done.
    const jobIds: string[] = [];
    for (let j = 0; j < 5; j += 1) {
      const users = Array.from({ length: 100 }, (_, i) => ({ name: `Crash ${j}-${i}`, email: `crash${j}-${i}@crash.test`, phone: `+1415${String(5000000 + j * 100 + i)}`, tags: ['a', 'b'] }));
      const queued = await (await fetch(`${base}/users/create_many`, { method: 'POST', headers, body: JSON.stringify({ users }) })).json();
      jobIds.push(queued.job_status.id as string);
    }
    let cutOff: { id: string; progress: number } | undefined;
    for (let i = 0; i < 5000 && !cutOff; i += 1) {
      const { job_statuses: statuses } = await (await fetch(`${base}/job_statuses/show_many?ids=${jobIds.join(',')}`, { headers })).json();
      cutOff = (statuses as { id: string; progress: number }[]).find((job) => job.progress > 0 && job.progress < 100);
      if (!cutOff) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    expect(cutOff).toBeDefined(); // a job really was cut off in the middle
    expect(fs.existsSync(path.join(dataDir, 'roster.lock'))).toBe(true); // a crash leaves its lock behind

    const second = await start(port);
    expect(second.output()).not.toContain('sign in as'); // printed only on the first start
    for (const jobId of jobIds) {
      let job: { status: string; progress: number; results: { index: number; success: boolean }[] } | undefined;
      for (let i = 0; i < 600; i += 1) {
        job = (await (await fetch(`${base}/job_statuses/${jobId}`, { headers })).json()).job_status;
        if (job?.status === 'completed' || job?.status === 'failed') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(job?.status).toBe('completed');
      expect(job?.progress).toBe(100);
      expect(job?.results.map((result) => result.index)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      expect(job?.results.every((result) => result.success)).toBe(true);
    }
    const count = await (await fetch(`${base}/users/count`, { headers })).json();
    expect(count.count.value).toBe(501); // every item applied exactly once

    second.child.kill('SIGTERM');
    const code = await new Promise((resolve) => second.child.once('exit', resolve));
    expect(code).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'roster.lock'))).toBe(false);
  }, 240_000);
});

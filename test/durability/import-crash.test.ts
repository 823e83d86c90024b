import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedServer, freePort } from './serve-process.ts';

/**
 * CSV import durability, end to end: a real `roster serve` process on the embedded database,
 * killed with SIGKILL in the middle of an import, then started again: the import resumes from its
 * last committed batch and every row is applied exactly once.
 */
const server = embeddedServer('import-crash', 'owner@import-crash.test');
const { dataDir, start } = server;
afterAll(server.cleanup);

describe('a CSV import on the embedded database', () => {
  it('survives SIGKILL mid-import and resumes with each row applied exactly once', async () => {
    const port = await freePort();
    const first = await start(port);
    const token = /API token: +(\S+)/.exec(first.output())?.[1];
    expect(token).toBeDefined();
    const auth = { authorization: `Basic ${Buffer.from(`owner@import-crash.test/token:${token}`).toString('base64')}` };
    const base = `http://127.0.0.1:${port}/api/v2`;
    // Many batches (500 rows each): the bulk path commits a batch in well under a second, and the
    // poll below must catch the import between two of them.
    const rows = 6000;
    const csv = `name,email,phone,tags\n${Array.from({ length: rows }, (_, i) => `Crash ${i},crash${i}@import-crash.test,+1415${5000000 + i},a b`).join('\n')}\n`;
    const queued = await (await fetch(`${base}/imports/users`, { method: 'POST', headers: { ...auth, 'content-type': 'text/csv' }, body: csv })).json();
    const id = queued.import.id as number;

    let cutOff: number | undefined;
    for (let i = 0; i < 5000 && cutOff === undefined; i += 1) {
      const { import: state } = await (await fetch(`${base}/imports/${id}`, { headers: auth })).json();
      if (state.progress > 0 && state.progress < rows) cutOff = state.progress as number;
      else await new Promise((resolve) => setTimeout(resolve, 5));
    }
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    expect(cutOff).toBeDefined(); // the import really was cut off in the middle

    const second = await start(port);
    let state: { status: string; progress: number; created: number; total: number } | undefined;
    for (let i = 0; i < 1200; i += 1) {
      state = (await (await fetch(`${base}/imports/${id}`, { headers: auth })).json()).import;
      if (state?.status === 'completed' || state?.status === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(state).toMatchObject({ status: 'completed', progress: rows, created: rows, total: rows });
    const count = await (await fetch(`${base}/users/count`, { headers: auth })).json();
    expect(count.count.value).toBe(rows + 1); // every row applied exactly once (plus the owner)
    const report = await (await fetch(`${base}/imports/${id}/report`, { headers: auth })).text();
    const lines = report.trim().split('\n').slice(1);
    expect(lines.map((line) => Number(line.split(',')[0]))).toEqual(Array.from({ length: rows }, (_, i) => i + 2));
    // The uploaded file is gone once the import ended.
    expect(fs.readdirSync(path.join(dataDir, 'imports'))).toEqual([]);

    second.child.kill('SIGTERM');
    expect(await new Promise((resolve) => second.child.once('exit', resolve))).toBe(0);
  }, 400_000);
});

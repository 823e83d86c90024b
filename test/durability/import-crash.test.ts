import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * CSV import durability, end to end: a real `roster serve` process on the embedded database,
 * killed with SIGKILL in the middle of an import, then started again: the import resumes from its
 * last committed batch and every row is applied exactly once.
 */
const root = path.resolve(import.meta.dirname, '../..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-import-crash-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function start(port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ROSTER_OWNER_EMAIL: 'owner@import-crash.test' };
  delete env.DATABASE_URL;
  delete env.ROSTER_OWNER_PASSWORD;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 90_000;
  while (!output.includes('Roster is running')) {
    if (child.exitCode !== null) throw new Error(`server exited: ${output}`);
    if (Date.now() > deadline) throw new Error(`server did not start: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, output: () => output };
}

describe('a CSV import on the embedded database', () => {
  it('survives SIGKILL mid-import and resumes with each row applied exactly once', async () => {
    const port = await freePort();
    const first = await start(port);
    const token = /API token: +(\S+)/.exec(first.output())?.[1];
    expect(token).toBeDefined();
    const auth = { authorization: `Basic ${Buffer.from(`owner@import-crash.test/token:${token}`).toString('base64')}` };
    const base = `http://127.0.0.1:${port}/api/v2`;
    const rows = 1200;
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

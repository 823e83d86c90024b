import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

export interface Served {
  child: ChildProcess;
  output: () => string;
}

/**
 * Real `roster serve` processes on one embedded data directory, for tests that kill and restart
 * the server; `cleanup` kills what is left and removes the directory.
 */
export function embeddedServer(name: string, ownerEmail: string) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `roster-${name}-`));
  const children: ChildProcess[] = [];

  async function start(port: number): Promise<Served> {
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ROSTER_OWNER_EMAIL: ownerEmail, SMTP_INBOUND_PORT: 'off' };
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

  function cleanup(): void {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  return { dataDir, start, cleanup };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

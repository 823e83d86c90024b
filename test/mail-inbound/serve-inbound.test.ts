import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-inbound-serve-'));
let child: ChildProcess | undefined;

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('roster serve with inbound SMTP', () => {
  it('starts the listener on a free port (SMTP_INBOUND_PORT=0, printed), takes mail in, logs no addresses, and stops cleanly on SIGTERM', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ROSTER_OWNER_EMAIL: 'owner@roster.test', SMTP_INBOUND_PORT: '0', MAIL_DOMAIN: 'mail.roster.test' };
    delete env.DATABASE_URL;
    delete env.ROSTER_OWNER_PASSWORD;
    delete env.INBOUND_MAIL_MAX_BYTES;
    const server = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = server;
    let output = '';
    server.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 150_000;
    while (!output.includes('These are shown only this once')) {
      if (server.exitCode !== null) throw new Error(`server exited: ${output}`);
      if (Date.now() > deadline) throw new Error(`server did not start: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const smtpPort = Number(/Inbound mail: SMTP on 127\.0\.0\.1:(\d+) for support@<account>\.mail\.roster\.test/.exec(output)?.[1]);
    const httpUrl = /Roster is running at (http:\/\/[^\s:]+:\d+)/.exec(output)?.[1] ?? '';
    const token = /API token: +(\S+)/.exec(output)?.[1] ?? '';
    expect(smtpPort, output).toBeGreaterThan(0);
    expect(smtpPort).not.toBe(2525);

    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
    const sent = await transport.sendMail({ from: 'Quinn Mailer <quinn@customer.test>', to: 'support@default.mail.roster.test', subject: 'Serve subject zq91', text: 'Hello from SMTP' });
    expect(sent.response).toMatch(/ticket_created/);
    const auth = `Basic ${Buffer.from(`owner@roster.test/token:${token}`).toString('base64')}`;
    const tickets = await (await fetch(`${httpUrl}/api/v2/tickets`, { headers: { authorization: auth } })).json() as { tickets: Array<{ subject: string; via: { channel: string } }> };
    expect(tickets.tickets.map((ticket) => [ticket.subject, ticket.via.channel])).toEqual([['Serve subject zq91', 'email']]);

    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Logged at info level: the outcome, never the sender, the recipient or the subject.
    expect(output).toContain('"inbound":"ticket_created"');
    expect(output).not.toMatch(/quinn|customer\.test|zq91|support@default/i);
  }, 240_000);
});

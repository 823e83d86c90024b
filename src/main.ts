import { Command } from 'commander';
import pino from 'pino';
import { loadConfig, type Config } from './config.ts';
import { DEFAULT_SUBDOMAIN, findAccountBySubdomain } from './accounts/accounts.repository.ts';
import { ensureAccount } from './accounts/bootstrap.ts';
import { issueApiToken, revokeApiToken } from './auth/api-tokens.ts';
import { openDatabase, type Database } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { closeOnSignals, startRuntime } from './server.ts';
import { runImportCommand } from './imports/import-command.ts';
import { loadInboundMailConfig } from './mail/inbound/inbound-config.ts';
import { serveInboundMail } from './mail/inbound/serve-inbound-mail.ts';

const program = new Command('roster').description('Roster: helpdesk people & privacy service');

function config(): Config {
  return loadConfig();
}

async function withDatabase<T>(work: (database: Database) => Promise<T>): Promise<T> {
  const cfg = config();
  const database = await openDatabase({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir, schema: cfg.databaseSchema });
  try {
    await migrateToLatest(database.db);
    return await work(database);
  } finally {
    await database.close();
  }
}

program
  .command('serve', { isDefault: true })
  .description('run the HTTP API (default)')
  .action(async () => {
    const cfg = config();
    const inbound = loadInboundMailConfig();
    const runtime = await startRuntime({ config: cfg, logger: true });
    const log = runtime.app.log;
    closeOnSignals(runtime, log);
    const boot = await ensureAccount(runtime.database.db, DEFAULT_SUBDOMAIN, {
      name: cfg.ownerName,
      email: cfg.ownerEmail,
      password: cfg.ownerPassword,
    });
    const smtp = await serveInboundMail(runtime, inbound, log);
    await runtime.app.listen({ port: cfg.port, host: cfg.host });
    const shownHost = cfg.host === '0.0.0.0' || cfg.host === '::' ? 'localhost' : cfg.host;
    // PORT=0 asks for any free port: show the one actually bound.
    const address = runtime.app.server.address();
    const url = `http://${shownHost}:${typeof address === 'object' && address ? address.port : cfg.port}`;
    const lines = [`Roster is running at ${url} (API ${url}/api/v2, docs ${url}/api/docs)`];
    // SMTP_INBOUND_PORT=0 likewise: the port bound is the one to point the MX or forwarder at.
    lines.push(smtp ? `Inbound mail: SMTP on ${inbound.host === '0.0.0.0' || inbound.host === '::' ? 'localhost' : inbound.host}:${smtp.port} for support@<account>.${inbound.mailDomain} and <account>@${inbound.mailDomain}` : 'Inbound mail: SMTP listener off (SMTP_INBOUND_PORT=off); POST /api/v2/inbound_email still works');
    lines.push(runtime.database.kind === 'pglite' ? `Database: embedded PGlite in ${cfg.dataDir}` : 'Database: PostgreSQL (DATABASE_URL)');
    if (boot.created) {
      // Printed once, on the terminal only (never through the logger): the owner's first credentials.
      lines.push('', 'First start: the account owner was created.', `  sign in as: ${boot.created.email}`);
      if (boot.created.password) lines.push(`  password:   ${boot.created.password}`);
      if (boot.created.apiToken) {
        lines.push(`  API token:  ${boot.created.apiToken}`);
        lines.push(`  try: curl -u '${boot.created.email}/token:${boot.created.apiToken}' ${url}/api/v2/users/me`);
      }
      lines.push('These are shown only this once.');
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  });

program
  .command('migrate')
  .description('apply database migrations and exit')
  .action(async () => {
    await withDatabase(async () => undefined);
    process.stdout.write('Migrations applied.\n');
  });

const tokens = program.command('tokens').description('manage API tokens (stop the server first when using the embedded database)');
tokens
  .command('create')
  .option('--account <subdomain>', 'account subdomain', DEFAULT_SUBDOMAIN)
  .option('--description <text>', 'what the token is for')
  .action(async (options: { account: string; description?: string }) => {
    await withDatabase(async (database) => {
      const account = await findAccountBySubdomain(database.db, options.account);
      if (!account) throw new Error(`No account "${options.account}"`);
      const issued = await issueApiToken(database.db, account.id, null, options.description ?? 'Created from the command line');
      process.stdout.write(`API token ${issued.id}: ${issued.token}\nUse it as: curl -u 'EMAIL/token:${issued.token}' …\n`);
    });
  });
tokens
  .command('list')
  .option('--account <subdomain>', 'account subdomain', DEFAULT_SUBDOMAIN)
  .action(async (options: { account: string }) => {
    await withDatabase(async (database) => {
      const account = await findAccountBySubdomain(database.db, options.account);
      if (!account) throw new Error(`No account "${options.account}"`);
      const rows = await database.db.selectFrom('api_tokens').selectAll().where('account_id', '=', account.id).orderBy('id').execute();
      for (const row of rows) process.stdout.write(`${row.id}\t${row.token_hint}\t${row.active ? 'active' : 'inactive'}\t${row.description ?? ''}\n`);
    });
  });
tokens
  .command('revoke <id>')
  .option('--account <subdomain>', 'account subdomain', DEFAULT_SUBDOMAIN)
  .action(async (id: string, options: { account: string }) => {
    await withDatabase(async (database) => {
      const account = await findAccountBySubdomain(database.db, options.account);
      if (!account) throw new Error(`No account "${options.account}"`);
      const revoked = /^\d{1,15}$/.test(id) && (await revokeApiToken(database.db, account.id, null, Number(id)));
      process.stdout.write(revoked ? `Revoked token ${id}.\n` : `No token ${id}.\n`);
    });
  });

program
  .command('accounts:create <subdomain>')
  .description('create an account (served at <subdomain>.localhost or <subdomain>.ROSTER_BASE_DOMAIN) with its owner')
  .requiredOption('--owner-email <email>')
  .option('--owner-name <name>', 'owner name', 'Account Owner')
  .option('--owner-password <password>')
  .action(async (subdomain: string, options: { ownerEmail: string; ownerName: string; ownerPassword?: string }) => {
    await withDatabase(async (database) => {
      const boot = await ensureAccount(database.db, subdomain, { email: options.ownerEmail, name: options.ownerName, password: options.ownerPassword });
      if (!boot.created) throw new Error(`Account "${subdomain}" already exists`);
      process.stdout.write(`Account ${subdomain} created; owner ${boot.created.email}\n`);
      if (boot.created.password) process.stdout.write(`  password:  ${boot.created.password}\n`);
      if (boot.created.apiToken) process.stdout.write(`  API token: ${boot.created.apiToken}\n`);
    });
  });

program
  .command('import <file>')
  .description('import users from a CSV file (Zendesk bulk-import columns) with a progress bar; stop a server on the embedded database first')
  .option('--dry-run', 'report what would happen; change nothing')
  .option('--update', 'update the users the file matches (by external_id, else email); without it they are left unchanged')
  .option('--account <subdomain>', 'account subdomain', DEFAULT_SUBDOMAIN)
  .option('--report <file>', 'write the per-row report to this CSV file')
  .action(async (file: string, options: { dryRun?: boolean; update?: boolean; account: string; report?: string }) => {
    await runImportCommand(config(), file, options, (line) => process.stdout.write(`${line}\n`));
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  pino().error({ err: { message: (error as Error).message } }, 'roster failed');
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});

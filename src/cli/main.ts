import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { OperationName } from '../admin/operations.ts';
import { httpUrl, loadConfig } from '../config.ts';
import { AppError, invalid } from '../errors.ts';
import type { DemoCredentials } from '../demo/demo.ts';
import { connect } from './executor.ts';
import { printError, printResult } from './output.ts';
import { addSecretOptions, readSecrets, type SecretOptions } from './secrets.ts';
import type { AccountDetails } from '../accounts/details.ts';
import { detailLines, syncLine, type SyncResult } from './details.ts';

/**
 * `opencommas` — manage users, keys, accounts and balance history. Each command builds the input
 * of one named operation; the executor runs it here or through the running server.
 *
 * What only some commands use is imported in their action: a command answered by the running
 * server, or by code alone (`markets`, `--help`), never loads the database, ccxt, viem or fastify.
 */
const program = new Command('opencommas')
  .description('Self-hosted, 3Commas-compatible accounts service')
  .option('--json', 'print results as JSON')
  .showHelpAfterError();

const json = () => Boolean(program.opts<{ json?: boolean }>().json);

/**
 * Runs one operation and prints its result: `render`'s text, or with --json the result (through
 * `toJson` when the CLI adds to it, e.g. a URL built from its own configuration).
 */
async function execute(
  name: OperationName,
  input: unknown,
  render?: (result: unknown) => string,
  toJson: (result: unknown) => unknown = (result) => result,
): Promise<void> {
  const config = loadConfig();
  const executor = await connect(config);
  try {
    const result = await executor.run(name, input);
    if (render && !json()) process.stdout.write(render(result) + '\n');
    else printResult(json() ? toJson(result) : result, json());
  } finally {
    await executor.close();
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw invalid('file', `cannot read ${file}: ${reason}`);
  }
}

function readJsonFile(file: string): unknown {
  const text = readText(file);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalid('file', `${file} is not valid JSON: ${(error as Error).message}`);
  }
}

const positiveInt = (flag: string) => (text: string) => {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1)
    throw invalid(flag, `must be a positive integer, got "${text}"`);
  return value;
};
const list = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** A server or worker that cannot start exits 1 at once: what it opened must not keep it alive. */
function failedToStart(error: unknown): never {
  printError(error, json());
  process.exit(1);
}

program
  .command('serve')
  .description('run the server (same as npm start), with a sync worker unless --no-worker')
  .option('--no-worker', 'serve the API only; run `opencommas worker` elsewhere')
  .option(
    '--processes <n>',
    'API processes sharing the port, PostgreSQL only (default: OPENCOMMAS_PROCESSES, else 1)',
  )
  .action(async (o: { worker: boolean; processes?: string }) => {
    const processes = o.processes === undefined ? undefined : positiveInt('processes')(o.processes);
    const { serve } = await import('./serve.ts');
    const { ProcessesRefused } = await import('./cluster.ts');
    await serve({ worker: o.worker, processes }).catch((error: unknown) => {
      if (!(error instanceof ProcessesRefused)) failedToStart(error);
      // A request this storage cannot serve, refused before anything started: a usage error.
      printError(error, json());
      process.exit(2);
    });
  });

program
  .command('worker')
  .description('run a sync worker alone (any number can share one PostgreSQL database)')
  .action(async () => {
    const { runWorker } = await import('./worker.ts');
    await runWorker().catch(failedToStart);
  });

const user = program.command('user').description('users');
user
  .command('create')
  .requiredOption('--email <email>', 'the user’s email')
  .option('--display-currency <code>', 'USD, BTC, EUR, JPY, ETH, … (see the README)', 'USD')
  .action((o: { email: string; displayCurrency: string }) =>
    execute('user.create', { email: o.email, display_currency: o.displayCurrency }),
  );
user
  .command('update')
  .requiredOption('--user <id>', 'the user id')
  .requiredOption('--display-currency <code>', 'USD, BTC, EUR, JPY, ETH, … (see the README)')
  .action((o: { user: string; displayCurrency: string }) =>
    execute('user.update', {
      user_id: positiveInt('user')(o.user),
      display_currency: o.displayCurrency,
    }),
  );
user
  .command('login-link')
  .description('a one-time link that signs the user in to the web dashboard')
  .requiredOption('--user <id>', 'the user id')
  .option('--base-url <url>', 'server URL the link points to (default: from HOST and PORT)')
  .action(async (o: { user: string; baseUrl?: string }) => {
    const { host, port } = loadConfig();
    const baseUrl = o.baseUrl ?? httpUrl(host, port);
    const { loginLinkUrl } = await import('../sessions/links.ts');
    type Link = { user_id: number; token: string; expires_at: string };
    const withUrl = (result: unknown) => {
      const { user_id, token, expires_at } = result as Link;
      return { user_id, url: loginLinkUrl(baseUrl, token), expires_at };
    };
    await execute(
      'user.login-link',
      { user_id: positiveInt('user')(o.user) },
      (result) => {
        const link = withUrl(result);
        return `${link.url}\n(one-time; valid until ${link.expires_at})`;
      },
      withUrl,
    );
  });
user
  .command('password')
  .description(
    'set (or replace) the user’s dashboard password, read from standard input (prompted at a ' +
      'terminal); ends the user’s sessions',
  )
  .requiredOption('--user <id>', 'the user id')
  .action(async (o: { user: string }) => {
    const userId = positiveInt('user')(o.user);
    const { readPassword } = await import('../sessions/read-password.ts');
    const password = await readPassword();
    await execute(
      'user.password',
      { user_id: userId, password },
      () => `password set for user ${userId}; their other sessions have ended`,
    );
  });

const key = program.command('key').description('API keys for the 3Commas API');
key
  .command('create')
  .requiredOption('--user <id>', 'owner user id')
  .requiredOption('--permissions <list>', 'comma-separated, e.g. ACCOUNTS_READ,ACCOUNTS_WRITE')
  .option(
    '--rsa-public-key <file>',
    'PEM of your own RSA public key (the key then signs with RSA, no secret)',
  )
  .option('--ip <list>', 'comma-separated IP addresses or CIDRs allowed to use the key')
  .option('--expires <iso>', 'expiry, ISO 8601')
  .action(
    (o: {
      user: string;
      permissions: string;
      rsaPublicKey?: string;
      ip?: string;
      expires?: string;
    }) =>
      execute('key.create', {
        user_id: positiveInt('user')(o.user),
        permissions: list(o.permissions),
        ...(o.rsaPublicKey ? { rsa_public_key: readText(o.rsaPublicKey) } : {}),
        ...(o.ip !== undefined ? { ip_whitelist: list(o.ip) } : {}),
        ...(o.expires ? { expires_at: o.expires } : {}),
      }),
  );
key
  .command('revoke')
  .requiredOption('--api-key <key>', 'the API key to revoke')
  .action((o: { apiKey: string }) => execute('key.revoke', { api_key: o.apiKey }));

const account = program.command('account').description('exchange accounts and wallets');
const add = account
  .command('add')
  .requiredOption('--user <id>', 'owner user id')
  .requiredOption('--market <code>', 'market code, see `opencommas markets`')
  .requiredOption('--name <name>', 'a name for the account')
  .option('--api-key <key>', 'exchange API key')
  .option('--address <address>', 'wallet address (ethereumwallet, bitcoinwallet)')
  .option('--keys-expire <iso>', 'when the exchange API key expires, ISO 8601')
  .option('--no-sync', 'store without contacting the exchange or chain; never synced');
addSecretOptions(add).action(
  async (
    o: SecretOptions & {
      user: string;
      market: string;
      name: string;
      apiKey?: string;
      address?: string;
      keysExpire?: string;
      sync: boolean;
    },
  ) =>
    execute('account.add', {
      user_id: positiveInt('user')(o.user),
      market_code: o.market,
      name: o.name,
      ...(o.apiKey !== undefined ? { api_key: o.apiKey } : {}),
      ...(await readSecrets(o)),
      ...(o.address !== undefined ? { address: o.address } : {}),
      ...(o.keysExpire !== undefined ? { api_keys_expire_at: o.keysExpire } : {}),
      ...(o.sync ? {} : { sync: false }),
    }),
);
const keys = account
  .command('keys')
  .description('replace an exchange account’s API keys (checked first); unlocks it')
  .requiredOption('--id <id>', 'account id')
  .requiredOption('--api-key <key>', 'exchange API key')
  .option('--keys-expire <iso>', 'when the new key expires, ISO 8601');
addSecretOptions(keys).action(
  async (o: SecretOptions & { id: string; apiKey: string; keysExpire?: string }) =>
    execute('account.keys', {
      account_id: positiveInt('id')(o.id),
      api_key: o.apiKey,
      ...(await readSecrets(o)),
      ...(o.keysExpire !== undefined ? { api_keys_expire_at: o.keysExpire } : {}),
    }),
);
account
  .command('sync')
  .description('read the account’s balances and transfers now')
  .requiredOption('--id <id>', 'account id')
  .action(async (o: { id: string }) => {
    let failed = false;
    await execute('account.sync', { account_id: positiveInt('id')(o.id) }, (result) => {
      const { outcome, details } = result as SyncResult;
      failed = outcome.status !== 'synced';
      return [syncLine(outcome), ...detailLines(details)].join('\n');
    });
    if (failed) process.exitCode = 1;
  });
account
  .command('show')
  .description('sync state, last error and the latest balances of an account')
  .requiredOption('--id <id>', 'account id')
  .action((o: { id: string }) =>
    execute('account.show', { account_id: positiveInt('id')(o.id) }, (result) =>
      detailLines(result as AccountDetails).join('\n'),
    ),
  );

program
  .command('balance')
  .description('balance history')
  .command('import')
  .requiredOption(
    '--file <file>',
    'JSON array of {account_id, at, btc_usd_price, assets: [{asset, amount, usd_price}]}',
  )
  .action((o: { file: string }) => execute('balance.import', { records: readJsonFile(o.file) }));

program
  .command('transfer')
  .description('deposits and withdrawals')
  .command('import')
  .requiredOption(
    '--file <file>',
    'JSON array of {account_id, at, asset, amount, usd_price, btc_usd_price, kind}',
  )
  .action((o: { file: string }) => execute('transfer.import', { records: readJsonFile(o.file) }));

program
  .command('snapshots')
  .description('balance snapshots')
  .command('prune')
  .description(
    'remove the snapshots retention does not keep (OPENCOMMAS_RETENTION_ALL, ' +
      'OPENCOMMAS_RETENTION_HOURLY), now; every figure served stays the same',
  )
  .action(() =>
    execute('snapshots.prune', {}, (result) => {
      const { removed, accounts } = result as { removed: number; accounts: number };
      return `removed ${removed} snapshot${removed === 1 ? '' : 's'} from ${accounts} account${accounts === 1 ? '' : 's'}`;
    }),
  );

program
  .command('prices')
  .description('display-currency prices of past rounds')
  .command('prune')
  .description(
    'remove the rounds no figure reads (older than 30 days and an hour, and not within an ' +
      'hour of a transfer, a first snapshot or a window start), now; every figure stays the same',
  )
  .action(() =>
    execute('prices.prune', {}, (result) => {
      const { removed } = result as { removed: number };
      return `removed ${removed} round${removed === 1 ? '' : 's'} of display prices`;
    }),
  );

program
  .command('markets')
  .description('list the supported markets')
  // The catalog is code, not data: no need to open (or contend for) the database.
  .action(async () => {
    const { listMarkets } = await import('../markets/catalog.ts');
    printResult(listMarkets(), json());
  });

program
  .command('demo')
  .description('seed the demo user (once) and print a fresh API key and secret for it')
  .option('--base-url <url>', 'server URL for the printed curl (default: from HOST and PORT)')
  .action(async (o: { baseUrl?: string }) => {
    const { host, port } = loadConfig();
    const baseUrl = o.baseUrl ?? httpUrl(host, port);
    const { demoLines } = await import('./welcome.ts');
    await execute('demo', {}, (result) => demoLines(baseUrl, result as DemoCredentials).join('\n'));
  });

program.parseAsync().catch((error: unknown) => {
  printError(error, json());
  process.exitCode = error instanceof AppError ? 1 : 2;
});

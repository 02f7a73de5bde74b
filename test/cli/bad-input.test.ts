// Bad input to the CLI (real child processes on real storage: PGlite in a fresh data directory,
// or a fresh PostgreSQL database when DATABASE_URL is set): each gets a clear message on stderr —
// the 3Commas error shape with --json — a non-zero exit, nothing on stdout, and writes nothing,
// which the last test proves by reading the same storage once every CLI process has exited.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliResult, CliStorage, ErrorShape } from '../support/cli.ts';
import { createCliStorage, jsonError, runCli } from '../support/cli.ts';
import { LIST, signedGet, type Credentials } from '../support/server.ts';
import type { RunningServer } from '../../src/server.ts';

const HOUR = 3_600_000;
const TABLES = [
  'users',
  'api_keys',
  'accounts',
  'balance_snapshots',
  'snapshot_assets',
  'transfers',
] as const;

let storage: CliStorage;
let userId: number;
let accountId: number;
let credentials: Credentials;
let before: Record<string, number>;
const now = Date.now();
const at = (hoursAgo: number) => new Date(now - hoursAgo * HOUR).toISOString();

async function countRows(server: RunningServer): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const row = await server.services.storage.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    counts[table] = Number(row.n);
  }
  return counts;
}

beforeAll(async () => {
  storage = await createCliStorage();
  // Seed through the services of the real server, then stop it so the CLI owns the storage.
  const server = await storage.startServer();
  try {
    const { services } = server;
    const user = await services.users.create({ email: 'owner@example.com' });
    userId = user.id;
    const key = await services.keys.create({ user_id: userId, permissions: ['ACCOUNTS_READ'] });
    credentials = { apiKey: key.api_key, secret: key.secret ?? '' };
    accountId = (
      await services.accounts.add({ user_id: userId, market_code: 'binance', name: 'M' })
    ).id;
    await services.balances.importSnapshots([
      {
        account_id: accountId,
        at: at(3),
        btc_usd_price: '50000',
        assets: [{ asset: 'USDT', amount: '100', usd_price: '1' }],
      },
    ]);
    before = await countRows(server);
  } finally {
    await server.stop();
  }
});
afterAll(() => storage.cleanup());

/** Runs the CLI and checks the failure is clean: non-zero exit, nothing on stdout. */
async function fails(args: string[]): Promise<CliResult> {
  const result = await runCli(storage.env, args);
  expect(result.signal, result.stderr).toBeNull();
  expect(result.code, result.stderr).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr.length).toBeGreaterThan(0);
  expect(result.stderr).not.toMatch(/\bat .+\.ts:\d+/); // a message, not a stack trace
  return result;
}

/** With --json: the 3Commas error shape, naming the bad field. */
async function failsJson(args: string[], field?: string): Promise<ErrorShape> {
  const body = jsonError(await fails(['--json', ...args]));
  expect(Object.keys(body).every((k) => /^error(_description|_attributes)?$/.test(k))).toBe(true);
  expect(typeof body.error).toBe('string');
  expect(body.error_description.length).toBeGreaterThan(5);
  if (field) {
    expect(body.error).toBe('record_invalid');
    expect(Object.keys(body.error_attributes ?? {}), JSON.stringify(body)).toContain(field);
    expect(body.error_attributes?.[field]?.[0]?.length).toBeGreaterThan(5);
  }
  return body;
}

function writeFile(name: string, content: unknown): string {
  const file = path.join(storage.dataDir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const snapshot = (account_id: number, hoursAgo: number, amount: string) => ({
  account_id,
  at: at(hoursAgo),
  btc_usd_price: '60000',
  assets: [{ asset: 'USDT', amount, usd_price: '1' }],
});

describe('CLI bad input', { timeout: 90_000 }, () => {
  it('account add: unknown user, unknown market, malformed wallet address, key without secret', async () => {
    const add = (...more: string[]) => ['account', 'add', '--name', 'X', ...more];

    const unknownUser = await failsJson(add('--user', '999999', '--market', 'binance'));
    expect(unknownUser.error).toBe('not_found');
    expect(unknownUser.error_description).toContain('999999');

    // Without --json: a readable line naming the field and the problem.
    const market = await fails(add('--user', String(userId), '--market', 'nosuchexchange'));
    expect(market.stderr).toMatch(/^opencommas: /);
    expect(market.stderr).toMatch(/market_code: .*nosuchexchange/);

    const address = await failsJson(
      add('--user', String(userId), '--market', 'ethereumwallet', '--address', '0x742d35cc66'),
      'address',
    );
    expect(address.error_attributes?.address?.[0]).toMatch(/not a valid/);

    await failsJson(
      add('--user', String(userId), '--market', 'binance', '--api-key', 'only-the-key'),
      'secret',
    );
  });

  it('balance import: missing file, not JSON, negative amount, bad second record, unknown account', async () => {
    const missing = path.join(storage.dataDir, 'no-such-file.json');
    const notFound = await fails(['balance', 'import', '--file', missing]);
    expect(notFound.stderr).toContain(missing);
    expect(notFound.stderr).toContain('ENOENT');

    const garbled = await failsJson(
      ['balance', 'import', '--file', writeFile('garbled.json', '[{"account_id": 1,')],
      'file',
    );
    expect(garbled.error_attributes?.file?.[0]).toMatch(/not valid JSON/);

    // First record valid, second with a negative amount: the schema check names record 1.
    const negative = await failsJson(
      [
        'balance',
        'import',
        '--file',
        writeFile('negative.json', [snapshot(accountId, 2, '10'), snapshot(accountId, 1, '-5')]),
      ],
      '1.assets.0.amount',
    );
    expect(negative.error_attributes?.['1.assets.0.amount']?.[0]).toMatch(/non-negative/);

    // Two snapshots of one account at one moment in the same file: refused up front, naming it.
    const repeated = await failsJson(
      [
        'balance',
        'import',
        '--file',
        writeFile('repeated.json', [snapshot(accountId, 2, '10'), snapshot(accountId, 2, '20')]),
      ],
      '1.at',
    );
    expect(repeated.error_attributes?.['1.at']?.[0]).toMatch(/repeats record 0/);

    // First record valid, second passes every up-front check but collides with the snapshot
    // stored in setup (3 hours ago) inside the write: the first must be rolled back with it.
    await failsJson(
      [
        'balance',
        'import',
        '--file',
        writeFile('collision.json', [snapshot(accountId, 2, '10'), snapshot(accountId, 3, '20')]),
      ],
      'at',
    );

    const unknown = await failsJson(
      [
        'balance',
        'import',
        '--file',
        writeFile('unknown.json', [snapshot(accountId, 2, '10'), snapshot(987654, 2, '10')]),
      ],
      'account_id',
    );
    expect(unknown.error_attributes?.account_id?.join(' ')).toContain('987654');
  });

  it('transfer import: a valid first record and a negative second write neither', async () => {
    const transfer = (amount: string) => ({
      account_id: accountId,
      at: at(2),
      asset: 'USDT',
      amount,
      usd_price: '1',
      btc_usd_price: '60000',
      kind: 'deposit',
    });
    await failsJson(
      [
        'transfer',
        'import',
        '--file',
        writeFile('transfers.json', [transfer('50'), transfer('-5')]),
      ],
      '1.amount',
    );
  });

  it('key create: unknown permission, invalid --ip, --expires in the past', async () => {
    const create = (...more: string[]) => ['key', 'create', '--user', String(userId), ...more];
    const permission = await failsJson(
      create('--permissions', 'ACCOUNTS_READ,ACCOUNTS_DELETE'),
      'permissions',
    );
    expect(permission.error_attributes?.permissions?.[0]).toContain('ACCOUNTS_DELETE');
    await failsJson(
      create('--permissions', 'ACCOUNTS_READ', '--ip', '127.0.0.1,300.1.2.3/8'),
      'ip_whitelist',
    );
    const past = await failsJson(
      create('--permissions', 'ACCOUNTS_READ', '--expires', '2020-01-01T00:00:00Z'),
      'expires_at',
    );
    expect(past.error_attributes?.expires_at?.[0]).toMatch(/future/);
  });

  it('account add / keys: secrets as arguments are refused, never echoed; bad secret files named', async () => {
    const add = (...more: string[]) => [
      'account',
      'add',
      '--user',
      String(userId),
      '--market',
      'okex',
      '--name',
      'X',
      '--api-key',
      'k',
      ...more,
    ];
    const secretFile = writeFile('okex.secret', 'file-secret\n');
    const secret = await failsJson(add('--secret', 'typed-secret-123'), 'secret');
    expect(secret.error_attributes?.secret?.[0]).toContain('--secret-file');
    expect(JSON.stringify(secret)).not.toContain('typed-secret-123');
    const passphrase = await fails(
      add('--secret-file', secretFile, '--passphrase', 'typed-passphrase-456'),
    );
    expect(passphrase.stderr).toContain('--passphrase-file');
    expect(passphrase.stderr).not.toContain('typed-passphrase-456');
    const keys = await fails([
      'account',
      'keys',
      '--id',
      String(accountId),
      '--api-key',
      'k',
      '--secret',
      'typed-secret-789',
    ]);
    expect(keys.stderr).toContain('--secret-file');
    expect(keys.stderr).not.toContain('typed-secret-789');

    const missing = path.join(storage.dataDir, 'no-such.secret');
    const unreadable = await failsJson(add('--secret-file', missing), 'secret_file');
    expect(unreadable.error_attributes?.secret_file?.[0]).toContain('ENOENT');
    const empty = await failsJson(add('--secret-file', '-'), 'secret_file'); // stdin is empty
    expect(empty.error_attributes?.secret_file?.[0]).toContain('standard input is empty');
    await failsJson(add('--secret-file', '-', '--passphrase-file', '-'), 'passphrase_file');
  });

  it('user create: duplicate email, an unsupported display currency', async () => {
    const duplicate = await failsJson(['user', 'create', '--email', 'OWNER@example.com'], 'email');
    expect(duplicate.error_attributes?.email?.[0]).toMatch(/taken/);
    const euro = await failsJson(
      ['user', 'create', '--email', 'euro@example.com', '--display-currency', 'EURO'],
      'display_currency',
    );
    expect(euro.error_attributes?.display_currency?.[0]).toMatch(/one of USD, BTC, EUR/);
  });

  it('none of it wrote anything', async () => {
    // Every CLI process has exited: on PGlite this process can now open the data directory.
    const server = await storage.startServer();
    try {
      expect(await countRows(server)).toEqual(before);
      const users = await server.services.storage.db.selectFrom('users').select('email').execute();
      expect(users.map((u) => u.email)).toEqual(['owner@example.com']);

      const response = await signedGet(server, LIST, credentials);
      expect(response.status).toBe(200);
      const accounts = (await response.json()) as Array<Record<string, unknown>>;
      expect(accounts.map((a) => [a.id, a.usd_amount, a.total_usd_profit])).toEqual([
        [accountId, '100.0', '0.0'],
      ]);
    } finally {
      await server.stop();
    }
  });
});

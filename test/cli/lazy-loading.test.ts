// Each process loads only what it uses, seen from the process itself: a loader hook records every
// module it loads. A command answered by the running server or by code alone (`markets`,
// `--help`) loads no database driver, no ccxt and no viem — together seconds and hundreds of
// megabytes a user waits for at every command; a server loads the one ccxt exchange it reads,
// not all of ccxt, and no chain code until a wallet is synced.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExchangeClass } from '../../src/exchanges/ccxt-modules.ts';
import { listMarkets } from '../../src/markets/index.ts';
import {
  createCliStorage,
  jsonOut,
  runCli,
  spawnServer,
  type CliStorage,
  type ServerProcess,
} from '../support/cli.ts';
import { onPostgres } from '../support/database.ts';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';

/** Appends the URL of every module the process loads to $LAZY_LOADING_LOG. */
const HOOKS = `
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.LAZY_LOADING_LOG, url + '\\n');
  return next(url, context);
}`;
const PRELOAD = `import { register } from 'node:module';
register('data:text/javascript;base64,${Buffer.from(HOOKS).toString('base64')}');`;
const RECORDING = `--import=data:text/javascript;base64,${Buffer.from(PRELOAD).toString('base64')}`;

let logDir: string;
let logs = 0;
let storage: CliStorage;

beforeAll(async () => {
  logDir = mkdtempSync(path.join(tmpdir(), 'opencommas-loads-'));
  storage = await createCliStorage();
});
afterAll(async () => {
  await storage?.cleanup();
  rmSync(logDir, { recursive: true, force: true });
});

/** The environment that makes a process record what it loads, and where to read it. */
function recording(env: Record<string, string>) {
  const file = path.join(logDir, `${++logs}.log`);
  writeFileSync(file, '');
  return {
    env: { ...env, NODE_OPTIONS: RECORDING, LAZY_LOADING_LOG: file },
    loaded: () => readFileSync(file, 'utf8').split('\n').filter(Boolean),
  };
}

/** `opencommas ...args` as a user runs it; what it printed and which modules it loaded. */
async function loadsOf(env: Record<string, string>, args: string[]) {
  const record = recording(env);
  const result = await runCli(record.env, args);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return { stdout: result.stdout, loaded: record.loaded() };
}

const fromPackage = (loaded: string[], name: string) =>
  loaded.filter((url) => url.includes(`/node_modules/${name}/`));

/** How many modules of each heavy dependency were loaded. */
function heavy(loaded: string[]) {
  return Object.fromEntries(
    ['@electric-sql/pglite', 'ccxt', 'viem', 'pg', 'pino'].map((name) => [
      name,
      fromPackage(loaded, name).length,
    ]),
  );
}
const NONE = { '@electric-sql/pglite': 0, ccxt: 0, viem: 0, pg: 0, pino: 0 };

/** ccxt's exchange modules (`js/src/<id>.js`), by id. */
const exchangeModules = (loaded: string[]) =>
  fromPackage(loaded, 'ccxt').flatMap((url) => /\/js\/src\/([a-z0-9]+)\.js$/.exec(url)?.[1] ?? []);

describe('what a command loads', { timeout: 120_000 }, () => {
  it('the hook sees what a process loads (a command that opens the database loads its driver)', async () => {
    const { loaded } = await loadsOf(storage.env, [
      '--json',
      'user',
      'create',
      '--email',
      'hook@example.com',
    ]);
    expect(fromPackage(loaded, onPostgres ? 'pg' : '@electric-sql/pglite')).not.toEqual([]);
  });

  it('`markets` and `--help` load no database driver, no ccxt, no viem', async () => {
    const markets = await loadsOf(storage.env, ['--json', 'markets']);
    expect(JSON.parse(markets.stdout)).toHaveLength(listMarkets().length);
    expect(heavy(markets.loaded)).toEqual(NONE);

    const help = await loadsOf(storage.env, ['--help']);
    expect(help.stdout).toContain('Usage: opencommas');
    expect(heavy(help.loaded)).toEqual(NONE);
  });

  // Through the server on the embedded database; straight to the database on PostgreSQL.
  if (onPostgres) {
    it('a command on PostgreSQL opens it itself, and loads no PGlite, no exchange and no chain code', async () => {
      const { loaded } = await loadsOf(storage.env, [
        '--json',
        'user',
        'create',
        '--email',
        'direct@example.com',
      ]);
      expect(fromPackage(loaded, 'pg')).not.toEqual([]);
      expect(fromPackage(loaded, '@electric-sql/pglite')).toEqual([]);
      expect(exchangeModules(loaded)).toEqual([]);
      expect(fromPackage(loaded, 'viem')).toEqual([]);
    });
  } else {
    it('a command through the running embedded server loads none of them either', async () => {
      const server = await storage.startServer();
      try {
        const user = await loadsOf(storage.env, [
          '--json',
          'user',
          'create',
          '--email',
          'through@example.com',
        ]);
        const userId = String((JSON.parse(user.stdout) as { id: number }).id);
        const key = await loadsOf(storage.env, [
          '--json',
          'key',
          'create',
          '--user',
          userId,
          '--permissions',
          'ACCOUNTS_READ',
        ]);
        expect(JSON.parse(key.stdout)).toMatchObject({ user_id: Number(userId) });
        const secretFile = path.join(logDir, 'secret.txt');
        writeFileSync(secretFile, 'not-checked\n');
        const account = await loadsOf(storage.env, [
          '--json',
          'account',
          'add',
          '--user',
          userId,
          '--market',
          'binance',
          '--name',
          'Manual',
          '--api-key',
          'k',
          '--secret-file',
          secretFile,
          '--no-sync',
        ]);
        expect(JSON.parse(account.stdout)).toMatchObject({ name: 'Manual' });
        for (const { loaded } of [user, key, account]) expect(heavy(loaded)).toEqual(NONE);
      } finally {
        await server.stop();
      }
    });
  }
});

describe('what a server loads', { timeout: 120_000 }, () => {
  let binance: Awaited<ReturnType<typeof startFakeBinance>>;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    binance = await startFakeBinance();
    binance.setPrice('BTC/USDT', '40000');
    binance.addAccount('load-key', { secret: 'load-secret', balances: { BTC: { free: '1' } } });
  });
  afterAll(async () => {
    server?.kill();
    await binance?.close();
  });

  it('the class of the one exchange it reads, not all of ccxt, and no chain code', async () => {
    const env = {
      ...storage.env,
      PORT: '0',
      OPENCOMMAS_DEMO: 'off',
      OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
      OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
    };
    const serverLoads = recording(env);
    server = spawnServer(serverLoads.env);
    await server.waitForStdout(/listening on/);
    const started = serverLoads.loaded();
    expect(exchangeModules(started)).toEqual([]);
    expect(fromPackage(started, 'viem')).toEqual([]);
    // Each storage mode loads its own driver only.
    expect(fromPackage(started, onPostgres ? '@electric-sql/pglite' : 'pg')).toEqual([]);

    const user = jsonOut<{ id: number }>(
      await runCli(env, ['--json', 'user', 'create', '--email', 'server-loads@example.com']),
      'user',
    );
    // Connecting reads the account now: in the server on PGlite, in the command on PostgreSQL.
    const command = recording(env);
    const added = jsonOut<{ usd_amount: string }>(
      await runCli(
        command.env,
        [
          '--json',
          'account',
          'add',
          '--user',
          String(user.id),
          '--market',
          'binance',
          '--name',
          'Read',
          '--api-key',
          'load-key',
          '--secret-file',
          '-',
        ],
        { input: 'load-secret\n' },
      ),
      'account add',
    );
    expect(added.usd_amount).toBe('40000.0');
    const loaded = [...serverLoads.loaded(), ...command.loaded()];
    expect(new Set(exchangeModules(loaded))).toEqual(new Set(['binance']));
    expect(fromPackage(loaded, 'ccxt').some((url) => url.endsWith('/ccxt/js/ccxt.js'))).toBe(false);
    expect(fromPackage(loaded, 'viem')).toEqual([]);

    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });
});

describe('an exchange class loaded alone', () => {
  it.each(listMarkets().flatMap((m) => (m.connector.type === 'ccxt' ? [m] : [])))(
    '$market_code: the very class ccxt exports for it',
    async (market) => {
      if (market.connector.type !== 'ccxt') throw new Error('an exchange market');
      const { exchangeId } = market.connector;
      const Class = await loadExchangeClass(exchangeId);
      expect(Class).toBe((ccxt as unknown as Record<string, unknown>)[exchangeId]);
    },
  );

  it('an id ccxt does not have is refused by name', async () => {
    await expect(loadExchangeClass('gateio')).rejects.toThrow('ccxt has no exchange "gateio"');
    await expect(loadExchangeClass('../ccxt')).rejects.toThrow('ccxt has no exchange');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/server.ts';
import {
  createCliStorage,
  spawnServer,
  type CliStorage,
  type ServerProcess,
} from '../support/cli.ts';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';
import { signedPost, userWithKey, type Credentials } from '../support/server.ts';

// SIGTERM on a running server (a child process, `npm start`): it stops accepting, answers the
// request in flight, aborts the sync still reading (nothing written, its claim released), closes
// storage and exits 0. A second signal exits at once; a shutdown past the grace exits 1.

let binance: Awaited<ReturnType<typeof startFakeBinance>>;
let storage: CliStorage;
let env: Record<string, string>;
let caller: Credentials;
/** Read on demand by the request in flight. */
let requested: number;
/** Due at once: the server's worker claims it and its read hangs. */
let scheduled: number;
/** Read on demand by requests that never get their answer. */
let stuck: number;
const running: ServerProcess[] = [];

beforeAll(async () => {
  binance = await startFakeBinance();
  binance.setPrice('BTC/USDT', '50000');
  binance.addAccount('requested-key', { secret: 's', balances: { BTC: { free: '1' } } });
  binance.addAccount('scheduled-key', { secret: 's', balances: { BTC: { free: '2' } } });
  binance.addAccount('stuck-key', { secret: 's', balances: { BTC: { free: '3' } } });
  // Their balance reads: one answers after 2 s, the others never.
  const account = '/api/v3/account';
  binance.fail({
    kind: 'slow',
    delayMs: 2000,
    path: account,
    apiKey: 'requested-key',
    times: Infinity,
  });
  binance.fail({ kind: 'timeout', path: account, apiKey: 'scheduled-key', times: Infinity });
  binance.fail({ kind: 'timeout', path: account, apiKey: 'stuck-key', times: Infinity });
  storage = await createCliStorage();
  env = {
    ...storage.env,
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
    OPENCOMMAS_EXCHANGE_TIMEOUT: '30s',
    OPENCOMMAS_RATE_LIMIT: 'off',
    OPENCOMMAS_DEMO: 'off',
  };
  await withServer(async (services) => {
    const owner = await userWithKey(services, { permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'] });
    caller = owner.credentials;
    const add = (name: string, key: string) =>
      services.accounts.add({
        user_id: owner.user.id,
        market_code: 'binance',
        name,
        api_key: key,
        secret: 's',
        sync: false,
      });
    requested = (await add('Requested', 'requested-key')).id;
    scheduled = (await add('Scheduled', 'scheduled-key')).id;
    stuck = (await add('Stuck', 'stuck-key')).id;
    // Only `scheduled` is due: `requested` is read by the request alone.
    const schedule = (id: number, at: number) =>
      services.storage.db
        .updateTable('accounts')
        .set({ next_sync_at: new Date(at) })
        .where('id', '=', id)
        .execute();
    await schedule(requested, Date.now() + 3_600_000);
    await schedule(stuck, Date.now() + 3_600_000);
    await schedule(scheduled, Date.now() - 1000);
  });
});
afterAll(async () => {
  for (const server of running) server.kill();
  await binance?.close();
  await storage?.cleanup();
});

type Services = Awaited<ReturnType<typeof startServer>>['services'];

/** The real server in this process, worker off, while no child holds the storage. */
async function withServer<T>(use: (services: Services) => Promise<T>): Promise<T> {
  const server = await startServer(
    loadConfig({ ...env, PORT: '0', LOG_LEVEL: 'silent', OPENCOMMAS_METRICS_PORT: 'off' }),
    { worker: false },
  );
  try {
    return await use(server.services);
  } finally {
    await server.stop();
  }
}

async function start(
  extra: Record<string, string>,
): Promise<{ server: ServerProcess; url: string }> {
  const server = spawnServer({ ...env, PORT: '0', LOG_LEVEL: 'info', ...extra });
  running.push(server);
  const printed = await server.waitForStdout(/listening on (http:\/\/\S+)/);
  return { server, url: /listening on (http:\/\/\S+)/.exec(printed)?.[1] ?? '' };
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const signedRequests = (key: string) => binance.stats.byKey[key] ?? 0;

const loadBalances = (url: string, id: number) =>
  signedPost({ url }, `/public/api/ver1/accounts/${id}/load_balances`, caller);

/** Resolves with the exit, or with 'still running' once `ms` have passed. */
const exitWithin = (server: ServerProcess, ms: number) =>
  Promise.race([
    server.exited,
    new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), ms)),
  ]);

describe('graceful shutdown', () => {
  it('SIGTERM: the request in flight answers 200, the sync still reading writes nothing and gives its account back, exit 0', async () => {
    binance.resetStats();
    const { server, url } = await start({ OPENCOMMAS_SHUTDOWN_GRACE: '20s' });

    await waitFor('the scheduled sync reading', () => signedRequests('scheduled-key') >= 1);
    const inFlight = loadBalances(url, requested);
    await waitFor('the request reading', () => signedRequests('requested-key') >= 1);
    server.child.kill('SIGTERM');

    const response = await inFlight;
    expect(response.status).toBe(201);
    const entity = (await response.json()) as { id: number; usd_amount: string };
    expect(entity).toMatchObject({ id: requested, usd_amount: '50000.0' });
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.stdout()).toMatch(/"msg":"shutting down"/);
    expect(server.stdout()).toMatch(/"msg":"stopped"/);
    // Nobody was refused for being too slow: the exit came from the shutdown finishing.
    expect(server.stdout()).not.toMatch(/OPENCOMMAS_SHUTDOWN_GRACE/);

    await withServer(async (services) => {
      const snapshots = await services.storage.db
        .selectFrom('balance_snapshots')
        .select(['account_id'])
        .where('account_id', 'in', [requested, scheduled])
        .execute();
      // The request's reading was written whole; the aborted sync wrote nothing.
      expect(snapshots.map((s) => s.account_id)).toEqual([requested]);
      const account = await services.storage.db
        .selectFrom('accounts')
        .select(['claimed_by', 'next_sync_at', 'last_sync_error', 'sync_failures'])
        .where('id', '=', scheduled)
        .executeTakeFirstOrThrow();
      // Released untouched: no claim, still due, no failure recorded.
      expect(account.claimed_by).toBeNull();
      expect(account.next_sync_at?.getTime()).toBeLessThanOrEqual(Date.now());
      expect({ error: account.last_sync_error, failures: account.sync_failures }).toEqual({
        error: null,
        failures: 0,
      });
    });
  }, 60_000);

  it('a second signal exits at once', async () => {
    binance.resetStats();
    const { server, url } = await start({ OPENCOMMAS_SHUTDOWN_GRACE: '60s' });
    // A request whose exchange never answers: the shutdown waits on it (30 s exchange timeout).
    const waiting = loadBalances(url, stuck).catch(() => undefined);
    await waitFor('the request reading', () => signedRequests('stuck-key') >= 1);
    server.child.kill('SIGTERM');
    await server.waitForStdout(/"msg":"shutting down"/);
    expect(await exitWithin(server, 1000)).toBe('still running');
    server.child.kill('SIGTERM');
    // Well before the exchange timeout or the grace: 128 + SIGTERM's 15.
    expect(await exitWithin(server, 10_000)).toEqual({ code: 143, signal: null });
    expect(server.stdout()).toMatch(/second signal: exiting at once/);
    await waiting;
  }, 60_000);

  it('a shutdown past OPENCOMMAS_SHUTDOWN_GRACE exits 1, saying so', async () => {
    // The killed server still holds its claim on the account it was reading: let it go.
    await withServer((services) =>
      services.storage.db
        .updateTable('accounts')
        .set({ claimed_by: null, claimed_until: null })
        .where('id', '=', stuck)
        .execute(),
    );
    binance.resetStats();
    const { server, url } = await start({ OPENCOMMAS_SHUTDOWN_GRACE: '1s' });
    const waiting = loadBalances(url, stuck).catch(() => undefined);
    await waitFor('the request reading', () => signedRequests('stuck-key') >= 1);
    server.child.kill('SIGTERM');
    expect(await exitWithin(server, 10_000)).toEqual({ code: 1, signal: null });
    expect(server.stdout()).toMatch(/shutdown took longer than OPENCOMMAS_SHUTDOWN_GRACE/);
    await waiting;
  }, 60_000);
});

import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';
import { OPENCOMMAS, ROOT, childEnv, runCli } from '../support/cli.ts';
import { onPostgres } from '../support/database.ts';
import { startTestServer, userWithKey, type TestServer } from '../support/server.ts';

// Separate worker processes share one PostgreSQL database. One killed in the middle of a sync
// (its exchange request in flight) leaves no partial snapshot, and once its lease lapses
// another worker syncs the account.

let binance: Awaited<ReturnType<typeof startFakeBinance>>;
let server: TestServer;
let env: Record<string, string>;

beforeAll(async () => {
  if (!onPostgres) return;
  binance = await startFakeBinance();
  binance.setPrice('BTC/USDT', '50000');
  env = {
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
    OPENCOMMAS_SYNC_LEASE: '2s',
    OPENCOMMAS_EXCHANGE_TIMEOUT: '30s',
  };
  server = await startTestServer(env);
});
afterAll(async () => {
  await server?.close();
  await binance?.close();
});

function startWorker(overrides: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [OPENCOMMAS, 'worker'], {
    cwd: ROOT,
    env: childEnv({
      ...env,
      ...overrides,
      DATABASE_URL: server.databaseUrl ?? '',
      OPENCOMMAS_MASTER_KEY: server.masterKey.toString('base64'),
      LOG_LEVEL: 'silent',
    }),
    // Logs are off: whatever reaches stderr is Node's own (a warning) or a crash.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

function stderrOf(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  return () => text;
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** An account holding 1 BTC on the Binance stand-in, connected (read once) or only stored. */
async function binanceAccount(userId: number, apiKey: string, options: { sync?: false } = {}) {
  binance.addAccount(apiKey, { secret: 's', balances: { BTC: { free: '1', locked: '0' } } });
  return server.services.accounts.add({
    user_id: userId,
    market_code: 'binance',
    name: apiKey,
    api_key: apiKey,
    secret: 's',
    ...options,
  });
}

// PGlite is one process: there, a separate worker is refused and the server's own worker is
// the only one (see the `else` branch at the end).
if (onPostgres)
  describe('worker processes on PostgreSQL', () => {
    it('a worker killed mid-sync writes nothing; another takes the account over', async () => {
      const { user } = await userWithKey(server.services);
      const account = await binanceAccount(user.id, 'killed-key');
      const snapshots = async () =>
        (
          await server.services.storage.db
            .selectFrom('balance_snapshots')
            .select('id')
            .where('account_id', '=', account.id)
            .execute()
        ).length;
      expect(await snapshots()).toBe(1);

      // The exchange takes the next balance request and never answers it.
      binance.fail({ kind: 'timeout', path: '/api/v3/account', apiKey: 'killed-key', times: 1 });
      binance.setBalance('killed-key', 'BTC', '2');
      await server.services.storage.db
        .updateTable('accounts')
        .set({ next_sync_at: new Date(Date.now() - 1000) })
        .where('id', '=', account.id)
        .execute();
      binance.resetStats();
      const worker = startWorker();
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      await waitFor(() => (binance.stats.byKey['killed-key'] ?? 0) >= 1);
      const claimed = await server.services.accounts.findAny(account.id);
      expect(claimed.claimed_by).toBeTruthy();
      worker.kill('SIGKILL');
      await exited;
      expect(await snapshots()).toBe(1);

      // The in-process worker waits for the lease to lapse, then syncs the account.
      server.services.worker.start();
      try {
        await waitFor(async () => (await snapshots()) === 2);
      } finally {
        await server.services.worker.stop();
      }
      const entity = await server.services.accounts.render(account.id);
      expect(entity.usd_amount).toBe('100000.0'); // 2 BTC × 50000
    });

    it('SIGTERM: a worker aborts the sync still reading (nothing written, claim released) and exits 0', async () => {
      const { user } = await userWithKey(server.services);
      const account = await binanceAccount(user.id, 'stopped-key', { sync: false });
      // The exchange takes the balance request and never answers it.
      binance.fail({ kind: 'timeout', path: '/api/v3/account', apiKey: 'stopped-key', times: 1 });
      await server.services.storage.db
        .updateTable('accounts')
        .set({ next_sync_at: new Date(Date.now() - 1000) })
        .where('id', '=', account.id)
        .execute();
      binance.resetStats();
      const worker = startWorker();
      const exited = new Promise<[number | null, string | null]>((resolve) =>
        worker.once('exit', (code, signal) => resolve([code, signal])),
      );
      await waitFor(() => (binance.stats.byKey['stopped-key'] ?? 0) >= 1);
      worker.kill('SIGTERM');
      expect(await exited).toEqual([0, null]);
      const row = await server.services.accounts.findAny(account.id);
      expect({ claimed: row.claimed_by, failures: row.sync_failures }).toEqual({
        claimed: null,
        failures: 0,
      });
      const snapshots = await server.services.storage.db
        .selectFrom('balance_snapshots')
        .select('id')
        .where('account_id', '=', account.id)
        .execute();
      expect(snapshots).toEqual([]);
    });

    it('two worker processes share 40 due accounts: each synced exactly once', async () => {
      const { user } = await userWithKey(server.services);
      const ids: number[] = [];
      for (let i = 0; i < 40; i++) {
        ids.push((await binanceAccount(user.id, `shared-${i}`, { sync: false })).id);
      }
      await server.services.storage.db
        .updateTable('accounts')
        .set({ next_sync_at: new Date(Date.now() - 1000) })
        .where('id', 'in', ids)
        .execute();
      // Accounts of the tests above (one aborted and still due) must not add to the count.
      await server.services.storage.db
        .updateTable('accounts')
        .set({ next_sync_at: new Date(Date.now() + 86_400_000) })
        .where('id', 'not in', ids)
        .execute();
      binance.resetStats();
      // A lease long enough that no sync outlives it on a loaded machine: this test is about
      // claims, not takeovers (the test above covers those).
      const longLease = { OPENCOMMAS_SYNC_LEASE: '60s' };
      const workers = [startWorker(longLease), startWorker(longLease)];
      const stderr = workers.map(stderrOf);
      try {
        await waitFor(async () => {
          const rows = await server.services.storage.db
            .selectFrom('balance_snapshots')
            .select('account_id')
            .where('account_id', 'in', ids)
            .execute();
          return rows.length >= ids.length;
        });
        // Let any double sync show itself before counting.
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        for (const worker of workers) worker.kill('SIGTERM');
      }
      const rows = await server.services.storage.db
        .selectFrom('balance_snapshots')
        .select('account_id')
        .where('account_id', 'in', ids)
        .execute();
      expect(rows.map((r) => r.account_id).sort((a, b) => a - b)).toEqual(
        [...ids].sort((a, b) => a - b),
      );
      expect(binance.stats.byPath['/api/v3/account']).toBe(40);
      // Dozens of syncs in flight share the worker's abort signal: by design, not a leak.
      expect(stderr.map((read) => read())).toEqual(['', '']);
    });
  });
else
  describe('a separate worker on the embedded database', () => {
    it('is refused with a message pointing to PostgreSQL, and exits non-zero', async () => {
      const result = await runCli({ OPENCOMMAS_DATA_DIR: '/nonexistent-opencommas' }, ['worker']);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/needs PostgreSQL \(set DATABASE_URL\)/);
    });
  });

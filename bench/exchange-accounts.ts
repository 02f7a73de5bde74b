// Exchange accounts a worker can really sync, shared by `npm run bench:sync` and
// `npm run bench:startup`: the local Binance- and OKX-protocol stand-ins (each key limited to a
// few requests a second, 429 past it), accounts seeded on them (half each), and `opencommas
// worker` processes pointed at them.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { createSealer } from '../src/auth/sealing.ts';
import type { Storage } from '../src/storage/database.ts';
import { startFakeBinance } from '../test/support/exchanges/binance-server.ts';
import { startFakeOkx } from '../test/support/exchanges/okx-server.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const PRICES: Record<string, string> = {
  'BTC/USDT': '60000',
  'ETH/USDT': '3000',
  'ETH/BTC': '0.05',
  'SOL/USDT': '150',
};

export interface StandIns {
  binance: Awaited<ReturnType<typeof startFakeBinance>>;
  okx: Awaited<ReturnType<typeof startFakeOkx>>;
}

/** Both stand-ins, priced, each key allowed `keyRps` requests a second. */
export async function startStandIns(keyRps: number): Promise<StandIns> {
  const [binance, okx] = await Promise.all([
    startFakeBinance({ perKeyRequestsPerSecond: keyRps }),
    startFakeOkx({ perKeyRequestsPerSecond: keyRps }),
  ]);
  for (const [symbol, last] of Object.entries(PRICES)) {
    binance.setPrice(symbol, last);
    okx.setPrice(symbol, last);
  }
  return { binance, okx };
}

export async function closeStandIns(standIns: StandIns): Promise<void> {
  await Promise.all([standIns.binance.close(), standIns.okx.close()]);
}

/** What a server or worker process needs to sync against the stand-ins. */
export function standInEnv(standIns: StandIns): Record<string, string> {
  return {
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({
      binance: standIns.binance.url,
      okex: standIns.okx.url,
    }),
    // The stand-ins limit each key, not the IP: no per-IP budget to honour here.
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0, okex: 0 }),
  };
}

/**
 * Accounts read since the stand-ins' stats were last reset: each read starts with the main
 * wallet (Binance spot, OKX trading), read once per account.
 */
export function balanceRequests({ binance, okx }: StandIns): number {
  return (
    (binance.stats.byPath['/api/v3/account'] ?? 0) +
    (okx.stats.byPath['/api/v5/account/balance'] ?? 0)
  );
}

/** Every wallet the catalog reads per account, by stand-in: what a round costs in requests. */
export const WALLET_PATHS = {
  binance: [
    '/api/v3/account',
    '/sapi/v1/asset/get-funding-asset',
    '/sapi/v1/simple-earn/flexible/position',
    '/sapi/v1/simple-earn/locked/position',
  ],
  okx: ['/api/v5/account/balance', '/api/v5/asset/balances'],
} as const;

/** Wallet reads (every wallet of every account) answered since the stats were last reset. */
export function walletRequests(standIns: StandIns): { binance: number; okx: number } {
  const count = (stats: { byPath: Record<string, number> }, paths: readonly string[]) =>
    paths.reduce((sum, path) => sum + (stats.byPath[path] ?? 0), 0);
  return {
    binance: count(standIns.binance.stats, WALLET_PATHS.binance),
    okx: count(standIns.okx.stats, WALLET_PATHS.okx),
  };
}

/**
 * Seeds `count` accounts (over 100 users, or the users given) on the stand-ins, connected earlier
 * (deposits and withdrawals already read: they are hourly) and next due at `nextSyncAt`.
 */
export async function seedExchangeAccounts(
  storage: Storage,
  masterKey: Buffer,
  standIns: StandIns,
  count: number,
  nextSyncAt: Date,
): Promise<void> {
  const sealer = createSealer(masterKey);
  const users = await storage.db
    .insertInto('users')
    .values(Array.from({ length: 100 }, (_, i) => ({ email: `bench-sync-${i}@opencommas.local` })))
    .returning('id')
    .execute();
  const now = new Date();
  const rows = [];
  for (let i = 0; i < count; i++) {
    const onOkx = i % 2 === 1;
    const apiKey = `bench-key-${i}`;
    const secret = `bench-secret-${i}`;
    const balances = {
      BTC: { free: `0.${(i % 97) + 1}`, locked: '0' },
      USDT: { free: String(100 + i), locked: '0' },
      ETH: { free: '1.5', locked: '0.5' },
    };
    // Real accounts keep money beside the main wallet: USDT in funding, ETH earning.
    const funding = { USDT: { free: String(50 + (i % 50)) } };
    if (onOkx) {
      standIns.okx.addAccount(apiKey, {
        secret,
        passphrase: 'bench-pass',
        balances,
        wallets: { funding },
      });
    } else {
      standIns.binance.addAccount(apiKey, {
        secret,
        balances,
        wallets: { funding, 'earn-flexible': { ETH: { free: '0.25' } } },
      });
    }
    rows.push({
      user_id: users[i % users.length]?.id ?? 0,
      market_code: onOkx ? 'okex' : 'binance',
      name: `Bench ${i}`,
      exchange_api_key: apiKey,
      exchange_secret_sealed: sealer.seal(secret),
      exchange_passphrase_sealed: onOkx ? sealer.seal('bench-pass') : null,
      transfers_synced_at: now,
      next_sync_at: nextSyncAt,
      updated_at: now,
    });
  }
  for (let i = 0; i < rows.length; i += 1000) {
    await storage.db
      .insertInto('accounts')
      .values(rows.slice(i, i + 1000))
      .execute();
  }
}

/** `opencommas worker` as the installed bin runs it (its pid is the node process itself). */
export function startWorker(
  env: Record<string, string>,
  stdio: StdioOptions = ['ignore', 'inherit', 'inherit'],
): ChildProcess {
  return spawn(process.execPath, ['bin/opencommas.mjs', 'worker'], {
    cwd: ROOT,
    // Metrics off unless asked for: several workers on one machine cannot all take port 9464.
    env: { ...process.env, OPENCOMMAS_METRICS_PORT: 'off', ...env },
    stdio,
  });
}

export function stopWorker(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Resolves once all `count` accounts have synced; throws on the first failed sync. */
export async function waitUntilSynced(
  storage: Storage,
  count: number,
  { progress = false } = {},
): Promise<void> {
  let last = -1;
  for (;;) {
    const row = await sql<{ synced: string; failed: string }>`
      SELECT count(*) FILTER (WHERE last_sync_at IS NOT NULL) AS synced,
             count(*) FILTER (WHERE last_sync_error IS NOT NULL) AS failed
      FROM accounts`.execute(storage.db);
    const synced = Number(row.rows[0]?.synced ?? 0);
    if (progress && synced !== last) process.stdout.write(`\r  synced ${synced}/${count}   `);
    last = synced;
    if (synced >= count) break;
    if (Number(row.rows[0]?.failed ?? 0) > 0) {
      const error = await sql<{ last_sync_error: string }>`
        SELECT last_sync_error FROM accounts WHERE last_sync_error IS NOT NULL LIMIT 1`.execute(
        storage.db,
      );
      throw new Error(`a sync failed: ${error.rows[0]?.last_sync_error}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (progress) process.stdout.write('\n');
}

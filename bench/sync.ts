// `npm run bench:sync`: live sync throughput. 10,000 accounts on the local Binance- and
// OKX-protocol servers (each key limited to a few requests per second, 429 past it), on
// PostgreSQL, synced by separate worker processes — first one worker (the baseline), then two,
// side by side. Prints accounts per minute, requests per account, tickers requests per
// exchange and rate-limit violations.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { openStorage } from '../src/storage/database.ts';
import {
  WALLET_PATHS,
  balanceRequests,
  closeStandIns,
  seedExchangeAccounts,
  standInEnv,
  startStandIns,
  startWorker,
  stopWorker,
  waitUntilSynced,
  walletRequests,
} from './exchange-accounts.ts';

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000);
const WORKER_RUNS = (process.env.BENCH_WORKERS ?? '1,2').split(',').map(Number);
const KEY_RPS = Number(process.env.BENCH_KEY_RPS ?? 5);
const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'opencommas_bench_sync';
const TARGET_PER_MIN = 10_000;

interface RunResult {
  workers: number;
  seconds: number;
  perMinute: number;
  balanceRequests: number;
  /** Wallet reads per account, by exchange (every wallet the catalog names). */
  walletsPerAccount: { binance: number; okx: number };
  tickerRequests: Record<string, number>;
  otherRequests: number;
  violations: number;
}

async function main(): Promise<void> {
  const databaseUrl = await freshDatabase();
  const masterKey = randomBytes(32);
  const standIns = await startStandIns(KEY_RPS);
  const { binance, okx } = standIns;
  const storage = await openStorage({ databaseUrl });
  const started: ChildProcess[] = [];
  const stopAll = () => started.forEach((child) => child.kill('SIGKILL'));
  process.once('exit', stopAll);
  try {
    console.log(`seeding ${ACCOUNTS} accounts (half binance, half okex)…`);
    // Not due yet: each run below makes every account due at its start.
    const later = new Date(Date.now() + 86_400_000);
    await seedExchangeAccounts(storage, masterKey, standIns, ACCOUNTS, later);
    const env = {
      DATABASE_URL: databaseUrl,
      OPENCOMMAS_MASTER_KEY: masterKey.toString('base64'),
      ...standInEnv(standIns),
      OPENCOMMAS_SYNC_INTERVAL: '1h',
      OPENCOMMAS_SYNC_CONCURRENCY: process.env.BENCH_CONCURRENCY ?? '64',
      LOG_LEVEL: 'warn',
    };
    const results: RunResult[] = [];
    for (const workers of WORKER_RUNS) {
      binance.resetStats();
      okx.resetStats();
      // A new round: every account due, tickers not yet read.
      await sql`UPDATE accounts SET next_sync_at = now(), last_sync_at = NULL`.execute(storage.db);
      await sql`DELETE FROM price_rounds`.execute(storage.db);
      const t0 = Date.now();
      const children = Array.from({ length: workers }, () => startWorker(env));
      started.push(...children);
      await waitUntilSynced(storage, ACCOUNTS, { progress: true });
      const seconds = (Date.now() - t0) / 1000;
      await Promise.all(children.map(stopWorker));
      const stats = [binance.stats, okx.stats];
      results.push({
        workers,
        seconds,
        perMinute: (ACCOUNTS / seconds) * 60,
        balanceRequests: balanceRequests(standIns),
        walletsPerAccount: (() => {
          const wallets = walletRequests(standIns);
          const half = ACCOUNTS / 2;
          return { binance: wallets.binance / half, okx: wallets.okx / half };
        })(),
        tickerRequests: {
          binance: binance.stats.byPath['/api/v3/ticker/24hr'] ?? 0,
          okex: okx.stats.byPath['/api/v5/market/tickers'] ?? 0,
        },
        otherRequests:
          stats.reduce((sum, s) => sum + s.total, 0) -
          walletRequests(standIns).binance -
          walletRequests(standIns).okx -
          (binance.stats.byPath['/api/v3/ticker/24hr'] ?? 0) -
          (okx.stats.byPath['/api/v5/market/tickers'] ?? 0),
        // Every 429 or 418 the stand-ins had to send (over a key's limit, or any other reason).
        violations: [binance.stats, okx.stats].reduce(
          (sum, s) => sum + s.rateLimited + s.banned,
          0,
        ),
      });
    }
    report(results);
  } finally {
    stopAll();
    await storage.close();
    await closeStandIns(standIns);
    await dropDatabase();
  }
}

function report(results: RunResult[]): void {
  const baseline = results[0];
  console.log('');
  console.log(
    'workers  accounts  seconds  accounts/min  vs 1 worker  accounts read  wallet req/account (binance, okex)  tickers req (binance, okex)  other req  429s',
  );
  for (const r of results) {
    console.log(
      [
        String(r.workers).padStart(7),
        String(ACCOUNTS).padStart(9),
        r.seconds.toFixed(1).padStart(8),
        Math.round(r.perMinute).toLocaleString('en-US').padStart(13),
        `${(r.perMinute / (baseline?.perMinute ?? r.perMinute)).toFixed(2)}×`.padStart(12),
        `${((r.balanceRequests / ACCOUNTS) * 100).toFixed(1)}%`.padStart(14),
        `${r.walletsPerAccount.binance.toFixed(2)}, ${r.walletsPerAccount.okx.toFixed(2)}`.padStart(
          34,
        ),
        `${r.tickerRequests.binance}, ${r.tickerRequests.okex}`.padStart(28),
        String(r.otherRequests).padStart(10),
        String(r.violations).padStart(5),
      ].join(' '),
    );
  }
  const best = results.at(-1);
  if (best) {
    const everyWalletOnce =
      best.balanceRequests === ACCOUNTS &&
      best.walletsPerAccount.binance === WALLET_PATHS.binance.length &&
      best.walletsPerAccount.okx === WALLET_PATHS.okx.length;
    const oneTickersRead = best.tickerRequests.binance === 1 && best.tickerRequests.okex === 1;
    const met =
      best.perMinute >= TARGET_PER_MIN &&
      best.violations === 0 &&
      everyWalletOnce &&
      oneTickersRead;
    console.log(
      `\ntarget (2 workers): ≥ ${TARGET_PER_MIN.toLocaleString('en-US')} accounts/min, 0 violations, ` +
        `every wallet read once per account (binance ${WALLET_PATHS.binance.length}, okex ` +
        `${WALLET_PATHS.okx.length}), 1 tickers request per exchange — ${met ? 'met' : 'NOT met'}`,
    );
  }
}

async function freshDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DATABASE}`;
  return url.toString();
}

async function dropDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.end();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

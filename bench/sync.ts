// `npm run bench:sync`: live sync throughput. 10,000 accounts on the local Binance- and
// OKX-protocol servers (each key limited to a few requests per second, 429 past it), on
// PostgreSQL, synced by separate worker processes — first one worker (the baseline), then two,
// side by side. Prints accounts per minute, requests per account, tickers requests per
// exchange and rate-limit violations.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { createSealer } from '../src/auth/sealing.ts';
import { openStorage, type Storage } from '../src/storage/database.ts';
import { startFakeBinance } from '../test/support/exchanges/binance-server.ts';
import { startFakeOkx } from '../test/support/exchanges/okx-server.ts';

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000);
const WORKER_RUNS = (process.env.BENCH_WORKERS ?? '1,2').split(',').map(Number);
const KEY_RPS = Number(process.env.BENCH_KEY_RPS ?? 5);
const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'opencommas_bench_sync';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TARGET_PER_MIN = 10_000;

const PRICES: Record<string, string> = {
  'BTC/USDT': '60000',
  'ETH/USDT': '3000',
  'ETH/BTC': '0.05',
  'SOL/USDT': '150',
};

interface RunResult {
  workers: number;
  seconds: number;
  perMinute: number;
  balanceRequests: number;
  tickerRequests: Record<string, number>;
  otherRequests: number;
  violations: number;
}

async function main(): Promise<void> {
  const databaseUrl = await freshDatabase();
  const masterKey = randomBytes(32);
  const [binance, okx] = await Promise.all([
    startFakeBinance({ perKeyRequestsPerSecond: KEY_RPS }),
    startFakeOkx({ perKeyRequestsPerSecond: KEY_RPS }),
  ]);
  for (const [symbol, last] of Object.entries(PRICES)) {
    binance.setPrice(symbol, last);
    okx.setPrice(symbol, last);
  }
  const storage = await openStorage({ databaseUrl });
  const started: ChildProcess[] = [];
  const stopAll = () => started.forEach((child) => child.kill('SIGKILL'));
  process.once('exit', stopAll);
  try {
    console.log(`seeding ${ACCOUNTS} accounts (half binance, half okex)…`);
    await seed(storage, masterKey, { binance, okx });
    const env = {
      DATABASE_URL: databaseUrl,
      OPENCOMMAS_MASTER_KEY: masterKey.toString('base64'),
      OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url, okex: okx.url }),
      // The stand-ins limit each key, not the IP: no per-IP budget to honour here.
      OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0, okex: 0 }),
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
      await waitUntilSynced(storage);
      const seconds = (Date.now() - t0) / 1000;
      await Promise.all(children.map(stopWorker));
      const stats = [binance.stats, okx.stats];
      results.push({
        workers,
        seconds,
        perMinute: (ACCOUNTS / seconds) * 60,
        balanceRequests:
          (binance.stats.byPath['/api/v3/account'] ?? 0) +
          (okx.stats.byPath['/api/v5/account/balance'] ?? 0),
        tickerRequests: {
          binance: binance.stats.byPath['/api/v3/ticker/24hr'] ?? 0,
          okex: okx.stats.byPath['/api/v5/market/tickers'] ?? 0,
        },
        otherRequests:
          stats.reduce((sum, s) => sum + s.total, 0) -
          (binance.stats.byPath['/api/v3/account'] ?? 0) -
          (okx.stats.byPath['/api/v5/account/balance'] ?? 0) -
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
    await Promise.all([binance.close(), okx.close()]);
    await dropDatabase();
  }
}

async function seed(
  storage: Storage,
  masterKey: Buffer,
  fakes: {
    binance: Awaited<ReturnType<typeof startFakeBinance>>;
    okx: Awaited<ReturnType<typeof startFakeOkx>>;
  },
): Promise<void> {
  const sealer = createSealer(masterKey);
  const users = await storage.db
    .insertInto('users')
    .values(Array.from({ length: 100 }, (_, i) => ({ email: `bench${i}@example.com` })))
    .returning('id')
    .execute();
  const now = new Date();
  const later = new Date(now.getTime() + 86_400_000);
  const rows = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const onOkx = i % 2 === 1;
    const apiKey = `bench-key-${i}`;
    const secret = `bench-secret-${i}`;
    const balances = {
      BTC: { free: `0.${(i % 97) + 1}`, locked: '0' },
      USDT: { free: String(100 + i), locked: '0' },
      ETH: { free: '1.5', locked: '0.5' },
    };
    if (onOkx) fakes.okx.addAccount(apiKey, { secret, passphrase: 'bench-pass', balances });
    else fakes.binance.addAccount(apiKey, { secret, balances });
    rows.push({
      user_id: users[i % users.length]?.id ?? 0,
      market_code: onOkx ? 'okex' : 'binance',
      name: `Bench ${i}`,
      exchange_api_key: apiKey,
      exchange_secret_sealed: sealer.seal(secret),
      exchange_passphrase_sealed: onOkx ? sealer.seal('bench-pass') : null,
      // Connected earlier: deposits and withdrawals were read then (they are hourly).
      transfers_synced_at: now,
      next_sync_at: later,
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

function startWorker(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['bin/opencommas.mjs', 'worker'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

function stopWorker(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function waitUntilSynced(storage: Storage): Promise<void> {
  let last = -1;
  for (;;) {
    const row = await sql<{ synced: string; failed: string }>`
      SELECT count(*) FILTER (WHERE last_sync_at IS NOT NULL) AS synced,
             count(*) FILTER (WHERE last_sync_error IS NOT NULL) AS failed
      FROM accounts`.execute(storage.db);
    const synced = Number(row.rows[0]?.synced ?? 0);
    if (synced !== last) process.stdout.write(`\r  synced ${synced}/${ACCOUNTS}   `);
    last = synced;
    if (synced >= ACCOUNTS) break;
    if (Number(row.rows[0]?.failed ?? 0) > 0) {
      const error = await sql<{ last_sync_error: string }>`
        SELECT last_sync_error FROM accounts WHERE last_sync_error IS NOT NULL LIMIT 1`.execute(
        storage.db,
      );
      throw new Error(`a sync failed: ${error.rows[0]?.last_sync_error}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  process.stdout.write('\n');
}

function report(results: RunResult[]): void {
  const baseline = results[0];
  console.log('');
  console.log(
    'workers  accounts  seconds  accounts/min  vs 1 worker  balance req/account  tickers req (binance, okex)  other req  429s',
  );
  for (const r of results) {
    console.log(
      [
        String(r.workers).padStart(7),
        String(ACCOUNTS).padStart(9),
        r.seconds.toFixed(1).padStart(8),
        Math.round(r.perMinute).toLocaleString('en-US').padStart(13),
        `${(r.perMinute / (baseline?.perMinute ?? r.perMinute)).toFixed(2)}×`.padStart(12),
        (r.balanceRequests / ACCOUNTS).toFixed(3).padStart(20),
        `${r.tickerRequests.binance}, ${r.tickerRequests.okex}`.padStart(28),
        String(r.otherRequests).padStart(10),
        String(r.violations).padStart(5),
      ].join(' '),
    );
  }
  const best = results.at(-1);
  if (best) {
    const met = best.perMinute >= TARGET_PER_MIN && best.violations === 0;
    console.log(
      `\ntarget (2 workers): ≥ ${TARGET_PER_MIN.toLocaleString('en-US')} accounts/min, 0 violations, ` +
        `1 balance request per account, 1 tickers request per exchange — ${met ? 'met' : 'NOT met'}`,
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

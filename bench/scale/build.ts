// The million-account database of `npm run bench:scale`, built with set-based SQL on the local
// PostgreSQL: users, keys, accounts across the catalog's markets, and balance history shaped as
// retention leaves it (every 5 minutes, then hourly, then daily), with its assets and transfers.
// Built once into a template database, then copied per run (CREATE DATABASE … TEMPLATE).
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import pg from 'pg';
import { createSealer } from '../../src/auth/sealing.ts';
import { openStorage } from '../../src/storage/database.ts';

/** How much history each account has, newest tier first (as retention keeps it). */
export interface HistoryTiers {
  /** Snapshots every 5 minutes for this many hours before now. */
  fiveMinuteHours: number;
  /** Then hourly, up to this many days. */
  hourlyDays: number;
  /** Then daily, up to this many days (an account is at most this old). */
  dailyDays: number;
}

/** The shape: 5-minutely for 2 days, hourly to 31 days, daily for a year. */
export const RETENTION_HISTORY: HistoryTiers = {
  fiveMinuteHours: 48,
  hourlyDays: 31,
  dailyDays: 365,
};

/**
 * A month of dailies and a day of hourlies: about 1/30 of the retention shape's rows. Measured
 * here (bench/scale/probe.ts), the retention shape is ~630 KB and ~1,400 snapshots per account
 * (1.75 GB for 2,775 accounts): a million such accounts would be ~630 GB and over a billion
 * snapshots, beyond this machine's disk and any 30-minute build. The mixed build (1 % of users
 * with the retention shape, the rest lean) of 100,000 users / 924,950 accounts took 17 min and
 * 25.5 GB here (58 M snapshots, 174 M assets), under other load.
 */
export const LEAN_HISTORY: HistoryTiers = { fiveMinuteHours: 1, hourlyDays: 1, dailyDays: 30 };

export interface ScaleSize {
  users: number;
  history: HistoryTiers;
  /**
   * Users whose accounts get another history: every `every`-th user (by id) has `history`
   * instead (the retention shape for a sample, when the rest is lean).
   */
  deep?: { every: number; history: HistoryTiers };
}

/** Which accounts a history goes to: every account, or those of every n-th user, or the rest. */
type Cohort = { every: number; deep: boolean } | undefined;

// Hashed, not `user_id % every`: how many accounts a user has follows the id's digits.
const cohortCondition = (cohort: Cohort) =>
  cohort === undefined
    ? 'TRUE'
    : `abs(hashint4(a.user_id::int)) % ${cohort.every} ${cohort.deep ? '=' : '<>'} 0`;

export interface BuiltDatabase {
  users: number;
  accounts: number;
  snapshots: number;
  assets: number;
  transfers: number;
  seconds: number;
  bytes: number;
}

/** Market mix, in percent of accounts (exchanges by popularity, then wallets). */
const MARKETS: Array<[code: string, percent: number]> = [
  ['binance', 30],
  ['okex', 12],
  ['bybit_spot', 10],
  ['kucoin', 8],
  ['kraken', 8],
  ['coinbase', 8],
  ['gate_io', 5],
  ['bitfinex', 4],
  ['binance_us', 3],
  ['ethereumwallet', 8],
  ['bitcoinwallet', 4],
];
const WALLETS = new Set(['ethereumwallet', 'bitcoinwallet']);

/**
 * Accounts per user, 1–30: 45 % have 1–5, 33 % 6–15, 22 % 16–30 (9.9 on average, so 100,000
 * users hold about a million accounts: 987,500).
 */
const ACCOUNTS_OF_USER = `CASE
  WHEN u.id % 100 < 45 THEN 1 + u.id % 5
  WHEN u.id % 100 < 78 THEN 6 + (u.id / 100) % 10
  ELSE 16 + (u.id / 100) % 15 END`;

/** A market code for account `i` of user `u`, spread by the mix above. */
function marketCase(): string {
  let upTo = 0;
  const arms = MARKETS.map(([code, percent]) => {
    upTo += percent;
    return `WHEN (u.id * 31 + i) % 100 < ${upTo} THEN '${code}'`;
  });
  return `CASE ${arms.join(' ')} END`;
}

/** Accounts are written this many at a time: progress to print, and bounded transactions. */
const BATCH_ACCOUNTS = 20_000;

/**
 * Builds database `name` on the server at `serverUrl` (which must not exist): the migrations,
 * then the data. `anchor` is "now" for the history; `masterKey` seals the keys' secrets.
 */
export async function buildScaleDatabase(
  serverUrl: string,
  name: string,
  size: ScaleSize,
  masterKey: Buffer,
  anchor: Date,
  progress: (line: string) => void,
): Promise<BuiltDatabase> {
  const started = Date.now();
  const admin = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const databaseUrl = `${serverUrl}/${name}`;
  await (await openStorage({ databaseUrl })).close(); // runs the migrations

  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    // A bench database: losing the last commits on a crash costs a rebuild, nothing more.
    await db.query('SET synchronous_commit = off');
    const sealer = createSealer(masterKey);
    await insertUsersAndKeys(db, size.users, sealer.seal(BENCH_SECRET));
    const accounts = await insertAccounts(db, sealer.seal(BENCH_SECRET));
    progress(`${size.users} users, ${accounts} accounts`);
    const ids = await db.query<{ min: string; max: string }>(
      'SELECT min(id) AS min, max(id) AS max FROM accounts',
    );
    const first = Number(ids.rows[0]?.min ?? 1);
    const last = Number(ids.rows[0]?.max ?? 0);
    // Indexes are built once over the loaded rows (a sort), not row by row as they arrive.
    const rebuild = await dropHistoryIndexes(db);
    const batches: Array<[number, number]> = [];
    for (let lo = first; lo <= last; lo += BATCH_ACCOUNTS) {
      batches.push([lo, Math.min(last, lo + BATCH_ACCOUNTS - 1)]);
    }
    let done = 0;
    await loadInParallel(databaseUrl, batches, async (loader, [lo, hi]) => {
      if (size.deep) {
        const { every } = size.deep;
        await insertHistory(loader, lo, hi, size.history, anchor, { every, deep: false });
        await insertHistory(loader, lo, hi, size.deep.history, anchor, { every, deep: true });
      } else {
        await insertHistory(loader, lo, hi, size.history, anchor, undefined);
      }
      done += hi - lo + 1;
      progress(`history: accounts ${done} of ${last - first + 1} (${elapsed(started)})`);
    });
    progress(`indexes… (${elapsed(started)})`);
    for (const statement of rebuild) await db.query(statement);
    await insertDisplayPrices(db, size.deep?.history ?? size.history, anchor);
    await db.query('ANALYZE');
    const counts = await db.query<Record<string, string>>(`SELECT
      (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM accounts) AS accounts,
      (SELECT count(*) FROM balance_snapshots) AS snapshots,
      (SELECT count(*) FROM snapshot_assets) AS assets, (SELECT count(*) FROM transfers) AS transfers,
      pg_database_size(current_database()) AS bytes`);
    const row = counts.rows[0] ?? {};
    return {
      users: Number(row.users),
      accounts: Number(row.accounts),
      snapshots: Number(row.snapshots),
      assets: Number(row.assets),
      transfers: Number(row.transfers),
      bytes: Number(row.bytes),
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await db.end();
  }
}

/** The history tables, whose keys and indexes are dropped for the load and rebuilt after. */
const HISTORY_TABLES = ['balance_snapshots', 'snapshot_assets', 'transfers'];

/**
 * Drops the history tables' constraints and indexes (the migrations' own, whatever they are)
 * and returns the statements that recreate them, primary keys and uniques first so that the
 * foreign keys find them.
 */
async function dropHistoryIndexes(db: pg.Client): Promise<string[]> {
  const constraints = await db.query<{ table: string; name: string; def: string; type: string }>(
    `SELECT conrelid::regclass::text AS table, conname AS name, contype AS type,
       pg_get_constraintdef(oid) AS def
     FROM pg_constraint WHERE conrelid::regclass::text = ANY($1) AND contype IN ('p', 'u', 'f')
     ORDER BY CASE contype WHEN 'f' THEN 1 ELSE 0 END`,
    [HISTORY_TABLES],
  );
  const indexes = await db.query<{ name: string; def: string }>(
    `SELECT indexname AS name, indexdef AS def FROM pg_indexes
     WHERE tablename = ANY($1) AND indexname NOT IN (
       SELECT conname FROM pg_constraint WHERE conrelid::regclass::text = ANY($1))`,
    [HISTORY_TABLES],
  );
  // Foreign keys first: a key another table references cannot go before its reference does.
  for (const c of [...constraints.rows].reverse()) {
    await db.query(`ALTER TABLE ${c.table} DROP CONSTRAINT ${c.name}`);
  }
  for (const index of indexes.rows) await db.query(`DROP INDEX ${index.name}`);
  return [
    ...constraints.rows
      .filter((c) => c.type !== 'f')
      .map((c) => `ALTER TABLE ${c.table} ADD CONSTRAINT ${c.name} ${c.def}`),
    ...indexes.rows.map((index) => index.def),
    ...constraints.rows
      .filter((c) => c.type === 'f')
      .map((c) => `ALTER TABLE ${c.table} ADD CONSTRAINT ${c.name} ${c.def}`),
  ];
}

/** Loaders working through the batches side by side: one per core of this machine. */
async function loadInParallel<T>(
  databaseUrl: string,
  batches: T[],
  load: (loader: pg.Client, batch: T) => Promise<void>,
): Promise<void> {
  const queue = [...batches];
  const loaders = Math.max(1, Math.min(availableParallelism(), queue.length));
  await Promise.all(
    Array.from({ length: loaders }, async () => {
      const loader = new pg.Client({ connectionString: databaseUrl });
      await loader.connect();
      try {
        await loader.query('SET synchronous_commit = off');
        for (let batch = queue.shift(); batch !== undefined; batch = queue.shift()) {
          await load(loader, batch);
        }
      } finally {
        await loader.end();
      }
    }),
  );
}

/** Every bench key and exchange account shares one secret (sealed once). */
export const BENCH_SECRET = 'bench-scale-secret';

/** A user's API key, as the build derives it from the user id (64 hex characters). */
export const benchApiKey = (userId: number) =>
  createHash('md5').update(`k${userId}`).digest('hex') +
  createHash('md5').update(`K${userId}`).digest('hex');

async function insertUsersAndKeys(db: pg.Client, users: number, sealedSecret: string) {
  await db.query(
    `INSERT INTO users (email) SELECT 'scale-' || g || '@opencommas.bench' FROM generate_series(1, $1) g`,
    [users],
  );
  await db.query(
    `INSERT INTO api_keys (user_id, api_key, secret_sealed, permissions)
     SELECT id, md5('k' || id) || md5('K' || id), $1, ARRAY['ACCOUNTS_READ', 'ACCOUNTS_WRITE']
     FROM users`,
    [sealedSecret],
  );
}

async function insertAccounts(db: pg.Client, sealedSecret: string): Promise<number> {
  const market = marketCase();
  const wallets = [...WALLETS].map((code) => `'${code}'`).join(', ');
  const result = await db.query(
    `INSERT INTO accounts (user_id, market_code, name, exchange_api_key, exchange_secret_sealed,
       wallet_address, created_at, updated_at)
     SELECT user_id, market_code, initcap(replace(market_code, '_', ' ')) || ' ' || i,
       CASE WHEN market_code IN (${wallets}) THEN NULL ELSE 'scale-' || user_id || '-' || i END,
       CASE WHEN market_code IN (${wallets}) THEN NULL ELSE $1 END,
       CASE WHEN market_code IN (${wallets})
         THEN '0x' || substr(md5('w' || user_id || '-' || i) || md5('W' || user_id), 1, 40) END,
       now(), now()
     FROM (SELECT u.id AS user_id, i, ${market} AS market_code
           FROM users u CROSS JOIN LATERAL generate_series(1, ${ACCOUNTS_OF_USER}) i) a
     ORDER BY user_id, i`,
    [sealedSecret],
  );
  return result.rowCount ?? 0;
}

/** The instants of the tiers, newest first, as SQL over `anchor` ($1). */
function tierInstants(h: HistoryTiers): string {
  return `SELECT $1::timestamptz - make_interval(mins => 5 * g) AS at
      FROM generate_series(0, ${h.fiveMinuteHours * 12 - 1}) g
    UNION ALL SELECT date_trunc('hour', $1::timestamptz) - make_interval(hours => g)
      FROM generate_series(${h.fiveMinuteHours}, ${h.hourlyDays * 24 - 1}) g
    UNION ALL SELECT date_trunc('day', $1::timestamptz) - make_interval(days => g)
      FROM generate_series(${h.hourlyDays}, ${h.dailyDays - 1}) g`;
}

// Prices move with time (a week-long wave), amounts with the account: every value is a short
// decimal, and usd_value is exactly the sum of its assets at their prices.
const BTC_PRICE = `round(60000 + 5000 * sin(extract(epoch FROM t.at) / 604800.0)::numeric, 2)`;

/** Each account's age in days: spread from 1 to the oldest tier, so histories differ in length. */
const AGE_DAYS = (h: HistoryTiers) => `(1 + (a.id * 37) % ${h.dailyDays})::int`;

async function insertHistory(
  db: pg.Client,
  lo: number,
  hi: number,
  h: HistoryTiers,
  anchor: Date,
  cohort: Cohort,
): Promise<void> {
  const among = cohortCondition(cohort);
  await db.query(
    `WITH t AS (${tierInstants(h)}),
     held AS (
       SELECT a.id, a.user_id, t.at, ${BTC_PRICE} AS btc,
         0.001 * (1 + a.id % 97) AS btc_amount, 0.01 * (1 + a.id % 89) AS eth_amount,
         10 * (1 + a.id % 83) AS usdt_amount
       FROM accounts a CROSS JOIN t
       WHERE a.id BETWEEN $2 AND $3 AND ${among} AND t.at > $1::timestamptz - make_interval(days => ${AGE_DAYS(h)})),
     s AS (
       INSERT INTO balance_snapshots (account_id, user_id, taken_at, btc_usd_price, usd_value)
       SELECT id, user_id, at, btc, btc_amount * btc + eth_amount * round(btc / 20, 2) + usdt_amount
       FROM held
       RETURNING id, account_id, user_id, btc_usd_price)
     INSERT INTO snapshot_assets (snapshot_id, user_id, asset, amount, usd_price)
     SELECT s.id, s.user_id, x.asset,
       CASE x.asset WHEN 'BTC' THEN 0.001 * (1 + s.account_id % 97)
         WHEN 'ETH' THEN 0.01 * (1 + s.account_id % 89) ELSE 10 * (1 + s.account_id % 83) END,
       CASE x.asset WHEN 'BTC' THEN s.btc_usd_price WHEN 'ETH' THEN round(s.btc_usd_price / 20, 2)
         ELSE 1 END
     FROM s CROSS JOIN (VALUES ('BTC'), ('ETH'), ('USDT')) x(asset)`,
    [anchor, lo, hi],
  );
  // The USDT that opened each account, and a withdrawal from one account in three.
  await db.query(
    `INSERT INTO transfers (account_id, user_id, at, asset, amount, usd_price, btc_usd_price, kind,
       external_id)
     SELECT a.id, a.user_id, $1::timestamptz - make_interval(days => ${AGE_DAYS(h)}), 'USDT',
       10 * (1 + a.id % 83), 1, 60000, 'deposit', 'open-' || a.id
     FROM accounts a WHERE a.id BETWEEN $2 AND $3 AND ${among}
     UNION ALL
     SELECT a.id, a.user_id, $1::timestamptz - interval '3 days', 'USDT', 5, 1, 60000,
       'withdrawal', 'out-' || a.id
     FROM accounts a WHERE a.id BETWEEN $2 AND $3 AND ${among} AND a.id % 3 = 0
       AND ${AGE_DAYS(h)} > 3`,
    [anchor, lo, hi],
  );
}

/** One display-price row per exchange and round, as the workers write them. */
async function insertDisplayPrices(db: pg.Client, h: HistoryTiers, anchor: Date) {
  const sources = MARKETS.map(([code]) => code).filter((code) => !WALLETS.has(code));
  await db.query(
    `INSERT INTO display_prices (source, fetched_at, usd_prices)
     SELECT s.source, t.at, jsonb_build_object('BTC', ${BTC_PRICE}::text,
       'ETH', round(${BTC_PRICE} / 20, 2)::text, 'EUR', '1.08', 'JPY', '0.0066')
     FROM (${tierInstants(h)}) t CROSS JOIN unnest($2::text[]) s(source)`,
    [anchor, sources],
  );
}

const elapsed = (started: number) => `${Math.round((Date.now() - started) / 1000)} s`;

import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHistories } from '../../src/balances/history.ts';
import { loadConfig } from '../../src/config.ts';
import { DISPLAY_CURRENCIES } from '../../src/prices/display-currencies.ts';
import {
  DisplayPriceRetention,
  DISPLAY_PRICES_KEPT_MS,
  pruneDisplayPrices,
  type DisplayPruneTuning,
} from '../../src/prices/display-retention.ts';
import { SyncWorker } from '../../src/sync/worker.ts';
import {
  LIST,
  signedGet,
  signedPost,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

/**
 * Display-price retention: the rounds no figure reads go, every figure in every display currency
 * stays exactly as it was (now, and at the later moments the windows move to), a second pass
 * removes nothing, and however many rounds are recorded the table stays within a bound.
 */
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const ROUND = 10 * MINUTE;
const SOURCES = ['binance', 'kraken'];
/** Small slices and account ranges: a pass goes through several of each. */
const TUNING: DisplayPruneTuning = { maxRowsPerSlice: 500, accountRangeWidth: 2 };

const now = Date.now();
const ago = (ms: number) => new Date(now - ms).toISOString();

let server: TestServer;
let credentials: Credentials;
let userId: number;
let accountIds: number[];

/**
 * Rounds every ten minutes on two exchanges, from `from` to `to` (ms since now). binance quotes
 * JPY every other round only (a probe for JPY passes over the others) and no ETH; kraken quotes
 * all three. Each round's prices differ, so a figure valued from another round would show.
 */
async function recordRounds(from: number, to: number): Promise<void> {
  await sql`INSERT INTO display_prices (source, fetched_at, usd_prices)
    SELECT s.source, to_timestamp(${now / 1000}::numeric + r * ${ROUND / 1000}), CASE s.source
      WHEN 'binance' THEN jsonb_build_object('EUR', (1.05 + (r % 997) / 100000.0)::text)
        || CASE WHEN r % 2 = 0 THEN jsonb_build_object('JPY', (0.0066 + (r % 89) / 10000000.0)::text)
          ELSE '{}'::jsonb END
      ELSE jsonb_build_object('EUR', (1.10 + (r % 991) / 100000.0)::text,
        'JPY', (0.0067 + (r % 83) / 10000000.0)::text, 'ETH', (2400 + r % 500)::text) END
    FROM unnest(${SOURCES}::text[]) s(source)
    CROSS JOIN generate_series(${Math.ceil(from / ROUND)}::int, ${Math.floor(to / ROUND)}::int) r
    ON CONFLICT DO NOTHING`.execute(server.services.storage.db);
}

async function rowCount(): Promise<number> {
  const row = await server.services.storage.db
    .selectFrom('display_prices')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function allRows(): Promise<string[]> {
  const { rows } = await sql<{ row: string }>`
    SELECT source || ' ' || fetched_at::text AS row FROM display_prices
    ORDER BY fetched_at, source`.execute(server.services.storage.db);
  return rows.map((r) => r.row);
}

const snapshot = (accountId: number, at: string, usd: string) => ({
  account_id: accountId,
  at,
  btc_usd_price: '50000',
  assets: [{ asset: 'USDT', amount: usd, usd_price: '1' }],
});
const transfer = (accountId: number, at: string, usd: string, kind: 'deposit' | 'withdrawal') => ({
  account_id: accountId,
  at,
  asset: 'USDT',
  amount: usd,
  usd_price: '1',
  btc_usd_price: '50000',
  kind,
});

beforeAll(async () => {
  server = await startTestServer();
  const { services } = server;
  const owner = await userWithKey(services, { displayCurrency: 'EUR' });
  credentials = owner.credentials;
  userId = owner.user.id;
  const add = (name: string, market: string, keys: object) =>
    services.accounts.add({ sync: false, user_id: userId, market_code: market, name, ...keys });
  const [trading, wallet, idle] = await Promise.all([
    add('Trading', 'binance', { api_key: 'k1', secret: 's1' }),
    // No prices of its own: valued from any exchange's round.
    add('Cold', 'ethereumwallet', { address: '0x8ba1f109551bd432803012645ac136ddd64dba72' }),
    // Not synced for fifty days: its latest snapshot opens every window.
    add('Idle', 'binance', { api_key: 'k2', secret: 's2' }),
  ]);
  accountIds = [trading.id, wallet.id, idle.id];
  const odd = 3 * MINUTE; // between two rounds
  await services.balances.importSnapshots([
    snapshot(trading.id, ago(95 * DAY + odd), '1000'),
    snapshot(trading.id, ago(80 * DAY + odd), '1100'),
    snapshot(trading.id, ago(31 * DAY + odd), '1200'),
    snapshot(trading.id, ago(25 * HOUR + odd), '1300'),
    snapshot(trading.id, ago(HOUR + odd), '1400'),
    snapshot(wallet.id, ago(60 * DAY + odd), '500'),
    snapshot(wallet.id, ago(10 * DAY + odd), '650'),
    snapshot(idle.id, ago(90 * DAY + odd), '300'),
    snapshot(idle.id, ago(50 * DAY + odd), '310'),
  ]);
  await services.balances.importTransfers([
    transfer(trading.id, ago(70 * DAY + odd), '200', 'deposit'),
    transfer(trading.id, ago(45 * DAY + 7 * MINUTE), '50', 'withdrawal'),
    transfer(trading.id, ago(33 * DAY + odd), '75', 'deposit'),
    transfer(trading.id, ago(2 * HOUR + odd), '25', 'deposit'),
    transfer(wallet.id, ago(40 * DAY + odd), '100', 'deposit'),
    transfer(idle.id, ago(85 * DAY + odd), '10', 'deposit'),
  ]);
  await recordRounds(-100 * DAY, 0);
}, 120_000);

afterAll(async () => {
  await server?.close();
});

/**
 * A request, sent again once if the kept-alive connection it went out on was closed meanwhile:
 * a pass on PGlite holds this process's event loop longer than the server keeps a connection.
 */
async function send(request: () => Promise<Response>): Promise<Response> {
  try {
    return await request();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (cause?.code !== 'ECONNRESET') throw error;
    return request();
  }
}

/** The list, the summary and the holdings table, in every display currency, as served. */
async function servedFigures(): Promise<Record<string, unknown>> {
  const figures: Record<string, unknown> = {};
  for (const currency of DISPLAY_CURRENCIES) {
    await server.services.users.setDisplayCurrency(userId, currency);
    const list = await send(() => signedGet(server, LIST, credentials));
    const summary = await send(() => signedGet(server, `${LIST}/summary`, credentials));
    const table = await send(() =>
      signedPost(server, `${LIST}/summary/account_table_data`, credentials),
    );
    expect([list.status, summary.status, table.status]).toEqual([200, 200, 201]);
    figures[currency] = [await list.json(), await summary.json(), await table.json()];
  }
  return figures;
}

/** What the windows value at `at` in every display currency (each window's prices, sums). */
async function figuresAt(at: number): Promise<string> {
  const all: unknown[] = [];
  for (const currency of DISPLAY_CURRENCIES) {
    const histories = await loadHistories(
      server.services.storage,
      accountIds,
      new Date(at),
      currency,
    );
    all.push([...histories].map(([id, h]) => [id, h.input]));
  }
  return JSON.stringify(all);
}

describe('display-price retention', () => {
  it('removes the rounds no figure reads, and every figure stays the same', async () => {
    const later = [now + HOUR, now + 3 * DAY, now + 20 * DAY, now + 45 * DAY];
    const served = await servedFigures();
    const ahead = await Promise.all(later.map(figuresAt));
    const before = await rowCount();
    // The figures really come from the rounds: EUR is priced, and differs by round.
    expect(JSON.stringify(served.EUR)).toContain('"EUR"');

    const removed = await pruneDisplayPrices(server.services.storage, new Date(now), TUNING);

    expect(removed).toBeGreaterThan(0.5 * (before - (2 * DISPLAY_PRICES_KEPT_MS) / ROUND));
    expect(await rowCount()).toBe(before - removed);
    expect(await servedFigures()).toEqual(served);
    expect(await Promise.all(later.map(figuresAt))).toEqual(ahead);
  }, 300_000);

  it('changes nothing when run again', async () => {
    const rows = await allRows();
    expect(await pruneDisplayPrices(server.services.storage, new Date(now), TUNING)).toBe(0);
    expect(await allRows()).toEqual(rows);
  });

  it('keeps the table within a bound however many rounds are recorded', async () => {
    // Every round within DISPLAY_PRICES_KEPT_MS, and those within an hour of the twelve moments
    // read past it (six transfers; each account's first snapshot and its latest at or before the
    // earliest period start): at most 13 rounds a source each.
    const bound = SOURCES.length * (Math.ceil(DISPLAY_PRICES_KEPT_MS / ROUND) + 1 + 12 * 13);
    const counts: number[] = [];
    for (let day = 1; day <= 45; day += 1) {
      const at = now + day * DAY;
      await recordRounds((day - 1) * DAY, day * DAY);
      const figures = day % 15 === 0 ? await figuresAt(at) : undefined;
      await pruneDisplayPrices(server.services.storage, new Date(at), TUNING);
      if (figures) expect(await figuresAt(at)).toBe(figures);
      counts.push(await rowCount());
    }
    // 145 days of rounds were recorded: about four times the bound.
    expect(Math.max(...counts)).toBeLessThanOrEqual(bound);
    expect(counts.at(-1)).toBe(counts.at(-2));
  }, 300_000);

  it('is run by the worker after snapshot retention, one line logged per pass', async () => {
    // Three rounds of one exchange 200 days ago, an hour and more from anything read.
    await recordRounds(-200 * DAY, -200 * DAY + 2 * ROUND);
    const lines: { msg: string; removed?: number }[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (text: string) => lines.push(JSON.parse(text)) },
    );
    const { storage, sync, retention, displayPrices } = server.services;
    const settings = { ...loadConfig({}).sync, idlePollMs: 20 };
    const worker = new SyncWorker(storage, sync, settings, logger, retention, displayPrices);
    worker.start();
    try {
      while (!lines.some((line) => line.msg.startsWith('display prices pruned'))) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await worker.stop();
    }
    const pruned = lines.filter((line) => / pruned/.test(line.msg)).map((line) => line.msg);
    expect(pruned).toEqual([
      'snapshots pruned: 0 removed',
      `display prices pruned: ${3 * SOURCES.length} removed`,
    ]);
  });

  it('looks, after a process’s first pass, only at the rounds aged since; a restart looks at all', async () => {
    const at = new Date(now + 46 * DAY);
    const retention = new DisplayPriceRetention(server.services.storage);
    await retention.prune(at);
    // Unread rounds appearing below what that pass examined (as an old import might bring).
    await recordRounds(-300 * DAY, -300 * DAY + 2 * ROUND);
    const recorded = async () => {
      const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM display_prices
        WHERE fetched_at < ${ago(299 * DAY)}::timestamptz`.execute(server.services.storage.db);
      return Number(rows[0]?.n);
    };
    expect(await recorded()).toBe(3 * SOURCES.length);
    await retention.prune(new Date(at.getTime() + HOUR));
    expect(await recorded()).toBe(3 * SOURCES.length);
    // A restarted worker (a new process's retention) examines everything again.
    await new DisplayPriceRetention(server.services.storage).prune(new Date(at.getTime() + HOUR));
    expect(await recorded()).toBe(0);
  });
});

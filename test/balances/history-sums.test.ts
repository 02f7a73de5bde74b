import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHistories } from '../../src/balances/history.ts';
import type { Storage } from '../../src/storage/database.ts';
import {
  DAY_MS,
  Dec,
  PERIOD_MS,
  formatAmount,
  formatPercent,
  transferValues,
  valueAccount,
  type CurrencyFigures,
  type SnapshotPoint,
  type TransferPoint,
  type UnpricedTransfer,
} from '../../src/valuation/index.ts';
import { startTestServer, userWithKey, type TestServer } from '../support/server.ts';

/**
 * An account with three years of history — a snapshot a day, thousands of transfers of four
 * assets at prices with many decimals, a few moved without a price — is valued from the window
 * sums storage computes in SQL. Every figure must equal, digit for digit, what the profit model
 * gives on the same data with every transfer handed to it one by one.
 */
const NOW = new Date('2026-03-01T12:00:00.000Z');
const START = NOW.getTime() - 3 * 365 * DAY_MS;
const ASSETS = ['BTC', 'ETH', 'USDT', 'XYZ'] as const;
const TRANSFERS = 3_000;

/** A small deterministic generator: the same history on every run and both backends. */
function generator(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}
const random = generator(11);
/** A decimal with `places` decimals below `max`, as text. */
const decimal = (max: number, places: number) =>
  new Dec(Math.floor(random() * max * 10 ** places) + 1).dividedBy(10 ** places).toFixed();

interface Snapshot {
  at: string;
  btc_usd_price: string;
  assets: Array<{ asset: string; amount: string; usd_price: string | null }>;
}
interface Transfer {
  at: string;
  asset: string;
  amount: string;
  usd_price: string | null;
  btc_usd_price: string;
  kind: 'deposit' | 'withdrawal';
}

const snapshots: Snapshot[] = Array.from({ length: 3 * 365 + 1 }, (_, day) => ({
  at: new Date(START + day * DAY_MS).toISOString(),
  btc_usd_price: decimal(90_000, 7),
  assets: ASSETS.map((asset) => ({
    asset,
    amount: decimal(50, 9),
    // XYZ loses its price route for a week a little before the period start.
    usd_price: asset === 'XYZ' && day >= 1050 && day < 1057 ? null : decimal(3_000, 11),
  })),
}));
const transfers: Transfer[] = Array.from({ length: TRANSFERS }, (_, i) => ({
  at: new Date(START + 1 + Math.floor(random() * (NOW.getTime() - START + DAY_MS))).toISOString(),
  asset: ASSETS[i % ASSETS.length] ?? 'BTC',
  amount: decimal(5, 12),
  // Every 97th XYZ transfer had no price when recorded.
  usd_price: i % 4 === 3 && i % 97 === 0 ? null : decimal(4_000, 13),
  btc_usd_price: decimal(90_000, 9),
  kind: random() < 0.6 ? 'deposit' : 'withdrawal',
}));
// One on the day start's own instant (already in that snapshot) and one after `now`.
const dayStartAt = new Date(START + 3 * 365 * DAY_MS - DAY_MS).toISOString();
transfers.push({ ...transfers[0]!, at: dayStartAt, asset: 'ETH' });
transfers.push({ ...transfers[1]!, at: new Date(NOW.getTime() + 1_000).toISOString() });

// EUR's USD price as the rounds stored it: a round at every snapshot, and every 30 minutes
// over the last 40 days. Older transfers have no round within reach: the total has no EUR.
const HALF_HOUR = DAY_MS / 48;
const rounds = [
  ...snapshots.map((s) => Date.parse(s.at)),
  ...Array.from({ length: 40 * 48 }, (_, i) => NOW.getTime() - 40 * DAY_MS + i * HALF_HOUR + 7_000),
]
  .sort((a, b) => a - b)
  .map((time) => ({ at: time, eur: decimal(2, 11) }));
const REACH = DAY_MS / 24;

/** The rule storage follows: the latest round within an hour before, else the first after. */
function eurAt(time: number): string | null {
  const before = rounds.filter((r) => r.at <= time && r.at >= time - REACH).at(-1);
  const after = rounds.find((r) => r.at > time && r.at <= time + REACH);
  return (before ?? after)?.eur ?? null;
}

/** The profit model's input built in JavaScript from every row, the way it was before sums. */
function modelInput(now: Date) {
  const points: SnapshotPoint[] = snapshots.map((s) => {
    const assets = new Map(
      s.assets.map((a) => [
        a.asset,
        a.usd_price === null ? null : new Dec(a.amount).times(a.usd_price),
      ]),
    );
    const usdValue = [...assets.values()].reduce(
      (sum: Dec, v) => (v ? sum.plus(v) : sum),
      new Dec(0),
    );
    const eur = eurAt(Date.parse(s.at));
    return {
      at: new Date(s.at),
      usdValue,
      btcUsdPrice: new Dec(s.btc_usd_price),
      displayUsdPrice: eur === null ? null : new Dec(eur),
      assets,
    };
  });
  const atOrBefore = (bound: number) =>
    points.filter((p) => p.at.getTime() <= bound).at(-1) ?? null;
  const priced: TransferPoint[] = transfers
    .filter((t) => t.usd_price !== null)
    .map((t) => ({
      at: new Date(t.at),
      asset: t.asset,
      ...transferValues(t.amount, t.usd_price!, t.btc_usd_price, t.kind, eurAt(Date.parse(t.at))),
    }));
  const unpriced: UnpricedTransfer[] = transfers
    .filter((t) => t.usd_price === null)
    .map((t) => ({ at: new Date(t.at), asset: t.asset }));
  return {
    latest: atOrBefore(now.getTime()),
    dayStart: atOrBefore(now.getTime() - DAY_MS),
    periodStart: atOrBefore(now.getTime() - PERIOD_MS),
    first: points[0] ?? null,
    transfers: priced,
    unpricedTransfers: unpriced,
  };
}

const shown = (f: CurrencyFigures) => [
  formatAmount(f.amount),
  formatAmount(f.day.profit),
  formatPercent(f.day.percentage, 4),
  formatAmount(f.period.profit),
  formatPercent(f.period.percentage, 4),
  formatAmount(f.total),
];

/** Counts the rows each statement returns, to show the transfers never leave the database. */
function countingRows(storage: Storage) {
  const counts: number[] = [];
  const plugin: KyselyPlugin = {
    transformQuery: (args) => args.node,
    transformResult: (args) => {
      counts.push(args.result.rows.length);
      return Promise.resolve(args.result);
    },
  };
  return { counted: { ...storage, db: storage.db.withPlugin(plugin) } as Storage, counts };
}

let server: TestServer;
let accountId: number;

beforeAll(async () => {
  server = await startTestServer();
  const { user } = await userWithKey(server.services);
  accountId = (
    await server.services.accounts.add({ user_id: user.id, market_code: 'binance', name: 'Years' })
  ).id;
  await server.services.balances.importSnapshots(
    snapshots.map((s) => ({ account_id: accountId, ...s })),
  );
  await server.services.balances.importTransfers(
    transfers
      .filter((t) => t.usd_price !== null)
      .map((t) => ({ account_id: accountId, ...t, usd_price: t.usd_price! })),
  );
  // The importer takes priced transfers only; the sync records unpriced ones like this.
  await server.services.storage.db
    .insertInto('transfers')
    .values(
      transfers
        .filter((t) => t.usd_price === null)
        .map((t) => ({ account_id: accountId, user_id: user.id, ...t, at: new Date(t.at) })),
    )
    .execute();
  const rows = rounds.map((r) => ({
    source: 'binance',
    fetched_at: new Date(r.at),
    usd_prices: JSON.stringify({ EUR: r.eur }),
  }));
  for (let i = 0; i < rows.length; i += 1000) {
    await server.services.storage.db
      .insertInto('display_prices')
      .values(rows.slice(i, i + 1000))
      .execute();
  }
}, 120_000);
afterAll(() => server.close());

describe('an account with years of transfers', () => {
  it('has the figures the model gives with every transfer, digit for digit', async () => {
    const histories = await loadHistories(server.services.storage, [accountId], NOW);
    const loaded = histories.get(accountId)!.input;
    const fromSums = valueAccount(loaded);
    const fromEveryTransfer = valueAccount(modelInput(NOW));
    expect(shown(fromSums.usd)).toEqual(shown(fromEveryTransfer.usd));
    expect(shown(fromSums.btc)).toEqual(shown(fromEveryTransfer.btc));
    // Not vacuous: money moved, and the windows differ.
    expect(shown(fromSums.usd)[5]).not.toBe(shown(fromSums.usd)[3]);
    expect(shown(fromSums.btc)[1]).not.toBe('0.0');
  });

  it('has the display currency’s figures the model gives, where every price is there', async () => {
    const loaded = (await loadHistories(server.services.storage, [accountId], NOW, 'EUR')).get(
      accountId,
    )!.input;
    const fromSums = valueAccount(loaded).display;
    const fromEveryTransfer = valueAccount(modelInput(NOW)).display;
    const windowText = (w: { profit: Dec; percentage: Dec } | null) =>
      w && [formatAmount(w.profit), formatPercent(w.percentage, 4)];
    const text = (d: typeof fromSums) => ({
      amount: d.amount && formatAmount(d.amount),
      day: windowText(d.day),
      period: windowText(d.period),
      total: d.total && formatAmount(d.total),
    });
    expect(text(fromSums)).toEqual(text(fromEveryTransfer));
    // The day and period windows have a EUR price everywhere; the total reaches back to
    // transfers no round priced in EUR, so it has none (shown in USD).
    expect(fromSums.day).not.toBeNull();
    expect(fromSums.period).not.toBeNull();
    expect(fromSums.total).toBeNull();
    // Valued in EUR, not a copy of the USD figure.
    expect(text(fromSums).amount).not.toBe(formatAmount(valueAccount(loaded).usd.amount));
  });

  it('reads window sums, one row per asset moved, instead of the transfers', async () => {
    const { counted, counts } = countingRows(server.services.storage);
    const histories = await loadHistories(counted, [accountId], NOW);
    const moved = histories.get(accountId)!.input;
    expect(moved.transfers).toEqual([]);
    expect([...moved.moved!.total.keys()].sort()).toEqual([...ASSETS]);
    // The window snapshots (one row), the sums (one per asset), and the few unpriced holdings.
    expect(counts.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...counts)).toBeLessThanOrEqual(ASSETS.length * 3);
    expect(counts.reduce((sum, c) => sum + c, 0)).toBeLessThan(50);
  });

  it('leaves an asset moved without a price out of the windows that hold the move', async () => {
    const moved = (await loadHistories(server.services.storage, [accountId], NOW)).get(accountId)!
      .input.moved!;
    const unpricedMoves = transfers.filter(
      (t) => t.usd_price === null && Date.parse(t.at) <= NOW.getTime(),
    );
    expect(unpricedMoves.length).toBeGreaterThan(0);
    expect(moved.total.get('XYZ')?.unpriced).toBe(true);
    expect(moved.total.get('BTC')?.unpriced).toBe(false);
  });
});

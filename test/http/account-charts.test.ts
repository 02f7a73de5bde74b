import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, Dec } from '../../src/valuation/index.ts';
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
 * The chart endpoints through signed HTTP, on histories imported as the CLI imports them.
 * Every figure below is worked out by hand in the comments.
 */
type Json = Record<string, unknown>;

const HOUR_MS = 60 * 60 * 1000;
const BASE = '/public/api/ver1/accounts';

let server: TestServer;
const now = Date.now();
const ago = (ms: number) => new Date(now - ms).toISOString();
/** 00:00 UTC today. */
const today = Math.floor(now / DAY_MS) * DAY_MS;
const at = (ms: number) => new Date(ms).toISOString();

interface Asset {
  asset: string;
  amount: string;
  usd_price: string | null;
}
const snap = (time: string, btc: string, assets: Asset[]) => ({
  at: time,
  btc_usd_price: btc,
  assets,
});
const held = (asset: string, amount: string, usd_price: string | null): Asset => ({
  asset,
  amount,
  usd_price,
});

async function addAccount(userId: number, name: string) {
  const { id } = await server.services.accounts.add({
    sync: false, // history is imported
    user_id: userId,
    market_code: 'binance',
    name,
    api_key: `key-${name}-${Math.random().toString(36).slice(2)}`,
    secret: 'exchange-secret',
  });
  return id;
}

async function importHistory(
  accountId: number,
  snapshots: ReturnType<typeof snap>[],
  transfers: Json[] = [],
) {
  await server.services.balances.importSnapshots(
    snapshots.map((s) => ({ account_id: accountId, ...s })),
  );
  if (transfers.length > 0) {
    await server.services.balances.importTransfers(
      transfers.map((t) => ({ account_id: accountId, ...t })),
    );
  }
}

async function post(path: string, credentials: Credentials, status = 201): Promise<Json[]> {
  const response = await signedPost(server, path, credentials);
  expect(response.status, await response.clone().text()).toBe(status);
  return (await response.json()) as Json[];
}

async function get(path: string, credentials: Credentials, status = 200): Promise<Json[]> {
  const response = await signedGet(server, path, credentials);
  expect(response.status, await response.clone().text()).toBe(status);
  return (await response.json()) as Json[];
}

async function listed(credentials: Credentials): Promise<Json[]> {
  return get(LIST, credentials);
}

const byId = (entities: Json[], id: number) => entities.find((e) => e.id === id) ?? {};

/**
 * Account A (display currency USD), three snapshots relative to now:
 *   S1 now−3d:  BTC 0.02 @ 40000, ETH 1 @ 2000, USDT 100 @ 1              BTC price 40000
 *   S2 now−25h: BTC 0.02 @ 50000, ETH 1.5 @ 2500, USDT 100 @ 1            BTC price 50000
 *       (the day window's start: the latest at or before now − 24 h)
 *   S3 now−2h:  BTC 0.02 @ 60000, ETH 1.5 @ 3000, USDT 150 @ 1, NEW 4 @ 0.5,
 *               DUST 1000 without a price                                 BTC price 60000
 *   value now = 1200 + 4500 + 150 + 2 = 5852 USD (DUST has no value).
 * Transfers: 0.5 ETH in at now−2d (2200, BTC 45000), 50 USDT in at now−3h (1, BTC 60000).
 */
const historyA = {
  snapshots: [
    snap(ago(3 * DAY_MS), '40000', [
      held('BTC', '0.02', '40000'),
      held('ETH', '1', '2000'),
      held('USDT', '100', '1'),
    ]),
    snap(ago(25 * HOUR_MS), '50000', [
      held('BTC', '0.02', '50000'),
      held('ETH', '1.5', '2500'),
      held('USDT', '100', '1'),
    ]),
    snap(ago(2 * HOUR_MS), '60000', [
      held('BTC', '0.02', '60000'),
      held('ETH', '1.5', '3000'),
      held('USDT', '150', '1'),
      held('NEW', '4', '0.5'),
      held('DUST', '1000', null),
    ]),
  ],
  transfers: [
    {
      at: ago(2 * DAY_MS),
      asset: 'ETH',
      amount: '0.5',
      usd_price: '2200',
      btc_usd_price: '45000',
      kind: 'deposit',
    },
    {
      at: ago(3 * HOUR_MS),
      asset: 'USDT',
      amount: '50',
      usd_price: '1',
      btc_usd_price: '60000',
      kind: 'deposit',
    },
  ],
};

/** Account C: one snapshot at now−1h, BTC 0.01 @ 60000 + USDT 400 = 1000 USD. */
const historyC = [
  snap(ago(HOUR_MS), '60000', [held('BTC', '0.01', '60000'), held('USDT', '400', '1')]),
];

let owner: { credentials: Credentials; userId: number };
let accountA: number;
let accountC: number;
let excluded: number;

beforeAll(async () => {
  server = await startTestServer();
  const user = await userWithKey(server.services);
  owner = { credentials: user.credentials, userId: user.user.id };
  accountA = await addAccount(user.user.id, 'main');
  await importHistory(accountA, historyA.snapshots, historyA.transfers);
  accountC = await addAccount(user.user.id, 'second');
  await importHistory(accountC, historyC);
  // Worth 999 USD but left out of the summary.
  excluded = await addAccount(user.user.id, 'hidden');
  await importHistory(excluded, [snap(ago(HOUR_MS), '60000', [held('USDT', '999', '1')])]);
  await server.services.storage.db
    .updateTable('accounts')
    .set({ include_in_summary: false })
    .where('id', '=', excluded)
    .execute();
  server.services.lister.cache.invalidate(user.user.id);
});
afterAll(() => server.close());

describe('POST /ver1/accounts/{id}/pie_chart_data', () => {
  it('answers 201 with one slice per priced asset, largest share first, in the spec’s types', async () => {
    const pie = await post(`${BASE}/${accountA}/pie_chart_data`, owner.credentials);
    // Shares of 5852: ETH 4500 → 76.8968 → 76.9; BTC 1200 → 20.5058 → 20.51;
    // USDT 150 → 2.5632 → 2.56; NEW 2 → 0.0342 → 0.03. DUST has no price: no slice.
    expect(pie).toEqual([
      {
        code: 'ETH',
        coinmarketcapid: null,
        name: 'ETH',
        y: 76.9,
        percentage: 76.9,
        amount: 1.5,
        btc_value: '0.07500000', // 4500 / 60000
        usd_value: '4500.00',
        primary_display_currency: { currency: 'USD', amount: '4500.0' },
        account_id: accountA,
      },
      {
        code: 'BTC',
        coinmarketcapid: null,
        name: 'BTC',
        y: 20.51,
        percentage: 20.51,
        amount: 0.02,
        btc_value: '0.02000000',
        usd_value: '1200.00',
        primary_display_currency: { currency: 'USD', amount: '1200.0' },
        account_id: accountA,
      },
      {
        code: 'USDT',
        coinmarketcapid: null,
        name: 'USDT',
        y: 2.56,
        percentage: 2.56,
        amount: 150,
        btc_value: '0.00250000', // 150 / 60000
        usd_value: '150.00',
        primary_display_currency: { currency: 'USD', amount: '150.0' },
        account_id: accountA,
      },
      {
        code: 'NEW',
        coinmarketcapid: null,
        name: 'NEW',
        y: 0.03,
        percentage: 0.03,
        amount: 4,
        btc_value: '0.00003333', // 2 / 60000 = 0.0000333…
        usd_value: '2.00',
        primary_display_currency: { currency: 'USD', amount: '2.0' },
        account_id: accountA,
      },
    ]);
  });

  it('shows the display amounts in the user’s display currency', async () => {
    const btcUser = await userWithKey(server.services, { displayCurrency: 'BTC' });
    const id = await addAccount(btcUser.user.id, 'btc-user');
    await importHistory(id, historyC);
    const pie = await post(`${BASE}/${id}/pie_chart_data`, btcUser.credentials);
    // 600 / 60000 = 0.01 BTC, 400 / 60000 = 0.00666… BTC.
    expect(pie.map((p) => p.primary_display_currency)).toEqual([
      { currency: 'BTC', amount: '0.01' },
      { currency: 'BTC', amount: new Dec(400).dividedBy(60000).toFixed() },
    ]);
  });
});

describe('POST /ver1/accounts/{id}/account_table_data', () => {
  it('answers 201 with one row per asset held, numbers as JSON numbers', async () => {
    const rows = await post(`${BASE}/${accountA}/account_table_data`, owner.credentials);
    expect(rows.map((r) => r.currency_code)).toEqual(['ETH', 'BTC', 'USDT', 'NEW', 'DUST']);
    const [eth, btc, usdt, fresh, dust] = rows as [Json, Json, Json, Json, Json];
    const zeros = {
      position_type: 0,
      borrowed: 0,
      on_orders: 0,
      on_orders_with_leverage: 0,
      on_orders_long: 0,
      on_orders_short: 0,
      available_long: 0,
      available_short: 0,
      available_with_leverage_long: 0,
      available_with_leverage_short: 0,
      account_id: accountA,
      is_wallet: false,
    };
    expect(eth).toEqual({
      currency_code: 'ETH',
      currency_name: 'ETH',
      percentage: (4500 * 100) / 5852, // 76.8967874231032…
      position: 1.5,
      position_available: 1.5,
      equity: 1.5,
      current_price: 0.05, // 3000 / 60000
      current_price_usd: 3000,
      // USD: 2500 → 3000 is +20 %; in BTC 2500/50000 = 0.05 → 3000/60000 = 0.05 is 0 %.
      day_change_percent: 20,
      day_change_percent_btc: 0,
      day_change_percent_usd: 20,
      btc_value: 0.075,
      usd_value: 4500,
      ...zeros,
    });
    // BTC: 50000 → 60000 is +20 % in USD, and one BTC is always one BTC.
    expect(btc).toMatchObject({ position: 0.02, current_price: 1, current_price_usd: 60000 });
    expect(btc).toMatchObject({ day_change_percent_usd: 20, day_change_percent_btc: 0 });
    // USDT: 1 → 1 is 0 % in USD; in BTC 1/50000 → 1/60000 is 50000/60000 − 1 = −16.67 %.
    expect(usdt.day_change_percent_usd).toBe(0);
    expect(usdt.day_change_percent_btc).toBeCloseTo(-50 / 3, 12);
    expect(usdt).toMatchObject({ position: 150, usd_value: 150, btc_value: 0.0025 });
    // NEW was not held at the day window's start: its change is unknown.
    expect(fresh).toMatchObject({ position: 4, usd_value: 2, day_change_percent_usd: null });
    // DUST has no price: its position, and null for every figure that needs a price.
    expect(dust).toEqual({
      currency_code: 'DUST',
      currency_name: 'DUST',
      percentage: null,
      position: 1000,
      position_available: 1000,
      equity: 1000,
      current_price: null,
      current_price_usd: null,
      day_change_percent: null,
      day_change_percent_btc: null,
      day_change_percent_usd: null,
      btc_value: null,
      usd_value: null,
      ...zeros,
    });
    // No field we cannot know is invented.
    expect(Object.keys(eth)).not.toContain('currency_icon');
    expect(Object.keys(eth)).not.toContain('currency_slug');
  });
});

describe('GET /ver1/accounts/{id}/balance_chart_data', () => {
  /**
   * Account B, at fixed times of the UTC days (D = today 00:00):
   *   S1 D−3d+1h: BTC 0.01 @ 50000 + USDT 100 → 600 USD, BTC price 50000 → 0.012 BTC
   *   S2 D−2d+6h: BTC 0.01 @ 52000 + USDT 300 → 820 USD → 820/52000 = 0.0157692… BTC
   *   S3 D−1d+12h: BTC 0.01 @ 48000 + USDT 250 + XYZ 7 (no price) → 730 USD
   *                → 730/48000 = 0.0152083… BTC
   *   S4 D−1d+20h: after date_to, never shown
   * Transfers: +200 USDT at D−2d+3h (BTC 51000: 200/51000 = 0.0039215…),
   *            −50 USDT at D−1d+2h (BTC 49000: −50/49000 = −0.0010204…).
   */
  let accountB: number;
  beforeAll(async () => {
    accountB = await addAccount(owner.userId, 'chart');
    const D = today;
    await importHistory(
      accountB,
      [
        snap(at(D - 3 * DAY_MS + HOUR_MS), '50000', [
          held('BTC', '0.01', '50000'),
          held('USDT', '100', '1'),
        ]),
        snap(at(D - 2 * DAY_MS + 6 * HOUR_MS), '52000', [
          held('BTC', '0.01', '52000'),
          held('USDT', '300', '1'),
        ]),
        snap(at(D - DAY_MS + 12 * HOUR_MS), '48000', [
          held('BTC', '0.01', '48000'),
          held('USDT', '250', '1'),
          held('XYZ', '7', null),
        ]),
        snap(at(D - DAY_MS + 20 * HOUR_MS), '47000', [held('USDT', '1', '1')]),
      ],
      [
        {
          at: at(D - 2 * DAY_MS + 3 * HOUR_MS),
          asset: 'USDT',
          amount: '200',
          usd_price: '1',
          btc_usd_price: '51000',
          kind: 'deposit',
        },
        {
          at: at(D - DAY_MS + 2 * HOUR_MS),
          asset: 'USDT',
          amount: '50',
          usd_price: '1',
          btc_usd_price: '49000',
          kind: 'withdrawal',
        },
      ],
    );
  });

  it('answers a point per 00:00 UTC and one at date_to, deposits per point', async () => {
    const from = at(today - 3 * DAY_MS).slice(0, 10); // YYYY-MM-DD
    const to = at(today - DAY_MS + 18 * HOUR_MS);
    const points = await get(
      `${BASE}/${accountB}/balance_chart_data?date_from=${from}&date_to=${to}`,
      owner.credentials,
    );
    const s = (ms: number) => Math.floor(ms / 1000);
    expect(points).toEqual([
      // D−3d: no snapshot yet, no point.
      {
        date: s(today - 2 * DAY_MS),
        usd: 600,
        btc: 0.012,
        btc_deposit_amount: 0,
        usd_deposit_amount: 0,
      },
      // (D−2d, D−1d]: +200 USDT.
      {
        date: s(today - DAY_MS),
        usd: 820,
        btc: 0.015769,
        btc_deposit_amount: 0.003922,
        usd_deposit_amount: 200,
      },
      // (D−1d, D−1d+18h]: −50 USDT.
      {
        date: s(today - DAY_MS + 18 * HOUR_MS),
        usd: 730,
        btc: 0.015208,
        btc_deposit_amount: -0.00102,
        usd_deposit_amount: -50,
      },
    ]);
  });

  it('takes ISO 8601 instants: the first point is 00:00 UTC of date_from’s day', async () => {
    const from = at(today - DAY_MS + 7 * HOUR_MS); // e.g. 2026-11-28T07:00:00.000Z
    const to = at(today - DAY_MS + 13 * HOUR_MS);
    const points = await get(
      `${BASE}/${accountB}/balance_chart_data?date_from=${from}&date_to=${to}`,
      owner.credentials,
    );
    expect(points.map((p) => [p.date, p.usd])).toEqual([
      [Math.floor((today - DAY_MS) / 1000), 820],
      [Math.floor((today - DAY_MS + 13 * HOUR_MS) / 1000), 730],
    ]);
    // The same span with date_to in unix seconds (as the docs typed it until 2025) and
    // date_from with an offset: 09:00+02:00 is 07:00Z.
    const offset = `${from.slice(0, 10)}T09:00:00%2B02:00`;
    const seconds = Math.floor((today - DAY_MS + 13 * HOUR_MS) / 1000);
    expect(
      await get(
        `${BASE}/${accountB}/balance_chart_data?date_from=${offset}&date_to=${seconds}`,
        owner.credentials,
      ),
    ).toEqual(points);
  });

  it('ends with a point for now when date_to is absent, also when served again', async () => {
    for (let i = 0; i < 2; i += 1) {
      const before = Math.floor(Date.now() / 1000);
      const from = at(today - DAY_MS).slice(0, 10);
      const points = await get(
        `${BASE}/${accountB}/balance_chart_data?date_from=${from}`,
        owner.credentials,
      );
      const after = Math.ceil(Date.now() / 1000);
      expect(points.map((p) => p.date).slice(0, 2)).toEqual([
        Math.floor((today - DAY_MS) / 1000),
        Math.floor(today / 1000),
      ]);
      const last = points.at(-1) ?? {};
      expect(last.date).toBeGreaterThanOrEqual(before);
      expect(last.date).toBeLessThanOrEqual(after);
      // S4: 1 USDT at BTC 47000 → 1/47000 = 0.0000212… → 0.000021.
      expect(last).toMatchObject({ usd: 1, btc: 0.000021 });
    }
  });

  it('refuses a bad date_from in the spec’s words, and a span beyond five years', async () => {
    for (const bad of ['yesterday', '2024-02-30', '2024-13-01T00:00:00Z']) {
      const response = await signedGet(
        server,
        `${BASE}/${accountB}/balance_chart_data?date_from=${bad}`,
        owner.credentials,
      );
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: 'record_invalid',
        error_description: 'Invalid parameters',
        error_attributes: { date_from: ['is invalid'] },
      });
    }
    const long = await signedGet(
      server,
      `${BASE}/${accountB}/balance_chart_data?date_from=2015-01-01&date_to=2024-01-01`,
      owner.credentials,
    );
    expect(long.status).toBe(400);
    expect(await long.json()).toMatchObject({
      error_attributes: { date_from: [expect.stringContaining('1827 days')] },
    });
    const missing = await signedGet(
      server,
      `${BASE}/${accountB}/balance_chart_data`,
      owner.credentials,
    );
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({
      error: 'record_invalid',
      error_attributes: { date_from: expect.any(Array) },
    });
    const reversed = await signedGet(
      server,
      `${BASE}/${accountB}/balance_chart_data?date_from=2024-03-02&date_to=2024-03-01`,
      owner.credentials,
    );
    expect(reversed.status).toBe(400);
  });
});

describe('every figure agrees with the list, to the last digit', () => {
  /** The exact figures the three endpoints give for `target`, beside the list's. */
  async function figures(target: string) {
    const pie = await post(`${BASE}/${target}/pie_chart_data`, owner.credentials);
    const table = await post(`${BASE}/${target}/account_table_data`, owner.credentials);
    const chart = await get(
      `${BASE}/${target}/balance_chart_data?date_from=${at(today).slice(0, 10)}`,
      owner.credentials,
    );
    const sum = (values: unknown[]) =>
      values.reduce((s: Dec, v) => s.plus(String(v ?? 0)), new Dec(0));
    return {
      pieDisplay: sum(pie.map((p) => (p.primary_display_currency as { amount: string }).amount)),
      pieUsd: sum(pie.map((p) => p.usd_value)),
      tableUsd: sum(table.map((r) => r.usd_value)),
      pieShares: sum(pie.map((p) => p.percentage)),
      last: chart.at(-1) ?? {},
    };
  }

  it('for one account: pie, table and the chart’s last point make its usd_amount', async () => {
    const entity = byId(await listed(owner.credentials), accountA);
    expect(entity.usd_amount).toBe('5852.0'); // 1200 + 4500 + 150 + 2; DUST has no value
    const f = await figures(String(accountA));
    expect(f.pieDisplay.toFixed()).toBe(new Dec(entity.usd_amount as string).toFixed());
    expect(f.pieUsd.toFixed()).toBe('5852');
    expect(f.tableUsd.toFixed()).toBe('5852');
    expect(f.last.usd).toBe(5852);
    // 5852 / 60000 = 0.0975333…: the list's btc_amount to 6 decimals.
    expect(f.last.btc).toBe(Number(new Dec(entity.btc_amount as string).toFixed(6)));
    expect(f.last.btc).toBe(0.097533);
  });

  it('for the summary: every account with include_in_summary, each slice with its account_id', async () => {
    const entities = await listed(owner.credentials);
    // A (5852) and C (1000) are counted, the hidden account (999) is not. The chart account B
    // was added by the chart tests: its latest snapshot holds 1 USDT, at BTC 47000.
    const counted = entities.filter((e) => e.include_in_summary === true);
    expect(counted.map((e) => e.id)).not.toContain(excluded);
    const total = counted.reduce((s: Dec, e) => s.plus(e.usd_amount as string), new Dec(0));
    const f = await figures('summary');
    expect(f.pieDisplay.toFixed()).toBe(total.toFixed());
    expect(f.tableUsd.toFixed()).toBe(total.toFixed());
    expect(f.last.usd).toBe(Number(total.toFixed(2)));
    const btcTotal = counted.reduce((s: Dec, e) => s.plus(e.btc_amount as string), new Dec(0));
    expect(f.last.btc).toBe(Number(btcTotal.toFixed(6)));
  });

  it('summary over two accounts: shares of their sum, figured by hand', async () => {
    const user = await userWithKey(server.services);
    const a = await addAccount(user.user.id, 'a');
    await importHistory(a, historyA.snapshots, historyA.transfers);
    const c = await addAccount(user.user.id, 'c');
    await importHistory(c, historyC);
    const pie = await post(`${BASE}/summary/pie_chart_data`, user.credentials);
    // Of 5852 + 1000 = 6852: ETH(A) 4500 → 65.67, BTC(A) 1200 → 17.51, BTC(C) 600 → 8.76,
    // USDT(C) 400 → 5.84, USDT(A) 150 → 2.19, NEW(A) 2 → 0.03 (sum 100.00).
    expect(pie.map((p) => [p.code, p.account_id, p.percentage])).toEqual([
      ['ETH', a, 65.67],
      ['BTC', a, 17.51],
      ['BTC', c, 8.76],
      ['USDT', c, 5.84],
      ['USDT', a, 2.19],
      ['NEW', a, 0.03],
    ]);
    const table = await post(`${BASE}/summary/account_table_data`, user.credentials);
    expect(table.map((r) => [r.currency_code, r.account_id])).toEqual([
      ['ETH', a],
      ['BTC', a],
      ['BTC', c],
      ['USDT', c],
      ['USDT', a],
      ['NEW', a],
      ['DUST', a],
    ]);
    // C is younger than a day: its day window starts at its only snapshot, so no change.
    expect(table[2]).toMatchObject({ day_change_percent_usd: 0, day_change_percent_btc: 0 });
    const chart = await get(
      `${BASE}/summary/balance_chart_data?date_from=${at(today).slice(0, 10)}`,
      user.credentials,
    );
    // 6852 USD; 5852/60000 + 1000/60000 = 0.1142 BTC.
    expect(chart.at(-1)).toMatchObject({ usd: 6852, btc: 0.1142 });
  });
});

/**
 * On PostgreSQL this process also hears its own announcements back through LISTEN, a moment
 * after the write, and drops the user's cache again then. Announces a marker and waits for its
 * echo: notifications arrive in commit order, so every earlier one has been heard too.
 */
async function everyAnnouncementHeard(userId: number): Promise<void> {
  const { changes, storage } = server.services;
  const expected = storage.kind === 'postgres' ? 2 : 1;
  let heard = 0;
  const echoed = new Promise<void>((resolve) => {
    changes.subscribe((change) => {
      if (change.userId === userId && (heard += 1) === expected) resolve();
    });
  });
  await changes.transaction(async (_tx, announce) => announce({ userId }));
  await echoed;
}

describe('caching and access', () => {
  it('a new snapshot shows at once: the charts are dropped with the list’s pages', async () => {
    const user = await userWithKey(server.services);
    const id = await addAccount(user.user.id, 'fresh');
    await importHistory(id, historyC);
    const first = await post(`${BASE}/${id}/pie_chart_data`, user.credentials);
    expect(first.map((p) => p.usd_value)).toEqual(['600.00', '400.00']);
    await importHistory(id, [snap(ago(HOUR_MS / 2), '60000', [held('USDT', '10', '1')])]);
    const second = await post(`${BASE}/${id}/pie_chart_data`, user.credentials);
    expect(second.map((p) => [p.code, p.usd_value, p.percentage])).toEqual([
      ['USDT', '10.00', 100],
    ]);
  });

  it('is served from the cache until the user’s change is announced', async () => {
    const user = await userWithKey(server.services);
    const id = await addAccount(user.user.id, 'cached');
    await importHistory(id, historyC);
    await everyAnnouncementHeard(user.user.id);
    const path = `${BASE}/${id}/account_table_data`;
    expect((await post(path, user.credentials)).map((r) => r.position)).toEqual([0.01, 400]);
    // A write behind the service's back (no announcement): the cached rows are still served.
    await server.services.storage.db
      .updateTable('snapshot_assets')
      .set({ amount: '500' })
      .where('asset', '=', 'USDT')
      .where('snapshot_id', 'in', (q) =>
        q.selectFrom('balance_snapshots').select('id').where('account_id', '=', id),
      )
      .execute();
    expect((await post(path, user.credentials)).map((r) => r.position)).toEqual([0.01, 400]);
    // What every write announces for its user drops the charts with the list's pages.
    server.services.lister.cache.invalidate(user.user.id);
    // BTC 600 USD still leads USDT, now 500.
    expect((await post(path, user.credentials)).map((r) => r.position)).toEqual([0.01, 500]);
  });

  it('a path id that is neither an account id nor summary names no account: 404 not_found', async () => {
    for (const id of ['abc', '0', '-1', '1.5', 'Summary']) {
      const response = await signedPost(server, `${BASE}/${id}/pie_chart_data`, owner.credentials);
      expect(response.status, id).toBe(404);
      expect(await response.json()).toEqual({ error: 'not_found', error_description: 'Not Found' });
    }
  });

  it('another user’s account is 404 not_found on all three; summary of nothing is []', async () => {
    const stranger = await userWithKey(server.services);
    for (const request of [
      () => signedPost(server, `${BASE}/${accountA}/pie_chart_data`, stranger.credentials),
      () => signedPost(server, `${BASE}/${accountA}/account_table_data`, stranger.credentials),
      () =>
        signedGet(
          server,
          `${BASE}/${accountA}/balance_chart_data?date_from=2024-01-01`,
          stranger.credentials,
        ),
    ]) {
      const response = await request();
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: 'not_found' });
    }
    expect(await post(`${BASE}/summary/pie_chart_data`, stranger.credentials)).toEqual([]);
    expect(await post(`${BASE}/summary/account_table_data`, stranger.credentials)).toEqual([]);
    expect(
      await get(`${BASE}/summary/balance_chart_data?date_from=2024-01-01`, stranger.credentials),
    ).toEqual([]);
  });

  it('needs ACCOUNTS_READ', async () => {
    const botsOnly = await userWithKey(server.services, { permissions: ['BOTS_READ'] });
    const response = await signedPost(
      server,
      `${BASE}/summary/pie_chart_data`,
      botsOnly.credentials,
    );
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: 'access_denied' });
  });
});

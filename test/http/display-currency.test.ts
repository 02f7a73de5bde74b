import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.ts';
import { displayUsdPrices, recordDisplayPrices } from '../../src/prices/display-currencies.ts';
import { PriceBook } from '../../src/prices/price-book.ts';
import { createCliStorage, runCli, type CliStorage } from '../support/cli.ts';
import { LIST, signedGet, userWithKey, type Credentials } from '../support/server.ts';

/**
 * A user's display currency beyond USD and BTC: the entity's primary_display_currency_* fields
 * are valued in it from the EUR prices the rounds stored at each snapshot's and transfer's time,
 * with the same profit model; `opencommas user update --display-currency` changes it, and an
 * unsupported one is refused with nothing changed.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = Date.now();
const at = (ago: number) => new Date(now - ago);

// One USDT holding (1 USD each; BTC at 50000). EUR from EUR/USDT at each round:
//   first        40 d ago  1000 USD at 1.25 →  800 EUR
//   period start 31 d ago  1078 USD at 1.10 →  980 EUR
//   day start    25 h ago  1140 USD at 1.20 →  950 EUR
//   deposit       2 h ago   250 USD at 1.25 →  200 EUR
//   latest        1 h ago  1500 USD at 1.25 → 1200 EUR
const history = [
  { ago: 40 * DAY, usd: '1000', eur: '1.25' },
  { ago: 31 * DAY, usd: '1078', eur: '1.10' },
  { ago: 25 * HOUR, usd: '1140', eur: '1.20' },
  { ago: 1 * HOUR, usd: '1500', eur: '1.25' },
];
const DEPOSIT = { ago: 2 * HOUR, usd: '250', eur: '1.25' };

let storage: CliStorage;
let server: RunningServer;
let credentials: Credentials;
let userId: number;

const quotes = (eur: string, jpy?: string) => [
  { base: 'BTC', quote: 'USDT', last: '50000' },
  { base: 'EUR', quote: 'USDT', last: eur },
  ...(jpy ? [{ base: 'USDT', quote: 'JPY', last: jpy }] : []),
];

beforeAll(async () => {
  storage = await createCliStorage();
  server = await storage.startServer();
  const { services } = server;
  const owner = await userWithKey(services, { displayCurrency: 'USD' });
  credentials = owner.credentials;
  userId = owner.user.id;
  const { id } = await services.accounts.add({
    sync: false,
    user_id: userId,
    market_code: 'binance',
    name: 'Euro account',
    api_key: 'display-key',
    secret: 'display-secret',
  });
  await services.balances.importSnapshots(
    history.map((s) => ({
      account_id: id,
      at: at(s.ago).toISOString(),
      btc_usd_price: '50000',
      assets: [{ asset: 'USDT', amount: s.usd, usd_price: '1' }],
    })),
  );
  await services.balances.importTransfers([
    {
      account_id: id,
      at: at(DEPOSIT.ago).toISOString(),
      asset: 'USDT',
      amount: DEPOSIT.usd,
      usd_price: '1',
      btc_usd_price: '50000',
      kind: 'deposit',
    },
  ]);
  // The rounds binance's tickers gave at those times. JPY (quoted as USDT/JPY = 160) only in
  // the latest two: the windows reaching further back have no JPY price at their start.
  for (const s of [...history, DEPOSIT]) {
    const recent = s.ago <= 2 * HOUR;
    await recordDisplayPrices(
      services.storage,
      'binance',
      at(s.ago),
      quotes(s.eur, recent ? '160' : undefined),
    );
  }
}, 120_000);
afterAll(async () => {
  await server.stop();
  await storage.cleanup();
});

async function account(): Promise<Record<string, unknown>> {
  const response = await signedGet(server, LIST, credentials);
  expect(response.status).toBe(200);
  const [entity] = (await response.json()) as Array<Record<string, unknown>>;
  return entity ?? {};
}

const primary = (entity: Record<string, unknown>) => ({
  amount: entity.primary_display_currency_amount,
  day: entity.day_profit_primary_display_currency,
  dayPercentage: entity.day_profit_primary_display_currency_percentage,
  period: entity.primary_display_currency_profit,
  periodPercentage: entity.primary_display_currency_profit_percentage,
  total: entity.total_primary_display_currency_profit,
});

const cli = (...args: string[]) => runCli(storage.env, ['--json', ...args]);

describe('display currencies', { timeout: 120_000 }, () => {
  it('shows USD as before, then EUR after `user update --display-currency EUR`', async () => {
    const inUsd = await account();
    // USD: 1500 now; day 1500 − 1140 − 250 = 110 (110 / 1390 = 7.9137 %); period
    // 1500 − 1078 − 250 = 172 (172 / 1328 = 12.95 %); total 1500 − 1000 − 250 = 250.
    expect(primary(inUsd)).toEqual({
      amount: { currency: 'USD', amount: '1500.0' },
      day: { currency: 'USD', amount: '110.0' },
      dayPercentage: { currency: 'USD', amount: '7.9137' },
      period: { currency: 'USD', amount: '172.0' },
      periodPercentage: { currency: 'USD', amount: '12.95' },
      total: { currency: 'USD', amount: 250 },
    });

    const updated = await cli(
      'user',
      'update',
      '--user',
      String(userId),
      '--display-currency',
      'eur',
    );
    expect(updated.code).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ id: userId, display_currency: 'EUR' });

    const inEur = await account();
    // EUR: 1200 now; day 1200 − 950 − 200 = 50 (50 / 1150 = 4.3478 %); period
    // 1200 − 980 − 200 = 20 (20 / 1180 = 1.69 %); total 1200 − 800 − 200 = 200.
    expect(primary(inEur)).toEqual({
      amount: { currency: 'EUR', amount: '1200.0' },
      day: { currency: 'EUR', amount: '50.0' },
      dayPercentage: { currency: 'EUR', amount: '4.3478' },
      period: { currency: 'EUR', amount: '20.0' },
      periodPercentage: { currency: 'EUR', amount: '1.69' },
      total: { currency: 'EUR', amount: 200 },
    });
    // The USD and BTC fields do not move with the display currency.
    expect(inEur.usd_amount).toBe(inUsd.usd_amount);
    expect(inEur.total_btc_profit).toBe(inUsd.total_btc_profit);
  });

  it('shows in USD, labelled so, each window whose start had no price in the currency', async () => {
    const updated = await cli(
      'user',
      'update',
      '--user',
      String(userId),
      '--display-currency',
      'JPY',
    );
    expect(updated.code).toBe(0);
    // JPY from USDT/JPY = 160, inverted: 1 JPY = 0.00625 USD. Only the latest snapshot (and
    // the deposit) had a JPY price: 1500 USD = 240000 JPY. The windows start before JPY was
    // quoted, so their figures stay in USD rather than being converted at a later price.
    expect(primary(await account())).toEqual({
      amount: { currency: 'JPY', amount: '240000.0' },
      day: { currency: 'USD', amount: '110.0' },
      dayPercentage: { currency: 'USD', amount: '7.9137' },
      period: { currency: 'USD', amount: '172.0' },
      periodPercentage: { currency: 'USD', amount: '12.95' },
      total: { currency: 'USD', amount: 250 },
    });
  });

  it('refuses an unsupported currency with record_invalid naming the supported ones, changing nothing', async () => {
    const before = primary(await account());
    const refused = await cli(
      'user',
      'update',
      '--user',
      String(userId),
      '--display-currency',
      'DOGECOIN',
    );
    expect(refused.code).not.toBe(0);
    const body = JSON.parse((refused.stdout.trim() || refused.stderr).trim()) as {
      error: string;
      error_attributes: { display_currency: string[] };
    };
    expect(body.error).toBe('record_invalid');
    expect(body.error_attributes.display_currency[0]).toMatch(
      /^"DOGECOIN" is not supported; it must be one of USD, BTC, EUR, GBP, JPY, .*, ETH, /,
    );
    expect(primary(await account())).toEqual(before);
    expect((await server.services.users.get(userId)).display_currency).toBe('JPY');
  });
});

describe('display prices from a round’s tickers', () => {
  it('takes CUR/stablecoin, inverts stablecoin/CUR, and goes through BTC for a coin', () => {
    expect(
      displayUsdPrices([
        { base: 'EUR', quote: 'USDT', last: '1.08' },
        { base: 'USDT', quote: 'TRY', last: '32' }, // 1 / 32 = 0.03125
        { base: 'BTC', quote: 'USD', last: '60000' },
        { base: 'ETH', quote: 'BTC', last: '0.05' }, // 0.05 × 60000 = 3000
        { base: 'DOGE', quote: 'EUR', last: '0.1' }, // no route to USD: absent
      ]),
    ).toEqual({ EUR: '1.08', TRY: '0.03125', ETH: '3000' });
  });
});

describe('a price round', () => {
  it('stores its display prices once, one row for the source, whatever the accounts', async () => {
    const { storage: db } = server.services;
    let calls = 0;
    const book = new PriceBook(
      db,
      () => {
        calls += 1;
        return Promise.resolve([
          { base: 'BTC', quote: 'USDT', last: '64000' },
          { base: 'EUR', quote: 'USDT', last: '1.0825' },
          { base: 'ETH', quote: 'USDT', last: '3120.5' },
        ]);
      },
      60_000,
    );
    // Two readers of one round: one tickers read, one stored row.
    await Promise.all([book.table('kucoin'), book.table('kucoin')]);
    const rows = await db.db
      .selectFrom('display_prices')
      .selectAll()
      .where('source', '=', 'kucoin')
      .execute();
    expect(calls).toBe(1);
    expect(rows.map((r) => r.usd_prices)).toEqual([{ EUR: '1.0825', ETH: '3120.5' }]);
  });
});

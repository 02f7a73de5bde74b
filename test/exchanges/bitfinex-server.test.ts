import ccxt, { type Exchange } from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withOrigin } from '../../src/exchanges/origins.ts';
import { findMarket } from '../../src/markets/index.ts';
import { startFakeBitfinex, type FakeBitfinex } from '../support/exchanges/bitfinex-server.ts';

// ccxt's `bitfinex`, unmodified, against the Bitfinex v2 stand-in: which paths each call costs,
// how ccxt reads every answer (UST is USDT, wallets by type, one movements history for deposits
// and withdrawals, candles), and the exchange's own refusals as ccxt's error classes.

const MARKETS_CONFIG =
  '/v2/conf/pub:info:pair,pub:info:pair:futures,pub:list:pair:securities,pub:list:pair:margin';
const WALLETS = '/v2/auth/r/wallets';
const MOVEMENTS = '/v2/auth/r/movements/hist';
const HOUR = 60 * 60 * 1000;

let bfx: FakeBitfinex;

/** A client as the service builds it: the catalog's options, the stand-in's origin. */
function client(apiKey = 'bfx-key', secret = 'bfx-secret'): Exchange {
  const connector = findMarket('bitfinex')?.connector;
  const options = connector?.type === 'ccxt' ? { ...connector.options } : {};
  const c = new ccxt.bitfinex({ apiKey, secret, options, enableRateLimit: false });
  c.urls = { ...c.urls, api: withOrigin(c.urls.api, bfx.url) as typeof c.urls.api };
  return c;
}

beforeAll(async () => {
  bfx = await startFakeBitfinex({
    markets: { 'BTC/USD': '60000', 'BTC/USDT': '59990.5', 'ETH/BTC': '0.05', 'AVAX/USD': '25.5' },
  });
  bfx.addAccount('bfx-key', {
    secret: 'bfx-secret',
    balances: { BTC: { free: '0.5', locked: '0.25' }, USDT: { free: '100.5' } },
    wallets: { margin: { USDT: { free: '400' } }, funding: { USD: { free: '250' } } },
  });
  bfx.addAccount('bfx-revoked', { secret: 'bfx-secret-2' });
  bfx.revoke('bfx-revoked');
});
afterAll(async () => bfx?.close());

describe('Bitfinex markets and prices', () => {
  it('loads spot markets from the pairs and currencies configuration, UST as USDT', async () => {
    const c = client();
    bfx.resetStats();
    const markets = await c.loadMarkets();
    expect(Object.keys(bfx.stats.byPath).sort()).toEqual([
      MARKETS_CONFIG,
      expect.stringMatching(/^\/v2\/conf\/pub:list:currency,/),
    ]);
    expect(Object.keys(markets).sort()).toEqual(['AVAX/USD', 'BTC/USD', 'BTC/USDT', 'ETH/BTC']);
    expect(markets['BTC/USDT']).toMatchObject({ id: 'tBTCUST', spot: true });
    expect(markets['AVAX/USD']).toMatchObject({ id: 'tAVAX:USD', base: 'AVAX' });
  });

  it('reads every last price in one tickers request (funding tickers left aside)', async () => {
    const c = client();
    await c.loadMarkets();
    bfx.resetStats();
    const tickers = await c.fetchTickers();
    expect(bfx.stats.byPath).toEqual({ '/v2/tickers': 1 });
    expect(tickers['BTC/USDT']?.last).toBe(59990.5);
    expect(tickers['AVAX/USD']?.last).toBe(25.5);
    expect(tickers['ETH/BTC']?.last).toBe(0.05);
  });

  it('cuts candles from the price history, oldest first from `start`', async () => {
    const c = client();
    await c.loadMarkets();
    const hourAgo = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR;
    bfx.setPrice('ETH/BTC', '0.04', hourAgo);
    bfx.setPrice('ETH/BTC', '0.045', hourAgo + HOUR + 1000);
    const candles = await c.fetchOHLCV('ETH/BTC', '1h', hourAgo, 2);
    expect(candles).toEqual([
      [hourAgo, 0.04, 0.04, 0.04, 0.04, 1],
      [hourAgo + HOUR, 0.04, 0.045, 0.04, 0.045, 1],
    ]);
  });
});

describe('Bitfinex wallets', () => {
  it.each([
    ['exchange', { BTC: 0.75, USDT: 100.5 }],
    ['margin', { USDT: 400 }],
    ['funding', { USD: 250 }],
  ])('reads the %s wallet from the one wallets answer', async (type, totals) => {
    const c = client();
    await c.loadMarkets();
    bfx.resetStats();
    const balance = await c.fetchBalance({ type });
    expect(bfx.stats.byPath).toEqual({ [WALLETS]: 1 });
    expect(balance.total).toEqual(totals);
  });

  it('names the three wallets in the catalog', () => {
    const connector = findMarket('bitfinex')?.connector;
    expect(connector?.type === 'ccxt' && connector.wallets.map((w) => w.params)).toEqual([
      { type: 'exchange' },
      { type: 'margin' },
      { type: 'funding' },
    ]);
  });
});

describe('Bitfinex movements', () => {
  const base = Date.now() - 10 * HOUR;
  beforeAll(() => {
    bfx.addDeposit('bfx-key', {
      id: '101',
      asset: 'USDT',
      amount: '50',
      timestamp: base,
      status: 'ok',
    });
    bfx.addWithdrawal('bfx-key', {
      id: '102',
      asset: 'BTC',
      amount: '0.1',
      fee: '0.0004',
      timestamp: base + HOUR,
      status: 'ok',
    });
    bfx.addDeposit('bfx-key', {
      id: '103',
      asset: 'BTC',
      amount: '0.2',
      timestamp: base + 2 * HOUR,
      status: 'pending',
    });
  });

  it('reads deposits and withdrawals as one history, newest first, signed by direction', async () => {
    const c = client();
    await c.loadMarkets();
    bfx.resetStats();
    const rows = await c.fetchDepositsWithdrawals(undefined, base, 1000);
    expect(bfx.stats.byPath).toEqual({ [MOVEMENTS]: 1 });
    expect(rows.map((r) => [r.id, r.type, r.currency, r.amount, r.status, r.timestamp])).toEqual([
      ['101', 'deposit', 'USDT', 50, 'ok', base],
      ['102', 'withdrawal', 'BTC', 0.1, 'ok', base + HOUR],
      ['103', 'deposit', 'BTC', 0.2, 'pending', base + 2 * HOUR],
    ]);
    expect(rows[1]?.fee).toMatchObject({ cost: 0.0004, currency: 'BTC' });
  });

  it('honours `end` (inclusive), `start` and `limit`, newest first', async () => {
    const c = client();
    await c.loadMarkets();
    const ids = async (params: object, limit?: number) =>
      (await c.fetchDepositsWithdrawals(undefined, base, limit, params)).map((r) => r.id);
    expect(await ids({ end: base + HOUR })).toEqual(['101', '102']);
    expect(await ids({}, 1)).toEqual(['103']); // the newest one
    expect(await ids({ start: base + 1 })).toEqual(['102', '103']);
  });
});

describe('Bitfinex refusals', () => {
  it('a wrong secret: 10100 "apikey: digest invalid", an AuthenticationError', async () => {
    await expect(client('bfx-key', 'wrong').fetchBalance()).rejects.toThrow(
      expect.objectContaining({
        constructor: ccxt.AuthenticationError,
        message: expect.stringContaining('apikey: digest invalid'),
      }) as Error,
    );
  });

  it.each([['unknown'], ['bfx-revoked']])(
    'key %s: 10100 "apikey: invalid", an AuthenticationError',
    async (key) => {
      const error = await client(key, 'bfx-secret-2')
        .fetchBalance()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ccxt.AuthenticationError);
      expect(String(error)).toContain('apikey: invalid');
    },
  );

  it('a nonce that does not grow: 10114 "nonce: small", an InvalidNonce', async () => {
    const c = client();
    await c.loadMarkets();
    c.nonce = () => 1_000; // far below the nonces this key has sent
    await expect(c.fetchBalance()).rejects.toBeInstanceOf(ccxt.InvalidNonce);
  });

  it('its rate limit: 429 {"error":"ERR_RATE_LIMIT"}, which ccxt reads as an ExchangeError', async () => {
    const c = client();
    await c.loadMarkets();
    bfx.fail({ kind: 'rateLimit429', path: WALLETS });
    const error = await c.fetchBalance().catch((e: unknown) => e);
    // Not ccxt's RateLimitExceeded: Bitfinex's bare object skips ccxt's 429 branch.
    expect(error).toBeInstanceOf(ccxt.ExchangeError);
    expect(String(error)).toContain('ERR_RATE_LIMIT');
    expect(c.last_http_response).toBe('{"error":"ERR_RATE_LIMIT"}');
  });
});

import ccxt, { type Exchange } from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withOrigin } from '../../src/exchanges/origins.ts';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';
import {
  ExchangeState,
  type ExchangeOptions,
  type FaultKind,
  type StandInHandle,
} from '../support/exchanges/common.ts';
import { startFakeOkx } from '../support/exchanges/okx-server.ts';

// ccxt, unmodified, against the local stand-ins: only `urls.api` is pointed at them, and the
// constructor options keep ccxt to what they implement. Each test also pins the endpoints ccxt
// hit (the servers' counters) and the exact ccxt error class of every refusal and fault.

const BINANCE_OPTIONS = {
  fetchMarkets: { types: ['spot'] },
  fetchCurrencies: false,
  fetchMargins: false,
};
const OKX_OPTIONS = { fetchMarkets: { types: ['spot'] } };

const PRICES: Record<string, string> = {
  'BTC/USDT': '60000',
  'ETH/USDT': '3000.5',
  'ETH/BTC': '0.05',
  'BTC/USDC': '60010.25',
  'SOL/USDC': '150.125',
};

type ErrorClass = abstract new (...args: never[]) => Error;

interface Spec {
  id: 'binance' | 'okx';
  start(options?: ExchangeOptions): Promise<StandInHandle>;
  options: Record<string, unknown>;
  /** Requests (path → count) each operation costs, on a fresh instance with keys. */
  endpoints: {
    loadMarkets: Record<string, number>;
    loadMarketsWithoutKeys: Record<string, number>;
    fetchTime: Record<string, number>;
    fetchTickers: Record<string, number>;
    fetchBalance: Record<string, number>;
    fetchDeposits: Record<string, number>;
    fetchWithdrawals: Record<string, number>;
  };
  /** The raw history call (ccxt's implicit API) with the exchange's own `since` parameter. */
  rawDeposits(client: Exchange, since: number): Promise<unknown[]>;
  /** ccxt's class for a 429 (Binance: DDoSProtection for any 418/429). */
  tooMany: ErrorClass;
  /** Binance's withdrawal times are whole seconds ("YYYY-MM-DD HH:mm:ss"). */
  withdrawalTimeMs: (ms: number) => number;
}

type Implicit = Record<string, (params: object) => Promise<unknown>>;
const implicit = (client: Exchange, method: string, params: object) => {
  const call = (client as unknown as Implicit)[method];
  if (!call) throw new Error(`ccxt ${client.id} has no ${method}`);
  return call.call(client, params);
};

const SPECS: Spec[] = [
  {
    id: 'binance',
    start: startFakeBinance,
    options: BINANCE_OPTIONS,
    endpoints: {
      loadMarkets: { '/api/v3/exchangeInfo': 1 },
      loadMarketsWithoutKeys: { '/api/v3/exchangeInfo': 1 },
      fetchTime: { '/api/v3/time': 1 },
      fetchTickers: { '/api/v3/ticker/24hr': 1 },
      fetchBalance: { '/api/v3/account': 1 },
      fetchDeposits: { '/sapi/v1/capital/deposit/hisrec': 1 },
      fetchWithdrawals: { '/sapi/v1/capital/withdraw/history': 1 },
    },
    rawDeposits: async (client, since) =>
      (await implicit(client, 'sapiGetCapitalDepositHisrec', { startTime: since })) as unknown[],
    tooMany: ccxt.DDoSProtection,
    withdrawalTimeMs: (ms) => Math.floor(ms / 1000) * 1000,
  },
  {
    id: 'okx',
    start: startFakeOkx,
    options: OKX_OPTIONS,
    endpoints: {
      // With keys, ccxt's okx also reads the (signed) currencies on loadMarkets.
      loadMarkets: { '/api/v5/asset/currencies': 1, '/api/v5/public/instruments': 1 },
      loadMarketsWithoutKeys: { '/api/v5/public/instruments': 1 },
      fetchTime: { '/api/v5/public/time': 1 },
      fetchTickers: { '/api/v5/market/tickers': 1 },
      fetchBalance: { '/api/v5/account/balance': 1 },
      fetchDeposits: { '/api/v5/asset/deposit-history': 1 },
      fetchWithdrawals: { '/api/v5/asset/withdrawal-history': 1 },
    },
    rawDeposits: async (client, since) => {
      const answer = await implicit(client, 'privateGetAssetDepositHistory', { before: since - 1 });
      return (answer as { data: unknown[] }).data;
    },
    tooMany: ccxt.RateLimitExceeded,
    withdrawalTimeMs: (ms) => ms,
  },
];

interface Credentials {
  apiKey?: string | undefined;
  secret?: string | undefined;
  password?: string | undefined;
}

/** ccxt as the product builds it: stock class, our options, every API URL on the stand-in. */
function client(spec: Spec, url: string, credentials: Credentials = {}): Exchange {
  const config = { ...credentials, timeout: 500, enableRateLimit: false, options: spec.options };
  const exchange: Exchange =
    spec.id === 'binance' ? new ccxt.binance(config) : new ccxt.okx(config);
  exchange.urls.api = withOrigin(exchange.urls.api, url) as typeof exchange.urls.api;
  return exchange;
}

/** Markets loaded once, lent to a keyed instance (ccxt types `setMarkets`' second argument as undefined). */
function shareMarkets(from: Exchange, to: Exchange): void {
  to.setMarkets(from.markets, from.currencies as never);
}

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const DAY = 24 * 60 * 60 * 1000;

describe.each(SPECS)('$id stand-in through stock ccxt', (spec) => {
  let server: StandInHandle;
  let keys = 0;
  // Whole seconds, ten days back: inside Binance's default 90-day history window.
  const t0 = Math.floor((Date.now() - 10 * DAY) / 1000) * 1000;

  beforeAll(async () => {
    server = await spec.start();
    for (const [symbol, last] of Object.entries(PRICES)) server.setPrice(symbol, last);
  });
  afterAll(async () => {
    await server?.close();
  });

  /** A fresh account (its own key, so no test's faults or counts touch another's). */
  function account(): Required<Credentials> & { apiKey: string } {
    keys += 1;
    const credentials = {
      apiKey: `key-${keys}`,
      secret: `secret-${keys}`,
      password: `pass-${keys}`,
    };
    server.addAccount(credentials.apiKey, {
      secret: credentials.secret,
      passphrase: credentials.password,
      balances: { BTC: { free: '0.5', locked: '0.25' }, USDT: { free: '1000' } },
    });
    return credentials;
  }

  /**
   * A keyed instance with the markets of a keyless one, as the product lends them (a keyed
   * okx instance would also read the signed currencies on loadMarkets); counters reset.
   */
  async function ready(credentials: Credentials = account()): Promise<Exchange> {
    const shared = client(spec, server.url);
    await shared.loadMarkets();
    const exchange = client(spec, server.url, credentials);
    shareMarkets(shared, exchange);
    server.resetStats();
    return exchange;
  }

  describe('what ccxt reads', () => {
    it('loadMarkets sees the configured spot markets', async () => {
      server.resetStats();
      const exchange = client(spec, server.url, account());
      const markets = await exchange.loadMarkets();
      expect(Object.keys(markets).sort()).toEqual(Object.keys(PRICES).sort());
      expect(markets['ETH/BTC']).toMatchObject({ base: 'ETH', quote: 'BTC', spot: true });
      expect(server.stats.byPath).toEqual(spec.endpoints.loadMarkets);

      server.resetStats();
      await client(spec, server.url).loadMarkets();
      expect(server.stats.byPath).toEqual(spec.endpoints.loadMarketsWithoutKeys);
    });

    it('fetchTime reads the server clock', async () => {
      server.resetStats();
      const time = await client(spec, server.url).fetchTime();
      expect(Math.abs((time ?? 0) - Date.now())).toBeLessThan(5000);
      expect(server.stats.byPath).toEqual(spec.endpoints.fetchTime);
    });

    it('fetchTickers returns the configured last prices, in one request', async () => {
      const exchange = await ready();
      const tickers = await exchange.fetchTickers();
      const last = Object.fromEntries(Object.entries(tickers).map(([s, t]) => [s, t.last]));
      expect(last).toEqual(Object.fromEntries(Object.entries(PRICES).map(([s, p]) => [s, +p])));
      expect(server.stats.byPath).toEqual(spec.endpoints.fetchTickers);

      server.setPrice('ETH/USDT', '3100');
      expect((await exchange.fetchTickers())['ETH/USDT']?.last).toBe(3100);
    });

    it('fetchBalance returns free, used and total', async () => {
      const credentials = account();
      const exchange = await ready(credentials);
      server.setBalance(credentials.apiKey, 'ETH', '2', '1.5');
      const balance = await exchange.fetchBalance();
      expect(balance.BTC).toMatchObject({ free: 0.5, used: 0.25, total: 0.75 });
      expect(balance.USDT).toMatchObject({ free: 1000, used: 0, total: 1000 });
      expect(balance.ETH).toMatchObject({ free: 2, used: 1.5, total: 3.5 });
      expect(server.stats.byPath).toEqual(spec.endpoints.fetchBalance);
      expect(server.stats.byKey).toEqual({ [credentials.apiKey]: 1 });
    });

    it('fetchDeposits returns the transfers, and the server honours `since`', async () => {
      const credentials = account();
      const exchange = await ready(credentials);
      server.addDeposit(credentials.apiKey, {
        id: 'd1',
        asset: 'BTC',
        amount: '0.1',
        timestamp: t0,
        status: 'ok',
      });
      server.addDeposit(credentials.apiKey, {
        id: 'd2',
        asset: 'USDT',
        amount: '250.5',
        timestamp: t0 + DAY,
        status: 'pending',
      });
      server.addDeposit(credentials.apiKey, {
        id: 'd3',
        asset: 'ETH',
        amount: '1.25',
        timestamp: t0 + 2 * DAY,
        status: 'ok',
      });

      const all = await exchange.fetchDeposits();
      expect(server.stats.byPath).toEqual(spec.endpoints.fetchDeposits);
      expect(
        all.map((t) => [t.id, t.currency, t.amount, t.timestamp, t.status, t.type, t.txid]),
      ).toEqual([
        ['d1', 'BTC', 0.1, t0, 'ok', 'deposit', '0xd1'],
        ['d2', 'USDT', 250.5, t0 + DAY, 'pending', 'deposit', '0xd2'],
        ['d3', 'ETH', 1.25, t0 + 2 * DAY, 'ok', 'deposit', '0xd3'],
      ]);

      const since = await exchange.fetchDeposits(undefined, t0 + DAY);
      expect(since.map((t) => t.id)).toEqual(['d2', 'd3']);
      // Not only ccxt's own filtering: the exchange answers just those.
      const raw = await spec.rawDeposits(exchange, t0 + DAY);
      expect(raw).toHaveLength(2);
    });

    it('fetchWithdrawals returns the transfers with fees, and respects `since`', async () => {
      const credentials = account();
      const exchange = await ready(credentials);
      const at1 = t0 + DAY / 2 + 123; // Binance keeps whole seconds of a withdrawal's time
      const at2 = t0 + 1.5 * DAY;
      server.addWithdrawal(credentials.apiKey, {
        id: 'w1',
        asset: 'BTC',
        amount: '0.05',
        fee: '0.0005',
        timestamp: at1,
        status: 'ok',
      });
      server.addWithdrawal(credentials.apiKey, {
        id: 'w2',
        asset: 'USDT',
        amount: '100',
        fee: '1',
        timestamp: at2,
        status: 'pending',
      });
      const all = await exchange.fetchWithdrawals();
      expect(server.stats.byPath).toEqual(spec.endpoints.fetchWithdrawals);
      expect(
        all.map((t) => [t.id, t.currency, t.amount, t.fee?.cost, t.timestamp, t.status, t.type]),
      ).toEqual([
        ['w1', 'BTC', 0.05, 0.0005, spec.withdrawalTimeMs(at1), 'ok', 'withdrawal'],
        ['w2', 'USDT', 100, 1, at2, 'pending', 'withdrawal'],
      ]);
      const since = await exchange.fetchWithdrawals(undefined, t0 + DAY);
      expect(since.map((t) => t.id)).toEqual(['w2']);
    });
  });

  describe('refusals, as the exchange words them', () => {
    it('an unknown key → AuthenticationError', async () => {
      const exchange = await ready({ apiKey: 'unknown', secret: 's', password: 'p' });
      expect((await rejection(exchange.fetchBalance())).constructor).toBe(ccxt.AuthenticationError);
      expect(server.stats.byPath).toEqual(spec.endpoints.fetchBalance);
    });

    it('a revoked key → AuthenticationError', async () => {
      const credentials = account();
      server.revoke(credentials.apiKey);
      const exchange = await ready(credentials);
      expect((await rejection(exchange.fetchBalance())).constructor).toBe(ccxt.AuthenticationError);
      expect((await rejection(exchange.fetchDeposits())).constructor).toBe(
        ccxt.AuthenticationError,
      );
    });

    it('a wrong secret (bad signature) → AuthenticationError', async () => {
      const exchange = await ready({ ...account(), secret: 'not-the-secret' });
      const error = await rejection(exchange.fetchBalance());
      expect(error.constructor).toBe(ccxt.AuthenticationError);
      expect(error.message).toMatch(spec.id === 'binance' ? /-1022/ : /50113/);
    });

    // Only OKX keys come with a passphrase: the case exists for it alone.
    if (spec.id === 'okx') {
      it('a wrong passphrase → AuthenticationError (50105)', async () => {
        const exchange = await ready({ ...account(), password: 'not-the-passphrase' });
        const error = await rejection(exchange.fetchBalance());
        expect(error.constructor).toBe(ccxt.AuthenticationError);
        expect(error.message).toMatch(/50105/);
      });
    }

    it('a stale timestamp → InvalidNonce', async () => {
      const exchange = await ready();
      exchange.options['timeDifference'] = 120_000; // our clock two minutes behind
      const error = await rejection(exchange.fetchBalance());
      expect(error.constructor).toBe(ccxt.InvalidNonce);
      expect(error.message).toMatch(spec.id === 'binance' ? /-1021/ : /50102/);
    });

    it('past the per-key limit: 429, counted as violations, Retry-After sent', async () => {
      const limited = await spec.start({ perKeyRequestsPerSecond: 2, markets: PRICES });
      try {
        limited.addAccount('busy', { secret: 's', passphrase: 'p' });
        limited.addAccount('calm', { secret: 's', passphrase: 'p' });
        // Markets from a keyless instance (as the product shares them), so every request
        // below is a balance read.
        const shared = client(spec, limited.url);
        await shared.loadMarkets();
        const busy = client(spec, limited.url, { apiKey: 'busy', secret: 's', password: 'p' });
        shareMarkets(shared, busy);
        limited.resetStats();
        const outcomes = await Promise.allSettled(
          Array.from({ length: 5 }, () => busy.fetchBalance()),
        );
        const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
        expect(refused).toHaveLength(3);
        for (const error of refused) expect((error as Error).constructor).toBe(spec.tooMany);
        expect(limited.stats).toMatchObject({ total: 5, rateLimited: 3, violations: 3 });
        expect(busy.last_response_headers?.['Retry-After']).toBe('1');
        // Another key is not held back by the busy one.
        const calm = client(spec, limited.url, { apiKey: 'calm', secret: 's', password: 'p' });
        shareMarkets(shared, calm);
        await expect(calm.fetchBalance()).resolves.toBeDefined();
      } finally {
        await limited.close();
      }
    });
  });

  describe('faults', () => {
    const expected: Array<[FaultKind, () => ErrorClass]> = [
      ['status500', () => ccxt.ExchangeNotAvailable],
      ['status502', () => ccxt.ExchangeNotAvailable],
      ['rateLimit429', () => spec.tooMany],
      ['ban418', () => ccxt.DDoSProtection],
      ['timeout', () => ccxt.RequestTimeout],
    ];

    it.each(expected)('%s on the balance read → its ccxt class', async (kind, errorClass) => {
      const credentials = account();
      const exchange = await ready(credentials);
      server.fail({ kind, apiKey: credentials.apiKey, retryAfterSeconds: 7 });
      const error = await rejection(exchange.fetchBalance());
      expect(error.constructor).toBe(errorClass());
      if (kind === 'rateLimit429' || kind === 'ban418') {
        expect(exchange.last_response_headers?.['Retry-After']).toBe('7');
      }
      expect(server.stats.byPath).toEqual(spec.endpoints.fetchBalance);
      // One request only: the next one is answered.
      await expect(exchange.fetchBalance()).resolves.toMatchObject({ BTC: { total: 0.75 } });
    });

    it('429 and 418 are counted apart', async () => {
      const credentials = account();
      const exchange = await ready(credentials);
      server.fail({ kind: 'rateLimit429', apiKey: credentials.apiKey });
      await rejection(exchange.fetchBalance());
      server.fail({ kind: 'ban418', apiKey: credentials.apiKey });
      await rejection(exchange.fetchBalance());
      expect(server.stats).toMatchObject({ rateLimited: 1, banned: 1, violations: 0 });
    });

    it('a malformed answer: ccxt does not throw on a balance read, its `info` is the raw text', async () => {
      const credentials = account();
      const exchange = await ready(credentials);
      server.fail({ kind: 'malformedJson', apiKey: credentials.apiKey });
      const balance = await exchange.fetchBalance();
      expect(typeof balance.info).toBe('string');
      expect(balance.total).toEqual({});
    });

    it('a malformed answer to markets or tickers', async () => {
      server.fail({ kind: 'malformedJson', path: Object.keys(spec.endpoints.fetchTickers)[0] });
      const exchange = await ready();
      if (spec.id === 'binance') {
        // ccxt's binance parses the raw text as a list: a TypeError, no ccxt class.
        expect(await rejection(exchange.fetchTickers())).toBeInstanceOf(TypeError);
      } else {
        expect(await exchange.fetchTickers()).toEqual({});
      }
      // loadMarkets takes the malformed answer as "no markets", and keeps it.
      server.fail({ kind: 'malformedJson', path: Object.keys(spec.endpoints.loadMarkets).at(-1) });
      const fresh = client(spec, server.url);
      expect(await fresh.loadMarkets()).toEqual({});
      server.resetStats();
      expect(await fresh.loadMarkets()).toEqual({});
      expect(server.stats.total).toBe(0);
    });
  });

  it('close() ends requests left hanging by a timeout fault', async () => {
    const hanging = await spec.start();
    hanging.fail({ kind: 'timeout', times: Infinity });
    const request = fetch(`${hanging.url}/anything`).then(
      () => 'answered',
      () => 'dropped',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await hanging.close();
    expect(await request).toBe('dropped');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('binance quirk', () => {
  it('a key refused after a success on the same ccxt instance reads as DDoSProtection', async () => {
    const binance = await startFakeBinance({ markets: PRICES });
    try {
      binance.addAccount('k', { secret: 's' });
      const exchange = client(SPECS[0]!, binance.url, { apiKey: 'k', secret: 's' });
      await exchange.fetchBalance();
      binance.revoke('k');
      const error = await rejection(exchange.fetchBalance());
      expect(error.constructor).toBe(ccxt.DDoSProtection);
      expect(error.message).toMatch(/-2015/);
    } finally {
      await binance.close();
    }
  });
});

describe('per-key limiter', () => {
  it('a sliding window: n per second, fractions as one per 1/n seconds, O(1) per request', () => {
    const state = new ExchangeState({ perKeyRequestsPerSecond: 3 });
    const over = Array.from({ length: 5 }, () => state.overLimit('a'));
    expect(over).toEqual([false, false, false, true, true]);
    expect(state.overLimit('b')).toBe(false);
    expect(state.stats).toMatchObject({ rateLimited: 2, violations: 2 });

    const slow = new ExchangeState({ perKeyRequestsPerSecond: 0.5 });
    expect([slow.overLimit('a'), slow.overLimit('a')]).toEqual([false, true]);

    const many = new ExchangeState({ perKeyRequestsPerSecond: 5 });
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) many.overLimit(`key-${i % 10_000}`);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(many.stats.violations).toBe(50_000);
  });
});

describe('the wallets besides the main one, as ccxt reads them', () => {
  it('binance: funding is a signed POST, Simple Earn two signed paged lists, -1002 for a key refused one', async () => {
    const binance = await startFakeBinance({ markets: PRICES });
    try {
      binance.addAccount('w', {
        secret: 's',
        balances: { BTC: { free: '1' } },
        wallets: {
          funding: { BTC: { free: '0.25', locked: '0.05' }, USDT: { free: '10' } },
          'earn-flexible': { USDT: { free: '100' }, BTC: { free: '0.1' }, SOL: { free: '3' } },
          'earn-locked': { ETH: { free: '2' } },
        },
      });
      const exchange = client(SPECS[0]!, binance.url, { apiKey: 'w', secret: 's' });
      await exchange.loadMarkets();
      binance.resetStats();
      const funding = await exchange.fetchBalance({ type: 'funding' });
      // freeze counts as used: 0.25 + 0.05 = 0.3
      expect(funding.BTC).toMatchObject({ free: 0.25, used: 0.05, total: 0.3 });
      expect(funding.USDT).toMatchObject({ free: 10, total: 10 });
      expect(binance.stats.byPath).toEqual({ '/sapi/v1/asset/get-funding-asset': 1 });

      binance.resetStats();
      const first = await implicit(exchange, 'sapiGetSimpleEarnFlexiblePosition', {
        current: 1,
        size: 2,
      });
      expect(first).toMatchObject({
        total: 3,
        rows: [
          { asset: 'USDT', totalAmount: '100' },
          { asset: 'BTC', totalAmount: '0.1' },
        ],
      });
      const second = await implicit(exchange, 'sapiGetSimpleEarnFlexiblePosition', {
        current: 2,
        size: 2,
      });
      expect(second).toMatchObject({ total: 3, rows: [{ asset: 'SOL', totalAmount: '3' }] });
      const locked = await implicit(exchange, 'sapiGetSimpleEarnLockedPosition', { size: 100 });
      expect(locked).toMatchObject({ total: 1, rows: [{ asset: 'ETH', amount: '2' }] });
      expect(binance.stats.byPath).toEqual({
        '/sapi/v1/simple-earn/flexible/position': 2,
        '/sapi/v1/simple-earn/locked/position': 1,
      });

      binance.denyWallet('w', 'funding');
      const refused = await rejection(exchange.fetchBalance({ type: 'funding' }));
      // PermissionDenied, an AuthenticationError: a refusal. (Not -2015, which ccxt takes for a
      // temporary ban once a spot read has worked: DDoSProtection.)
      expect(refused.constructor).toBe(ccxt.PermissionDenied);
      expect(refused.message).toMatch(/not authorized to execute this request/);
      expect((await exchange.fetchBalance({ type: 'spot' })).BTC).toMatchObject({ total: 1 });
    } finally {
      await binance.close();
    }
  });

  it('okx: trading is account/balance, funding asset/balances (bal, availBal, frozenBal)', async () => {
    const okx = await startFakeOkx({ markets: PRICES });
    try {
      okx.addAccount('w', {
        secret: 's',
        passphrase: 'p',
        balances: { BTC: { free: '1' } },
        wallets: { funding: { BTC: { free: '0.25', locked: '0.05' }, USDT: { free: '10' } } },
      });
      const exchange = client(SPECS[1]!, okx.url, { apiKey: 'w', secret: 's', password: 'p' });
      await exchange.loadMarkets();
      okx.resetStats();
      const trading = await exchange.fetchBalance({ type: 'trading' });
      expect(trading.BTC).toMatchObject({ total: 1 });
      expect(okx.stats.byPath).toEqual({ '/api/v5/account/balance': 1 });
      okx.resetStats();
      const funding = await exchange.fetchBalance({ type: 'funding' });
      expect(funding.BTC).toMatchObject({ free: 0.25, used: 0.05, total: 0.3 });
      expect(funding.USDT).toMatchObject({ free: 10, total: 10 });
      expect(okx.stats.byPath).toEqual({ '/api/v5/asset/balances': 1 });
    } finally {
      await okx.close();
    }
  });
});

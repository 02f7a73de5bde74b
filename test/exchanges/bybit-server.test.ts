import ccxt, { type Exchange } from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccxtClient, ccxtConnector, rejection, withLentMarkets } from '../support/ccxt-client.ts';
import {
  FUNDING_WALLET,
  IP_MISMATCH,
  startFakeBybit,
  type FakeBybit,
} from '../support/exchanges/bybit-server.ts';

// ccxt's `bybit`, unmodified and with the catalog's options, against the Bybit v5 stand-in:
// which paths each read costs, what ccxt parses from the answers, and every refusal in Bybit's
// own retCode and HTTP status, as ccxt classes it.

const CONNECTOR = ccxtConnector('bybit_spot');
const [UNIFIED, FUNDING] = CONNECTOR.wallets;
const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;

let server: FakeBybit;
let keys = 0;

beforeAll(async () => {
  server = await startFakeBybit({ markets: { 'BTC/USDT': '60000', 'ETH/USDT': '3000.5' } });
});
afterAll(async () => {
  await server?.close();
});

const client = (credentials: { apiKey?: string; secret?: string } = {}): Exchange =>
  ccxtClient('bybit_spot', server.url, credentials);

/** A fresh account: 0.5 + 0.25 locked BTC trading, 100 USDT and 1 BTC in funding. */
function account(): { apiKey: string; secret: string } {
  keys += 1;
  const credentials = { apiKey: `bybit-key-${keys}`, secret: `bybit-secret-${keys}` };
  server.addAccount(credentials.apiKey, {
    secret: credentials.secret,
    balances: { BTC: { free: '0.5', locked: '0.25' } },
    wallets: { [FUNDING_WALLET]: { USDT: { free: '100' }, BTC: { free: '1' } } },
  });
  return credentials;
}

/** A keyed instance with markets loaded by a keyless one, as the product lends them. */
const ready = (credentials = account()): Promise<Exchange> =>
  withLentMarkets(client, credentials, server);

describe('what ccxt reads from the Bybit stand-in', () => {
  it('spot markets only, from one public request', async () => {
    const exchange = client();
    const markets = await exchange.loadMarkets();
    expect(Object.keys(markets).sort()).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(server.stats.byPath['/v5/market/instruments-info']).toBe(1);
  });

  it('server time, and tickers: all, or the named ones, in one request', async () => {
    const exchange = await ready();
    expect(Math.abs((await exchange.fetchTime())! - Date.now())).toBeLessThan(5000);
    const all = await exchange.fetchTickers();
    expect(Object.values(all).map((t) => [t.symbol, t.last])).toEqual([
      ['BTC/USDT', 60000],
      ['ETH/USDT', 3000.5],
    ]);
    const one = await exchange.fetchTickers(['ETH/USDT']);
    expect(Object.keys(one)).toEqual(['ETH/USDT']);
    expect(server.stats.byPath).toEqual({ '/v5/market/time': 1, '/v5/market/tickers': 2 });
  });

  it('the unified account after asking whether the account is unified; funding apart', async () => {
    const exchange = await ready();
    const unified = await exchange.fetchBalance({ ...UNIFIED!.params });
    expect(unified['BTC']).toMatchObject({ free: 0.5, total: 0.75 });
    expect(server.stats.byPath).toEqual({
      '/v5/user/query-api': 1,
      '/v5/account/info': 1,
      '/v5/account/wallet-balance': 1,
    });
    expect(server.stats.arrivals.at(-1)?.path).toBe('/v5/account/wallet-balance');
    server.resetStats();
    const funding = await exchange.fetchBalance({ ...FUNDING!.params });
    expect(funding.total).toEqual({ USDT: 100, BTC: 1 });
    expect(server.stats.byPath).toEqual({ '/v5/asset/transfer/query-account-coins-balance': 1 });
  });

  it('a key without the transfer permission is refused the funding wallet only (10005)', async () => {
    const credentials = account();
    server.denyFundingRead(credentials.apiKey);
    const exchange = await ready(credentials);
    await expect(exchange.fetchBalance({ ...UNIFIED!.params })).resolves.toBeDefined();
    const error = await rejection(exchange.fetchBalance({ ...FUNDING!.params }));
    expect(error.constructor).toBe(ccxt.PermissionDenied);
    expect(error.message).toMatch(/"retCode":10005/);
  });

  it('deposits and withdrawals, their status, fee and time', async () => {
    const credentials = account();
    const at = Date.now() - 2 * DAY;
    server.addDeposit(credentials.apiKey, {
      id: 'dep-1',
      asset: 'BTC',
      amount: '0.1',
      timestamp: at,
      status: 'ok',
    });
    server.addDeposit(credentials.apiKey, {
      id: 'dep-2',
      asset: 'BTC',
      amount: '0.2',
      timestamp: at + HOUR,
      status: 'pending',
    });
    server.addWithdrawal(credentials.apiKey, {
      id: 'wd-1',
      asset: 'USDT',
      amount: '10',
      fee: '1',
      timestamp: at,
      status: 'ok',
    });
    const exchange = await ready(credentials);
    const deposits = await exchange.fetchDeposits();
    expect(
      deposits.map((d) => [d.id, d.currency, d.amount, d.status, d.timestamp, d.type]),
    ).toEqual([
      ['dep-1', 'BTC', 0.1, 'ok', at, 'deposit'],
      ['dep-2', 'BTC', 0.2, 'pending', at + HOUR, 'deposit'],
    ]);
    const withdrawals = await exchange.fetchWithdrawals();
    expect(withdrawals.map((w) => [w.id, w.amount, w.fee?.cost, w.status, w.timestamp])).toEqual([
      ['wd-1', 10, 1, 'ok', at],
    ]);
    expect(server.stats.byPath).toEqual({
      '/v5/asset/deposit/query-record': 1,
      '/v5/asset/withdraw/query-record': 1,
    });
  });

  it("history honours Bybit's 30-day windows, `limit` and `cursor`, newest first", async () => {
    const credentials = account();
    const now = Date.now();
    for (const [id, daysAgo] of [
      ['old', 40],
      ['a', 3],
      ['b', 2],
      ['c', 1],
    ] as const) {
      server.addDeposit(credentials.apiKey, {
        id,
        asset: 'BTC',
        amount: '1',
        timestamp: now - daysAgo * DAY,
        status: 'ok',
      });
    }
    const exchange = await ready(credentials);
    type Page = { result: { rows: Array<{ id: string }>; nextPageCursor: string } };
    const raw = (params: object) =>
      (
        exchange as unknown as { privateGetV5AssetDepositQueryRecord(p: object): Promise<Page> }
      ).privateGetV5AssetDepositQueryRecord(params);
    // No window: the last 30 days, so the 40-day-old one is not there.
    const first = await raw({ limit: 2 });
    expect(first.result.rows.map((r) => r.id)).toEqual(['c', 'b']);
    const second = await raw({ limit: 2, cursor: first.result.nextPageCursor });
    expect(second.result.rows.map((r) => r.id)).toEqual(['a']);
    expect(second.result.nextPageCursor).toBe('');
    // From a start: 30 days from it.
    const since = await exchange.fetchDeposits(undefined, now - 45 * DAY);
    expect(since.map((d) => d.id)).toEqual(['old']);
    // A window longer than 30 days is refused.
    const error = await rejection(raw({ startTime: now - 45 * DAY, endTime: now }));
    expect(error.constructor).toBe(ccxt.BadRequest);
    expect(error.message).toMatch(/"retCode":10001/);
  });

  it('hourly candles cut from the price history (Bybit lists them newest first)', async () => {
    const hourStart = Math.floor(Date.now() / HOUR) * HOUR;
    server.setPrice('ETH/USDT', '2900', hourStart - 2 * HOUR);
    server.setPrice('ETH/USDT', '2950', hourStart - HOUR + 60_000);
    const exchange = client();
    await exchange.loadMarkets();
    const candles = await exchange.fetchOHLCV('ETH/USDT', '1h', hourStart - 2 * HOUR, 2);
    // The first hour: 2900 throughout; the second opens at 2900 and moves to 2950.
    expect(candles).toEqual([
      [hourStart - 2 * HOUR, 2900, 2900, 2900, 2900, 1],
      [hourStart - HOUR, 2900, 2950, 2900, 2950, 1],
    ]);
  });
});

describe("Bybit's refusals, as ccxt classes them", () => {
  it('an unknown key → AuthenticationError (10003)', async () => {
    const exchange = await ready({ apiKey: 'nobody', secret: 's' });
    const error = await rejection(exchange.fetchBalance({ ...UNIFIED!.params }));
    expect(error.constructor).toBe(ccxt.AuthenticationError);
    expect(error.message).toMatch(/"retCode":10003/);
  });

  it('a deleted key (10003) and an expired one (33004) → AuthenticationError', async () => {
    const deleted = account();
    server.revoke(deleted.apiKey);
    const expired = account();
    server.expire(expired.apiKey);
    for (const [credentials, code] of [
      [deleted, /"retCode":10003/],
      [expired, /"retCode":33004/],
    ] as const) {
      const exchange = await ready(credentials);
      const error = await rejection(exchange.fetchDeposits());
      expect(error.constructor).toBe(ccxt.AuthenticationError);
      expect(error.message).toMatch(code);
    }
  });

  it('a wrong secret → AuthenticationError (10004, "error sign!")', async () => {
    const exchange = await ready({ ...account(), secret: 'not-the-secret' });
    const error = await rejection(exchange.fetchBalance({ ...UNIFIED!.params }));
    expect(error.constructor).toBe(ccxt.AuthenticationError);
    expect(error.message).toMatch(/"retCode":10004,"retMsg":"error sign!/);
  });

  it('a timestamp outside recvWindow → InvalidNonce (10002)', async () => {
    const exchange = await ready();
    exchange.options['timeDifference'] = 120_000; // our clock two minutes behind
    const error = await rejection(exchange.fetchBalance({ ...UNIFIED!.params }));
    expect(error.constructor).toBe(ccxt.InvalidNonce);
    expect(error.message).toMatch(/"retCode":10002/);
  });

  it("a key bound to other IPs → PermissionDenied (10010), Bybit's own words", async () => {
    const credentials = account();
    server.fail({ kind: 'answer', apiKey: credentials.apiKey, status: 200, body: IP_MISMATCH });
    const exchange = await ready(credentials);
    const error = await rejection(exchange.fetchDeposits());
    expect(error.constructor).toBe(ccxt.PermissionDenied);
    expect(error.message).toMatch(/"retCode":10010/);
  });

  it('past the per-key limit: 429 with retCode 10006 → RateLimitExceeded', async () => {
    const limited = await startFakeBybit({
      perKeyRequestsPerSecond: 1,
      markets: { 'BTC/USDT': '60000' },
    });
    try {
      limited.addAccount('busy', { secret: 's' });
      // ccxt's own timeout (10 s), as this test always had.
      const exchange = ccxtClient('bybit_spot', limited.url, {
        apiKey: 'busy',
        secret: 's',
        timeout: 10_000,
      });
      await exchange.loadMarkets();
      // A second signed request within the same second is one too many.
      const error = await rejection(exchange.fetchDeposits().then(() => exchange.fetchDeposits()));
      expect(error.constructor).toBe(ccxt.RateLimitExceeded);
      expect(error.message).toMatch(/"retCode":10006/);
      expect(limited.stats.violations).toBe(1);
    } finally {
      await limited.close();
    }
  });

  it("an IP ban: Bybit's 403 'access too frequent' page", async () => {
    const exchange = await ready();
    server.fail({ kind: 'ban418', path: '/v5/market/tickers' });
    const error = await rejection(exchange.fetchTickers());
    expect(error.message).toMatch(/403/);
    expect(error.message).toMatch(/access too frequent/);
  });
});

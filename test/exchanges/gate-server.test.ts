import ccxt, { type Exchange } from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccxtClient, ccxtConnector, rejection, withLentMarkets } from '../support/ccxt-client.ts';
import { IP_FORBIDDEN, startFakeGate, type FakeGate } from '../support/exchanges/gate-server.ts';

// ccxt's `gate`, unmodified and with the catalog's options, against the Gate API v4 stand-in:
// which paths each read costs, what ccxt parses from the answers, and every refusal in Gate's
// own label and HTTP status, as ccxt classes it.

const CONNECTOR = ccxtConnector('gate_io');
const [SPOT] = CONNECTOR.wallets;
const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;
/** Gate writes record times in whole seconds. */
const wholeSeconds = (ms: number) => Math.floor(ms / 1000) * 1000;

let server: FakeGate;
let keys = 0;

beforeAll(async () => {
  server = await startFakeGate({ markets: { 'BTC/USDT': '60000', 'ETH/USDT': '3000.5' } });
});
afterAll(async () => {
  await server?.close();
});

const client = (credentials: { apiKey?: string; secret?: string } = {}): Exchange =>
  ccxtClient('gate_io', server.url, credentials);

/** A fresh account: 0.5 + 0.25 locked BTC and 1000 USDT on spot. */
function account(): { apiKey: string; secret: string } {
  keys += 1;
  const credentials = { apiKey: `gate-key-${keys}`, secret: `gate-secret-${keys}` };
  server.addAccount(credentials.apiKey, {
    secret: credentials.secret,
    balances: { BTC: { free: '0.5', locked: '0.25' }, USDT: { free: '1000' } },
  });
  return credentials;
}

/** A keyed instance with markets loaded by a keyless one, as the product lends them. */
const ready = (credentials = account()): Promise<Exchange> =>
  withLentMarkets(client, credentials, server);

describe('what ccxt reads from the Gate stand-in', () => {
  it('spot markets only: currencies, spot pairs and margin pairs, all public', async () => {
    const exchange = client();
    const markets = await exchange.loadMarkets();
    expect(Object.keys(markets).sort()).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(server.stats.byPath).toMatchObject({
      '/api/v4/spot/currencies': 1,
      '/api/v4/spot/currency_pairs': 1,
      '/api/v4/margin/currency_pairs': 1,
    });
  });

  it('server time, and tickers: all, or the named ones', async () => {
    const exchange = await ready();
    expect(Math.abs((await exchange.fetchTime())! - Date.now())).toBeLessThan(5000);
    const all = await exchange.fetchTickers();
    expect(Object.values(all).map((t) => [t.symbol, t.last])).toEqual([
      ['BTC/USDT', 60000],
      ['ETH/USDT', 3000.5],
    ]);
    expect(Object.keys(await exchange.fetchTickers(['ETH/USDT']))).toEqual(['ETH/USDT']);
    expect(server.stats.byPath).toEqual({ '/api/v4/spot/time': 1, '/api/v4/spot/tickers': 2 });
  });

  it('the spot account after asking whether the account is unified (key mode)', async () => {
    const exchange = await ready();
    const balance = await exchange.fetchBalance({ ...SPOT!.params });
    expect(balance['BTC']).toMatchObject({ free: 0.5, used: 0.25, total: 0.75 });
    expect(balance.total).toEqual({ BTC: 0.75, USDT: 1000 });
    expect(server.stats.byPath).toEqual({
      '/api/v4/account/detail': 1,
      '/api/v4/spot/accounts': 1,
    });
  });

  it('deposits and withdrawals: kind from the id, a withdrawal net of its fee', async () => {
    const credentials = account();
    const at = Date.now() - 2 * DAY;
    server.addDeposit(credentials.apiKey, {
      id: '101',
      asset: 'BTC',
      amount: '0.1',
      timestamp: at,
      status: 'ok',
    });
    server.addWithdrawal(credentials.apiKey, {
      id: '202',
      asset: 'USDT',
      amount: '10',
      fee: '1',
      timestamp: at,
      status: 'ok',
    });
    server.addWithdrawal(credentials.apiKey, {
      id: '203',
      asset: 'USDT',
      amount: '5',
      fee: '1',
      timestamp: at + HOUR,
      status: 'pending',
    });
    const exchange = await ready(credentials);
    const deposits = await exchange.fetchDeposits();
    expect(
      deposits.map((d) => [d.id, d.currency, d.amount, d.status, d.timestamp, d.type]),
    ).toEqual([['d101', 'BTC', 0.1, 'ok', wholeSeconds(at), 'deposit']]);
    // Gate's amount includes the fee; ccxt subtracts it: 11 - 1 = 10, 6 - 1 = 5.
    const withdrawals = await exchange.fetchWithdrawals();
    expect(withdrawals.map((w) => [w.id, w.amount, w.fee?.cost, w.status, w.type])).toEqual([
      ['w202', 10, 1, 'ok', 'withdrawal'],
      ['w203', 5, 1, 'pending', 'withdrawal'],
    ]);
  });

  it("history honours Gate's window (7 days by default, 30 at most), `limit` and `offset`", async () => {
    const credentials = account();
    const now = Date.now();
    for (const [id, daysAgo] of [
      ['10', 20],
      ['11', 3],
      ['12', 2],
      ['13', 1],
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
    type Row = { id: string };
    const raw = (params: object) =>
      (
        exchange as unknown as { privateWalletGetDeposits(p: object): Promise<Row[]> }
      ).privateWalletGetDeposits(params);
    // No window: the last 7 days, newest first.
    expect((await raw({ limit: 2 })).map((r) => r.id)).toEqual(['d13', 'd12']);
    expect((await raw({ limit: 2, offset: 2 })).map((r) => r.id)).toEqual(['d11']);
    // From a start, ccxt asks for 30 days from it (and sorts them oldest first).
    const since = await exchange.fetchDeposits(undefined, now - 25 * DAY);
    expect(since.map((d) => d.id)).toEqual(['d10', 'd11', 'd12', 'd13']);
    const nowS = Math.floor(now / 1000);
    const error = await rejection(raw({ from: nowS - 31 * 86_400, to: nowS }));
    expect(error.constructor).toBe(ccxt.BadRequest);
    expect(error.message).toMatch(/INVALID_PARAM_VALUE/);
  });

  it('hourly candles cut from the price history', async () => {
    const hourStart = Math.floor(Date.now() / HOUR) * HOUR;
    server.setPrice('ETH/USDT', '2900', hourStart - 2 * HOUR);
    server.setPrice('ETH/USDT', '2950', hourStart - HOUR + 60_000);
    const exchange = client();
    await exchange.loadMarkets();
    const candles = await exchange.fetchOHLCV('ETH/USDT', '1h', hourStart - 2 * HOUR, 2);
    // The first hour: 2900 throughout; the second opens at 2900 and moves to 2950.
    expect(candles.map((c) => c.slice(0, 5))).toEqual([
      [hourStart - 2 * HOUR, 2900, 2900, 2900, 2900],
      [hourStart - HOUR, 2900, 2950, 2900, 2950],
    ]);
  });
});

describe("Gate's refusals, as ccxt classes them", () => {
  it('an unknown or deleted key → AuthenticationError (401 INVALID_KEY)', async () => {
    const deleted = account();
    server.revoke(deleted.apiKey);
    for (const credentials of [{ apiKey: 'nobody', secret: 's' }, deleted]) {
      const exchange = await ready(credentials);
      const error = await rejection(exchange.fetchBalance({ ...SPOT!.params }));
      expect(error.constructor).toBe(ccxt.AuthenticationError);
      expect(error.message).toMatch(/"label":"INVALID_KEY"/);
    }
  });

  it('a wrong secret → AuthenticationError (401 INVALID_SIGNATURE)', async () => {
    const exchange = await ready({ ...account(), secret: 'not-the-secret' });
    const error = await rejection(exchange.fetchDeposits());
    expect(error.constructor).toBe(ccxt.AuthenticationError);
    expect(error.message).toMatch(/"label":"INVALID_SIGNATURE"/);
  });

  it('a timestamp more than 60 s off → AuthenticationError (401 REQUEST_EXPIRED)', async () => {
    const exchange = await ready();
    exchange.options['timeDifference'] = 120_000; // our clock two minutes behind
    const error = await rejection(exchange.fetchDeposits());
    expect(error.constructor).toBe(ccxt.AuthenticationError);
    expect(error.message).toMatch(/"label":"REQUEST_EXPIRED"/);
  });

  it("a key whose IP whitelist leaves us out → 403 IP_FORBIDDEN, Gate's own words", async () => {
    const credentials = account();
    server.fail({ kind: 'answer', apiKey: credentials.apiKey, status: 403, body: IP_FORBIDDEN });
    const exchange = await ready(credentials);
    const error = await rejection(exchange.fetchDeposits());
    expect(error.constructor).toBe(ccxt.AuthenticationError);
    expect(error.message).toMatch(/"label":"IP_FORBIDDEN"/);
  });

  it('past the per-key limit: 429 TOO_MANY_REQUESTS → RateLimitExceeded', async () => {
    const limited = await startFakeGate({
      perKeyRequestsPerSecond: 1,
      markets: { 'BTC/USDT': '60000' },
    });
    try {
      limited.addAccount('busy', { secret: 's' });
      // ccxt's own timeout (10 s), as this test always had.
      const exchange = ccxtClient('gate_io', limited.url, {
        apiKey: 'busy',
        secret: 's',
        timeout: 10_000,
      });
      await exchange.loadMarkets(); // with keys: one signed account/detail request
      const error = await rejection(exchange.fetchDeposits());
      expect(error.constructor).toBe(ccxt.RateLimitExceeded);
      expect(error.message).toMatch(/TOO_MANY_REQUESTS/);
      expect(exchange.last_response_headers?.['Retry-After']).toBe('1');
    } finally {
      await limited.close();
    }
  });
});

import ccxt, { type Exchange } from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccxtClient, ccxtConnector, rejection, withLentMarkets } from '../support/ccxt-client.ts';
import { startFakeBinance, type FakeBinance } from '../support/exchanges/binance-server.ts';

// ccxt's `binanceus` is ccxt's `binance` on api.binance.us: the same /api/v3 and /sapi/v1
// paths, signing and error codes. This pins that, with the catalog's options, it asks for
// nothing the Binance stand-in does not serve, so Binance.US is tested against that stand-in.

const CONNECTOR = ccxtConnector('binance_us');
const WALLETS = CONNECTOR.wallets;
const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;

let server: FakeBinance;
let keys = 0;

beforeAll(async () => {
  server = await startFakeBinance({ markets: { 'BTC/USD': '60000', 'ETH/USD': '3000.5' } });
});
afterAll(async () => {
  await server?.close();
});

const client = (credentials: { apiKey?: string; secret?: string } = {}): Exchange =>
  ccxtClient('binance_us', server.url, credentials);

function account(): { apiKey: string; secret: string } {
  keys += 1;
  const credentials = { apiKey: `us-key-${keys}`, secret: `us-secret-${keys}` };
  server.addAccount(credentials.apiKey, {
    secret: credentials.secret,
    balances: { BTC: { free: '0.5', locked: '0.25' }, USD: { free: '1000' } },
  });
  return credentials;
}

const ready = (credentials = account()): Promise<Exchange> =>
  withLentMarkets(client, credentials, server);

describe('ccxt binanceus against the Binance stand-in', () => {
  it('reads one wallet, spot, as the catalog says', () => {
    expect(WALLETS.map((w) => w.name)).toEqual(['spot']);
  });

  it('every read is a path the stand-in serves, one request each', async () => {
    const loading = client();
    await loading.loadMarkets();
    expect(server.stats.byPath).toEqual({ '/api/v3/exchangeInfo': 1 });
    const credentials = account();
    const at = Date.now() - 2 * DAY;
    server.addDeposit(credentials.apiKey, {
      id: 'us-dep',
      asset: 'BTC',
      amount: '0.1',
      timestamp: at,
      status: 'ok',
    });
    server.addWithdrawal(credentials.apiKey, {
      id: 'us-wd',
      asset: 'USD',
      amount: '10',
      fee: '1',
      timestamp: at,
      status: 'ok',
    });
    const exchange = await ready(credentials);
    const reads: Array<[string, () => Promise<unknown>, string]> = [
      ['fetchTime', () => exchange.fetchTime(), '/api/v3/time'],
      ['fetchTickers', () => exchange.fetchTickers(), '/api/v3/ticker/24hr'],
      ['fetchTickers named', () => exchange.fetchTickers(['ETH/USD']), '/api/v3/ticker/24hr'],
      ['fetchBalance', () => exchange.fetchBalance({ ...WALLETS[0]!.params }), '/api/v3/account'],
      ['fetchDeposits', () => exchange.fetchDeposits(), '/sapi/v1/capital/deposit/hisrec'],
      ['fetchWithdrawals', () => exchange.fetchWithdrawals(), '/sapi/v1/capital/withdraw/history'],
      [
        'fetchOHLCV',
        () => exchange.fetchOHLCV('BTC/USD', '1h', Date.now() - HOUR),
        '/api/v3/klines',
      ],
    ];
    for (const [name, read, path] of reads) {
      server.resetStats();
      await read();
      expect([name, server.stats.byPath]).toEqual([name, { [path]: 1 }]);
    }
  });

  it('what ccxt parses: balances, tickers, transfers', async () => {
    const credentials = account();
    const at = Date.now() - DAY;
    server.addDeposit(credentials.apiKey, {
      id: 'd-1',
      asset: 'BTC',
      amount: '0.1',
      timestamp: at,
      status: 'ok',
    });
    const exchange = await ready(credentials);
    const balance = await exchange.fetchBalance({ ...WALLETS[0]!.params });
    expect(balance.total).toEqual({ BTC: 0.75, USD: 1000 });
    const tickers = await exchange.fetchTickers(['ETH/USD']);
    expect(Object.values(tickers).map((t) => [t.symbol, t.last])).toEqual([['ETH/USD', 3000.5]]);
    const deposits = await exchange.fetchDeposits();
    expect(deposits.map((d) => [d.id, d.currency, d.amount, d.status, d.timestamp])).toEqual([
      ['d-1', 'BTC', 0.1, 'ok', at],
    ]);
  });

  it("Binance's refusals: -2015 for an unknown or deleted key, -1022 for a wrong secret", async () => {
    const deleted = account();
    server.revoke(deleted.apiKey);
    for (const [credentials, code] of [
      [{ apiKey: 'nobody', secret: 's' }, /-2015/],
      [deleted, /-2015/],
      [{ ...account(), secret: 'wrong' }, /-1022/],
    ] as const) {
      const exchange = await ready(credentials);
      const error = await rejection(exchange.fetchBalance());
      expect(error.constructor).toBe(ccxt.AuthenticationError);
      expect(error.message).toMatch(code);
    }
  });

  it('a stale timestamp → InvalidNonce (-1021)', async () => {
    const exchange = await ready();
    exchange.options['timeDifference'] = 120_000;
    const error = await rejection(exchange.fetchBalance());
    expect(error.constructor).toBe(ccxt.InvalidNonce);
    expect(error.message).toMatch(/-1021/);
  });
});

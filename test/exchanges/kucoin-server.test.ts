import { createHmac } from 'node:crypto';
import ccxt, { type Exchange } from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyCcxtError } from '../../src/exchanges/failures.ts';
import { ccxtClient, ccxtConnector, rejection, withLentMarkets } from '../support/ccxt-client.ts';
import { startFakeKucoin, type FakeKucoin } from '../support/exchanges/kucoin-server.ts';

// ccxt's `kucoin`, unmodified and with the catalog's options, against the KuCoin stand-in: which
// paths each read costs, what ccxt parses from the answers (main, trade and trade_hf wallets,
// paged history, candles), the signature and passphrase checked exactly, and every refusal in
// KuCoin's own code and HTTP status, as ccxt classes it and as we classify it.

const CONNECTOR = ccxtConnector('kucoin');
const HOUR = 60 * 60 * 1000;

let server: FakeKucoin;
let keys = 0;

beforeAll(async () => {
  server = await startFakeKucoin({ markets: { 'BTC/USDT': '60000', 'ETH/BTC': '0.05' } });
});
afterAll(async () => {
  await server?.close();
});

type Credentials = { apiKey: string; secret: string; password: string };

const client = (credentials: Partial<Credentials> = {}): Exchange =>
  ccxtClient('kucoin', server.url, credentials);

/** A fresh account: 0.5 + 0.25 locked BTC to trade, 2 ETH in main, 100 USDT in trade_hf. */
function account(): Credentials {
  keys += 1;
  const credentials = {
    apiKey: `kc-key-${keys}`,
    secret: `kc-secret-${keys}`,
    password: `kc-pass-${keys}`,
  };
  server.addAccount(credentials.apiKey, {
    secret: credentials.secret,
    passphrase: credentials.password,
    balances: { BTC: { free: '0.5', locked: '0.25' } },
    wallets: { main: { ETH: { free: '2' } }, trade_hf: { USDT: { free: '100' } } },
  });
  return credentials;
}

/** A keyed instance with markets loaded by a keyless one, as the product lends them. */
const ready = (credentials: Credentials = account()): Promise<Exchange> =>
  withLentMarkets(client, credentials, server);

describe('what ccxt reads from the KuCoin stand-in', () => {
  it('spot symbols and currencies, two public requests without the fee tickers', async () => {
    server.resetStats();
    const markets = await client().loadMarkets();
    expect(Object.keys(markets).sort()).toEqual(['BTC/USDT', 'ETH/BTC']);
    expect(markets['ETH/BTC']).toMatchObject({ id: 'ETH-BTC', base: 'ETH', quote: 'BTC' });
    expect(server.stats.byPath).toEqual({ '/api/v2/symbols': 1, '/api/v3/currencies': 1 });
  });

  it('server time', async () => {
    const time = await client().fetchTime();
    expect(Math.abs((time ?? 0) - Date.now())).toBeLessThan(5000);
  });

  it('all tickers in one request, and a new price at once', async () => {
    const exchange = await ready();
    server.setPrice('ETH/BTC', '0.051');
    const tickers = await exchange.fetchTickers();
    expect(tickers['BTC/USDT']?.last).toBe(60000);
    expect(tickers['ETH/BTC']?.last).toBe(0.051);
    expect(server.stats.byPath).toEqual({ '/api/v1/market/allTickers': 1 });
    server.setPrice('ETH/BTC', '0.05');
  });

  it('main, trade and trade_hf wallets, each one request naming its type', async () => {
    const credentials = account();
    const exchange = await ready(credentials);
    const [main, trade, hf] = await Promise.all(
      CONNECTOR.wallets.map((wallet) => exchange.fetchBalance({ ...wallet.params })),
    );
    expect(main?.total).toEqual({ ETH: 2 });
    expect(trade?.BTC).toMatchObject({ free: 0.5, used: 0.25, total: 0.75 });
    expect(trade?.total).toEqual({ BTC: 0.75 });
    expect(hf?.total).toEqual({ USDT: 100 });
    expect(server.stats.byPath).toEqual({ '/api/v1/accounts': 3 });
    expect(server.stats.byKey).toEqual({ [credentials.apiKey]: 3 });
  });

  it('a move from main to trade shows in both wallets', async () => {
    const credentials = account();
    const exchange = await ready(credentials);
    server.moveBetweenWallets(credentials.apiKey, 'ETH', '0.5', 'main', 'spot');
    expect((await exchange.fetchBalance({ type: 'main' })).total).toEqual({ ETH: 1.5 });
    expect((await exchange.fetchBalance({ type: 'trade' })).total).toEqual({
      BTC: 0.75,
      ETH: 0.5,
    });
  });

  it('deposits and withdrawals: statuses, ids, fees, and the window KuCoin is asked for', async () => {
    const credentials = account();
    const exchange = await ready(credentials);
    const t0 = Date.now() - 10 * HOUR;
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
      timestamp: t0 + HOUR,
      status: 'pending',
    });
    server.addWithdrawal(credentials.apiKey, {
      id: 'w1',
      asset: 'ETH',
      amount: '1',
      fee: '0.01',
      timestamp: t0 + 2 * HOUR,
      status: 'ok',
    });
    const deposits = await exchange.fetchDeposits(undefined, t0);
    // A KuCoin deposit has no id: ccxt leaves it out and the hash (walletTxId) names it.
    expect(
      deposits.map((t) => [t.id, t.txid, t.currency, t.amount, t.timestamp, t.status]),
    ).toEqual([
      [undefined, '0xd1', 'BTC', 0.1, t0, 'ok'],
      [undefined, '0xd2', 'USDT', 250.5, t0 + HOUR, 'pending'],
    ]);
    const withdrawals = await exchange.fetchWithdrawals(undefined, t0);
    expect(withdrawals.map((t) => [t.id, t.currency, t.amount, t.fee?.cost, t.status])).toEqual([
      ['w1', 'ETH', 1, 0.01, 'ok'],
    ]);
    expect(server.stats.byPath).toEqual({ '/api/v1/deposits': 1, '/api/v1/withdrawals': 1 });
    // startAt is inclusive, and the exchange, not only ccxt, leaves the older one out.
    const raw = (await exchange.privateGetDeposits({ startAt: t0 + HOUR })) as {
      data: { items: unknown[]; totalNum: number };
    };
    expect(raw.data.totalNum).toBe(1);
    const until = await exchange.fetchDeposits(undefined, t0, undefined, { until: t0 });
    expect(until.map((t) => t.txid)).toEqual(['0xd1']); // endAt is inclusive too
  });

  it('history pages: currentPage and pageSize, newest first, with the totals', async () => {
    const credentials = account();
    const exchange = await ready(credentials);
    const t0 = Date.now() - 30 * HOUR;
    for (let i = 0; i < 12; i += 1) {
      server.addDeposit(credentials.apiKey, {
        id: `p${i}`,
        asset: 'BTC',
        amount: '0.01',
        timestamp: t0 + i * HOUR,
        status: 'ok',
      });
    }
    const page = (currentPage: number) =>
      exchange.privateGetDeposits({ currentPage, pageSize: 10 }) as Promise<{
        data: { currentPage: number; totalNum: number; totalPage: number; items: unknown[] };
      }>;
    const first = await page(1);
    expect(first.data).toMatchObject({ currentPage: 1, totalNum: 12, totalPage: 2 });
    expect(first.data.items).toHaveLength(10);
    expect((await page(2)).data.items).toMatchObject([
      { walletTxId: expect.stringMatching(/^0xp1@/) },
      { walletTxId: expect.stringMatching(/^0xp0@/) },
    ]);
    // ccxt's limit is KuCoin's pageSize, at most 500.
    expect((await exchange.fetchDeposits(undefined, t0, 10)).map((t) => t.txid)).toHaveLength(10);
    expect((await rejection(exchange.fetchDeposits(undefined, t0, 501))).message).toMatch(
      /pageSize should not greater than 500/,
    );
  });

  it('candles: hourly, from state history, [time, open, high, low, close]', async () => {
    const start = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
    server.setPrice('ETH/BTC', '0.04', start + 1000);
    server.setPrice('ETH/BTC', '0.06', start + 2000);
    server.setPrice('ETH/BTC', '0.05', start + HOUR + 1000);
    const candles = await client().fetchOHLCV('ETH/BTC', '1h', start, 2);
    expect(candles[0]).toEqual([start, 0.04, 0.06, 0.04, 0.06, 1]);
    expect(candles[1]).toEqual([start + HOUR, 0.06, 0.06, 0.05, 0.05, 1]);
  });
});

describe("KuCoin's signature, passphrase and refusals", () => {
  it('signs timestamp + method + endpoint + body, passphrase HMAC-ed (key version 2)', async () => {
    const credentials = account();
    const timestamp = String(Date.now());
    const endpoint = '/api/v1/accounts?type=main';
    const hmac = (text: string) =>
      createHmac('sha256', credentials.secret).update(text).digest('base64');
    const headers = {
      'KC-API-KEY': credentials.apiKey,
      'KC-API-TIMESTAMP': timestamp,
      'KC-API-KEY-VERSION': '2',
      'KC-API-PASSPHRASE': hmac(credentials.password),
      'KC-API-SIGN': hmac(`${timestamp}GET${endpoint}`),
    };
    const answer = await fetch(`${server.url}${endpoint}`, { headers });
    expect(await answer.json()).toEqual({
      code: '200000',
      data: [
        { id: 'main-ETH', currency: 'ETH', type: 'main', balance: '2', available: '2', holds: '0' },
      ],
    });
    // The same signature for another endpoint is refused.
    const other = await fetch(`${server.url}/api/v1/accounts?type=trade`, { headers });
    expect(other.status).toBe(401);
    expect(await other.json()).toEqual({ code: '400005', msg: 'Invalid KC-API-SIGN' });
    // A timestamp more than 5 s from KuCoin's clock.
    const stale = String(Date.now() - 6000);
    const old = await fetch(`${server.url}${endpoint}`, {
      headers: {
        ...headers,
        'KC-API-TIMESTAMP': stale,
        'KC-API-SIGN': hmac(`${stale}GET${endpoint}`),
      },
    });
    expect(await old.json()).toEqual({ code: '400002', msg: 'Invalid KC-API-TIMESTAMP' });
  });

  it.each([
    ['an unknown key', { apiKey: 'nobody' }, '400003', ccxt.AuthenticationError],
    ['a wrong passphrase', { password: 'wrong' }, '400004', ccxt.AuthenticationError],
    ['a wrong secret', { secret: 'wrong' }, '400004', ccxt.AuthenticationError],
  ] as const)('%s → %s, a refused key', async (_name, change, code, errorClass) => {
    const exchange = await ready({ ...account(), ...change });
    const error = await rejection(exchange.fetchBalance({ type: 'main' }));
    expect(error.constructor).toBe(errorClass);
    expect(error.message).toContain(`"code":"${code}"`);
    expect(classifyCcxtError(error).kind).toBe('credentials');
  });

  it('a revoked key → 400003 on every read', async () => {
    const credentials = account();
    server.revoke(credentials.apiKey);
    const exchange = await ready(credentials);
    expect((await rejection(exchange.fetchBalance({ type: 'trade' }))).message).toContain('400003');
    expect((await rejection(exchange.fetchDeposits())).message).toContain('400003');
  });

  it('a key without the permission → 400007, a refused key', async () => {
    const credentials = account();
    server.deny(credentials.apiKey, '/api/v1/withdrawals');
    const exchange = await ready(credentials);
    expect((await exchange.fetchBalance({ type: 'main' })).total).toEqual({ ETH: 2 });
    const error = await rejection(exchange.fetchWithdrawals());
    expect(error.message).toContain('"code":"400007"');
    expect(classifyCcxtError(error).kind).toBe('credentials');
  });

  it("this server's IP off the key's whitelist → 400006 (HTTP 403): ip_refused, no lock", async () => {
    const credentials = account();
    const exchange = await ready(credentials);
    server.fail({
      kind: 'answer',
      apiKey: credentials.apiKey,
      status: 403,
      body: { code: '400006', msg: 'Invalid request ip, the current clientIp is:127.0.0.1' },
    });
    const error = await rejection(exchange.fetchBalance({ type: 'main' }));
    expect(error.constructor).toBe(ccxt.AuthenticationError);
    expect(classifyCcxtError(error, undefined, 403).kind).toBe('ip_refused');
  });

  it('too many requests → 429000 (HTTP 429): rate limited', async () => {
    const credentials = account();
    const exchange = await ready(credentials);
    server.fail({ kind: 'rateLimit429', apiKey: credentials.apiKey, retryAfterSeconds: 2 });
    const error = await rejection(exchange.fetchBalance({ type: 'main' }));
    expect(error.message).toContain('"code":"429000"');
    expect(classifyCcxtError(error, 2000, 429)).toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 2000,
    });
    expect(server.stats.rateLimited).toBe(1);
  });
});

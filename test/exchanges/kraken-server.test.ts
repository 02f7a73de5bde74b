import { createHash, createHmac } from 'node:crypto';
import ccxt, { type Exchange } from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyCcxtError } from '../../src/exchanges/failures.ts';
import { ccxtClient, rejection, withLentMarkets } from '../support/ccxt-client.ts';
import { startFakeKraken, type FakeKraken } from '../support/exchanges/kraken-server.ts';

// ccxt's `kraken`, unmodified and with the catalog's options, against the Kraken stand-in: which
// paths each read costs, Kraken's asset codes (XXBT, XETH, ZUSD, staked `DOT.S`) as ccxt maps
// them, the history params (asset, start, end, cursor), API-Sign checked exactly with an
// increasing nonce, and every refusal in Kraken's own words, as ccxt and we classify it.

const HOUR = 60 * 60 * 1000;

let server: FakeKraken;
let keys = 0;

beforeAll(async () => {
  server = await startFakeKraken({
    markets: { 'BTC/USD': '60000', 'ETH/BTC': '0.05', 'DOT/USD': '5', 'BTC/USDT': '60010' },
  });
});
afterAll(async () => {
  await server?.close();
});

type Credentials = { apiKey: string; secret: string };

const client = (credentials: Partial<Credentials> = {}): Exchange =>
  ccxtClient('kraken', server.url, credentials);

/** A fresh account: 0.5 + 0.25 BTC in orders, 1000 USD, 10 DOT staked, 0.1 BTC earning. */
function account(): Credentials {
  keys += 1;
  // Kraken's secrets are Base64: the signature is keyed with the decoded bytes.
  const credentials = {
    apiKey: `kraken-key-${keys}`,
    secret: Buffer.from(`kraken-secret-${keys}`).toString('base64'),
  };
  server.addAccount(credentials.apiKey, {
    secret: credentials.secret,
    balances: {
      BTC: { free: '0.5', locked: '0.25' },
      USD: { free: '1000' },
      'DOT.S': { free: '10' },
      'BTC.M': { free: '0.1' },
    },
  });
  return credentials;
}

/** A keyed instance with markets loaded by a keyless one, as the product lends them. */
const ready = (credentials: Credentials = account()): Promise<Exchange> =>
  withLentMarkets(client, credentials, server);

describe('what ccxt reads from the Kraken stand-in', () => {
  it("Assets and AssetPairs: Kraken's codes read as BTC, ETH and USD", async () => {
    server.resetStats();
    const exchange = client();
    const markets = await exchange.loadMarkets();
    expect(Object.keys(markets).sort()).toEqual(['BTC/USD', 'BTC/USDT', 'DOT/USD', 'ETH/BTC']);
    expect(markets['BTC/USD']).toMatchObject({ id: 'XXBTZUSD', altname: 'XBTUSD', spot: true });
    expect(markets['ETH/BTC']).toMatchObject({ id: 'XETHXXBT', base: 'ETH', quote: 'BTC' });
    expect(markets['DOT/USD']).toMatchObject({ id: 'DOTUSD', base: 'DOT', quote: 'USD' });
    expect(exchange.currencies['BTC']).toMatchObject({ id: 'XXBT', code: 'BTC' });
    expect(exchange.currencies['USD']).toMatchObject({ id: 'ZUSD', code: 'USD' });
    expect(server.stats.byPath).toEqual({ '/0/public/Assets': 1, '/0/public/AssetPairs': 1 });
  });

  it('server time', async () => {
    const time = await client().fetchTime();
    expect(Math.abs((time ?? 0) - Date.now())).toBeLessThan(5000);
  });

  it('all tickers in one request, or the pairs named', async () => {
    const exchange = await ready();
    const tickers = await exchange.fetchTickers();
    expect(Object.fromEntries(Object.entries(tickers).map(([s, t]) => [s, t.last]))).toEqual({
      'BTC/USD': 60000,
      'ETH/BTC': 0.05,
      'DOT/USD': 5,
      'BTC/USDT': 60010,
    });
    const named = await exchange.fetchTickers(['ETH/BTC']);
    expect(Object.keys(named)).toEqual(['ETH/BTC']);
    expect(server.stats.byPath).toEqual({ '/0/public/Ticker': 2 });
  });

  it('BalanceEx: one balance, staked and earning amounts under codes of their own', async () => {
    const credentials = account();
    const exchange = await ready(credentials);
    const balance = await exchange.fetchBalance();
    expect(balance.BTC).toMatchObject({ free: 0.5, used: 0.25, total: 0.75 });
    // What ccxt's safeCurrencyCode makes of Kraken's DOT.S and XBT.M: the catalog's aliases
    // count them as DOT and BTC.
    expect(balance.total).toEqual({ BTC: 0.75, USD: 1000, 'DOT.S': 10, 'BTC.M': 0.1 });
    expect(balance.info).toMatchObject({
      result: {
        XXBT: { balance: '0.7500000000', hold_trade: '0.2500000000' },
        ZUSD: { balance: '1000.0000000000' },
        'DOT.S': { balance: '10.0000000000' },
        'XBT.M': { balance: '0.1000000000' },
      },
    });
    expect(server.stats.byPath).toEqual({ '/0/private/BalanceEx': 1 });
  });

  it('DepositStatus and WithdrawStatus: asset codes, statuses, `start`, `end` and `asset`', async () => {
    const credentials = account();
    const exchange = await ready(credentials);
    const t0 = Math.floor((Date.now() - 10 * HOUR) / 1000) * 1000; // Kraken keeps whole seconds
    server.addDeposit(credentials.apiKey, {
      id: 'QSB7IFM-1',
      asset: 'BTC',
      amount: '0.1',
      timestamp: t0,
      status: 'ok',
    });
    server.addDeposit(credentials.apiKey, {
      id: 'QSB7IFM-2',
      asset: 'ETH',
      amount: '1.5',
      timestamp: t0 + HOUR,
      status: 'pending',
    });
    server.addWithdrawal(credentials.apiKey, {
      id: 'AGBSO6T-1',
      asset: 'USD',
      amount: '100',
      fee: '0.5',
      timestamp: t0 + 2 * HOUR,
      status: 'ok',
    });
    const deposits = await exchange.fetchDeposits(undefined, t0);
    expect(deposits.map((t) => [t.id, t.currency, t.amount, t.timestamp, t.status])).toEqual([
      // Newest first, as Kraken answers (ccxt keeps its order).
      ['QSB7IFM-2', 'ETH', 1.5, t0 + HOUR, 'pending'], // Kraken's "Settled"
      ['QSB7IFM-1', 'BTC', 0.1, t0, 'ok'],
    ]);
    const withdrawals = await exchange.fetchWithdrawals(undefined, t0);
    expect(withdrawals.map((t) => [t.id, t.currency, t.amount, t.fee?.cost, t.status])).toEqual([
      ['AGBSO6T-1', 'USD', 100, 0.5, 'ok'],
    ]);
    expect(server.stats.byPath).toEqual({
      '/0/private/DepositStatus': 1,
      '/0/private/WithdrawStatus': 1,
    });
    // The exchange, not only ccxt, honours start (inclusive), end and asset.
    const raw = async (params: object) =>
      (
        (await exchange.privatePostDepositStatus(params)) as { result: Array<{ refid: string }> }
      ).result.map((row) => row.refid);
    expect(await raw({ start: (t0 + HOUR) / 1000 })).toEqual(['QSB7IFM-2']);
    expect(await raw({ end: t0 / 1000 })).toEqual(['QSB7IFM-1']);
    expect(await raw({ asset: 'XETH' })).toEqual(['QSB7IFM-2']);
    expect(await raw({ asset: 'XBT' })).toEqual(['QSB7IFM-1']); // an altname names it too
    expect((await exchange.fetchDeposits('BTC', t0)).map((t) => t.id)).toEqual(['QSB7IFM-1']);
  });

  it('history cursor: pages of `limit`, newest first, until no next_cursor', async () => {
    const credentials = account();
    const exchange = await ready(credentials);
    const t0 = Date.now() - 30 * HOUR;
    for (let i = 0; i < 3; i += 1) {
      server.addWithdrawal(credentials.apiKey, {
        id: `W-${i}`,
        asset: 'BTC',
        amount: '0.01',
        timestamp: t0 + i * HOUR,
        status: 'ok',
      });
    }
    type Page = { result: { withdrawals: Array<{ refid: string }>; next_cursor?: string } };
    const first = (await exchange.privatePostWithdrawStatus({ cursor: true, limit: 2 })) as Page;
    expect(first.result.withdrawals.map((w) => w.refid)).toEqual(['W-2', 'W-1']);
    const cursor = first.result.next_cursor;
    expect(cursor).toBeDefined();
    const second = (await exchange.privatePostWithdrawStatus({ cursor, limit: 2 })) as Page;
    expect(second.result.withdrawals.map((w) => w.refid)).toEqual(['W-0']);
    expect(second.result.next_cursor).toBeUndefined();
    // ccxt's own pagination walks the same cursor.
    const all = await exchange.fetchWithdrawals(undefined, undefined, undefined, {
      paginate: true,
    });
    expect(all.map((w) => w.id).sort()).toEqual(['W-0', 'W-1', 'W-2']);
  });

  it('OHLC: hourly candles from state history, oldest first', async () => {
    const start = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
    server.setPrice('DOT/USD', '4', start + 1000);
    server.setPrice('DOT/USD', '6', start + 2000);
    server.setPrice('DOT/USD', '5', start + HOUR + 1000);
    const candles = await client().fetchOHLCV('DOT/USD', '1h', start);
    expect(candles[0]).toEqual([start, 4, 6, 4, 6, 1]);
    expect(candles[1]).toEqual([start + HOUR, 6, 6, 5, 5, 1]);
  });
});

describe("Kraken's signature, nonce and refusals", () => {
  /** API-Key and API-Sign for a private POST to `path`, as Kraken documents them. */
  function signedHeaders(credentials: Credentials, path: string, body: string) {
    const nonce = new URLSearchParams(body).get('nonce') ?? '';
    const digest = createHash('sha256').update(`${nonce}${body}`).digest();
    const sign = createHmac('sha512', Buffer.from(credentials.secret, 'base64'))
      .update(Buffer.concat([Buffer.from(path), digest]))
      .digest('base64');
    return {
      'API-Key': credentials.apiKey,
      'API-Sign': sign,
      'Content-Type': 'application/x-www-form-urlencoded',
    };
  }

  /** A hand-signed private POST of `body`, signed for `signedPath` (by default `path`). */
  const post = (credentials: Credentials, path: string, body: string, signedPath = path) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: signedHeaders(credentials, signedPath, body),
      body,
    });

  it('API-Sign over path + SHA256(nonce + body); a nonce must grow', async () => {
    const credentials = account();
    const path = '/0/private/BalanceEx';
    const nonce = Date.now() * 1000;
    const first = await post(credentials, path, `nonce=${nonce}`);
    expect(await first.json()).toMatchObject({ error: [], result: { ZUSD: expect.anything() } });
    const again = await post(credentials, path, `nonce=${nonce}`);
    expect(await again.json()).toEqual({ error: ['EAPI:Invalid nonce'] });
    // Signed for another path: refused.
    const elsewhere = await post(credentials, '/0/private/Balance', `nonce=${nonce + 1}`, path);
    expect(await elsewhere.json()).toEqual({ error: ['EAPI:Invalid signature'] });
  });

  it.each([
    ['an unknown key', { apiKey: 'nobody' }, 'EAPI:Invalid key', ccxt.AuthenticationError],
    [
      'a wrong secret',
      { secret: Buffer.from('wrong').toString('base64') },
      'EAPI:Invalid signature',
      ccxt.ExchangeError,
    ],
  ] as const)('%s → %s, a refused key', async (_name, change, words, errorClass) => {
    const exchange = await ready({ ...account(), ...change });
    const error = await rejection(exchange.fetchBalance());
    expect(error).toBeInstanceOf(errorClass);
    expect(error.message).toContain(words);
    expect(classifyCcxtError(error).kind).toBe('credentials');
  });

  it('a revoked key → EAPI:Invalid key on every read', async () => {
    const credentials = account();
    server.revoke(credentials.apiKey);
    const exchange = await ready(credentials);
    expect((await rejection(exchange.fetchBalance())).message).toContain('EAPI:Invalid key');
    expect((await rejection(exchange.fetchDeposits())).message).toContain('EAPI:Invalid key');
  });

  it('a key without "Funds - Query" → EGeneral:Permission denied, a refused key', async () => {
    const credentials = account();
    server.deny(credentials.apiKey, '/0/private/DepositStatus');
    const exchange = await ready(credentials);
    expect((await exchange.fetchBalance()).total).toMatchObject({ BTC: 0.75 });
    const error = await rejection(exchange.fetchDeposits());
    expect(error.constructor).toBe(ccxt.PermissionDenied);
    expect(classifyCcxtError(error).kind).toBe('credentials');
  });

  it('a nonce out of order → EAPI:Invalid nonce: retried, not the key', async () => {
    const credentials = account();
    const exchange = await ready(credentials);
    // Another client of the key went ahead, with a nonce from a clock a minute on.
    await post(credentials, '/0/private/Balance', `nonce=${Date.now() + 60_000}`);
    const error = await rejection(exchange.fetchBalance());
    expect(error.constructor).toBe(ccxt.InvalidNonce);
    expect(classifyCcxtError(error).kind).toBe('unavailable');
  });

  it('too many requests → EAPI:Rate limit exceeded: rate limited', async () => {
    const credentials = account();
    const exchange = await ready(credentials);
    server.fail({ kind: 'rateLimit429', apiKey: credentials.apiKey });
    const error = await rejection(exchange.fetchBalance());
    expect(error.message).toContain('EAPI:Rate limit exceeded');
    expect(classifyCcxtError(error).kind).toBe('rate_limited');
    expect(server.stats.rateLimited).toBe(1);
  });
});

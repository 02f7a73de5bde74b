import ccxt, { type Exchange } from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withOrigin } from '../../src/exchanges/origins.ts';
import { findMarket } from '../../src/markets/index.ts';
import {
  coinbaseAccountId,
  newCoinbaseKey,
  startFakeCoinbase,
  type FakeCoinbase,
} from '../support/exchanges/coinbase-server.ts';

// ccxt's `coinbase`, unmodified, against the Coinbase stand-in with a CDP key (its name and EC
// private key): which paths each call costs, how ccxt reads every answer, and that each signed
// request's ES256 JWT is checked as Coinbase checks it.

const ACCOUNTS = '/api/v3/brokerage/accounts';
const PRODUCTS = '/api/v3/brokerage/market/products';
const HOUR = 60 * 60 * 1000;

let cb: FakeCoinbase;
const key = newCoinbaseKey('c0ffee00-1111-2222-3333-444455556666');
const other = newCoinbaseKey('c0ffee00-9999-8888-7777-666655554444');

/** A client as the service builds it: the catalog's options, the stand-in's origin. */
function client(apiKey = key.name, secret = key.privateKey): Exchange {
  const connector = findMarket('coinbase')?.connector;
  const options = connector?.type === 'ccxt' ? { ...connector.options } : {};
  const c = new ccxt.coinbase({ apiKey, secret, options, enableRateLimit: false });
  c.urls = { ...c.urls, api: withOrigin(c.urls.api, cb.url) as typeof c.urls.api };
  return c;
}

/** Markets loaded as the service loads them: once, without keys, shared with keyed clients. */
async function keyed(apiKey = key.name, secret = key.privateKey): Promise<Exchange> {
  const anonymous = client('', '');
  await anonymous.loadMarkets();
  const c = client(apiKey, secret);
  c.setMarkets(anonymous.markets, anonymous.currencies as never);
  return c;
}

beforeAll(async () => {
  cb = await startFakeCoinbase({
    markets: { 'BTC/USD': '60000', 'ETH/USD': '3000.25', 'ETH/BTC': '0.05', 'SOL/USDC': '150' },
  });
  cb.addAccount(key.name, {
    secret: key.privateKey,
    balances: { BTC: { free: '0.5', locked: '0.25' }, ETH: { free: '2' }, USD: { free: '100.5' } },
  });
  cb.addAccount(other.name, { secret: other.privateKey, balances: { SOL: { free: '3' } } });
});
afterAll(async () => cb?.close());

describe('Coinbase markets and prices', () => {
  it('loads spot products and the currencies, without a key', async () => {
    const c = client('', '');
    cb.resetStats();
    const markets = await c.loadMarkets();
    // The spot products, then the futures and perpetuals lists (empty for a spot account).
    expect(cb.stats.byPath).toEqual({
      [PRODUCTS]: 3,
      '/v2/currencies': 1,
      '/v2/currencies/crypto': 1,
      '/v2/exchange-rates': 1,
    });
    expect(Object.keys(markets).sort()).toEqual(['BTC/USD', 'ETH/BTC', 'ETH/USD', 'SOL/USDC']);
    expect(markets['ETH/USD']).toMatchObject({ id: 'ETH-USD', spot: true });
  });

  it('reads the last prices of the named products in one request', async () => {
    const c = await keyed();
    cb.resetStats();
    const tickers = await c.fetchTickers(['ETH/USD', 'SOL/USDC']);
    expect(cb.stats.byPath).toEqual({ [PRODUCTS]: 1 });
    expect(Object.values(tickers).map((t) => [t.symbol, t.last])).toEqual([
      ['ETH/USD', 3000.25],
      ['SOL/USDC', 150],
    ]);
  });

  it('cuts candles from the price history (seconds on the wire)', async () => {
    const c = await keyed();
    const start = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR;
    cb.setPrice('ETH/BTC', '0.04', start);
    cb.setPrice('ETH/BTC', '0.045', start + HOUR + 1000);
    cb.resetStats();
    const candles = await c.fetchOHLCV('ETH/BTC', '1h', start, 2);
    expect(cb.stats.byPath).toEqual({ [`${PRODUCTS}/ETH-BTC/candles`]: 1 });
    expect(candles).toEqual([
      [start, 0.04, 0.04, 0.04, 0.04, 1],
      [start + HOUR, 0.04, 0.045, 0.04, 0.045, 1],
    ]);
  });
});

describe('Coinbase accounts', () => {
  it('reads every currency account in one request: available + hold', async () => {
    const c = await keyed();
    cb.resetStats();
    const balance = await c.fetchBalance();
    expect(cb.stats.byPath).toEqual({ [ACCOUNTS]: 1 });
    expect(balance.total).toEqual({ BTC: 0.75, ETH: 2, USD: 100.5 });
    expect(balance['BTC']).toMatchObject({ free: 0.5, used: 0.25 });
  });

  it('pages its accounts list by cursor: 49 by default, has_next until the last', async () => {
    const c = await keyed(other.name, other.privateKey);
    for (let i = 0; i < 60; i += 1) cb.setBalance(other.name, `C${i}`, '1');
    type Page = { accounts: unknown[]; has_next: boolean; cursor: string };
    const call = (c as unknown as Record<string, (p: object) => Promise<Page>>)[
      'v3PrivateGetBrokerageAccounts'
    ]!;
    const first = await call.call(c, {});
    expect([first.accounts.length, first.has_next, first.cursor]).toEqual([49, true, '49']);
    const second = await call.call(c, { cursor: first.cursor });
    expect([second.accounts.length, second.has_next, second.cursor]).toEqual([12, false, '']);
    // ccxt asks for 250 at once (Coinbase's most), which holds all 61 here.
    expect(Object.keys((await c.fetchBalance()).total ?? {})).toHaveLength(61);
  });
});

describe('Coinbase transactions', () => {
  const base = Date.now() - 10 * HOUR;
  beforeAll(() => {
    cb.addDeposit(key.name, {
      id: 'eth-in',
      asset: 'ETH',
      amount: '1',
      timestamp: base,
      status: 'ok',
    });
    cb.addWithdrawal(key.name, {
      id: 'eth-out',
      asset: 'ETH',
      amount: '0.5',
      fee: '0.001',
      timestamp: base + HOUR,
      status: 'ok',
    });
    cb.addWithdrawal(key.name, {
      id: 'eth-wait',
      asset: 'ETH',
      amount: '0.1',
      timestamp: base + 2 * HOUR,
      status: 'pending',
    });
    cb.addDeposit(key.name, {
      id: 'usd-in',
      asset: 'USD',
      amount: '50',
      timestamp: base,
      status: 'ok',
    });
  });

  it("finds the currency's account, then reads its transactions; ccxt takes an outgoing send for a deposit", async () => {
    const c = await keyed();
    cb.resetStats();
    const rows = await c.fetchDepositsWithdrawals('ETH', undefined, undefined, { limit: 100 });
    expect(cb.stats.byPath).toEqual({
      [ACCOUNTS]: 1,
      [`/v2/accounts/${coinbaseAccountId(key.name, 'ETH')}/transactions`]: 1,
    });
    // An outgoing send carries `network.transaction_amount` (unsigned), which ccxt reads as the
    // amount and so labels a deposit; only the signed `amount.amount` says it left (the catalog's
    // `transfers.rows.signField` for Coinbase).
    const signed = (r: { info: unknown }) =>
      (r.info as { amount: { amount: string } }).amount.amount;
    expect(
      rows.map((r) => [r.id, r.type, r.currency, r.amount, r.status, r.timestamp, signed(r)]),
    ).toEqual([
      ['eth-in', 'deposit', 'ETH', 1, 'ok', Math.floor(base / 1000) * 1000, '1'],
      // 0.5 sent plus its 0.001 network fee left the account.
      ['eth-out', 'deposit', 'ETH', 0.5, 'ok', Math.floor((base + HOUR) / 1000) * 1000, '-0.501'],
      [
        'eth-wait',
        'deposit',
        'ETH',
        0.1,
        'pending',
        Math.floor((base + 2 * HOUR) / 1000) * 1000,
        '-0.1',
      ],
    ]);
  });

  it('reads fiat deposits from the same history of the USD account', async () => {
    const c = await keyed();
    const rows = await c.fetchDepositsWithdrawals('USD');
    expect(rows.map((r) => [r.id, r.type, r.currency, r.amount, r.status])).toEqual([
      ['usd-in', 'deposit', 'USD', 50, 'ok'],
    ]);
  });

  it('pages a history by starting_after, newest first', async () => {
    const c = await keyed();
    const accountId = coinbaseAccountId(key.name, 'ETH');
    type Page = { data: Array<{ id: string }>; pagination: { next_starting_after: string | null } };
    const call = (c as unknown as Record<string, (p: object) => Promise<Page>>)[
      'v2PrivateGetAccountsAccountIdTransactions'
    ]!;
    const first = await call.call(c, { account_id: accountId, limit: 2 });
    expect(first.data.map((t) => t.id)).toEqual(['eth-wait', 'eth-out']);
    expect(first.pagination.next_starting_after).toBe('eth-out');
    const second = await call.call(c, {
      account_id: accountId,
      limit: 2,
      starting_after: 'eth-out',
    });
    expect(second.data.map((t) => t.id)).toEqual(['eth-in']);
    expect(second.pagination.next_starting_after).toBeNull();
  });

  it("answers another key's account as not found", async () => {
    const c = await keyed(other.name, other.privateKey);
    const call = (c as unknown as Record<string, (p: object) => Promise<unknown>>)[
      'v2PrivateGetAccountsAccountIdTransactions'
    ]!;
    const error = await call
      .call(c, { account_id: coinbaseAccountId(key.name, 'ETH') })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ccxt.ExchangeError);
    expect(String(error)).toContain('not_found');
  });
});

describe('Coinbase JWT checks', () => {
  const refused = async (c: Exchange) => {
    const error = await c.fetchBalance().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ccxt.AuthenticationError);
    expect(String(error)).toContain('401 Unauthorized');
  };

  it('refuses a token signed by another private key', async () => {
    await refused(await keyed(key.name, other.privateKey));
  });

  it('refuses an unknown key name', async () => {
    await refused(await keyed('organizations/x/apiKeys/unknown', other.privateKey));
  });

  it('refuses a token out of its nbf..exp window', async () => {
    const stale = await keyed();
    stale.seconds = () => Math.floor(Date.now() / 1000) - 600; // expired 8 minutes ago
    await refused(stale);
    const early = await keyed();
    early.seconds = () => Math.floor(Date.now() / 1000) + 600; // not valid for 10 minutes
    await refused(early);
  });

  it('refuses a token made for another request (its uri claim)', async () => {
    const c = await keyed();
    const signed = c.sign('brokerage/accounts', ['v3', 'private'], 'GET', {});
    const headers = signed.headers as Record<string, string>;
    const elsewhere = await fetch(`${cb.url}/api/v3/brokerage/transaction_summary`, { headers });
    expect([elsewhere.status, await elsewhere.text()]).toEqual([401, 'Unauthorized\n']);
    const here = await fetch(String(signed.url), { headers });
    expect(here.status).toBe(200);
  });

  it('refuses a revoked key, and says so in the v2 shape on v2 paths', async () => {
    const revoked = newCoinbaseKey('revoked');
    cb.addAccount(revoked.name, { secret: revoked.privateKey, balances: { BTC: { free: '1' } } });
    cb.revoke(revoked.name);
    const c = await keyed(revoked.name, revoked.privateKey);
    await refused(c);
    const error = await c
      .fetchDepositsWithdrawals(undefined, undefined, undefined, {
        account_id: coinbaseAccountId(revoked.name, 'BTC'),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ccxt.AuthenticationError);
    expect(String(error)).toContain('authentication_error');
  });
});

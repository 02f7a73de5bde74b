import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NotFoundError,
  ThreeCommasClient,
  data,
  type Account,
} from '../../packages/sdk/src/index.ts';
import { startFakeBinance, type FakeBinance } from '../support/exchanges/binance-server.ts';
import { startTestServer, userWithKey, type TestServer } from '../support/server.ts';

// The flows a 3Commas user runs, end to end through the project's own SDK: connect a Binance
// account (on the local Binance-protocol server, read by ccxt), list it, show it, and have its
// balances read again after prices move. Only the SDK's base URL says this is not 3Commas.

let binance: FakeBinance;
let server: TestServer;
let sdk: ThreeCommasClient;

beforeAll(async () => {
  binance = await startFakeBinance();
  binance.setPrice('BTC/USDT', '50000');
  binance.addAccount('sdk-key', {
    secret: 'sdk-secret',
    balances: { BTC: { free: '0.4', locked: '0.1' } },
  });
  binance.setBalance('sdk-key', 'USDT', '100');
  server = await startTestServer({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
    // Prices are shared for one round (at most a sync interval): rounds here are a second.
    OPENCOMMAS_SYNC_INTERVAL: '1s',
  });
  const owner = await userWithKey(server.services, {
    permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'],
  });
  sdk = new ThreeCommasClient({
    apiKey: owner.credentials.apiKey,
    secret: owner.credentials.secret,
    baseUrl: `${server.url}/public/api`,
  });
});
afterAll(async () => {
  await server?.close();
  await binance?.close();
});

async function all(): Promise<Account[]> {
  const accounts: Account[] = [];
  for await (const account of sdk.accounts()) accounts.push(account);
  return accounts;
}

describe('a Binance account through the SDK', () => {
  let id = 0;

  it('connects with POST /ver1/accounts/new, valued at the tickers', async () => {
    const account = data(
      await sdk.api.POST('/ver1/accounts/new', {
        params: {
          query: { type: 'binance', name: 'Main', api_key: 'sdk-key', secret: 'sdk-secret' },
        },
      }),
    );
    id = account.id;
    // 0.5 BTC × 50000 + 100 USDT × 1 = 25100 USD; 25100 / 50000 = 0.502 BTC
    expect(account).toMatchObject({
      name: 'Main',
      market_code: 'binance',
      api_key: 'sdk-key',
      usd_amount: '25100.0',
      btc_amount: '0.502',
    });
  });

  it('lists it through the paging iterator, and shows it by id', async () => {
    const listed = await all();
    expect(listed.map((a) => [a.id, a.usd_amount])).toEqual([[id, '25100.0']]);
    expect(await sdk.account(id)).toEqual(listed[0]);
  });

  it('load_balances reads the exchange again: the new price is in the answer and the list', async () => {
    binance.setPrice('BTC/USDT', '62500');
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the next round's tickers
    const account = await sdk.loadBalances(id);
    // 0.5 BTC × 62500 + 100 = 31350 USD; 31350 / 62500 = 0.5016 BTC
    expect(account).toMatchObject({ id, usd_amount: '31350.0', btc_amount: '0.5016' });
    const [listed] = await all();
    expect(listed).toMatchObject({ usd_amount: '31350.0', btc_amount: '0.5016' });
  });

  it('another user cannot load it: 404 not_found, typed', async () => {
    const stranger = await userWithKey(server.services, {
      permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'],
    });
    const theirs = new ThreeCommasClient({
      apiKey: stranger.credentials.apiKey,
      secret: stranger.credentials.secret,
      baseUrl: `${server.url}/public/api`,
    });
    const error = await theirs.loadBalances(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'not_found' });
  });
});

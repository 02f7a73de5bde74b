// An unmodified published 3Commas client, 3commas-api-node@1.2.0 (node-fetch), driven against
// our server through its own `url` option, the one thing a user changes. It sends every parameter
// in the query string (a POST has no body) and signs `path?query`.
//
// Every call the client offers in the accounts family (paths under /public/api/ver1/accounts),
// each driven by a test below:
//   accountsNew(params)             POST /new                 connects a stand-in Binance key
//   accounts()                      GET  /
//   accountLoadBalances(id)         POST /{id}/load_balances
//   accountPieChartData(id)         POST /{id}/pie_chart_data
//   accountTableData(id)            POST /{id}/account_table_data
//   accountsMarketList()            GET  /market_list
//   accountsCurrencyRates()         GET  /currency_rates      takes no parameters, so it can send
//                                                             neither market_code nor pair, which
//                                                             3Commas documents as mandatory: it
//                                                             gets our 400 record_invalid naming
//                                                             market_code (a client bug, asserted
//                                                             rather than skipped)
//   accountSellAllToUsd(id)         POST /{id}/sell_all_to_usd  403: this service never trades
//   accountSellAllToBtc(id)         POST /{id}/sell_all_to_btc  the same 403
//   accountRename(params)           POST /{id}/rename
//   accountRemove(id)               POST /{id}/remove         `true`, then the account is gone
// The client answers with the parsed body whatever the status, so errors are its return value.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeBinance, type FakeBinance } from '../support/exchanges/binance-server.ts';
import {
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

/** The slice of the client's (untyped, CommonJS) API this file calls. */
interface ThreeCommasApiNode {
  accountsNew(params: Record<string, string>): Promise<unknown>;
  accounts(): Promise<unknown>;
  accountLoadBalances(accountId: number): Promise<unknown>;
  accountPieChartData(accountId: number): Promise<unknown>;
  accountTableData(accountId: number): Promise<unknown>;
  accountsMarketList(): Promise<unknown>;
  accountsCurrencyRates(): Promise<unknown>;
  accountSellAllToUsd(accountId: number): Promise<unknown>;
  accountSellAllToBtc(accountId: number): Promise<unknown>;
  accountRename(params: { account_id: number; name: string }): Promise<unknown>;
  accountRemove(accountId: number): Promise<unknown>;
}
type ClientClass = new (options: {
  url: string;
  apiKey: string;
  apiSecret: string;
}) => ThreeCommasApiNode;
const ThreeCommasAPI = createRequire(import.meta.url)('3commas-api-node') as ClientClass;

interface Entity {
  id: number;
  name: string;
  market_code: string;
  usd_amount: string;
  btc_amount: string;
}
interface PieItem {
  code: string;
  usd_value: string;
  btc_value: string;
  percentage: number;
}
interface TableRow {
  currency_code: string;
  position: number;
  usd_value: number | null;
}

let binance: FakeBinance;
let server: TestServer;
let writer: Credentials;

const client = (credentials: Credentials) =>
  new ThreeCommasAPI({
    url: server.url,
    apiKey: credentials.apiKey,
    apiSecret: credentials.secret ?? '',
  });

beforeAll(async () => {
  binance = await startFakeBinance();
  binance.setPrice('BTC/USDT', '50000');
  binance.addAccount('node-client-key', {
    secret: 'node-client-secret',
    balances: { BTC: { free: '0.5', locked: '0' }, USDT: { free: '1000', locked: '0' } },
  });
  server = await startTestServer({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
  });
  writer = (
    await userWithKey(server.services, { permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'] })
  ).credentials;
});
afterAll(async () => {
  await server?.close();
  await binance?.close();
});

describe('3commas-api-node@1.2.0 against opencommas', () => {
  let accountId = 0;

  it('connects a Binance account with accountsNew() (parameters in the query string)', async () => {
    const created = (await client(writer).accountsNew({
      type: 'binance',
      name: 'From 3commas-api-node',
      api_key: 'node-client-key',
      secret: 'node-client-secret',
    })) as Entity;
    expect(created).toMatchObject({ name: 'From 3commas-api-node', market_code: 'binance' });
    accountId = created.id;
    // 0.5 BTC at 50,000 USDT + 1,000 USDT = 26,000 USD.
    expect(created.usd_amount).toMatch(/^26000(\.0+)?$/);
  });

  it('lists it with accounts()', async () => {
    const accounts = (await client(writer).accounts()) as Entity[];
    expect(accounts.map((a) => [a.id, a.name])).toEqual([[accountId, 'From 3commas-api-node']]);
    // 26,000 USD / 50,000 USD per BTC = 0.52 BTC.
    expect(accounts[0]?.btc_amount).toMatch(/^0\.52(0*)$/);
  });

  it('loads balances with accountLoadBalances(): a deposit on the exchange shows', async () => {
    binance.addAccount('node-client-key', {
      secret: 'node-client-secret',
      balances: { BTC: { free: '0.5', locked: '0' }, USDT: { free: '1500', locked: '0' } },
    });
    const loaded = (await client(writer).accountLoadBalances(accountId)) as Entity;
    expect(loaded.id).toBe(accountId);
    // 0.5 × 50,000 + 1,500 = 26,500 USD.
    expect(loaded.usd_amount).toMatch(/^26500(\.0+)?$/);
  });

  it('reads the pie chart and the table with accountPieChartData() and accountTableData()', async () => {
    const pie = (await client(writer).accountPieChartData(accountId)) as PieItem[];
    const slices = Object.fromEntries(pie.map((item) => [item.code, item]));
    expect(Object.keys(slices).sort()).toEqual(['BTC', 'USDT']);
    // BTC 25,000 of 26,500 USD = 94.34 %; USDT 1,500 of 26,500 = 5.66 %.
    expect(slices.BTC).toMatchObject({ usd_value: '25000.00', percentage: 94.34 });
    expect(slices.USDT).toMatchObject({ usd_value: '1500.00', percentage: 5.66 });
    // 1,500 USDT / 50,000 = 0.03 BTC.
    expect(slices.USDT?.btc_value).toBe('0.03000000');

    const table = (await client(writer).accountTableData(accountId)) as TableRow[];
    const rows = Object.fromEntries(table.map((row) => [row.currency_code, row]));
    expect(rows.BTC).toMatchObject({ position: 0.5, usd_value: 25000 });
    expect(rows.USDT).toMatchObject({ position: 1500, usd_value: 1500 });
  });

  it('hands back our error body when the signature is wrong', async () => {
    const wrong = client({ ...writer, secret: 'f'.repeat(64) });
    expect(await wrong.accounts()).toEqual({
      error: 'signature_invalid',
      error_description: 'Provided signature is invalid',
    });
  });

  it('reads the markets with accountsMarketList()', async () => {
    const markets = (await client(writer).accountsMarketList()) as Array<Record<string, unknown>>;
    expect(markets.find((m) => m.market_code === 'binance')).toMatchObject({
      market_name: 'Binance Spot',
      form_fields: {
        required: [
          { field: 'api_key', localized_name: 'API Key:' },
          { field: 'secret', localized_name: 'Secret:' },
        ],
        optional: [],
      },
    });
    expect(markets.find((m) => m.market_code === 'okex')).toMatchObject({
      form_fields: {
        required: [{ field: 'api_key' }, { field: 'secret' }, { field: 'passphrase' }],
      },
    });
  });

  it('accountsCurrencyRates() cannot name a market or a pair: it gets the 400 naming market_code', async () => {
    // The first missing parameter is named, as for any other call without it.
    expect(await client(writer).accountsCurrencyRates()).toEqual({
      error: 'record_invalid',
      error_description: 'Invalid parameters',
      error_attributes: { market_code: ["can't be blank"] },
    });
  });

  it('the trading calls get the 403 "unavailable for this account": accountSellAllTo*()', async () => {
    const unavailable = { error: 'Forbidden. Unavailable for this account.' };
    expect(await client(writer).accountSellAllToUsd(accountId)).toEqual(unavailable);
    expect(await client(writer).accountSellAllToBtc(accountId)).toEqual(unavailable);
    // Nothing was sold: still 0.5 BTC × 50,000 + 1,500 USDT = 26,500 USD.
    const [account] = (await client(writer).accounts()) as Entity[];
    expect(account?.usd_amount).toMatch(/^26500(\.0+)?$/);
    // And no order of any kind reached the exchange (the stand-in counts every path asked).
    expect(Object.keys(binance.stats.byPath).filter((path) => /order/i.test(path))).toEqual([]);
  });

  it('renames it with accountRename() (account_id and name in the query string)', async () => {
    const renamed = (await client(writer).accountRename({
      account_id: accountId,
      name: 'Renamed by 3commas-api-node',
    })) as Entity;
    expect(renamed).toMatchObject({ id: accountId, name: 'Renamed by 3commas-api-node' });
    const accounts = (await client(writer).accounts()) as Entity[];
    expect(accounts.map((a) => a.name)).toEqual(['Renamed by 3commas-api-node']);
  });

  it('removes it with accountRemove(): `true`, then it is gone', async () => {
    expect(await client(writer).accountRemove(accountId)).toBe(true);
    expect(await client(writer).accounts()).toEqual([]);
    // Its pie chart went with it.
    expect(await client(writer).accountPieChartData(accountId)).toMatchObject({
      error: 'not_found',
    });
    // Removing it again: not found.
    expect(await client(writer).accountRemove(accountId)).toMatchObject({ error: 'not_found' });
  });
});

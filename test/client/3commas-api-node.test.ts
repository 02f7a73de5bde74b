// An unmodified published 3Commas client, 3commas-api-node@1.2.0 (node-fetch), driven against
// our server through its own `url` option, the one thing a user changes. It connects a Binance
// account (a stand-in speaking Binance's API), lists it, loads its balances and reads its pie
// chart and table: every account call of the client that this service serves. Its other account
// calls (market_list, currency_rates, rename, remove, sell_all_to_*) are for routes not served
// yet by this commit.
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
});

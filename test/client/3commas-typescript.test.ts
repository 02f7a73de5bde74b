// An unmodified published 3Commas client (3commas-typescript@1.3.6) against our server. Only its
// transport is redirected: its own axios instance keeps its own request interceptor, which signs
// exactly as it would for https://api.3commas.io; an adapter installed on that instance then swaps
// the origin for our loopback server and hands the request to axios's own Node http adapter (the
// one the instance would have used anyway).
//
// Every call the client offers in the accounts family (paths under /public/api/ver1/accounts),
// each driven by a test below:
//   getExchange()                         GET  /                  (and customRequest for pages)
//   getAccountInfo(id)                    GET  /{id}              another user's: 404 not_found
//   getAccountInfo()                      GET  /summary
//   getPieChartData(id)                   POST /{id}/pie_chart_data
//   getAccountTableData(id)               POST /{id}/account_table_data
//   getBalanceChartData(id, params)       GET  /{id}/balance_chart_data
//   loadBalances(id)                      POST /{id}/load_balances
//   getActiveTradeEntities(id)            GET  /{id}/active_trading_entities
//   getMarketList()                       GET  /market_list
//   getMarketPairs(params)                GET  /market_pairs
//   getCurrencyRate(params)               GET  /currency_rates
//   getCurrencyRateWithLeverageData(p)    GET  /currency_rates_with_leverage_data
//   addExchangeAccount(params)            POST /new
//   editExchangeAccount(params)           POST /update
//   renameExchangeAccount(id, name)       POST /{id}/rename
//   removeExchangeAccount(id)             POST /{id}/remove       `true`, then the account is gone
//   sellAllToUSD(id), sellAllToBTC(id)    POST /{id}/sell_all_to_usd|btc   403: we never trade
//   getLeverageData(id, pair)             GET  /{id}/leverage_data          the same 403
//   transfer(params)                      POST /transfer          legacy, gone from 3Commas' docs
//   getTransferHistory(params)            GET  /transfer_history  with no documented answer: not
//   getTransferData()                     GET  /transfer_data     served, the caller gets our 404
// The client has no deposit_data, networks_info, types_to_connect, convert_dust_to_bnb or volume
// call.
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { API } from '3commas-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeBinance, type FakeBinance } from '../support/exchanges/binance-server.ts';
import {
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

const THREE_COMMAS = 'https://api.3commas.io';
const LIST = '/public/api/ver1/accounts';

// The slice of axios 0.27's types this file touches (its request config is flat by adapter time).
interface AdapterConfig {
  url?: string;
  baseURL?: string;
  method?: string;
  params?: unknown;
  data?: unknown;
  headers?: Record<string, string | number | boolean>;
  proxy?: false | object;
}
interface AdapterResponse {
  status: number;
  data: unknown;
  /** The Node ClientRequest; `path` is the request-target as written on the wire. */
  request: { path: string };
}
type Adapter = (config: AdapterConfig) => Promise<AdapterResponse>;
/** The library keeps its axios instance in a private field (`private axios;` in its types). */
interface WithTransport {
  axios: { defaults: { adapter?: Adapter } };
}

// The axios the library itself requires (resolved from the library's own directory, wherever npm
// put it), and that axios's Node http adapter.
const requireFromLibrary = createRequire(
  createRequire(import.meta.url).resolve('3commas-typescript'),
);
const httpAdapter = requireFromLibrary('axios/lib/adapters/http') as Adapter;
const axiosVersion = (requireFromLibrary('axios/package.json') as { version: string }).version;

/** What the adapter saw for one request, after the library's interceptor ran. */
interface Sent {
  url: string;
  baseURL: string | undefined;
  params: unknown;
  apikey: unknown;
  signature: unknown;
  /** Path and query as they went over the wire to our server. */
  wire: string;
  status: number;
}

let server: TestServer;
let binance: FakeBinance;
let alice: Credentials;
let bob: Credentials;
let carol: Credentials;
const aliceAccounts: { id: number; name: string; api_key: string }[] = [];

/** The library, unmodified, with its transport pointed at our server. */
function client(credentials: Credentials, options: ConstructorParameters<typeof API>[0] = {}) {
  const api = new API({ key: credentials.apiKey, secrets: credentials.secret, ...options });
  const transport = (api as unknown as WithTransport).axios;
  // Before we touch it, the instance's adapter is axios's http adapter: we delegate to that very
  // function, so the only thing that changes is where the request goes.
  expect(transport.defaults.adapter).toBe(httpAdapter);
  const sent: Sent[] = [];
  transport.defaults.adapter = async (config) => {
    const url = new URL(config.url ?? '');
    expect(url.origin).toBe(THREE_COMMAS);
    const record: Sent = {
      url: config.url ?? '',
      baseURL: config.baseURL,
      params: config.params,
      apikey: config.headers?.APIKEY,
      signature: config.headers?.signature,
      wire: '',
      status: 0,
    };
    sent.push(record);
    const redirected = {
      ...config,
      url: `${server.url}${url.pathname}${url.search}`,
      baseURL: server.url,
      // Never let an http(s)_proxy variable in the environment carry a loopback request away.
      proxy: false as const,
    };
    try {
      const response = await httpAdapter(redirected);
      record.wire = response.request.path;
      record.status = response.status;
      return response;
    } catch (error) {
      const failed = error as { request?: { path: string }; response?: { status: number } };
      record.wire = failed.request?.path ?? '';
      record.status = failed.response?.status ?? 0;
      throw error;
    }
  };
  return { api, sent };
}

const hmac = (secret: string, payload: string) =>
  createHmac('sha256', secret).update(payload, 'utf8').digest('hex');

interface Entity {
  id: number;
  name: string;
  api_key: string;
  market_code: string;
  usd_amount: string;
  btc_amount: string;
}

beforeAll(async () => {
  // For loadBalances(): Alice's first exchange key on a stand-in speaking Binance's API, holding
  // what her imported history says (123.45 USDT), so the figures stay as the other tests expect.
  binance = await startFakeBinance();
  binance.addAccount('alice-exchange-key-1', {
    secret: 'exchange-secret',
    balances: { USDT: { free: '123.45', locked: '0' } },
  });
  binance.setPrice('BTC/USDT', '60000');
  binance.setPrice('ETH/BTC', '0.05');
  binance.setBookTop('BTC/USDT', '59999.5', '60000.5');
  // Carol connects this key through addExchangeAccount(): 0.02 BTC and 300 USDT.
  binance.addAccount('carol-exchange-key', {
    secret: 'carol-exchange-secret',
    balances: { BTC: { free: '0.02', locked: '0' }, USDT: { free: '300', locked: '0' } },
  });
  server = await startTestServer({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
  });
  // Both: load_balances was ACCOUNTS_WRITE before the specification's ACCOUNTS_READ (§12).
  const a = await userWithKey(server.services, {
    permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'],
  });
  // Bob may write too, so his refusals on Alice's and Carol's accounts are about ownership.
  const b = await userWithKey(server.services, {
    permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'],
  });
  alice = a.credentials;
  bob = b.credentials;
  carol = (await userWithKey(server.services, { permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'] }))
    .credentials;
  const at = new Date(Date.now() - 60_000).toISOString();
  const amounts = ['123.45', '7.5', '42.0'];
  for (const [i, amount] of amounts.entries()) {
    const account = await server.services.accounts.add({
      sync: false, // illustrative keys: history is imported
      user_id: a.user.id,
      market_code: 'binance',
      name: `Alice binance ${i + 1}`,
      api_key: `alice-exchange-key-${i + 1}`,
      secret: 'exchange-secret',
    });
    aliceAccounts.push({
      id: account.id,
      name: account.name,
      api_key: `alice-exchange-key-${i + 1}`,
    });
    // Bob's accounts interleave with Alice's, so ids alone cannot make isolation look right.
    await server.services.accounts.add({
      sync: false, // illustrative keys: history is imported
      user_id: b.user.id,
      market_code: 'binance',
      name: `Bob binance ${i + 1}`,
      api_key: `alice-exchange-key-${i + 1}`,
      secret: 'exchange-secret',
    });
    await server.services.balances.importSnapshots([
      {
        account_id: account.id,
        at,
        btc_usd_price: '60000',
        assets: [{ asset: 'USDT', amount, usd_price: '1' }],
      },
    ]);
  }
});
afterAll(async () => {
  await server?.close();
  await binance?.close();
});

describe(`3commas-typescript@1.3.6 (axios ${axiosVersion}) against opencommas`, () => {
  it('lists the caller’s accounts with getExchange()', async () => {
    const { api, sent } = client(alice);
    const accounts = (await api.getExchange()) as Entity[];
    expect(Array.isArray(accounts)).toBe(true);
    expect(accounts.map((a) => a.id)).toEqual(aliceAccounts.map((a) => a.id));
    expect(accounts.map((a) => a.name)).toEqual(aliceAccounts.map((a) => a.name));
    expect(accounts.map((a) => a.api_key)).toEqual(aliceAccounts.map((a) => a.api_key));
    expect(accounts.map((a) => a.usd_amount)).toEqual(['123.45', '7.5', '42.0']);
    expect(accounts[0]).toMatchObject({ market_code: 'binance', usd_amount: '123.45' });
    // The same figure in BTC at 60000 USD/BTC.
    expect(accounts[0]?.btc_amount).toBe('0.0020575');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ wire: LIST, status: 200 });
  });

  it('gets the right page and filters by exchange API key through customRequest()', async () => {
    const { api, sent } = client(alice);
    const page2 = (await api.customRequest('GET', 1, '/accounts', {
      page: 2,
      per_page: 1,
    })) as Entity[];
    expect(page2.map((a) => a.id)).toEqual([aliceAccounts[1]?.id]);
    expect(page2[0]?.usd_amount).toBe('7.5');

    const page3 = (await api.customRequest('GET', 1, '/accounts', {
      page: 3,
      per_page: 1,
    })) as Entity[];
    expect(page3.map((a) => a.name)).toEqual(['Alice binance 3']);

    const beyond = (await api.customRequest('GET', 1, '/accounts', {
      page: 2,
      per_page: 3,
    })) as Entity[];
    expect(beyond).toEqual([]);

    const filtered = (await api.customRequest('GET', 1, '/accounts', {
      api_key: 'alice-exchange-key-3',
    })) as Entity[];
    expect(filtered.map((a) => a.id)).toEqual([aliceAccounts[2]?.id]);

    expect(sent.map((s) => [s.wire, s.status])).toEqual([
      [`${LIST}?page=2&per_page=1`, 200],
      [`${LIST}?page=3&per_page=1`, 200],
      [`${LIST}?page=2&per_page=3`, 200],
      [`${LIST}?api_key=alice-exchange-key-3`, 200],
    ]);
  });

  it('keeps users apart: Bob’s key lists only Bob’s accounts, even with the same exchange keys', async () => {
    const { api } = client(bob);
    const accounts = (await api.getExchange()) as Entity[];
    expect(accounts.map((a) => a.name)).toEqual([
      'Bob binance 1',
      'Bob binance 2',
      'Bob binance 3',
    ]);
    expect(accounts.some((a) => aliceAccounts.some((mine) => mine.id === a.id))).toBe(false);
  });

  it('surfaces our 401 error object through the library’s error path when the secret is wrong', async () => {
    const wrong = 'f'.repeat(64);
    const { api, sent } = client(alice, { secrets: wrong });
    await expect(api.getExchange()).rejects.toEqual({
      error: 'signature_invalid',
      error_description: 'Provided signature is invalid',
    });
    await expect(
      api.customRequest('GET', 1, '/accounts', { page: 1, per_page: 2 }),
    ).rejects.toMatchObject({ error: 'signature_invalid' });
    expect(sent.map((s) => s.status)).toEqual([401, 401]);
    // It really was signed, just with the wrong secret.
    expect(sent[0]?.signature).toBe(hmac(wrong, LIST));

    // The library's optional errorHandler receives the same object.
    const handled: unknown[] = [];
    const withHandler = client(alice, {
      secrets: wrong,
      errorHandler: (response) => {
        handled.push(response);
      },
    });
    await expect(withHandler.api.getExchange()).rejects.toMatchObject({
      error: 'signature_invalid',
    });
    expect(handled).toEqual([
      { error: 'signature_invalid', error_description: 'Provided signature is invalid' },
    ]);
  });

  it('an unknown API key gets api_key_invalid_or_expired', async () => {
    const { api, sent } = client({ apiKey: 'no-such-key', secret: alice.secret ?? '' });
    await expect(api.getExchange()).rejects.toMatchObject({
      error: 'api_key_invalid_or_expired',
    });
    expect(sent[0]?.status).toBe(401);
  });

  it('the request really carries the library’s own signature over the payload it signs', async () => {
    const secret = alice.secret ?? '';
    const { api, sent } = client(alice);
    await api.getExchange();
    await api.customRequest('GET', 1, '/accounts', { page: 1, per_page: 2 });

    // The interceptor saw the real 3Commas origin and signed the path relative to it.
    expect(sent.map((s) => [s.url, s.baseURL])).toEqual([
      [`${THREE_COMMAS}${LIST}`, THREE_COMMAS],
      [`${THREE_COMMAS}${LIST}`, THREE_COMMAS],
    ]);
    expect(sent.map((s) => s.apikey)).toEqual([alice.apiKey, alice.apiKey]);
    expect(sent[1]?.params).toEqual({ page: 1, per_page: 2 });

    // 3commas-typescript signs `path` for an empty query (no trailing '?') and `path?query`
    // otherwise, with the query from qs.stringify(params) — here identical to what axios sends.
    expect(sent[0]?.signature).toBe(hmac(secret, LIST));
    expect(sent[0]?.signature).not.toBe(hmac(secret, `${LIST}?`));
    expect(sent[1]?.signature).toBe(hmac(secret, `${LIST}?page=1&per_page=2`));
    expect(sent[1]?.wire).toBe(`${LIST}?page=1&per_page=2`);

    // Without a secret the library sends an empty signature, and our server refuses it.
    const unsigned = client(alice, { secrets: '' });
    await expect(unsigned.api.getExchange()).rejects.toMatchObject({
      error: 'signature_invalid',
    });
    expect(unsigned.sent[0]).toMatchObject({ signature: '', status: 401 });
  });
  it('reads one account with getAccountInfo(id), and another user’s is not found', async () => {
    const { api, sent } = client(alice);
    const first = aliceAccounts[0]!;
    const account = (await api.getAccountInfo(first.id)) as Entity;
    expect(account).toMatchObject({ id: first.id, name: first.name, usd_amount: '123.45' });
    const bobs = client(bob);
    await expect(bobs.api.getAccountInfo(first.id)).rejects.toMatchObject({ error: 'not_found' });
    expect(sent[0]).toMatchObject({ wire: `${LIST}/${first.id}`, status: 200 });
    expect(bobs.sent[0]?.status).toBe(404);
  });

  it('reads the pie chart, the table and the balance chart of an account', async () => {
    const { api, sent } = client(alice);
    const id = aliceAccounts[1]!.id;
    // Account 2 holds 7.5 USDT only: the whole pie, 7.5 USD, 7.5 / 60,000 = 0.000125 BTC.
    const pie = (await api.getPieChartData(id)) as Record<string, unknown>[];
    expect(pie).toEqual([
      expect.objectContaining({
        code: 'USDT',
        percentage: 100,
        usd_value: '7.50',
        btc_value: '0.00012500',
        account_id: id,
      }),
    ]);
    const table = (await api.getAccountTableData(id)) as Record<string, unknown>[];
    expect(table).toEqual([
      expect.objectContaining({ currency_code: 'USDT', position: 7.5, usd_value: 7.5 }),
    ]);
    const today = new Date().toISOString().slice(0, 10);
    const chart = (await api.getBalanceChartData(id, { date_from: today })) as {
      usd: number;
    }[];
    // The last point is now: the account's 7.5 USD.
    expect(chart.at(-1)?.usd).toBe(7.5);
    expect(sent.map((s) => [s.wire, s.status])).toEqual([
      [`${LIST}/${id}/pie_chart_data`, expect.any(Number)],
      [`${LIST}/${id}/account_table_data`, expect.any(Number)],
      [`${LIST}/${id}/balance_chart_data?date_from=${today}`, 200],
    ]);
    // POSTs that only read: 3Commas answers 201, as we do once the family lands; 2xx either way.
    expect(sent.slice(0, 2).every((s) => s.status >= 200 && s.status < 300)).toBe(true);
  });

  it('loads balances with loadBalances(id): read from the exchange now', async () => {
    const { api, sent } = client(alice);
    const first = aliceAccounts[0]!;
    const loaded = (await api.loadBalances(first.id)) as Entity;
    // The stand-in holds 123.45 USDT, as the imported history did: 123.45 / 60,000 BTC.
    expect(loaded).toMatchObject({ id: first.id, usd_amount: '123.45', btc_amount: '0.0020575' });
    expect(sent[0]?.wire).toBe(`${LIST}/${first.id}/load_balances`);
    // It really asked the exchange, with Alice's exchange key.
    expect(binance.stats.byPath['/api/v3/account']).toBeGreaterThan(0);
    expect(binance.stats.byKey['alice-exchange-key-1']).toBeGreaterThan(0);
  });
  it('reads the summary pseudo-account with getAccountInfo() and no id', async () => {
    const { api, sent } = client(alice);
    const summary = (await api.getAccountInfo()) as Omit<Entity, 'id'> & { id: unknown };
    // 123.45 + 7.5 + 42.0 = 172.95 USD; 172.95 / 60,000 = 0.0028825 BTC.
    expect(summary).toMatchObject({ id: 'summary' });
    expect(Number(summary.usd_amount)).toBe(172.95);
    expect(summary.usd_amount).toMatch(/^172\.950*$/);
    expect(summary.btc_amount).toMatch(/^0\.00288250*$/);
    expect(sent[0]).toMatchObject({ wire: `${LIST}/summary`, status: 200 });
  });

  it('counts active trading entities with getActiveTradeEntities(id): all zero', async () => {
    const { api, sent } = client(alice);
    const id = aliceAccounts[0]!.id;
    expect(await api.getActiveTradeEntities(id)).toStrictEqual({
      data: {
        active_bots_count: 0,
        active_deals_count: 0,
        active_smart_trades_count: 0,
        active_orders_count: 0,
        active_grid_bots_count: 0,
      },
    });
    expect(sent[0]).toMatchObject({ wire: `${LIST}/${id}/active_trading_entities`, status: 200 });
  });

  it('reads market data: getMarketList(), getMarketPairs(), getCurrencyRate*()', async () => {
    const { api, sent } = client(alice);
    const markets = (await api.getMarketList()) as Array<Record<string, unknown>>;
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
    // The stand-in lists BTC/USDT and ETH/BTC: USDT_BTC and BTC_ETH in 3Commas' QUOTE_BASE.
    expect(await api.getMarketPairs({ market_code: 'binance' })).toEqual(['BTC_ETH', 'USDT_BTC']);
    // BTCUSDT last 60000, book 59999.5 / 60000.5; the stand-in's filters for every symbol.
    const rules = {
      last: '60000.0',
      bid: '59999.5',
      ask: '60000.5',
      instrumentKind: 'spot',
      minPrice: '0.00000001',
      maxPrice: '1000000.0',
      priceStep: '0.00000001',
      minLotSize: '0.00001',
      maxLotSize: '9000.0',
      lotStep: '0.00001',
      minTotal: '5.0',
      maxTotal: '9000000.0',
    };
    const pair = { market_code: 'binance', pair: 'USDT_BTC' };
    expect(await api.getCurrencyRate(pair)).toEqual(rules);
    expect(await api.getCurrencyRateWithLeverageData(pair)).toEqual({
      ...rules,
      leverage_data: [
        {
          code: 'none',
          name: 'Not specified',
          can_set_leverage_value: false,
          available_leverage_values: [],
          max_leverage: null,
          valid: {},
        },
      ],
    });
    expect(sent.map((s) => [s.wire, s.status])).toEqual([
      [`${LIST}/market_list`, 200],
      [`${LIST}/market_pairs?market_code=binance`, 200],
      [`${LIST}/currency_rates?market_code=binance&pair=USDT_BTC`, 200],
      [`${LIST}/currency_rates_with_leverage_data?market_code=binance&pair=USDT_BTC`, 200],
    ]);
  });

  it('connects, edits, renames and removes an account: add/edit/rename/removeExchangeAccount()', async () => {
    const { api, sent } = client(carol);
    const created = (await api.addExchangeAccount({
      type: 'binance',
      name: 'Carol from 3commas-typescript',
      api_key: 'carol-exchange-key',
      secret: 'carol-exchange-secret',
    })) as Entity & { include_in_summary: boolean };
    // 0.02 BTC × 60,000 + 300 USDT = 1,500 USD; 1,500 / 60,000 = 0.025 BTC.
    expect(created).toMatchObject({
      name: 'Carol from 3commas-typescript',
      market_code: 'binance',
    });
    expect(created.usd_amount).toMatch(/^1500(\.0+)?$/);
    expect(created.btc_amount).toMatch(/^0\.0250*$/);
    const id = created.id;

    const edited = (await api.editExchangeAccount({
      account_id: id,
      name: 'Carol edited',
      include_in_summary: false,
    })) as Entity & { include_in_summary: boolean };
    expect(edited).toMatchObject({ id, name: 'Carol edited', include_in_summary: false });

    const renamed = (await api.renameExchangeAccount(id, 'Carol renamed')) as Entity;
    expect(renamed).toMatchObject({ id, name: 'Carol renamed' });

    // Bob cannot remove Carol's account: 404, and it is still there, renamed.
    await expect(client(bob).api.removeExchangeAccount(id)).rejects.toMatchObject({
      error: 'not_found',
    });
    expect(((await api.getAccountInfo(id)) as Entity).name).toBe('Carol renamed');
    expect(await api.removeExchangeAccount(id)).toBe(true);
    // Gone: not listed, not found by id.
    expect(await api.getExchange()).toEqual([]);
    await expect(api.getAccountInfo(id)).rejects.toMatchObject({ error: 'not_found' });

    expect(sent.map((s) => [s.wire, s.status])).toEqual([
      [`${LIST}/new`, 201],
      [`${LIST}/update`, 201],
      [`${LIST}/${id}/rename`, 201],
      [`${LIST}/${id}`, 200],
      [`${LIST}/${id}/remove`, 201],
      [LIST, 200],
      [`${LIST}/${id}`, 404],
    ]);
  });

  it('the trading calls get the 403 "unavailable for this account": sellAllTo*(), getLeverageData()', async () => {
    const { api, sent } = client(alice);
    const id = aliceAccounts[0]!.id;
    const unavailable = { error: 'Forbidden. Unavailable for this account.' };
    await expect(api.sellAllToUSD(id)).rejects.toEqual(unavailable);
    await expect(api.sellAllToBTC(id)).rejects.toEqual(unavailable);
    await expect(api.getLeverageData(id, 'USDT_BTC')).rejects.toEqual(unavailable);
    expect(sent.map((s) => [s.wire, s.status])).toEqual([
      [`${LIST}/${id}/sell_all_to_usd`, 403],
      [`${LIST}/${id}/sell_all_to_btc`, 403],
      [`${LIST}/${id}/leverage_data?pair=USDT_BTC`, 403],
    ]);
    // Nothing was sold: the account still holds its 123.45 USD.
    expect(((await api.getAccountInfo(id)) as Entity).usd_amount).toBe('123.45');
    // Another user's account is not found, not "unavailable".
    await expect(client(bob).api.sellAllToUSD(id)).rejects.toMatchObject({ error: 'not_found' });
  });

  it('the legacy transfer calls get a 404: transfer(), getTransferHistory(), getTransferData()', async () => {
    const { api, sent } = client(alice);
    const [from, to] = [aliceAccounts[0]!.id, aliceAccounts[1]!.id];
    await expect(
      api.transfer({ currency: 'USDT', amount: 1, from_account_id: from, to_account_id: to }),
    ).rejects.toEqual({
      error: 'not_found',
      error_description: 'No route for POST /public/api/ver1/accounts/transfer',
    });
    await expect(
      api.getTransferHistory({ account_id: from, currency: 'USDT' }),
    ).rejects.toMatchObject({ error: 'not_found' });
    await expect(api.getTransferData()).rejects.toMatchObject({ error: 'not_found' });
    expect(sent.map((s) => [s.wire, s.status])).toEqual([
      [`${LIST}/transfer`, 404],
      [`${LIST}/transfer_history?account_id=${from}&currency=USDT`, 404],
      [`${LIST}/transfer_data`, 404],
    ]);
    // Nothing moved.
    const accounts = (await api.getExchange()) as Entity[];
    expect(accounts.map((a) => a.usd_amount)).toEqual(['123.45', '7.5', '42.0']);
  });
});

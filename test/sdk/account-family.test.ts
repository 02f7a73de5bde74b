import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ForbiddenError,
  NotFoundError,
  ThreeCommasClient,
  ThreeCommasError,
  data,
} from '../../packages/sdk/src/index.ts';
import { startFakeBinance, type FakeBinance } from '../support/exchanges/binance-server.ts';
import { startTestServer, userWithKey, type TestServer } from '../support/server.ts';

/**
 * Every endpoint of the accounts family through the SDK's typed `api` (openapi-fetch over the
 * generated `paths`), against the real server and a Binance stand-in read by ccxt: what a user
 * of @opencommas/sdk gets back — the spec's JSON types, the figures, and typed errors.
 *
 * The stand-in: BTC/USDT 50000, ETH/USDT 2500, ETH/BTC 0.05.
 *   key "sdk-key":   BTC 0.4 free + 0.1 locked, USDT 100 → 0.5 × 50000 + 100 = 25100 USD
 *                    → 25100 / 50000 = 0.502 BTC
 *   key "sdk-key-2": ETH 2 → 2 × 2500 = 5000 USD → 5000 / 50000 = 0.1 BTC
 */

const UNAVAILABLE = 'Forbidden. Unavailable for this account.';

let binance: FakeBinance;
let server: TestServer;
/** The owner's client (ACCOUNTS_READ and ACCOUNTS_WRITE), and another user's. */
let sdk: ThreeCommasClient;
let stranger: ThreeCommasClient;
let strangersAccount: number;

function clientOf(credentials: { apiKey: string; secret: string }) {
  return new ThreeCommasClient({ ...credentials, baseUrl: `${server.url}/public/api` });
}

/** What a call throws; fails the test if it answers instead. */
async function thrown(call: Promise<unknown>): Promise<ThreeCommasError> {
  const outcome = await call.then(
    (answer) => ({ answer }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a refusal, got ${JSON.stringify(outcome)}`);
  expect(outcome.error).toBeInstanceOf(ThreeCommasError);
  return outcome.error as ThreeCommasError;
}

beforeAll(async () => {
  binance = await startFakeBinance({
    markets: { 'BTC/USDT': '50000', 'ETH/USDT': '2500', 'ETH/BTC': '0.05' },
  });
  binance.addAccount('sdk-key', {
    secret: 'sdk-secret',
    balances: { BTC: { free: '0.4', locked: '0.1' }, USDT: { free: '100' } },
  });
  binance.addAccount('sdk-key-2', { secret: 'sdk-secret-2', balances: { ETH: { free: '2' } } });
  server = await startTestServer({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
  });
  const owner = await userWithKey(server.services, {
    permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'],
  });
  sdk = clientOf(owner.credentials);
  const other = await userWithKey(server.services, {
    permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'],
  });
  stranger = clientOf(other.credentials);
  strangersAccount = (
    await server.services.accounts.add({
      sync: false,
      user_id: other.user.id,
      market_code: 'binance',
      name: 'Theirs',
      api_key: 'their-key',
      secret: 'their-secret',
    })
  ).id;
});
afterAll(async () => {
  await server?.close();
  await binance?.close();
});

describe('market data (security NONE) through the SDK', () => {
  it('market_list: typed items with the form fields /new takes', async () => {
    const markets = data(await sdk.api.GET('/ver1/accounts/market_list'));
    const binanceItem = markets.find((market) => market.market_code === 'binance');
    expect(binanceItem).toMatchObject({
      market_name: 'Binance Spot',
      form_fields: {
        required: [
          { field: 'api_key', localized_name: 'API Key:' },
          { field: 'secret', localized_name: 'Secret:' },
        ],
        optional: [],
      },
      available_connection_flows: ['form'],
    });
  });

  it('market_pairs and its legacy v2 path: the stand-in’s markets as QUOTE_BASE, sorted', async () => {
    const query = { params: { query: { market_code: 'binance' } } };
    // ETH/BTC → BTC_ETH, BTC/USDT → USDT_BTC, ETH/USDT → USDT_ETH
    const expected = ['BTC_ETH', 'USDT_BTC', 'USDT_ETH'];
    expect(data(await sdk.api.GET('/ver1/accounts/market_pairs', query))).toEqual(expected);
    expect(data(await sdk.api.GET('/v2/accounts/market_pairs', query))).toEqual(expected);
    const refused = await thrown(
      sdk.api.GET('/ver1/accounts/market_pairs', { params: { query: { market_code: 'nope' } } }),
    );
    expect(refused).toMatchObject({
      status: 400,
      code: 'record_invalid',
      attributes: { market_code: ['does not have a valid value'] },
    });
  });

  it('currency_rates: every figure a decimal string', async () => {
    const rates = data(
      await sdk.api.GET('/ver1/accounts/currency_rates', {
        params: { query: { market_code: 'binance', pair: 'USDT_ETH', limit_type: 'bot' } },
      }),
    );
    // ETHUSDT last = bid = ask = 2500; the stand-in's filters for every symbol.
    expect(rates).toEqual({
      last: '2500.0',
      bid: '2500.0',
      ask: '2500.0',
      instrumentKind: 'spot',
      minPrice: '0.00000001',
      maxPrice: '1000000.0',
      priceStep: '0.00000001',
      minLotSize: '0.00001',
      maxLotSize: '9000.0',
      lotStep: '0.00001',
      minTotal: '5.0',
      maxTotal: '9000000.0',
    });
    const refused = await thrown(
      sdk.api.GET('/ver1/accounts/currency_rates', {
        params: { query: { market_code: 'binance', pair: 'USDT_DOGE' } },
      }),
    );
    expect(refused).toMatchObject({
      status: 400,
      code: 'record_invalid',
      description: 'Invalid parameters',
      attributes: { pair: ['does not have a valid value'] },
    });
    expect(refused.constructor).toBe(ThreeCommasError); // a 400 has no subclass
  });

  it('currency_rates_with_leverage_data: the rates plus spot’s one leverage type', async () => {
    const rates = data(
      await sdk.api.GET('/ver1/accounts/currency_rates_with_leverage_data', {
        params: { query: { market_code: 'binance', pair: 'BTC_ETH' } },
      }),
    );
    // ETHBTC last 0.05
    expect(rates).toMatchObject({ last: '0.05', bid: '0.05', ask: '0.05' });
    expect(rates.leverage_data).toEqual([
      {
        code: 'none',
        name: 'Not specified',
        can_set_leverage_value: false,
        available_leverage_values: [],
        max_leverage: null,
        valid: {},
      },
    ]);
  });
});

describe('an account’s life through the SDK', () => {
  let id = 0;

  it('types_to_connect: not connected before /new', async () => {
    const types = data(
      await sdk.api.GET('/ver1/accounts/types_to_connect', {
        params: {
          query: { type: 'binance', name: 'Main', api_key: 'sdk-key', secret: 'sdk-secret' },
        },
      }),
    );
    expect(types).toEqual([{ type: 'binance', connected: false, available: true, unified: false }]);
    const refused = await thrown(
      sdk.api.GET('/ver1/accounts/types_to_connect', {
        params: { query: { type: 'ftx', name: 'Old' } },
      }),
    );
    expect(refused).toMatchObject({
      status: 400,
      code: 'record_invalid',
      attributes: { type: ['does not have a valid value'] },
    });
  });

  it('new (JSON body): the Account entity, amounts as decimal strings', async () => {
    const account = data(
      await sdk.api.POST('/ver1/accounts/new', {
        body: { type: 'binance', name: 'Main', api_key: 'sdk-key', secret: 'sdk-secret' },
      }),
    );
    id = account.id;
    expect(typeof account.id).toBe('number');
    // 25100 USD, 0.502 BTC (see the top of the file)
    expect(account).toMatchObject({
      name: 'Main',
      market_code: 'binance',
      api_key: 'sdk-key',
      usd_amount: '25100.0',
      btc_amount: '0.502',
      include_in_summary: true,
      primary_display_currency_amount: { currency: 'USD', amount: '25100.0' },
    });
    expect(typeof account.total_primary_display_currency_profit.amount).toBe('number');
    const types = data(
      await sdk.api.GET('/ver1/accounts/types_to_connect', {
        params: {
          query: { type: 'binance', name: 'Again', api_key: 'sdk-key', secret: 'sdk-secret' },
        },
      }),
    );
    expect(types).toEqual([{ type: 'binance', connected: true, available: true, unified: false }]);
  });

  it('new with keys Binance refuses: 400 naming the field, in Binance’s words', async () => {
    const refused = await thrown(
      sdk.api.POST('/ver1/accounts/new', {
        body: { type: 'binance', name: 'Bad', api_key: 'sdk-key-2', secret: 'wrong' },
      }),
    );
    expect(refused).toMatchObject({ status: 400, code: 'record_invalid' });
    expect(JSON.stringify(refused.attributes)).toContain(
      'Signature for this request is not valid.',
    );
  });

  it('show and load_balances answer the same entity', async () => {
    const shown = data(
      await sdk.api.GET('/ver1/accounts/{account_id}', { params: { path: { account_id: id } } }),
    );
    expect(shown).toMatchObject({ id, usd_amount: '25100.0', btc_amount: '0.502' });
    const loaded = data(
      await sdk.api.POST('/ver1/accounts/{account_id}/load_balances', {
        params: { path: { account_id: id } },
      }),
    );
    expect(loaded).toMatchObject({ id, usd_amount: '25100.0', btc_amount: '0.502' });
  });

  it('summary: the one account, with id "summary"', async () => {
    const summary = data(await sdk.api.GET('/ver1/accounts/summary'));
    expect(summary).toMatchObject({
      id: 'summary',
      usd_amount: '25100.0',
      btc_amount: '0.502',
    });
  });

  it('pie_chart_data: numbers where the spec has numbers, strings where it has strings', async () => {
    const pie = data(
      await sdk.api.POST('/ver1/accounts/{account_id}/pie_chart_data', {
        params: { path: { account_id: id } },
      }),
    );
    // Shares of 25100: BTC 25000 → 99.6016 → 99.6; USDT 100 → 0.3984 → 0.4.
    expect(pie).toEqual([
      {
        code: 'BTC',
        coinmarketcapid: null,
        name: 'BTC',
        y: 99.6,
        percentage: 99.6,
        amount: 0.5,
        btc_value: '0.50000000',
        usd_value: '25000.00',
        primary_display_currency: { currency: 'USD', amount: '25000.0' },
        account_id: id,
      },
      {
        code: 'USDT',
        coinmarketcapid: null,
        name: 'USDT',
        y: 0.4,
        percentage: 0.4,
        amount: 100,
        btc_value: '0.00200000', // 100 / 50000
        usd_value: '100.00',
        primary_display_currency: { currency: 'USD', amount: '100.0' },
        account_id: id,
      },
    ]);
    const summary = data(
      await sdk.api.POST('/ver1/accounts/{account_id}/pie_chart_data', {
        params: { path: { account_id: 'summary' } },
      }),
    );
    expect(summary).toEqual(pie);
  });

  it('account_table_data: one row per asset, JSON numbers', async () => {
    const rows = data(
      await sdk.api.POST('/ver1/accounts/{account_id}/account_table_data', {
        params: { path: { account_id: id } },
      }),
    );
    expect(rows.map((row) => row.currency_code)).toEqual(['BTC', 'USDT']);
    const [btc, usdt] = rows;
    expect(btc).toMatchObject({
      currency_name: 'BTC',
      percentage: (25000 * 100) / 25100, // 99.6015936…
      position: 0.5,
      position_available: 0.5,
      equity: 0.5,
      on_orders: 0,
      borrowed: 0,
      current_price: 1,
      current_price_usd: 50000,
      btc_value: 0.5,
      usd_value: 25000,
      account_id: id,
      is_wallet: false,
    });
    expect(usdt).toMatchObject({
      percentage: (100 * 100) / 25100, // 0.3984063…
      position: 100,
      current_price: 0.00002, // 1 / 50000
      current_price_usd: 1,
      btc_value: 0.002,
      usd_value: 100,
    });
    const summary = data(
      await sdk.api.POST('/ver1/accounts/{account_id}/account_table_data', {
        params: { path: { account_id: 'summary' } },
      }),
    );
    expect(summary).toEqual(rows);
  });

  it('balance_chart_data: today’s only point is now, in numbers; a bad date_from is a 400', async () => {
    const before = Math.floor(Date.now() / 1000);
    const today = new Date().toISOString().slice(0, 10);
    const points = data(
      await sdk.api.GET('/ver1/accounts/{account_id}/balance_chart_data', {
        params: { path: { account_id: id }, query: { date_from: today } },
      }),
    );
    const after = Math.ceil(Date.now() / 1000);
    // No balance was read before today's 00:00 UTC: no midnight point, only "now" (a midnight
    // passed since /new would add one, of the same balance).
    expect(points.map((point) => [point.usd, point.btc]).at(-1)).toEqual([25100, 0.502]);
    const now = points.at(-1);
    expect(now).toMatchObject({ btc_deposit_amount: 0, usd_deposit_amount: 0 });
    expect(now?.date).toBeGreaterThanOrEqual(before);
    expect(now?.date).toBeLessThanOrEqual(after);
    const summary = data(
      await sdk.api.GET('/ver1/accounts/{account_id}/balance_chart_data', {
        params: { path: { account_id: 'summary' }, query: { date_from: today } },
      }),
    );
    expect(summary.map((point) => [point.usd, point.btc]).at(-1)).toEqual([25100, 0.502]);
    const refused = await thrown(
      sdk.api.GET('/ver1/accounts/{account_id}/balance_chart_data', {
        params: { path: { account_id: id }, query: { date_from: 'yesterday' } },
      }),
    );
    expect(refused).toMatchObject({
      status: 400,
      code: 'record_invalid',
      description: 'Invalid parameters',
      attributes: { date_from: ['is invalid'] },
    });
  });

  it('active_trading_entities: five integer zeros', async () => {
    const entities = data(
      await sdk.api.GET('/ver1/accounts/{account_id}/active_trading_entities', {
        params: { path: { account_id: id } },
      }),
    );
    expect(entities).toStrictEqual({
      data: {
        active_bots_count: 0,
        active_deals_count: 0,
        active_smart_trades_count: 0,
        active_orders_count: 0,
        active_grid_bots_count: 0,
      },
    });
  });

  it('deposit_data: the address on the network asked for and the holding, all strings', async () => {
    const deposit = data(
      await sdk.api.GET('/ver1/accounts/{account_id}/deposit_data', {
        params: { path: { account_id: id }, query: { currency: 'BTC', network: 'BTC' } },
      }),
    );
    // 0.4 free + 0.1 locked, as last read; nothing is told to be on orders.
    expect(deposit).toMatchObject({
      address_tag: '',
      available_balance: '0.5',
      in_orders: '0.0',
      total_balance: '0.5',
    });
    expect(deposit.address).toMatch(/^bc1q[0-9a-f]{38}$/);
    const refused = await thrown(
      sdk.api.GET('/ver1/accounts/{account_id}/deposit_data', {
        params: { path: { account_id: id } },
      }),
    );
    expect(refused).toMatchObject({
      status: 400,
      code: 'record_invalid',
      attributes: { currency: ['is missing'], network: ['is missing'] },
    });
  });

  it('networks_info: an array of currencies with their networks', async () => {
    const currencies = data(
      await sdk.api.GET('/ver1/accounts/{account_id}/networks_info', {
        params: { path: { account_id: id }, query: { purpose: 'deposit' } },
      }),
    );
    // The coins of the stand-in's markets: BTC, ETH, USDT.
    expect(currencies.map((currency) => currency.currency)).toEqual(['BTC', 'ETH', 'USDT']);
    const usdt = currencies.find((currency) => currency.currency === 'USDT');
    expect(usdt?.network_list.map((network) => [network.network, network.default])).toEqual([
      ['ETH', true],
      ['TRX', false],
    ]);
    expect(usdt?.network_list[0]).toMatchObject({ withdraw_fee: '0.0004', withdraw_min: '0.001' });
  });

  it('the trading endpoints: a ForbiddenError with the spec’s exact error', async () => {
    const path = { params: { path: { account_id: id } } };
    const calls = [
      () => sdk.api.POST('/ver1/accounts/{account_id}/sell_all_to_btc', path),
      () => sdk.api.POST('/ver1/accounts/{account_id}/sell_all_to_usd', path),
      () => sdk.api.POST('/ver1/accounts/{account_id}/convert_dust_to_bnb', path),
      () => sdk.api.GET('/ver1/accounts/{account_id}/leverage_data', path),
      () => sdk.api.POST('/ver1/accounts/{account_id}/leverage_data', path),
      () => sdk.api.GET('/ver1/accounts/{account_id}/volume/daily', path),
      () => sdk.api.GET('/ver1/accounts/{account_id}/volume/monthly', path),
      () => sdk.api.GET('/ver1/accounts/{account_id}/volume/total', path),
    ];
    for (const call of calls) {
      const refused = await thrown(call());
      expect(refused).toBeInstanceOf(ForbiddenError);
      expect(refused).toMatchObject({ status: 403, code: UNAVAILABLE, description: undefined });
    }
  });

  it('update (JSON body): new keys Binance accepts, and the account is valued with them', async () => {
    const updated = data(
      await sdk.api.POST('/ver1/accounts/update', {
        body: {
          account_id: id,
          api_key: 'sdk-key-2',
          secret: 'sdk-secret-2',
          include_in_summary: false,
        },
      }),
    );
    // ETH 2 × 2500 = 5000 USD; 5000 / 50000 = 0.1 BTC
    expect(updated).toMatchObject({
      id,
      api_key: 'sdk-key-2',
      usd_amount: '5000.0',
      btc_amount: '0.1',
      include_in_summary: false,
    });
    // Out of the summary now: the summary holds nothing.
    expect(data(await sdk.api.GET('/ver1/accounts/summary'))).toMatchObject({ usd_amount: '0.0' });
    const refused = await thrown(
      sdk.api.POST('/ver1/accounts/update', {
        body: { account_id: id, api_key: 'sdk-key', secret: 'wrong' },
      }),
    );
    expect(refused).toMatchObject({ status: 400, code: 'record_invalid' });
    expect(JSON.stringify(refused.attributes)).toContain(
      'Signature for this request is not valid.',
    );
    const missing = await thrown(sdk.api.POST('/ver1/accounts/update', { body: { name: 'x1' } }));
    expect(missing).toMatchObject({ status: 400, attributes: { account_id: expect.any(Array) } });
  });

  it('rename: `name` typed in the query string, as the documentation sends it', async () => {
    const renamed = data(
      await sdk.api.POST('/ver1/accounts/{account_id}/rename', {
        params: { path: { account_id: id }, query: { name: 'Savings' } },
      }),
    );
    expect(renamed).toMatchObject({ id, name: 'Savings' });
    const blank = await thrown(
      sdk.api.POST('/ver1/accounts/{account_id}/rename', { params: { path: { account_id: id } } }),
    );
    expect(blank).toMatchObject({ status: 400, attributes: { name: ["can't be blank"] } });
  });

  it('another user’s account is a NotFoundError on every per-account endpoint', async () => {
    const path = { params: { path: { account_id: id } } };
    const calls = [
      () => stranger.api.GET('/ver1/accounts/{account_id}', path),
      () => stranger.api.POST('/ver1/accounts/{account_id}/load_balances', path),
      () => stranger.api.POST('/ver1/accounts/{account_id}/pie_chart_data', path),
      () => stranger.api.POST('/ver1/accounts/{account_id}/account_table_data', path),
      () =>
        stranger.api.GET('/ver1/accounts/{account_id}/balance_chart_data', {
          params: { ...path.params, query: { date_from: '2026-01-01' } },
        }),
      () => stranger.api.GET('/ver1/accounts/{account_id}/active_trading_entities', path),
      () =>
        stranger.api.GET('/ver1/accounts/{account_id}/deposit_data', {
          params: { ...path.params, query: { currency: 'BTC', network: 'BTC' } },
        }),
      () => stranger.api.GET('/ver1/accounts/{account_id}/networks_info', path),
      () => stranger.api.POST('/ver1/accounts/{account_id}/sell_all_to_btc', path),
      () =>
        stranger.api.POST('/ver1/accounts/{account_id}/rename', {
          params: { path: { account_id: id }, query: { name: 'Mine now' } },
        }),
      () =>
        stranger.api.POST('/ver1/accounts/update', { body: { account_id: id, name: 'Mine now' } }),
      () => stranger.api.POST('/ver1/accounts/{account_id}/remove', path),
    ];
    for (const call of calls) {
      const refused = await thrown(call());
      expect(refused).toBeInstanceOf(NotFoundError);
      expect(refused).toMatchObject({ status: 404, code: 'not_found' });
    }
    // And the owner cannot reach theirs either.
    const theirs = await thrown(
      sdk.api.GET('/ver1/accounts/{account_id}', {
        params: { path: { account_id: strangersAccount } },
      }),
    );
    expect(theirs).toBeInstanceOf(NotFoundError);
  });

  it('remove: the literal true, then the account is a NotFoundError', async () => {
    const removed = data(
      await sdk.api.POST('/ver1/accounts/{account_id}/remove', {
        params: { path: { account_id: id } },
      }),
    );
    expect(removed).toBe(true);
    const gone = await thrown(
      sdk.api.GET('/ver1/accounts/{account_id}', { params: { path: { account_id: id } } }),
    );
    expect(gone).toBeInstanceOf(NotFoundError);
    expect(gone).toMatchObject({ status: 404, code: 'not_found' });
    expect(await sdk.listAccounts()).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMarkets } from '../../src/markets/index.ts';
import { startFakeBinance, type FakeBinance } from '../support/exchanges/binance-server.ts';
import { startFakeOkx, type FakeOkx } from '../support/exchanges/okx-server.ts';
import { signedGet, startTestServer, userWithKey, type TestServer } from '../support/server.ts';

// The market-data endpoints and types_to_connect through HTTP, against the Binance and OKX
// stand-ins: every figure below is the stand-in's own exchangeInfo / instruments / tickers
// value, written the way 3Commas writes decimals (exact, integers with ".0").

const API = '/public/api';
let binance: FakeBinance;
let okx: FakeOkx;
let server: TestServer;

beforeAll(async () => {
  binance = await startFakeBinance({
    markets: { 'BTC/USDT': '60000', 'ETH/USDT': '3000', 'ETH/BTC': '0.05', 'SOL/BTC': '0.0025' },
  });
  binance.setBookTop('ETH/USDT', '2999.5', '3000.25');
  binance.addAccount('bn-key', { secret: 'bn-secret', balances: { BTC: { free: '0.1' } } });
  okx = await startFakeOkx({ markets: { 'BTC/USDT': '40000.5', 'SOL/USDT': '150' } });
  okx.setBookTop('BTC/USDT', '40000.1', '40000.9');
  server = await startTestServer({
    // Kraken on a port nothing listens on: an exchange that cannot be reached.
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({
      binance: binance.url,
      okex: okx.url,
      kraken: 'http://127.0.0.1:1',
    }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0, okex: 0, kraken: 0 }),
  });
});
afterAll(async () => {
  await server?.close();
  await binance?.close();
  await okx?.close();
});

const get = (target: string) => fetch(`${server.url}${API}${target}`);
const invalidBody = (field: string) => ({
  error: 'record_invalid',
  error_description: 'Invalid parameters',
  error_attributes: { [field]: ['does not have a valid value'] },
});

describe('GET /ver1/accounts/market_list', () => {
  it('lists every catalog market with the credentials its form needs, nothing invented', async () => {
    const response = await get('/ver1/accounts/market_list');
    expect(response.status).toBe(200);
    const items = (await response.json()) as Array<Record<string, unknown>>;
    expect(items.map((item) => item.market_code)).toEqual(listMarkets().map((m) => m.market_code));
    const byCode = new Map(items.map((item) => [item.market_code, item]));
    // Exact objects: no referral or help link, no trusted IPs, no third-party or fast-connect keys.
    expect(byCode.get('okex')).toEqual({
      market_name: 'OKX Spot',
      market_icon: 'https://3commas.io/img/exchanges/okex.png',
      market_code: 'okex',
      form_fields: {
        required: [
          { field: 'api_key', localized_name: 'API Key:' },
          { field: 'secret', localized_name: 'Secret:' },
          { field: 'passphrase', localized_name: 'Passphrase:' },
        ],
        optional: [],
      },
      available_connection_flows: ['form'],
    });
    expect(byCode.get('binance')).toMatchObject({
      market_name: 'Binance Spot',
      form_fields: {
        required: [
          { field: 'api_key', localized_name: 'API Key:' },
          { field: 'secret', localized_name: 'Secret:' },
        ],
        optional: [],
      },
    });
    expect(byCode.get('kucoin')).toMatchObject({
      form_fields: {
        required: [{ field: 'api_key' }, { field: 'secret' }, { field: 'passphrase' }],
      },
    });
    expect(byCode.get('ethereumwallet')).toMatchObject({
      form_fields: { required: [{ field: 'address', localized_name: 'Address:' }], optional: [] },
    });
  });
});

describe('GET /ver1/accounts/market_pairs', () => {
  it("answers the exchange's spot markets as QUOTE_BASE, sorted", async () => {
    const response = await get('/ver1/accounts/market_pairs?market_code=binance');
    expect(response.status).toBe(200);
    // ETH/BTC → BTC_ETH, SOL/BTC → BTC_SOL, BTC/USDT → USDT_BTC, ETH/USDT → USDT_ETH.
    expect(await response.json()).toEqual(['BTC_ETH', 'BTC_SOL', 'USDT_BTC', 'USDT_ETH']);
    const okxPairs = await get('/ver1/accounts/market_pairs?market_code=okex');
    expect(await okxPairs.json()).toEqual(['USDT_BTC', 'USDT_SOL']);
  });

  it('answers the same on the legacy v2 path', async () => {
    const response = await get('/v2/accounts/market_pairs?market_code=okex');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(['USDT_BTC', 'USDT_SOL']);
  });

  it('refuses a wallet, an unknown and a missing market_code with a 400 naming it', async () => {
    for (const query of ['market_code=ethereumwallet', 'market_code=nope']) {
      const response = await get(`/ver1/accounts/market_pairs?${query}`);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual(invalidBody('market_code'));
    }
    const missing = await get('/ver1/accounts/market_pairs');
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({
      error: 'record_invalid',
      error_attributes: { market_code: [expect.any(String)] },
    });
  });

  it('answers 503 for an exchange that cannot be reached', async () => {
    const response = await get('/ver1/accounts/market_pairs?market_code=kraken');
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      error: 'exchange_unavailable',
      error_description: expect.stringContaining('Could not reach Kraken Spot'),
    });
  });
});

describe('GET /ver1/accounts/currency_rates', () => {
  it('answers Binance prices and order rules as decimal strings', async () => {
    const response = await get('/ver1/accounts/currency_rates?market_code=binance&pair=USDT_ETH');
    expect(response.status).toBe(200);
    // Stand-in ETHUSDT: lastPrice 3000, bid 2999.5, ask 3000.25; PRICE_FILTER 0.00000001 ..
    // 1000000.00000000 tick 0.00000001; LOT_SIZE 0.00001000 .. 9000.00000000 step 0.00001000;
    // NOTIONAL 5.00000000 .. 9000000.00000000. Trailing zeros go, integers keep ".0".
    expect(await response.json()).toEqual({
      last: '3000.0',
      bid: '2999.5',
      ask: '3000.25',
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
  });

  it('leaves out what OKX does not tell (price limits, minimum total)', async () => {
    const response = await get(
      '/ver1/accounts/currency_rates?market_code=okex&pair=USDT_BTC&limit_type=bot',
    );
    expect(response.status).toBe(200);
    // Stand-in BTC-USDT: last 40000.5, bidPx 40000.1, askPx 40000.9; tickSz and lotSz
    // 0.00000001, minSz 0.00001, maxLmtSz 9999999999, maxMktSz 1000000 (ccxt's cost maximum).
    expect(await response.json()).toEqual({
      last: '40000.5',
      bid: '40000.1',
      ask: '40000.9',
      instrumentKind: 'spot',
      priceStep: '0.00000001',
      minLotSize: '0.00001',
      maxLotSize: '9999999999.0',
      lotStep: '0.00000001',
      maxTotal: '1000000.0',
    });
  });

  it('refuses an unknown pair, a wallet market and a bad limit_type with a 400', async () => {
    const pair = await get('/ver1/accounts/currency_rates?market_code=binance&pair=USDT_DOGE');
    expect(pair.status).toBe(400);
    expect(await pair.json()).toEqual(invalidBody('pair'));
    // Base and quote the wrong way round is not the pair either.
    const reversed = await get('/ver1/accounts/currency_rates?market_code=binance&pair=ETH_USDT');
    expect(await reversed.json()).toEqual(invalidBody('pair'));
    const wallet = await get(
      '/ver1/accounts/currency_rates?market_code=bitcoinwallet&pair=USDT_BTC',
    );
    expect(wallet.status).toBe(400);
    expect(await wallet.json()).toEqual(invalidBody('market_code'));
    const limit = await get(
      '/ver1/accounts/currency_rates?market_code=binance&pair=USDT_BTC&limit_type=grid',
    );
    expect(limit.status).toBe(400);
    expect(await limit.json()).toMatchObject({
      error_attributes: { limit_type: expect.any(Array) },
    });
  });

  it("answers 503 when the exchange's tickers cannot be read", async () => {
    binance.fail({ kind: 'status502', path: '/api/v3/ticker/24hr', times: Infinity });
    try {
      const response = await get('/ver1/accounts/currency_rates?market_code=binance&pair=BTC_SOL');
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({
        error: 'exchange_unavailable',
        error_description: expect.stringContaining('Could not reach Binance Spot'),
      });
    } finally {
      binance.fail({ kind: 'status502', path: '/api/v3/ticker/24hr', times: 0 });
    }
    // A failure is not kept: once Binance answers again, so do we (SOL/BTC last 0.0025).
    const again = await get('/ver1/accounts/currency_rates?market_code=binance&pair=BTC_SOL');
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ last: '0.0025', bid: '0.0025', ask: '0.0025' });
  });
});

describe('GET /ver1/accounts/currency_rates_with_leverage_data', () => {
  it("answers currency_rates with spot's one leverage type: none", async () => {
    const response = await get(
      '/ver1/accounts/currency_rates_with_leverage_data?market_code=binance&pair=USDT_BTC',
    );
    expect(response.status).toBe(200);
    // Stand-in BTCUSDT: lastPrice = bid = ask = 60000; the same filters as every stand-in symbol.
    expect(await response.json()).toEqual({
      last: '60000.0',
      bid: '60000.0',
      ask: '60000.0',
      instrumentKind: 'spot',
      minPrice: '0.00000001',
      maxPrice: '1000000.0',
      priceStep: '0.00000001',
      minLotSize: '0.00001',
      maxLotSize: '9000.0',
      lotStep: '0.00001',
      minTotal: '5.0',
      maxTotal: '9000000.0',
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
  });

  it('refuses a wallet market and an unknown pair as currency_rates does', async () => {
    const wallet = await get(
      '/ver1/accounts/currency_rates_with_leverage_data?market_code=ethereumwallet&pair=USDT_ETH',
    );
    expect(wallet.status).toBe(400);
    expect(await wallet.json()).toEqual(invalidBody('market_code'));
    const pair = await get(
      '/ver1/accounts/currency_rates_with_leverage_data?market_code=okex&pair=BTC_ETH',
    );
    expect(pair.status).toBe(400);
    expect(await pair.json()).toEqual(invalidBody('pair'));
  });
});

describe('GET /ver1/accounts/types_to_connect', () => {
  const target = (query: string) => `${API}/ver1/accounts/types_to_connect?${query}`;

  it("says whether the caller's user already has the market with that key", async () => {
    // Permission NONE: a key without any accounts permission may ask.
    const { user, credentials } = await userWithKey(server.services, {
      permissions: ['BOTS_READ'],
    });
    await server.services.accounts.add({
      user_id: user.id,
      market_code: 'binance',
      name: 'Main',
      api_key: 'bn-key',
      secret: 'bn-secret',
    });
    const known = await signedGet(
      server,
      target('type=binance&name=Second&api_key=bn-key&secret=bn-secret'),
      credentials,
    );
    expect(known.status).toBe(200);
    expect(await known.json()).toEqual([
      { type: 'binance', connected: true, available: true, unified: false },
    ]);
    const otherKey = await signedGet(
      server,
      target('type=binance&name=Second&api_key=other-key&secret=x'),
      credentials,
    );
    expect(await otherKey.json()).toEqual([
      { type: 'binance', connected: false, available: true, unified: false },
    ]);
    const otherMarket = await signedGet(
      server,
      target('type=okex&name=Second&api_key=bn-key&secret=bn-secret'),
      credentials,
    );
    expect(await otherMarket.json()).toEqual([
      { type: 'okex', connected: false, available: true, unified: false },
    ]);
  });

  it('knows a wallet by its address', async () => {
    const { user, credentials } = await userWithKey(server.services);
    const address = '0x742d35cc6634c0532925a3b844bc454e4438f44e';
    await server.services.accounts.add({
      sync: false, // no chain is asked: only the stored address matters here
      user_id: user.id,
      market_code: 'ethereumwallet',
      name: 'Cold',
      address,
    });
    const known = await signedGet(
      server,
      target(`type=ethereumwallet&name=Cold&address=${address}`),
      credentials,
    );
    expect(await known.json()).toEqual([
      { type: 'ethereumwallet', connected: true, available: true, unified: false },
    ]);
    // Without a key or an address there is nothing to compare: not connected.
    const bare = await signedGet(server, target('type=ethereumwallet&name=Cold'), credentials);
    expect(await bare.json()).toEqual([
      { type: 'ethereumwallet', connected: false, available: true, unified: false },
    ]);
  });

  it("never counts another user's account", async () => {
    const { credentials } = await userWithKey(server.services);
    const response = await signedGet(
      server,
      target('type=binance&name=Mine&api_key=bn-key&secret=bn-secret'),
      credentials,
    );
    expect(await response.json()).toEqual([
      { type: 'binance', connected: false, available: true, unified: false },
    ]);
  });

  it('refuses an unknown type with the documented 400, and an unsigned call with a 401', async () => {
    const { credentials } = await userWithKey(server.services);
    const unknown = await signedGet(server, target('type=ftx&name=Old'), credentials);
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual(invalidBody('type'));
    const unsigned = await fetch(`${server.url}${target('type=binance&name=x')}`);
    expect(unsigned.status).toBe(401);
  });
});

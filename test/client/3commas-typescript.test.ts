// An unmodified published 3Commas client (3commas-typescript@1.3.6) lists accounts against our
// server. Only its transport is redirected: its own axios instance keeps its own request
// interceptor, which signs exactly as it would for https://api.3commas.io; an adapter installed on
// that instance then swaps the origin for our loopback server and hands the request to axios's
// own Node http adapter (the one the instance would have used anyway).
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
  server = await startTestServer({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
  });
  // Both: load_balances was ACCOUNTS_WRITE before the specification's ACCOUNTS_READ (§12).
  const a = await userWithKey(server.services, {
    permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'],
  });
  const b = await userWithKey(server.services);
  alice = a.credentials;
  bob = b.credentials;
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
});

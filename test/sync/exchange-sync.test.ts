import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountDetails } from '../../src/accounts/details.ts';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';
import {
  LIST,
  signedGet,
  signedPost,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

// An account on the local Binance-protocol server, connected through the 3Commas endpoint and
// read by ccxt, unmodified. Prices are chosen so every figure is a short decimal that can be
// checked by hand (the comments show the arithmetic).

let binance: Awaited<ReturnType<typeof startFakeBinance>>;
let server: TestServer;
let caller: Credentials;
let userId: number;
const NEW = '/public/api/ver1/accounts/new';

beforeAll(async () => {
  binance = await startFakeBinance();
  binance.setPrice('BTC/USDT', '50000');
  binance.setPrice('ETH/USDT', '2500');
  binance.setPrice('ETH/BTC', '0.05');
  binance.addAccount('good-key', {
    secret: 'good-secret',
    balances: { BTC: { free: '0.4', locked: '0.1' }, ETH: { free: '2', locked: '0' } },
  });
  binance.setBalance('good-key', 'USDT', '100');
  binance.setBalance('good-key', 'DUST', '5'); // no market anywhere: no price route
  server = await startTestServer({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
    OPENCOMMAS_EXCHANGE_TIMEOUT: '1s',
    // Prices are shared for one round (at most a sync interval): rounds here are a second.
    OPENCOMMAS_SYNC_INTERVAL: '1s',
  });
  const owner = await userWithKey(server.services, {
    permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'],
  });
  caller = owner.credentials;
  userId = owner.user.id;
});
afterAll(async () => {
  await server?.close();
  await binance?.close();
});

const accountCount = async () =>
  (await server.services.storage.db.selectFrom('accounts').select('id').execute()).length;

async function list(): Promise<Array<Record<string, unknown>>> {
  const response = await signedGet(server, LIST, caller);
  expect(response.status).toBe(200);
  return (await response.json()) as Array<Record<string, unknown>>;
}

const postLoadBalances = (id: number, credentials: Credentials) =>
  signedPost(server, `/public/api/ver1/accounts/${id}/load_balances`, credentials);

async function loadBalances(id: number): Promise<Record<string, unknown>> {
  const response = await postLoadBalances(id, caller);
  expect(response.status).toBe(201);
  return (await response.json()) as Record<string, unknown>;
}

describe('connecting a Binance account with real keys', () => {
  it('refuses a key the exchange rejects, with a 400 naming the key, and stores nothing', async () => {
    const before = await accountCount();
    const response = await signedPost(server, NEW, caller, {
      type: 'binance',
      name: 'Wrong',
      api_key: 'unknown-key',
      secret: 'whatever',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.error).toBe('record_invalid');
    expect(JSON.stringify(body.error_attributes)).toContain('refused the API key');
    expect(await accountCount()).toBe(before);
  });

  it.each([
    [{ type: 'binance', name: 'No secret', api_key: 'good-key' }, 'secret'],
    [{ type: 'binance', name: 'No key', secret: 'good-secret' }, 'api_key'],
    [{ type: 'mtgox', name: 'Gone', api_key: 'k', secret: 's' }, 'type'],
    [{ type: 'binance', api_key: 'good-key', secret: 'good-secret' }, 'name'],
    [{ type: 'binance', name: 'Both', api_key: 'k', secret: 's', address: '0xabc' }, 'address'],
  ])('refuses %j with a 400 naming %s, storing nothing', async (params, field) => {
    const before = await accountCount();
    const response = await signedPost(server, NEW, caller, params);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; error_attributes: object };
    expect(body.error).toBe('record_invalid');
    expect(Object.keys(body.error_attributes)).toContain(field);
    expect(await accountCount()).toBe(before);
  });

  it('refuses a wrong secret for a real key', async () => {
    const response = await signedPost(server, NEW, caller, {
      type: 'binance',
      name: 'Wrong secret',
      api_key: 'good-key',
      secret: 'not-the-secret',
    });
    expect(response.status).toBe(400);
  });

  let id = 0;

  it('accepts a working key: the first sync runs at once, valued at the tickers', async () => {
    const response = await signedPost(server, NEW, caller, {
      type: 'binance',
      name: 'Main',
      api_key: 'good-key',
      secret: 'good-secret',
    });
    expect(response.status).toBe(201);
    const entity = (await response.json()) as Record<string, unknown>;
    id = Number(entity.id);
    expect(entity).toMatchObject({
      name: 'Main',
      market_code: 'binance',
      api_key: 'good-key',
      api_key_invalid: false,
      // 0.5 BTC × 50000 + 2 ETH × 2500 + 100 USDT × 1 = 30100; DUST has no price
      usd_amount: '30100.0',
      btc_amount: '0.602', // 30100 / 50000
    });
    // The secret is sealed at rest, never stored or answered in clear.
    const row = await server.services.accounts.findAny(id);
    expect(row.exchange_secret_sealed).not.toContain('good-secret');
    expect(JSON.stringify(entity)).not.toContain('good-secret');
  });

  it('keeps the unpriced asset, shown as unpriced, out of the value', async () => {
    const details = await accountDetails(server.services.storage, id);
    const dust = details.holdings.find((h) => h.asset === 'DUST');
    expect(dust).toEqual({
      asset: 'DUST',
      amount: '5',
      usd_price: null,
      usd_value: null,
      wallets: [{ wallet: 'spot', amount: '5' }], // all of it in spot
    });
    expect(details.snapshot?.usd_value).toBe('30100');
    expect(details.snapshot?.btc_usd_price).toBe('50000');
    expect(details.last_sync_error).toBeNull();
  });

  it('serves the account alone, and 404s for an id that is not the caller’s', async () => {
    const one = await signedGet(server, `/public/api/ver1/accounts/${id}`, caller);
    expect(one.status).toBe(200);
    expect(((await one.json()) as { id: number }).id).toBe(id);
    const other = await userWithKey(server.services, {
      permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'],
    });
    const foreign = await signedGet(server, `/public/api/ver1/accounts/${id}`, other.credentials);
    expect(foreign.status).toBe(404);
    expect(((await foreign.json()) as { error: string }).error).toBe('not_found');
    expect((await postLoadBalances(id, other.credentials)).status).toBe(404);
  });

  it('refuses load_balances without ACCOUNTS_READ (its permission in the specification)', async () => {
    const writer = await userWithKey(server.services, { permissions: ['ACCOUNTS_WRITE'] });
    expect((await postLoadBalances(id, writer.credentials)).status).toBe(403);
  });

  it('prices move, money comes and goes: profit is exactly what prices did', async () => {
    // Round 2: BTC 62500, ETH 3125 → 0.5×62500 + 2×3125 + 100 = 37600 USD = 0.6016 BTC.
    binance.setPrice('BTC/USDT', '62500');
    binance.setPrice('ETH/USDT', '3125');
    await waitForNewPrices();
    let entity = await loadBalances(id);
    expect(entity).toMatchObject({
      usd_amount: '37600.0',
      btc_amount: '0.6016',
      day_profit_usd: '7500.0', // 37600 − 30100
      day_profit_usd_percentage: '24.92', // 7500 / 30100
      total_usd_profit: '7500.0',
    });

    // Round 3: 1 ETH deposited (3125 USD at this round's price): value 40725, profit unchanged.
    binance.setBalance('good-key', 'ETH', '3');
    binance.addDeposit('good-key', {
      id: 'dep-1',
      asset: 'ETH',
      amount: '1',
      timestamp: Date.now() - 1000,
      status: 'ok',
    });
    entity = await loadBalances(id);
    expect(entity).toMatchObject({
      usd_amount: '40725.0',
      day_profit_usd: '7500.0',
      total_usd_profit: '7500.0',
    });

    // Round 4: 0.1 BTC withdrawn (6250 USD): value 34475, profit still 7500.
    binance.setBalance('good-key', 'BTC', '0.3', '0.1');
    binance.addWithdrawal('good-key', {
      id: 'wd-1',
      asset: 'BTC',
      amount: '0.1',
      timestamp: Date.now() - 500,
      status: 'ok',
    });
    entity = await loadBalances(id);
    expect(entity).toMatchObject({
      usd_amount: '34475.0',
      btc_amount: '0.5516', // 34475 / 62500
      day_profit_usd: '7500.0',
      usd_profit: '7500.0',
      total_usd_profit: '7500.0',
      // Of what the window started with plus what was moved in: 30100 + 3125 − 6250 = 26975
      day_profit_usd_percentage: '27.8', // 7500 / 26975 = 27.80 %
      // In BTC: 0.5516 − 0.602 − (+0.05 − 0.1) = −0.0004; of 0.552 that is −0.07 %
      day_profit_btc: '-0.0004',
      btc_profit: '-0.0004',
      total_btc_profit: '-0.0004',
      day_profit_btc_percentage: '-0.07',
    });
    // The list shows the same figures.
    const [listed] = (await list()).filter((a) => a.id === id);
    expect(listed).toMatchObject({ usd_amount: '34475.0', total_usd_profit: '7500.0' });
  });

  it('records each exchange transfer once, however often it is read', async () => {
    await loadBalances(id);
    await loadBalances(id);
    const transfers = await server.services.storage.db
      .selectFrom('transfers')
      .select(['external_id', 'kind', 'amount'])
      .where('account_id', '=', id)
      .orderBy('external_id')
      .execute();
    expect(transfers).toEqual([
      { external_id: 'deposit:dep-1', kind: 'deposit', amount: '1' },
      { external_id: 'withdrawal:wd-1', kind: 'withdrawal', amount: '0.1' },
    ]);
  });

  it('a deposit the exchange reports late corrects the figures already shown', async () => {
    binance.addAccount('late-key', { secret: 'late', balances: { BTC: { free: '1' } } });
    const response = await signedPost(server, NEW, caller, {
      type: 'binance',
      name: 'Late',
      api_key: 'late-key',
      secret: 'late',
    });
    const lateId = Number(((await response.json()) as { id: number }).id);
    const depositedAt = Date.now() + 5;
    await new Promise((resolve) => setTimeout(resolve, 20));
    binance.setBalance('late-key', 'BTC', '1.1'); // 0.1 BTC arrived; the history lags
    const before = await loadBalances(lateId);
    expect(before.total_usd_profit).toBe('6250.0'); // looks like profit: 0.1 × 62500
    binance.addDeposit('late-key', {
      id: 'late-dep',
      asset: 'BTC',
      amount: '0.1',
      timestamp: depositedAt,
      status: 'ok',
    });
    const after = await loadBalances(lateId);
    expect(after).toMatchObject({ usd_amount: '68750.0', total_usd_profit: '0.0' });
  });

  it('a manual account is never synced: load_balances says why', async () => {
    const manual = await server.services.accounts.add({
      user_id: userId,
      market_code: 'binance',
      name: 'Manual',
    });
    expect((await postLoadBalances(manual.id, caller)).status).toBe(400);
    const row = await server.services.accounts.findAny(manual.id);
    expect(row.next_sync_at).toBeNull();
  });
});

/** Tickers are shared within a round; the next round reads them again. */
async function waitForNewPrices(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1100));
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountDetails } from '../../src/accounts/details.ts';
import { detailLines } from '../../src/cli/details.ts';
import { ExchangeClients } from '../../src/exchanges/clients.ts';
import { ExchangeConnector } from '../../src/exchanges/connector.ts';
import { DEFAULT_RETRY } from '../../src/exchanges/retry.ts';
import { findMarket } from '../../src/markets/index.ts';
import { BINANCE_WALLETS, startFakeBinance } from '../support/exchanges/binance-server.ts';
import { MAIN_WALLET } from '../support/exchanges/common.ts';
import { connected, loadBalances } from '../support/exchange-sync.ts';
import { OKX_FUNDING, startFakeOkx } from '../support/exchanges/okx-server.ts';
import {
  signedPost,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

// An exchange account is every wallet the key can read: Binance spot + funding + Simple Earn,
// OKX trading + funding. Both stand-ins serve each wallet on its own endpoint in the exchange's
// wire format; accounts are connected and refreshed through the signed 3Commas API. Prices:
// BTC 40000, ETH 2000 (USDT), so every figure below is checked by hand.

let binance: Awaited<ReturnType<typeof startFakeBinance>>;
let okx: Awaited<ReturnType<typeof startFakeOkx>>;
let server: TestServer;
let caller: Credentials;

const NEW = '/public/api/ver1/accounts/new';
const FUNDING = 'funding'; // both stand-ins' name for the funding wallet
const FUNDING_PATHS = {
  binance: '/sapi/v1/asset/get-funding-asset',
  okex: '/api/v5/asset/balances',
};

beforeAll(async () => {
  binance = await startFakeBinance();
  okx = await startFakeOkx();
  for (const exchange of [binance, okx]) {
    exchange.setPrice('BTC/USDT', '40000');
    exchange.setPrice('ETH/USDT', '2000');
  }
  server = await startTestServer({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url, okex: okx.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0, okex: 0 }),
    OPENCOMMAS_EXCHANGE_TIMEOUT: '1s',
    OPENCOMMAS_SYNC_INTERVAL: '1s',
  });
  caller = (
    await userWithKey(server.services, { permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'] })
  ).credentials;
  // The same holdings on both: BTC 0.5 in the main wallet and 0.25 in funding, ETH 1 in main.
  binance.addAccount('bn-multi', {
    secret: 'bn-secret',
    balances: { BTC: { free: '0.5' }, ETH: { free: '1' } },
    wallets: { [FUNDING]: { BTC: { free: '0.25' } } },
  });
  okx.addAccount('okx-multi', {
    secret: 'okx-secret',
    passphrase: 'okx-pass',
    balances: { BTC: { free: '0.5' }, ETH: { free: '1' } },
    wallets: { [OKX_FUNDING]: { BTC: { free: '0.25' } } },
  });
});
afterAll(async () => {
  await server?.close();
  await binance?.close();
  await okx?.close();
});

const connect = async (params: Record<string, unknown>) =>
  connected(await signedPost(server, NEW, caller, params));

const snapshotCount = async (accountId: number) =>
  (
    await server.services.storage.db
      .selectFrom('balance_snapshots')
      .select('id')
      .where('account_id', '=', accountId)
      .execute()
  ).length;

const transfersOf = (accountId: number) =>
  server.services.storage.db
    .selectFrom('transfers')
    .select(['kind', 'asset', 'amount', 'external_id'])
    .where('account_id', '=', accountId)
    .execute();

const cases = [
  {
    market: 'binance' as const,
    key: 'bn-multi',
    main: 'spot', // the catalog's name for Binance's main wallet
    exchange: () => binance,
    params: { type: 'binance', name: 'Binance all', api_key: 'bn-multi', secret: 'bn-secret' },
  },
  {
    market: 'okex' as const,
    key: 'okx-multi',
    main: 'trading', // OKX calls its main account the trading account
    exchange: () => okx,
    params: {
      type: 'okex',
      name: 'OKX all',
      api_key: 'okx-multi',
      secret: 'okx-secret',
      passphrase: 'okx-pass',
    },
  },
];

describe.each(cases)('a $market account read wallet by wallet', (c) => {
  let id = 0;

  it('sums an asset held in several wallets before pricing it', async () => {
    const entity = await connect(c.params);
    id = Number(entity.id);
    // BTC (0.5 + 0.25) × 40000 + ETH 1 × 2000 = 30000 + 2000 = 32000; / 40000 = 0.8 BTC
    expect(entity).toMatchObject({ usd_amount: '32000.0', btc_amount: '0.8' });
  });

  it('account show lists each asset with the wallets that held it', async () => {
    const details = await accountDetails(server.services.storage, id);
    expect(details.holdings).toEqual([
      {
        asset: 'BTC',
        amount: '0.75',
        usd_price: '40000',
        usd_value: '30000', // 0.75 × 40000
        wallets: [
          { wallet: c.main, amount: '0.5' },
          { wallet: 'funding', amount: '0.25' },
        ],
      },
      {
        asset: 'ETH',
        amount: '1',
        usd_price: '2000',
        usd_value: '2000',
        wallets: [{ wallet: c.main, amount: '1' }], // all in the main wallet
      },
    ]);
    const text = detailLines(details).join('\n');
    expect(text).toMatch(
      new RegExp(`BTC\\s+0\\.75\\s+30000 USD @ 40000 {2}\\(${c.main} 0\\.5, funding 0\\.25\\)`),
    );
    expect(text).toMatch(new RegExp(`ETH\\s+1\\s+2000 USD @ 2000 {2}\\(${c.main} 1\\)`));
  });

  it('a move between two wallets changes neither the value nor any profit, and is no transfer', async () => {
    c.exchange().moveBetweenWallets(c.key, 'BTC', '0.25', FUNDING, MAIN_WALLET);
    c.exchange().moveBetweenWallets(c.key, 'ETH', '0.4', MAIN_WALLET, FUNDING);
    const entity = await loadBalances({ server, caller }, id);
    // BTC 0.75 (all main now) × 40000 + ETH (0.6 + 0.4) × 2000 = 32000, as before
    expect(entity).toMatchObject({
      usd_amount: '32000.0',
      btc_amount: '0.8',
      day_profit_usd: '0.0',
      total_usd_profit: '0.0',
      day_profit_btc: '0.0',
    });
    expect(await transfersOf(id)).toEqual([]);
    const holdings = (await accountDetails(server.services.storage, id)).holdings;
    expect(holdings.map((h) => [h.asset, h.wallets])).toEqual([
      ['BTC', [{ wallet: c.main, amount: '0.75' }]],
      [
        'ETH',
        [
          { wallet: c.main, amount: '0.6' },
          { wallet: 'funding', amount: '0.4' },
        ],
      ],
    ]);
  });

  it('a deposit that lands in funding counts once: value up, no profit', async () => {
    // 2 ETH arrive in funding (0.4 → 2.4), and the deposit history says so.
    c.exchange().setBalance(c.key, 'ETH', '2.4', '0', FUNDING);
    c.exchange().addDeposit(c.key, {
      id: `${c.market}-dep-eth`,
      asset: 'ETH',
      amount: '2',
      timestamp: Date.now(),
      status: 'ok',
    });
    const entity = await loadBalances({ server, caller }, id);
    // 32000 + 2 ETH × 2000 = 36000; the 4000 came in, it was not earned: profit stays 0
    expect(entity).toMatchObject({
      usd_amount: '36000.0',
      btc_amount: '0.9', // 36000 / 40000
      day_profit_usd: '0.0',
      total_usd_profit: '0.0',
    });
    expect(await transfersOf(id)).toEqual([
      { kind: 'deposit', asset: 'ETH', amount: '2', external_id: `deposit:${c.market}-dep-eth` },
    ]);
  });

  it('a 500 on a wallet after the main one fails the round: no partial snapshot', async () => {
    const before = await snapshotCount(id);
    const path = FUNDING_PATHS[c.market];
    c.exchange().fail({ kind: 'status500', path, times: Infinity });
    try {
      const account = await server.services.accounts.findAny(id);
      const outcome = await server.services.onDemand.syncNow(account);
      expect(outcome).toMatchObject({ status: 'failed', kind: 'unavailable' });
    } finally {
      c.exchange().fail({ kind: 'status500', path, times: 0 });
    }
    // Without funding the account would have shown 36000 − 2.4 ETH × 2000 = 31200: not stored.
    expect(await snapshotCount(id)).toBe(before);
    const account = await server.services.accounts.findAny(id);
    expect(account).toMatchObject({ api_key_invalid: false, is_locked: false });
    expect(account.last_sync_error).toContain('500');
    // The next round reads every wallet again, and the figures are those of before.
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '36000.0',
      total_usd_profit: '0.0',
    });
  });
});

describe('Binance Simple Earn, and a key refused the optional wallets', () => {
  it('reads flexible and locked Simple Earn: a subscription moves value, it adds none', async () => {
    binance.addAccount('bn-earn', {
      secret: 'bn-earn-secret',
      balances: { BTC: { free: '1' }, ETH: { free: '3' }, USDT: { free: '1000' } },
    });
    const entity = await connect({
      type: 'binance',
      name: 'Earn',
      api_key: 'bn-earn',
      secret: 'bn-earn-secret',
    });
    const earnId = Number(entity.id);
    // 1 × 40000 + 3 × 2000 + 1000 = 47000
    expect(entity).toMatchObject({ usd_amount: '47000.0' });
    binance.moveBetweenWallets('bn-earn', 'USDT', '600', MAIN_WALLET, BINANCE_WALLETS.earnFlexible);
    binance.moveBetweenWallets('bn-earn', 'ETH', '2', MAIN_WALLET, BINANCE_WALLETS.earnLocked);
    expect(await loadBalances({ server, caller }, earnId)).toMatchObject({
      usd_amount: '47000.0', // the same 47000, now partly in Simple Earn
      total_usd_profit: '0.0',
    });
    const holdings = (await accountDetails(server.services.storage, earnId)).holdings;
    expect(holdings.map((h) => [h.asset, h.amount, h.wallets])).toEqual([
      ['BTC', '1', [{ wallet: 'spot', amount: '1' }]],
      [
        'ETH',
        '3',
        [
          { wallet: 'spot', amount: '1' },
          { wallet: 'earn-locked', amount: '2' },
        ],
      ],
      [
        'USDT',
        '1000',
        [
          { wallet: 'spot', amount: '400' },
          { wallet: 'earn-flexible', amount: '600' },
        ],
      ],
    ]);
  });

  it('a key refused funding and Simple Earn still syncs: those wallets left out, no lock, no error', async () => {
    binance.addAccount('bn-limited', {
      secret: 'bn-limited-secret',
      balances: { BTC: { free: '0.5' } },
      wallets: {
        [FUNDING]: { BTC: { free: '0.25' } },
        [BINANCE_WALLETS.earnFlexible]: { USDT: { free: '100' } },
      },
    });
    binance.denyWallet('bn-limited', FUNDING);
    binance.denyWallet('bn-limited', BINANCE_WALLETS.earnFlexible);
    binance.resetStats();
    const entity = await connect({
      type: 'binance',
      name: 'Limited',
      api_key: 'bn-limited',
      secret: 'bn-limited-secret',
    });
    // Only spot and earn-locked (empty) are readable: 0.5 × 40000 = 20000
    expect(entity).toMatchObject({ usd_amount: '20000.0', api_key_invalid: false });
    // The refused wallets were asked for once each (no retry of a refusal).
    expect(binance.stats.byPath[FUNDING_PATHS.binance]).toBe(1);
    expect(binance.stats.byPath['/sapi/v1/simple-earn/flexible/position']).toBe(1);
    const id = Number(entity.id);
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '20000.0',
      api_key_invalid: false,
      total_usd_profit: '0.0',
    });
    const account = await server.services.accounts.findAny(id);
    expect(account).toMatchObject({
      is_locked: false,
      api_key_invalid: false,
      last_sync_error: null,
      sync_failures: 0,
    });
  });
});

describe('Simple Earn positions over more than one page', () => {
  it('reads every page (100 a page) and sums the positions', async () => {
    // 150 flexible positions of 0.5 each, assets P0…P149: two pages (100 + 50).
    const positions = Object.fromEntries(
      Array.from({ length: 150 }, (_, i) => [`P${i}`, { free: '0.5' }]),
    );
    binance.addAccount('bn-paged', {
      secret: 'bn-paged-secret',
      balances: { P0: { free: '1.25' } },
      wallets: { [BINANCE_WALLETS.earnFlexible]: positions },
    });
    const market = findMarket('binance');
    if (market?.connector.type !== 'ccxt') throw new Error('binance is an exchange');
    const connector = new ExchangeConnector(
      new ExchangeClients(market.connector, {
        origin: binance.url,
        timeoutMs: 2000,
        rateLimitMs: 0,
        keyRequestsPerSecond: 100,
      }),
      DEFAULT_RETRY,
    );
    await connector.clients.loadMarkets();
    binance.resetStats();
    const holdings = await connector.fetchHoldings({
      apiKey: 'bn-paged',
      secret: 'bn-paged-secret',
    });
    expect(binance.stats.byPath['/sapi/v1/simple-earn/flexible/position']).toBe(2);
    expect(holdings.wallets.get('earn-flexible')?.size).toBe(150);
    expect(holdings.total.get('P0')).toBe('1.75'); // 1.25 spot + 0.5 earning
    expect(holdings.total.get('P149')).toBe('0.5');
    expect(holdings.total.size).toBe(150);
  });
});

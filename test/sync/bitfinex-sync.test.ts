import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountDetails } from '../../src/accounts/details.ts';
import { startFakeBitfinex, type FakeBitfinex } from '../support/exchanges/bitfinex-server.ts';
import {
  connectAccount,
  connected,
  expectLockedAfterRevoke,
  expectRefusedAndNothingStored,
  holdings,
  loadBalances,
  nextRound,
  startMarketServer,
  storedTransfers,
} from '../support/exchange-sync.ts';
import { type Credentials, type TestServer } from '../support/server.ts';

// A Bitfinex account end to end: connected through the signed 3Commas endpoint, read by ccxt's
// `bitfinex` (unmodified) from the v2 stand-in — its exchange, margin and funding wallets summed
// before pricing, its one movements history for deposits and withdrawals. Every figure is
// checked by hand in the comments.

const TWO_HOURS_AGO = Date.now() - 2 * 60 * 60 * 1000;

let bfx: FakeBitfinex;
let server: TestServer;
let caller: Credentials;
let id = 0;

beforeAll(async () => {
  bfx = await startFakeBitfinex();
  // Prices in force for hours, so a transfer today is valued at them whatever candle it meets.
  bfx.setPrice('BTC/USD', '40000', TWO_HOURS_AGO);
  bfx.setPrice('BTC/USDT', '40000', TWO_HOURS_AGO); // tBTCUST on the wire
  bfx.setPrice('ETH/USD', '2000', TWO_HOURS_AGO);
  bfx.setPrice('ETH/BTC', '0.05', TWO_HOURS_AGO);
  bfx.addAccount('bfx-key', {
    secret: 'bfx-secret',
    balances: { BTC: { free: '0.25', locked: '0.25' }, USDT: { free: '1000' } },
    wallets: {
      margin: { USDT: { free: '500' } },
      funding: { USD: { free: '2000' }, BTC: { free: '0.1' } },
    },
  });
  ({ server, caller } = await startMarketServer('bitfinex', bfx));
});
afterAll(async () => {
  await server?.close();
  await bfx?.close();
});

const connect = (apiKey: string, secret: string) =>
  connectAccount(
    { server, caller },
    { type: 'bitfinex', name: 'Bitfinex', api_key: apiKey, secret },
  );

describe('a Bitfinex account', () => {
  it.each([
    ['bfx-key', 'wrong-secret', 'apikey: digest invalid'],
    ['unknown-key', 'bfx-secret', 'apikey: invalid'],
  ])(
    'refuses key %s / %s with Bitfinex’s words (%s), storing nothing',
    async (key, secret, words) => {
      const response = await connect(key, secret);
      await expectRefusedAndNothingStored(server, response, words);
    },
  );

  it('connects: exchange, margin and funding wallets summed, then priced', async () => {
    const entity = await connected(await connect('bfx-key', 'bfx-secret'));
    id = Number(entity.id);
    // BTC: 0.5 (exchange, half in orders) + 0.1 (funding) = 0.6 × 40000 = 24000
    // USDT: 1000 (exchange) + 500 (margin) = 1500 × 1 = 1500;  USD: 2000 (funding)
    expect(entity).toMatchObject({
      market_code: 'bitfinex',
      usd_amount: '27500.0', // 24000 + 1500 + 2000
      btc_amount: '0.6875', // 27500 / 40000
    });
    expect(await holdings(server, id)).toEqual([
      [
        'BTC',
        '0.6',
        [
          { wallet: 'exchange', amount: '0.5' },
          { wallet: 'funding', amount: '0.1' },
        ],
      ],
      ['USD', '2000', [{ wallet: 'funding', amount: '2000' }]],
      [
        'USDT',
        '1500',
        [
          { wallet: 'exchange', amount: '1000' },
          { wallet: 'margin', amount: '500' },
        ],
      ],
    ]);
  });

  it('a price move is profit', async () => {
    bfx.setPrice('BTC/USD', '50000');
    bfx.setPrice('BTC/USDT', '50000');
    await nextRound(); // past the connection's prices, shared for up to a round
    const entity = await loadBalances({ server, caller }, id);
    expect(entity).toMatchObject({
      usd_amount: '33500.0', // 0.6 × 50000 + 1500 + 2000
      btc_amount: '0.67', // 33500 / 50000
      day_profit_usd: '6000.0', // 33500 − 27500
      day_profit_usd_percentage: '21.82', // 6000 / 27500 = 21.818 %
      day_profit_btc: '-0.0175', // 0.67 − 0.6875
      total_usd_profit: '6000.0',
    });
  });

  it('a move between its wallets is neither a transfer nor profit', async () => {
    bfx.moveBetweenWallets('bfx-key', 'BTC', '0.1', 'funding', 'spot'); // funding → exchange
    const entity = await loadBalances({ server, caller }, id);
    expect(entity).toMatchObject({ usd_amount: '33500.0', day_profit_usd: '6000.0' });
    const details = await accountDetails(server.services.storage, id);
    expect(details.holdings.find((h) => h.asset === 'BTC')?.wallets).toEqual([
      { wallet: 'exchange', amount: '0.6' },
    ]);
  });

  it('records a deposit and a withdrawal from its movements: profit unchanged', async () => {
    // 1 ETH arrives in the exchange wallet (2000 USD); 300 USD leaves the funding wallet.
    bfx.setBalance('bfx-key', 'ETH', '1');
    bfx.addDeposit('bfx-key', {
      id: '9001',
      asset: 'ETH',
      amount: '1',
      // Now: a transfer dated before the account's first snapshot is part of it, not a
      // transfer (after the connection's snapshot, however fast the tests before ran).
      timestamp: Date.now(),
      status: 'ok',
    });
    bfx.setBalance('bfx-key', 'USD', '1700', '0', 'funding');
    bfx.addWithdrawal('bfx-key', {
      id: '9002',
      asset: 'USD',
      amount: '300',
      timestamp: Date.now(),
      status: 'ok',
    });
    const entity = await loadBalances({ server, caller }, id);
    expect(entity).toMatchObject({
      usd_amount: '35200.0', // 0.6 × 50000 + 1 × 2000 + 1500 + 1700
      btc_amount: '0.704', // 35200 / 50000
      day_profit_usd: '6000.0', // 35200 − 27500 − (2000 − 300)
      day_profit_usd_percentage: '20.55', // 6000 / (27500 + 2000 − 300) = 20.548 %
      total_usd_profit: '6000.0',
    });
    const transfers = await storedTransfers(server, id, ['kind', 'asset', 'amount'], 'kind');
    expect(transfers).toEqual([
      { kind: 'deposit', asset: 'ETH', amount: '1' },
      { kind: 'withdrawal', asset: 'USD', amount: '300' },
    ]);
  });

  it('locks the account when Bitfinex stops accepting the key', async () => {
    bfx.revoke('bfx-key');
    await expectLockedAfterRevoke(server, id);
  });
});

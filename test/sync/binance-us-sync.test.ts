import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeBinance, type FakeBinance } from '../support/exchanges/binance-server.ts';
import {
  connectAccount,
  connected,
  expectFailedNotLocked,
  expectLockedAfterRevoke,
  expectRefusedAndNothingStored,
  holdings,
  loadBalances,
  nextRound,
  startMarketServer,
  storedTransfers,
  syncNow,
} from '../support/exchange-sync.ts';
import { type Credentials, type TestServer } from '../support/server.ts';

// A Binance.US account end to end: connected through the 3Commas endpoint, read by ccxt's
// `binanceus` (unmodified) from the Binance stand-in, which serves every path it asks for (see
// test/exchanges/binance-us-server.test.ts) — its spot account, quoted in USD — then prices
// move and money comes and goes. Every figure is checked by hand in the comments.

const HOUR = 60 * 60 * 1000;
const KEY = 'binance-us-key';
const SECRET = 'binance-us-secret';

let binanceUs: FakeBinance;
let server: TestServer;
let caller: Credentials;
let id = 0;

beforeAll(async () => {
  binanceUs = await startFakeBinance();
  // Prices since three hours ago, so the candles around each transfer are these prices alone.
  const since = Date.now() - 3 * HOUR;
  binanceUs.setPrice('BTC/USD', '50000', since);
  binanceUs.setPrice('ETH/USD', '2500', since);
  binanceUs.addAccount(KEY, {
    secret: SECRET,
    balances: { BTC: { free: '0.4', locked: '0.1' }, ETH: { free: '2' }, USD: { free: '100' } },
  });
  ({ server, caller } = await startMarketServer('binance_us', binanceUs));
});
afterAll(async () => {
  await server?.close();
  await binanceUs?.close();
});

const connect = (api_key: string, secret: string) =>
  connectAccount({ server, caller }, { type: 'binance_us', name: 'Binance.US', api_key, secret });

/** Prices of a new round (on-demand syncs share prices read within the last second or so). */
async function movePrices(btc: string, eth: string): Promise<void> {
  const at = Date.now() - 2 * HOUR; // the candles around later transfers hold these prices
  binanceUs.setPrice('BTC/USD', btc, at);
  binanceUs.setPrice('ETH/USD', eth, at);
  await nextRound();
}

describe('a Binance.US account: its spot account, in USD', () => {
  it('refuses a key Binance.US rejects, in its words, as record_invalid', async () => {
    for (const [apiKey, secret, words] of [
      ['unknown-key', SECRET, 'Invalid API-key, IP, or permissions for action.'], // -2015
      [KEY, 'not-the-secret', 'Signature for this request is not valid.'], // -1022
    ]) {
      const response = await connect(apiKey!, secret!);
      await expectRefusedAndNothingStored(server, response, words!);
    }
  });

  it('connects: valued at the USD tickers', async () => {
    const entity = await connected(await connect(KEY, SECRET));
    id = Number(entity.id);
    // BTC 0.5 × 50000 = 25000; ETH 2 × 2500 = 5000; USD 100 → 30100
    expect(entity).toMatchObject({
      market_code: 'binance_us',
      api_key_invalid: false,
      usd_amount: '30100.0',
      btc_amount: '0.602', // 30100 / 50000
    });
    expect(await holdings(server, id)).toEqual([
      ['BTC', '0.5', [{ wallet: 'spot', amount: '0.5' }]],
      ['ETH', '2', [{ wallet: 'spot', amount: '2' }]],
      ['USD', '100', [{ wallet: 'spot', amount: '100' }]],
    ]);
  });

  it('prices move: the day profit is what they did', async () => {
    await movePrices('62500', '3125');
    // 0.5 × 62500 + 2 × 3125 + 100 = 31250 + 6250 + 100 = 37600
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '37600.0',
      btc_amount: '0.6016', // 37600 / 62500
      day_profit_usd: '7500.0', // 37600 − 30100
      day_profit_usd_percentage: '24.92', // 7500 / 30100 = 24.917 %
      total_usd_profit: '7500.0',
    });
  });

  it('a deposit and a withdrawal are recorded, not profit', async () => {
    // 1 ETH deposited: 3125 USD; 37600 + 3125 = 40725.
    binanceUs.setBalance(KEY, 'ETH', '3');
    binanceUs.addDeposit(KEY, {
      id: 'us-dep-1',
      asset: 'ETH',
      amount: '1',
      timestamp: Date.now() - 1000,
      status: 'ok',
    });
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '40725.0',
      day_profit_usd: '7500.0',
      total_usd_profit: '7500.0',
    });

    // 0.1 BTC withdrawn (Binance writes withdrawal times in whole seconds): 6250 USD;
    // 40725 − 6250 = 34475.
    await nextRound();
    binanceUs.setBalance(KEY, 'BTC', '0.3', '0.1');
    binanceUs.addWithdrawal(KEY, {
      id: 'us-wd-1',
      asset: 'BTC',
      amount: '0.1',
      timestamp: Date.now() - 100,
      status: 'ok',
    });
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '34475.0',
      btc_amount: '0.5516', // 34475 / 62500
      day_profit_usd: '7500.0',
      total_usd_profit: '7500.0',
      // Of what the day started with plus what moved in: 30100 + 3125 − 6250 = 26975
      day_profit_usd_percentage: '27.8', // 7500 / 26975 = 27.80 %
      // In BTC: 0.5516 − 0.602 − (0.05 − 0.1) = −0.0004
      day_profit_btc: '-0.0004',
    });
    const transfers = await storedTransfers(server, id);
    expect(transfers).toEqual([
      { external_id: 'deposit:us-dep-1', kind: 'deposit', asset: 'ETH', amount: '1' },
      { external_id: 'withdrawal:us-wd-1', kind: 'withdrawal', asset: 'BTC', amount: '0.1' },
    ]);
  });

  it('a busy exchange (429, -1003) is reported, not locked, and read again', async () => {
    binanceUs.fail({ kind: 'rateLimit429', apiKey: KEY, times: 3 });
    await expectFailedNotLocked(server, id, 'rate_limited');
    expect((await syncNow(server, id)).status).toBe('synced');
  });

  // Binance.US, like Binance, has no code of its own for an IP outside the key's whitelist: it
  // answers -2015, as for a deleted key, so either locks the account (new keys unlock it).
  it('a key refused with -2015 (deleted, or an IP whitelist without us) locks the account', async () => {
    binanceUs.revoke(KEY);
    await expectLockedAfterRevoke(server, id);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountDetails } from '../../src/accounts/details.ts';
import {
  FUNDING_WALLET,
  IP_MISMATCH,
  startFakeBybit,
  type FakeBybit,
} from '../support/exchanges/bybit-server.ts';
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

// A Bybit account end to end: connected through the 3Commas endpoint, read by ccxt's `bybit`
// (unmodified) from the Bybit v5 stand-in — the unified trading account and the funding wallet,
// summed before pricing — then prices move and money comes, goes and moves between wallets.
// Every figure is checked by hand in the comments.

const HOUR = 60 * 60 * 1000;
const KEY = 'bybit-key';
const SECRET = 'bybit-secret';

let bybit: FakeBybit;
let server: TestServer;
let caller: Credentials;
let id = 0;

beforeAll(async () => {
  bybit = await startFakeBybit();
  // Prices since three hours ago, so the candles around each transfer are these prices alone.
  const since = Date.now() - 3 * HOUR;
  bybit.setPrice('BTC/USDT', '50000', since);
  bybit.setPrice('ETH/USDT', '2500', since);
  bybit.addAccount(KEY, {
    secret: SECRET,
    // Unified trading account: 0.5 BTC (0.1 of it in orders) and 100 USDT.
    balances: { BTC: { free: '0.4', locked: '0.1' }, USDT: { free: '100' } },
    // Funding wallet: 0.1 BTC and 2 ETH.
    wallets: { [FUNDING_WALLET]: { BTC: { free: '0.1' }, ETH: { free: '2' } } },
  });
  ({ server, caller } = await startMarketServer('bybit_spot', bybit));
});
afterAll(async () => {
  await server?.close();
  await bybit?.close();
});

const connect = (api_key: string, secret: string) =>
  connectAccount({ server, caller }, { type: 'bybit_spot', name: 'Bybit', api_key, secret });

/** Prices of a new round (on-demand syncs share prices read within the last second or so). */
async function movePrices(btc: string, eth: string): Promise<void> {
  const at = Date.now() - 2 * HOUR; // the candles around later transfers hold these prices
  bybit.setPrice('BTC/USDT', btc, at);
  bybit.setPrice('ETH/USDT', eth, at);
  await nextRound();
}

const transfers = () => storedTransfers(server, id);

describe('a Bybit account: unified trading account + funding wallet', () => {
  it("refuses a key Bybit rejects, in Bybit's words, as record_invalid", async () => {
    for (const [apiKey, secret, words] of [
      ['unknown-key', SECRET, 'API key is invalid'], // retCode 10003
      [KEY, 'not-the-secret', 'error sign'], // retCode 10004
    ]) {
      const response = await connect(apiKey!, secret!);
      await expectRefusedAndNothingStored(server, response, words!);
    }
  });

  it('connects: both wallets summed before pricing', async () => {
    const entity = await connected(await connect(KEY, SECRET));
    id = Number(entity.id);
    // BTC 0.5 + 0.1 = 0.6 × 50000 = 30000; ETH 2 × 2500 = 5000; USDT 100 → 35100
    expect(entity).toMatchObject({
      market_code: 'bybit_spot',
      api_key_invalid: false,
      usd_amount: '35100.0',
      btc_amount: '0.702', // 35100 / 50000
    });
  });

  it('account show keeps which wallet held what', async () => {
    expect(await holdings(server, id)).toEqual([
      [
        'BTC',
        '0.6',
        [
          { wallet: 'unified', amount: '0.5' },
          { wallet: 'funding', amount: '0.1' },
        ],
      ],
      ['ETH', '2', [{ wallet: 'funding', amount: '2' }]],
      ['USDT', '100', [{ wallet: 'unified', amount: '100' }]],
    ]);
  });

  it('prices move: the day profit is what they did', async () => {
    await movePrices('62500', '3125');
    // 0.6 × 62500 + 2 × 3125 + 100 = 37500 + 6250 + 100 = 43850
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '43850.0',
      btc_amount: '0.7016', // 43850 / 62500
      day_profit_usd: '8750.0', // 43850 − 35100
      day_profit_usd_percentage: '24.93', // 8750 / 35100 = 24.928 %
      total_usd_profit: '8750.0',
    });
  });

  it('a move from funding to the unified account is neither a transfer nor profit', async () => {
    bybit.moveBetweenWallets(KEY, 'BTC', '0.1', FUNDING_WALLET, 'spot');
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '43850.0',
      day_profit_usd: '8750.0',
    });
    const details = await accountDetails(server.services.storage, id);
    expect(details.holdings.find((h) => h.asset === 'BTC')?.wallets).toEqual([
      { wallet: 'unified', amount: '0.6' },
    ]);
    expect(await transfers()).toEqual([]);
  });

  it('a deposit to funding and a withdrawal from the unified account: profit unchanged', async () => {
    // 1 ETH deposited to funding: 3125 USD; 43850 + 3125 = 46975.
    bybit.setBalance(KEY, 'ETH', '3', '0', FUNDING_WALLET);
    bybit.addDeposit(KEY, {
      id: 'bybit-dep-1',
      asset: 'ETH',
      amount: '1',
      timestamp: Date.now() - 1000,
      status: 'ok',
    });
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '46975.0',
      day_profit_usd: '8750.0',
      total_usd_profit: '8750.0',
    });

    // 0.1 BTC withdrawn from unified (0.5 free + 0.1 in orders since the move): 6250 USD;
    // 46975 − 6250 = 40725.
    bybit.setBalance(KEY, 'BTC', '0.4', '0.1');
    bybit.addWithdrawal(KEY, {
      id: 'bybit-wd-1',
      asset: 'BTC',
      amount: '0.1',
      timestamp: Date.now() - 500,
      status: 'ok',
    });
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '40725.0',
      btc_amount: '0.6516', // 40725 / 62500
      day_profit_usd: '8750.0',
      total_usd_profit: '8750.0',
      // Of what the day started with plus what moved in: 35100 + 3125 − 6250 = 31975
      day_profit_usd_percentage: '27.37', // 8750 / 31975 = 27.365 %
      // In BTC: 0.6516 − 0.702 − (0.05 − 0.1) = −0.0004
      day_profit_btc: '-0.0004',
    });
    expect(await transfers()).toEqual([
      { external_id: 'deposit:bybit-dep-1', kind: 'deposit', asset: 'ETH', amount: '1' },
      { external_id: 'withdrawal:bybit-wd-1', kind: 'withdrawal', asset: 'BTC', amount: '0.1' },
    ]);
  });

  it('a key bound to other IPs (10010) is reported, not locked, and read again', async () => {
    // Every signed request is refused while the key's bound IPs leave us out.
    const refusal = { kind: 'answer', apiKey: KEY, status: 200, body: IP_MISMATCH } as const;
    bybit.fail({ ...refusal, times: Infinity });
    await expectFailedNotLocked(server, id, 'ip_refused', '10010');
    bybit.fail({ ...refusal, times: 0 }); // the key is bound to our IP again
    expect((await syncNow(server, id)).status).toBe('synced');
  });

  it('a key deleted at Bybit (10003) locks the account', async () => {
    bybit.revoke(KEY);
    await expectLockedAfterRevoke(server, id);
  });
});

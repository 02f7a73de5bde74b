import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountDetails } from '../../src/accounts/details.ts';
import { startFakeKraken, type FakeKraken } from '../support/exchanges/kraken-server.ts';
import {
  connectAccount,
  connected,
  expectLockedAfterRevoke,
  expectRefusedAndNothingStored,
  loadBalances,
  nextRound,
  startMarketServer,
  storedTransfers,
} from '../support/exchange-sync.ts';
import { type Credentials, type TestServer } from '../support/server.ts';

// A Kraken account end to end: connected through the 3Commas endpoint, read by ccxt's `kraken`
// (unmodified) from the Kraken stand-in, which names assets Kraken's way (XXBT, XETH, ZUSD) and
// lists staked and earning amounts as assets of their own (DOT.S, XBT.M, ETH2.S): the catalog's
// aliases count them as DOT, BTC and ETH. Then prices move and money comes and goes. Every
// figure is checked by hand in the comments.

const HOUR = 60 * 60 * 1000;
const KEY = 'kraken-key';
// Kraken's secrets are Base64: the signature is keyed with the decoded bytes.
const SECRET = Buffer.from('kraken-secret').toString('base64');

let kraken: FakeKraken;
let server: TestServer;
let caller: Credentials;
let id = 0;

beforeAll(async () => {
  kraken = await startFakeKraken();
  // Prices since three hours ago, so the candles around each transfer are these prices alone.
  const since = Date.now() - 3 * HOUR;
  kraken.setPrice('BTC/USD', '50000', since);
  kraken.setPrice('ETH/USD', '2500', since);
  kraken.setPrice('DOT/USD', '5', since);
  kraken.addAccount(KEY, {
    secret: SECRET,
    balances: {
      BTC: { free: '0.4', locked: '0.1' }, // XXBT, 0.1 of it in orders
      'BTC.M': { free: '0.1' }, // XBT.M: bitcoin in opt-in rewards
      USD: { free: '1000' }, // ZUSD
      DOT: { free: '20' },
      'DOT.S': { free: '80' }, // staked DOT
      'ETH2.S': { free: '1' }, // staked ether
    },
  });
  ({ server, caller } = await startMarketServer('kraken', kraken));
});
afterAll(async () => {
  await server?.close();
  await kraken?.close();
});

const connect = (api_key: string, secret: string) =>
  connectAccount({ server, caller }, { type: 'kraken', name: 'Kraken', api_key, secret });

/** Prices of a new round (on-demand syncs share prices read within the last second or so). */
async function movePrices(btc: string, eth: string, dot: string): Promise<void> {
  const at = Date.now() - 2 * HOUR; // the candles around later transfers hold these prices
  kraken.setPrice('BTC/USD', btc, at);
  kraken.setPrice('ETH/USD', eth, at);
  kraken.setPrice('DOT/USD', dot, at);
  await nextRound();
}

const transfers = () => storedTransfers(server, id);

describe('a Kraken account: its codes, staked and earning balances', () => {
  it("refuses keys Kraken rejects, in Kraken's words, as record_invalid", async () => {
    for (const [apiKey, secret, words] of [
      ['unknown-key', SECRET, 'EAPI:Invalid key'],
      [KEY, Buffer.from('not-the-secret').toString('base64'), 'EAPI:Invalid signature'],
    ] as const) {
      const response = await connect(apiKey, secret);
      await expectRefusedAndNothingStored(server, response, words);
    }
  });

  it('connects: staked and earning amounts count as their asset', async () => {
    const entity = await connected(await connect(KEY, SECRET));
    id = Number(entity.id);
    // BTC 0.5 + 0.1 (XBT.M) = 0.6 × 50000 = 30000; DOT 20 + 80 (DOT.S) = 100 × 5 = 500;
    // ETH 1 (ETH2.S) × 2500 = 2500; USD 1000 → 34000 USD
    expect(entity).toMatchObject({
      market_code: 'kraken',
      api_key_invalid: false,
      usd_amount: '34000.0',
      btc_amount: '0.68', // 34000 / 50000
    });
    const details = await accountDetails(server.services.storage, id);
    expect(details.holdings.map((h) => [h.asset, h.amount, h.usd_value])).toEqual([
      ['BTC', '0.6', '30000'],
      ['DOT', '100', '500'],
      ['ETH', '1', '2500'],
      ['USD', '1000', '1000'],
    ]);
  });

  it('prices move: the day profit is what they did', async () => {
    await movePrices('62500', '3125', '6');
    // 0.6 × 62500 + 100 × 6 + 1 × 3125 + 1000 = 37500 + 600 + 3125 + 1000 = 42225
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '42225.0',
      btc_amount: '0.6756', // 42225 / 62500
      day_profit_usd: '8225.0', // 42225 − 34000
      day_profit_usd_percentage: '24.19', // 8225 / 34000 = 24.191 %
      total_usd_profit: '8225.0',
    });
  });

  it('staking more (DOT to DOT.S) is neither a transfer nor profit', async () => {
    kraken.setBalance(KEY, 'DOT', '0');
    kraken.setBalance(KEY, 'DOT.S', '100');
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '42225.0',
      day_profit_usd: '8225.0',
    });
    expect(await transfers()).toEqual([]);
  });

  it('a deposit and a withdrawal, read with Kraken codes: profit unchanged', async () => {
    // 1 ETH deposited (XETH): 3125 USD; 42225 + 3125 = 45350.
    kraken.setBalance(KEY, 'ETH', '1');
    kraken.addDeposit(KEY, {
      id: 'QSB7IFM-Q3LT3X-NVAOKE',
      asset: 'ETH',
      amount: '1',
      timestamp: Date.now() - 1000,
      status: 'ok',
    });
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '45350.0',
      day_profit_usd: '8225.0',
      total_usd_profit: '8225.0',
    });

    // 0.1 BTC withdrawn (XXBT): 6250 USD; 45350 − 6250 = 39100.
    kraken.setBalance(KEY, 'BTC', '0.3', '0.1');
    kraken.addWithdrawal(KEY, {
      id: 'AGBSO6T-UFMTTQ-I7KGS6',
      asset: 'BTC',
      amount: '0.1',
      timestamp: Date.now() - 500,
      status: 'ok',
    });
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '39100.0',
      btc_amount: '0.6256', // 39100 / 62500
      day_profit_usd: '8225.0',
      total_usd_profit: '8225.0',
      // Of what the day started with plus what moved in: 34000 + 3125 − 6250 = 30875
      day_profit_usd_percentage: '26.64', // 8225 / 30875 = 26.639 %
      // In BTC: 0.6256 − 0.68 − (0.05 − 0.1) = −0.0044
      day_profit_btc: '-0.0044',
    });
    expect(await transfers()).toEqual([
      { external_id: 'deposit:QSB7IFM-Q3LT3X-NVAOKE', kind: 'deposit', asset: 'ETH', amount: '1' },
      {
        external_id: 'withdrawal:AGBSO6T-UFMTTQ-I7KGS6',
        kind: 'withdrawal',
        asset: 'BTC',
        amount: '0.1',
      },
    ]);
  });

  it('a key deleted at Kraken (EAPI:Invalid key) locks the account', async () => {
    kraken.revoke(KEY);
    await expectLockedAfterRevoke(server, id);
    expect((await accountDetails(server.services.storage, id)).last_sync_error).toContain(
      'EAPI:Invalid key',
    );
  });
});

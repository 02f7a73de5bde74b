import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  newCoinbaseKey,
  startFakeCoinbase,
  type FakeCoinbase,
} from '../support/exchanges/coinbase-server.ts';
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

// A Coinbase account end to end with a CDP API key as Coinbase hands it out: the key's name
// (organizations/…/apiKeys/…) as the API key, its EC private key (PEM, line breaks kept) as the
// secret. ccxt's `coinbase` (unmodified) signs every request with an ES256 JWT the stand-in
// verifies; balances come from the Advanced Trade accounts, transfers from each currency's
// account history. Every figure is checked by hand in the comments.

const TWO_HOURS_AGO = Date.now() - 2 * 60 * 60 * 1000;
const key = newCoinbaseKey('5e1f6c2a-7d3b-4e8f-9a0b-1c2d3e4f5a6b');

let cb: FakeCoinbase;
let server: TestServer;
let caller: Credentials;
let id = 0;

beforeAll(async () => {
  // Two rows a page: every history read below walks its pages by `starting_after`.
  cb = await startFakeCoinbase({ historyPageCap: 2 });
  // Prices in force for hours, so a transfer today is valued at them whatever candle it meets.
  cb.setPrice('BTC/USD', '40000', TWO_HOURS_AGO);
  cb.setPrice('ETH/USD', '2000', TWO_HOURS_AGO);
  cb.setPrice('ETH/BTC', '0.05', TWO_HOURS_AGO);
  cb.addAccount(key.name, {
    secret: key.privateKey,
    balances: { BTC: { free: '0.4', locked: '0.1' }, ETH: { free: '2' }, USD: { free: '1000' } },
  });
  ({ server, caller } = await startMarketServer('coinbase', cb));
});
afterAll(async () => {
  await server?.close();
  await cb?.close();
});

const connect = (apiKey: string, secret: string) =>
  connectAccount(
    { server, caller },
    { type: 'coinbase', name: 'Coinbase', api_key: apiKey, secret },
  );

describe('a Coinbase account with a CDP key', () => {
  it.each([
    ['the key name with another private key', key.name, newCoinbaseKey('other').privateKey],
    ['an unknown key name', newCoinbaseKey('gone').name, key.privateKey],
  ])('refuses %s with Coinbase’s 401 Unauthorized, storing nothing', async (_, name, pem) => {
    const response = await connect(name, pem);
    await expectRefusedAndNothingStored(server, response, '401 Unauthorized');
  });

  it('connects with the key name and the PEM private key: every account, priced', async () => {
    expect(key.privateKey).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
    const entity = await connected(await connect(key.name, key.privateKey));
    id = Number(entity.id);
    expect(entity).toMatchObject({
      market_code: 'coinbase',
      api_key: key.name,
      // 0.5 BTC (0.1 on hold) × 40000 + 2 ETH × 2000 + 1000 USD = 20000 + 4000 + 1000
      usd_amount: '25000.0',
      btc_amount: '0.625', // 25000 / 40000
    });
    expect(JSON.stringify(entity)).not.toContain('PRIVATE KEY');
    expect(await holdings(server, id)).toEqual([
      ['BTC', '0.5', [{ wallet: 'accounts', amount: '0.5' }]],
      ['ETH', '2', [{ wallet: 'accounts', amount: '2' }]],
      ['USD', '1000', [{ wallet: 'accounts', amount: '1000' }]],
    ]);
  });

  it('a price move is profit', async () => {
    cb.setPrice('BTC/USD', '50000');
    await nextRound(); // past the connection's prices, shared for up to a round
    const entity = await loadBalances({ server, caller }, id);
    expect(entity).toMatchObject({
      usd_amount: '30000.0', // 0.5 × 50000 + 4000 + 1000
      btc_amount: '0.6', // 30000 / 50000
      day_profit_usd: '5000.0', // 30000 − 25000
      day_profit_usd_percentage: '20.0', // 5000 / 25000
      day_profit_btc: '-0.025', // 0.6 − 0.625
      total_usd_profit: '5000.0',
    });
  });

  it("records a crypto deposit and a fiat withdrawal from each currency's history", async () => {
    // 1 ETH arrives (a send into the ETH account, 2000 USD); 200 USD goes to the bank.
    cb.setBalance(key.name, 'ETH', '3');
    cb.addDeposit(key.name, {
      id: 'eth-send-1',
      asset: 'ETH',
      amount: '1',
      // Now: a transfer dated before the account's first snapshot is part of it, not a
      // transfer (Coinbase dates them to the second, and the connection's snapshot is over a second old).
      timestamp: Date.now(),
      status: 'ok',
    });
    cb.setBalance(key.name, 'USD', '800');
    cb.addWithdrawal(key.name, {
      id: 'usd-out-1',
      asset: 'USD',
      amount: '200',
      timestamp: Date.now(),
      status: 'ok',
    });
    const entity = await loadBalances({ server, caller }, id);
    expect(entity).toMatchObject({
      usd_amount: '31800.0', // 25000 + 3 × 2000 + 800
      btc_amount: '0.636', // 31800 / 50000
      day_profit_usd: '5000.0', // 31800 − 25000 − (2000 − 200)
      day_profit_usd_percentage: '18.66', // 5000 / (25000 + 2000 − 200) = 18.657 %
      total_usd_profit: '5000.0',
    });
    const transfers = await storedTransfers(server, id, ['kind', 'asset', 'amount'], 'kind');
    expect(transfers).toEqual([
      { kind: 'deposit', asset: 'ETH', amount: '1' },
      { kind: 'withdrawal', asset: 'USD', amount: '200' },
    ]);
  });

  it('counts only transfers in the history: fills and rewards are not, an outgoing send is what left', async () => {
    const at = Date.now() - 500;
    // Bought 0.25 ETH for 510 USD (10 of it the fee), and 0.05 ETH staking reward: ETH 3.3,
    // USD 290. The history lists both fills and the reward, each as a signed amount.
    cb.setBalance(key.name, 'ETH', '3.3');
    cb.setBalance(key.name, 'USD', '290');
    cb.addMovement(key.name, {
      id: 'fill-eth',
      type: 'advanced_trade_fill',
      asset: 'ETH',
      amount: '0.25',
      timestamp: at,
    });
    cb.addMovement(key.name, {
      id: 'fill-usd',
      type: 'advanced_trade_fill',
      asset: 'USD',
      amount: '-510',
      timestamp: at,
    });
    cb.addMovement(key.name, {
      id: 'reward',
      type: 'staking_reward',
      asset: 'ETH',
      amount: '0.05',
      timestamp: at,
    });
    let entity = await loadBalances({ server, caller }, id);
    expect(entity).toMatchObject({
      usd_amount: '31890.0', // 25000 + 3.3 × 2000 + 290
      // 31890 − 25000 − 1800: the reward's 100 is profit and the fee's 10 a cost. Counted as
      // transfers, the fills (+500, −510) and the reward (+100) would make it 5000.
      day_profit_usd: '5090.0',
    });

    // 0.5 ETH sent out with a 0.01 ETH network fee: Coinbase lists amount −0.51 and
    // transaction_amount 0.5 (unsigned; ccxt alone reads the send as a deposit of 0.5).
    cb.setBalance(key.name, 'ETH', '2.79');
    cb.addWithdrawal(key.name, {
      id: 'eth-out-1',
      asset: 'ETH',
      amount: '0.5',
      fee: '0.01',
      timestamp: Date.now() - 200,
      status: 'ok',
    });
    entity = await loadBalances({ server, caller }, id);
    expect(entity).toMatchObject({
      usd_amount: '30870.0', // 25000 + 2.79 × 2000 + 290
      // 30870 − 25000 − (2000 − 200 − 1000): the fee's 0.01 ETH (20) is a cost. Read as a
      // deposit the send would make it 3070.
      day_profit_usd: '5070.0',
    });
    const transfers = await storedTransfers(server, id);
    expect(transfers).toEqual([
      { kind: 'deposit', asset: 'ETH', amount: '1', external_id: 'deposit:eth-send-1' },
      { kind: 'withdrawal', asset: 'ETH', amount: '0.5', external_id: 'withdrawal:eth-out-1' },
      { kind: 'withdrawal', asset: 'USD', amount: '200', external_id: 'withdrawal:usd-out-1' },
    ]);
  });

  it('locks the account when Coinbase stops accepting the key', async () => {
    cb.revoke(key.name);
    await expectLockedAfterRevoke(server, id);
  });
});

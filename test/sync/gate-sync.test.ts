import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IP_FORBIDDEN, startFakeGate, type FakeGate } from '../support/exchanges/gate-server.ts';
import {
  connectAccount,
  connected,
  expectFailedNotLocked,
  expectLockedAfterRevoke,
  expectRefusedAndNothingStored,
  holdings,
  loadBalances,
  startMarketServer,
  storedTransfers,
  syncNow,
} from '../support/exchange-sync.ts';
import { type Credentials, type TestServer } from '../support/server.ts';

// A Gate.io account end to end: connected through the 3Commas endpoint, read by ccxt's `gate`
// (unmodified) from the Gate API v4 stand-in — its spot account — then prices move and money
// comes and goes. Gate writes record times in whole seconds and a withdrawal's amount with its
// fee. Every figure is checked by hand in the comments.

const HOUR = 60 * 60 * 1000;
const KEY = 'gate-key';
const SECRET = 'gate-secret';

let gate: FakeGate;
let server: TestServer;
let caller: Credentials;
let id = 0;

beforeAll(async () => {
  gate = await startFakeGate();
  // Prices since three hours ago, so the candles around each transfer are these prices alone.
  const since = Date.now() - 3 * HOUR;
  gate.setPrice('BTC/USDT', '50000', since);
  gate.setPrice('ETH/USDT', '2500', since);
  gate.addAccount(KEY, {
    secret: SECRET,
    balances: { BTC: { free: '0.4', locked: '0.1' }, ETH: { free: '2' }, USDT: { free: '100' } },
  });
  ({ server, caller } = await startMarketServer('gate_io', gate));
});
afterAll(async () => {
  await server?.close();
  await gate?.close();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const connect = (api_key: string, secret: string) =>
  connectAccount({ server, caller }, { type: 'gate_io', name: 'Gate', api_key, secret });

/** Prices of a new round (on-demand syncs share prices read within the last second or so). */
async function movePrices(btc: string, eth: string): Promise<void> {
  const at = Date.now() - 2 * HOUR; // the candles around later transfers hold these prices
  gate.setPrice('BTC/USDT', btc, at);
  gate.setPrice('ETH/USDT', eth, at);
  await pause(1100);
}

describe('a Gate.io account: its spot account', () => {
  it("refuses a key Gate rejects, in Gate's words, as record_invalid", async () => {
    for (const [apiKey, secret, words] of [
      ['unknown-key', SECRET, 'Invalid key provided'], // 401 INVALID_KEY
      [KEY, 'not-the-secret', 'Signature mismatch'], // 401 INVALID_SIGNATURE
    ]) {
      const response = await connect(apiKey!, secret!);
      await expectRefusedAndNothingStored(server, response, words!);
    }
  });

  it('connects: free and locked counted, valued at the tickers', async () => {
    const entity = await connected(await connect(KEY, SECRET));
    id = Number(entity.id);
    // BTC 0.4 + 0.1 = 0.5 × 50000 = 25000; ETH 2 × 2500 = 5000; USDT 100 → 30100
    expect(entity).toMatchObject({
      market_code: 'gate_io',
      api_key_invalid: false,
      usd_amount: '30100.0',
      btc_amount: '0.602', // 30100 / 50000
    });
    expect(await holdings(server, id)).toEqual([
      ['BTC', '0.5', [{ wallet: 'spot', amount: '0.5' }]],
      ['ETH', '2', [{ wallet: 'spot', amount: '2' }]],
      ['USDT', '100', [{ wallet: 'spot', amount: '100' }]],
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

  it('a deposit is not profit; a withdrawal fee is a cost', async () => {
    // Gate's record times are whole seconds: a second after the last read, so each falls after it.
    await pause(1100);
    // 1 ETH deposited: 3125 USD; 37600 + 3125 = 40725.
    gate.setBalance(KEY, 'ETH', '3');
    gate.addDeposit(KEY, {
      id: '5001',
      asset: 'ETH',
      amount: '1',
      timestamp: Date.now() - 100,
      status: 'ok',
    });
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '40725.0',
      day_profit_usd: '7500.0',
      total_usd_profit: '7500.0',
    });

    await pause(1100);
    // 0.1 BTC withdrawn with a 0.001 BTC fee: 0.101 leaves the account (Gate reports 0.101,
    // ccxt 0.1 and the fee). 0.399 × 62500 + 3 × 3125 + 100 = 24937.5 + 9375 + 100 = 34412.5
    gate.setBalance(KEY, 'BTC', '0.299', '0.1');
    gate.addWithdrawal(KEY, {
      id: '7001',
      asset: 'BTC',
      amount: '0.1',
      fee: '0.001',
      timestamp: Date.now() - 100,
      status: 'ok',
    });
    expect(await loadBalances({ server, caller }, id)).toMatchObject({
      usd_amount: '34412.5',
      btc_amount: '0.5506', // 34412.5 / 62500
      // The fee is what it cost: 7500 − 0.001 × 62500 = 7437.5
      day_profit_usd: '7437.5',
      total_usd_profit: '7437.5',
      // Of what the day started with plus what moved in: 30100 + 3125 − 6250 = 26975
      day_profit_usd_percentage: '27.57', // 7437.5 / 26975 = 27.572 %
      // In BTC: 0.5506 − 0.602 − (0.05 − 0.1) = −0.0014
      day_profit_btc: '-0.0014',
    });
    const transfers = await storedTransfers(server, id);
    expect(transfers).toEqual([
      { external_id: 'deposit:d5001', kind: 'deposit', asset: 'ETH', amount: '1' },
      { external_id: 'withdrawal:w7001', kind: 'withdrawal', asset: 'BTC', amount: '0.1' },
    ]);
  });

  it('a key whose IP whitelist leaves us out (IP_FORBIDDEN) is reported, not locked', async () => {
    // Every signed request is refused (ccxt's unified-mode probe swallows its own refusal).
    const refusal = { kind: 'answer', apiKey: KEY, status: 403, body: IP_FORBIDDEN } as const;
    gate.fail({ ...refusal, times: Infinity });
    await expectFailedNotLocked(server, id, 'ip_refused', 'IP_FORBIDDEN');
    gate.fail({ ...refusal, times: 0 }); // the whitelist now includes us
    expect((await syncNow(server, id)).status).toBe('synced');
  });

  it('a key deleted at Gate (INVALID_KEY) locks the account', async () => {
    gate.revoke(KEY);
    await expectLockedAfterRevoke(server, id);
  });
});

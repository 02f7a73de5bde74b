import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';
import { startTestServer, userWithKey, type TestServer } from '../support/server.ts';

// A deposit is valued at its own time — the exchange's candle of its minute — not at the round
// that first saw it; without candles, at the account's snapshot nearest it. Each account's first
// snapshot is moved three hours back, as if it had been connected then, so that the transfers
// fall inside its history.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const now = Date.now();

let binance: Awaited<ReturnType<typeof startFakeBinance>>;
let server: TestServer;
let userId: number;

beforeAll(async () => {
  binance = await startFakeBinance();
  binance.setPrice('BTC/USDT', '50000', now - 5 * HOUR);
  binance.setPrice('ETH/USDT', '2000', now - 5 * HOUR);
  binance.setPrice('ETH/USDT', '3000', now - HOUR); // ETH rose an hour ago
  binance.setPrice('SOL/USDT', '100', now - 5 * HOUR);
  server = await startTestServer({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
    // Each sync here is valued at the tickers of its moment, not those of the sync before it.
    OPENCOMMAS_PRICE_FRESHNESS: '1ms',
  });
  userId = (await userWithKey(server.services)).user.id;
});
afterAll(async () => {
  await server?.close();
  await binance?.close();
});

/** Connects a Binance account holding `balances`; its first snapshot is dated `firstAt`. */
async function connect(key: string, balances: Record<string, { free: string }>, firstAt: number) {
  binance.addAccount(key, { secret: 's', balances });
  const entity = await server.services.accounts.add({
    user_id: userId,
    market_code: 'binance',
    name: key,
    api_key: key,
    secret: 's',
  });
  const id = Number(entity.id);
  await server.services.storage.db
    .updateTable('balance_snapshots')
    .set({ taken_at: new Date(firstAt) })
    .where('account_id', '=', id)
    .execute();
  return id;
}

async function sync(id: number) {
  const account = await server.services.accounts.findAny(id);
  expect((await server.services.onDemand.syncNow(account)).status).toBe('synced');
  return server.services.accounts.render(id);
}

function transfersOf(id: number) {
  return server.services.storage.db
    .selectFrom('transfers')
    .select(['external_id', 'usd_price', 'btc_usd_price', 'priced_from'])
    .where('account_id', '=', id)
    .orderBy('at')
    .execute();
}

describe('a transfer valued at its own time', () => {
  it('a deposit made when ETH was 2,000 and seen when it is 3,000 counts 2,000 put in', async () => {
    const id = await connect('candles-key', { USDT: { free: '1000' } }, now - 3 * HOUR);
    binance.addDeposit('candles-key', {
      id: 'eth-in',
      asset: 'ETH',
      amount: '1',
      timestamp: now - 2 * HOUR, // ETH was 2000 then
      status: 'ok',
    });
    binance.setBalance('candles-key', 'ETH', '1');
    const entity = await sync(id);
    // Now 1000 USDT + 1 ETH × 3000 = 4000. Put in: the first snapshot's 1000 and the deposit's
    // 1 × 2000. Profit = 4000 − 1000 − 2000 = 1000: what ETH did since it arrived. (Valued at
    // the round's 3000 it would have been 0.)
    expect(entity).toMatchObject({
      usd_amount: '4000.0',
      day_profit_usd: '1000.0',
      total_usd_profit: '1000.0',
      // BTC at 50000 throughout: 4000/50000 − 1000/50000 − 2000/50000 = 0.08 − 0.02 − 0.04
      day_profit_btc: '0.02',
    });
    expect(await transfersOf(id)).toEqual([
      {
        external_id: 'deposit:eth-in',
        usd_price: '2000',
        btc_usd_price: '50000',
        priced_from: 'candles',
      },
    ]);
  });

  it('reads no candle again for a transfer already stored', async () => {
    const id = await connect('again-key', { USDT: { free: '10' } }, now - 3 * HOUR);
    binance.addDeposit('again-key', {
      id: 'again-in',
      asset: 'ETH',
      amount: '1',
      timestamp: now - 2 * HOUR,
      status: 'ok',
    });
    binance.setBalance('again-key', 'ETH', '1');
    await sync(id);
    binance.resetStats();
    await sync(id); // the deposit is read again (the cursor looks back a day), but is stored
    expect(binance.stats.byPath['/api/v3/klines']).toBeUndefined();
    expect(await transfersOf(id)).toHaveLength(1);
  });

  it('without candles, at the nearest snapshot: before it, else after it', async () => {
    // This exchange keeps no candles: every klines request answers an empty list.
    binance.fail({
      kind: 'answer',
      path: '/api/v3/klines',
      status: 200,
      body: [],
      times: Infinity,
    });
    try {
      const id = await connect('snap-key', { SOL: { free: '1' } }, now - 3 * HOUR);
      binance.setPrice('SOL/USDT', '150'); // SOL rises after the first snapshot (priced 100)
      binance.addDeposit('snap-key', {
        id: 'sol-in',
        asset: 'SOL',
        amount: '2',
        timestamp: now - 2 * HOUR, // nearest snapshot at or before: the first (SOL 100)
        status: 'ok',
      });
      binance.addDeposit('snap-key', {
        id: 'sol-early',
        asset: 'SOL',
        amount: '1',
        timestamp: now - 4 * HOUR, // before any snapshot: the nearest after it (SOL 100)
        status: 'ok',
      });
      binance.setBalance('snap-key', 'SOL', '3');
      const entity = await sync(id);
      // Now 3 SOL × 150 = 450. Put in: the first snapshot's 1 × 100 and 2 × 100 in the window
      // (the early deposit is in the first snapshot already). 450 − 100 − 200 = 150.
      expect(entity).toMatchObject({
        usd_amount: '450.0',
        day_profit_usd: '150.0',
        total_usd_profit: '150.0',
      });
      expect(await transfersOf(id)).toEqual([
        {
          external_id: 'deposit:sol-early',
          usd_price: '100',
          btc_usd_price: '50000',
          priced_from: 'snapshots',
        },
        {
          external_id: 'deposit:sol-in',
          usd_price: '100',
          btc_usd_price: '50000',
          priced_from: 'snapshots',
        },
      ]);
    } finally {
      binance.fail({ kind: 'answer', path: '/api/v3/klines', times: 0 });
    }
  });
});

describe('a late transfer', () => {
  it('pending, then complete under its old time: recorded once, at its time; figures follow', async () => {
    const id = await connect('late-key', { USDT: { free: '1000' } }, now - 3 * HOUR);
    const deposit = {
      id: 'late-eth',
      asset: 'ETH',
      amount: '1',
      timestamp: now - 2 * HOUR,
      status: 'pending' as 'pending' | 'ok',
    };
    binance.addDeposit('late-key', deposit);
    const waiting = await sync(id);
    expect(waiting).toMatchObject({ usd_amount: '1000.0', total_usd_profit: '0.0' });
    expect(await transfersOf(id)).toEqual([]);

    deposit.status = 'ok'; // the exchange completes it, under the time it was made
    binance.setBalance('late-key', 'ETH', '1');
    const arrived = await sync(id);
    // 1000 + 3000 = 4000; put in 1000 + 1 × 2000 (its own time) → profit 1000.
    expect(arrived).toMatchObject({
      usd_amount: '4000.0',
      day_profit_usd: '1000.0',
      total_usd_profit: '1000.0',
    });
    const again = await sync(id);
    expect(again).toMatchObject({ total_usd_profit: '1000.0' });
    expect(await transfersOf(id)).toEqual([
      {
        external_id: 'deposit:late-eth',
        usd_price: '2000',
        btc_usd_price: '50000',
        priced_from: 'candles',
      },
    ]);
  });
});

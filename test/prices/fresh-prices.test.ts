import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FreshPrices } from '../../src/prices/fresh-prices.ts';
import { PriceBook } from '../../src/prices/price-book.ts';
import { pricingPair, type Quote } from '../../src/prices/routes.ts';
import { openStorage, type Storage } from '../../src/storage/database.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// An on-demand sync's prices: read for the assets it prices, shared by syncs within the
// freshness bound that need no more, never taken from or written to an older round. Times are
// passed in (`now`), so nothing here waits.

let database: TestDatabase;
let storage: Storage;

beforeAll(async () => {
  database = await createTestDatabase();
  storage = await openStorage({ databaseUrl: database.url });
});
afterAll(async () => {
  await storage.close();
  await database.drop();
});

/** An exchange whose BTC price the test sets; records which assets each read asked for. */
function exchange() {
  const state = { btc: '50000', asked: [] as string[][], failNext: false };
  const fetch = async (_source: string, assets?: ReadonlySet<string>): Promise<Quote[]> => {
    state.asked.push([...(assets ?? ['*'])].sort());
    if (state.failNext) {
      state.failNext = false;
      throw new Error('exchange down');
    }
    return [
      { base: 'BTC', quote: 'USDT', last: state.btc },
      { base: 'ETH', quote: 'USDT', last: '2500' },
    ];
  };
  return { state, fetch };
}

const T = 1_000_000;

describe('fresh prices for an on-demand sync', () => {
  it('shares a read with syncs inside the bound that price no more, and reads again after it', async () => {
    const { state, fetch } = exchange();
    const fresh = new FreshPrices(new PriceBook(storage, fetch, 60_000), fetch, 5000);
    const first = fresh.table('binance', new Set(['BTC', 'ETH']), T);
    const second = fresh.table('binance', new Set(['ETH']), T + 10); // still in flight: shared
    expect((await first).usd.BTC).toBe('50000');
    expect((await second).usd.ETH).toBe('2500');
    expect(state.asked).toEqual([['BTC', 'ETH']]);

    await fresh.table('binance', new Set(['SOL']), T + 20); // an asset not read yet: a new read
    expect(state.asked).toHaveLength(2);

    state.btc = '60000';
    expect((await fresh.table('binance', new Set(['BTC']), T + 4999)).usd.BTC).toBe('50000');
    expect((await fresh.table('binance', new Set(['BTC']), T + 5000)).usd.BTC).toBe('60000');
    expect(state.asked).toHaveLength(3);
  });

  it('a failed read is not shared: the next sync asks the exchange again', async () => {
    const { state, fetch } = exchange();
    const fresh = new FreshPrices(new PriceBook(storage, fetch, 60_000), fetch, 5000);
    state.failNext = true;
    await expect(fresh.table('binance', new Set(['BTC']), T)).rejects.toThrow('exchange down');
    expect((await fresh.table('binance', new Set(['BTC']), T + 1)).usd.BTC).toBe('50000');
    expect(state.asked).toHaveLength(2);
  });

  it("uses the round's prices only while they are within the bound, and never writes them", async () => {
    const { state, fetch } = exchange();
    const book = new PriceBook(storage, fetch, 60_000);
    const fresh = new FreshPrices(book, fetch, 5000);
    await book.table('fresh-test');
    const roundAt = Date.now();
    expect(state.asked).toEqual([['*']]);
    // Just read by the round: no request of its own.
    await fresh.table('fresh-test', new Set(['BTC']), roundAt);
    expect(state.asked).toHaveLength(1);
    // The round is older than the bound: read for this sync; the round keeps its prices.
    state.btc = '70000';
    const own = await fresh.table('fresh-test', new Set(['BTC']), roundAt + 6000);
    expect(own.usd.BTC).toBe('70000');
    expect(state.asked).toEqual([['*'], ['BTC']]);
    expect((await book.table('fresh-test', roundAt + 6000)).usd.BTC).toBe('50000');
  });
});

describe('the pairs that price an asset', () => {
  it("are its USD, stablecoin and BTC pairs, and BTC's own", () => {
    const held = new Set(['ETH']);
    expect(pricingPair(held, 'ETH', 'USDT')).toBe(true);
    expect(pricingPair(held, 'ETH', 'USD')).toBe(true);
    expect(pricingPair(held, 'ETH', 'BTC')).toBe(true);
    expect(pricingPair(held, 'BTC', 'USDC')).toBe(true); // ETH/BTC needs BTC's USD price
    expect(pricingPair(held, 'ETH', 'EUR')).toBe(false);
    expect(pricingPair(held, 'SOL', 'USDT')).toBe(false);
  });
});

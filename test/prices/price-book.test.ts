import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PriceBook } from '../../src/prices/price-book.ts';
import type { Quote } from '../../src/prices/routes.ts';
import { openStorage, type Storage } from '../../src/storage/database.ts';
import { createTestDatabase, onPostgres, type TestDatabase } from '../support/database.ts';

/**
 * One tickers request per source and round, shared: within a process, and on PostgreSQL between
 * processes (here two storages on one database), with nothing held open in the database while
 * the exchange answers.
 */
let database: TestDatabase;
const storages: Storage[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  storages.push(await openStorage({ databaseUrl: database.url }));
  if (onPostgres) storages.push(await openStorage({ databaseUrl: database.url }));
});
afterAll(async () => {
  for (const storage of storages) await storage.close();
  await database.drop();
});

/** A fetcher that answers only when released, counting its calls. */
function gatedFetcher() {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const state = { calls: 0, release: () => release() };
  const fetch = async (): Promise<Quote[]> => {
    state.calls += 1;
    await gate;
    return [{ base: 'BTC', quote: 'USD', last: '60000' }];
  };
  return { state, fetch };
}

async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

describe('the price book', () => {
  it('fetches once for every reader of a round, holding no transaction while the exchange answers', async () => {
    const { state, fetch } = gatedFetcher();
    const books = storages.map((storage) => new PriceBook(storage, fetch, 60_000));
    const readers = books.flatMap((book) => [book.table('binance'), book.table('binance')]);
    await until(() => state.calls > 0);
    if (onPostgres) {
      // The exchange has not answered yet: no session of this database sits in a transaction.
      const open = await sql<{ state: string }>`
        SELECT state FROM pg_stat_activity
        WHERE datname = current_database() AND state LIKE 'idle in transaction%'`.execute(
        storages[0]!.db,
      );
      expect(open.rows).toEqual([]);
    }
    state.release();
    const tables = await Promise.all(readers);
    expect(state.calls).toBe(1);
    for (const table of tables) expect(table.btcUsd).toBe('60000');
  });

  it('lets another reader fetch when the one fetching fails', async () => {
    let calls = 0;
    const failing = async (): Promise<Quote[]> => {
      calls += 1;
      if (calls === 1) throw new Error('exchange unreachable');
      return [{ base: 'BTC', quote: 'USD', last: '61000' }];
    };
    const book = new PriceBook(storages[0]!, failing, 60_000);
    await expect(book.table('kraken')).rejects.toThrow(/unreachable/);
    const other = new PriceBook(storages.at(-1)!, failing, 60_000);
    expect((await other.table('kraken')).btcUsd).toBe('61000');
  });
});

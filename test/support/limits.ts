import { afterAll, afterEach, beforeAll, beforeEach, vi } from 'vitest';
import { memoryCounters, type CounterStore } from '../../src/limits/counters.ts';
import { postgresCounters } from '../../src/limits/postgres-counters.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

/**
 * For a test file of the limits: the counter store of the backend under test (memory on the
 * embedded default, a database of the file's own on PostgreSQL), on a faked clock.
 * rate-limiter-flexible computes every expiry from Date.now() (in JavaScript, on PostgreSQL too),
 * so faking Date alone moves the limits through minutes and days while connections keep real
 * timers. `onStore` builds what the file tests, once the store is open.
 */
export function countersOnFakedClock(onStore: (store: CounterStore) => void) {
  let database: TestDatabase | undefined;
  let store: CounterStore | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    store = database.url ? await postgresCounters(database.url) : memoryCounters();
    onStore(store);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-01-01T00:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  return {
    /** Moves the faked clock on. */
    advance: (ms: number) => vi.setSystemTime(Date.now() + ms),
    database: () => database,
  };
}

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../src/errors.ts';
import { memoryCounters, postgresCounters, type CounterStore } from '../../src/limits/counters.ts';
import { CONNECTS_PER_COOLDOWN, SyncCooldowns } from '../../src/limits/sync-cooldowns.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const COOLDOWN_MS = 30_000;
let database: TestDatabase;
let store: CounterStore;
let cooldowns: SyncCooldowns;

beforeAll(async () => {
  database = await createTestDatabase();
  store = database.url ? await postgresCounters(database.url) : memoryCounters();
  cooldowns = new SyncCooldowns(store, COOLDOWN_MS);
});
afterAll(async () => {
  await store.close();
  await database.drop();
});
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-01-01T00:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);
const refusal = (attempt: Promise<void>) =>
  attempt.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('on-demand syncs of one account', () => {
  it('are one per cooldown; another account is not held back', async () => {
    expect(await refusal(cooldowns.onDemandSync(1))).toBeUndefined();
    advance(10_000);
    const refused = await refusal(cooldowns.onDemandSync(1));
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('rate_limit_exceeded');
    expect((refused as AppError).retryAfterSeconds).toBe(20);
    expect(await refusal(cooldowns.onDemandSync(2))).toBeUndefined();
    advance(20_000);
    expect(await refusal(cooldowns.onDemandSync(1))).toBeUndefined();
  });
});

describe('connecting accounts', () => {
  it(`allows a user ${CONNECTS_PER_COOLDOWN} attempts per cooldown`, async () => {
    for (let i = 0; i < CONNECTS_PER_COOLDOWN; i++) {
      expect(await refusal(cooldowns.connect(7))).toBeUndefined();
    }
    expect(((await refusal(cooldowns.connect(7))) as AppError).code).toBe('rate_limit_exceeded');
    expect(await refusal(cooldowns.connect(8))).toBeUndefined();
    advance(COOLDOWN_MS);
    expect(await refusal(cooldowns.connect(7))).toBeUndefined();
  });
});

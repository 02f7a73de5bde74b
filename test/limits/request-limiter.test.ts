import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.ts';
import { silentLogger } from '../../src/logger.ts';
import {
  FIRST_BAN_MS,
  LADDER_MEMORY_MS,
  LONGEST_BAN_MS,
  banLengthMs,
} from '../../src/limits/ban-ladder.ts';
import type { CounterStore } from '../../src/limits/counters.ts';
import { COUNTERS_TABLE, postgresCounters } from '../../src/limits/postgres-counters.ts';
import { RequestLimiter, STRIKES_BEFORE_BAN } from '../../src/limits/request-limiter.ts';
import { createTestDatabase, onPostgres } from '../support/database.ts';
import { countersOnFakedClock } from '../support/limits.ts';

// The limiter on the clock it would run on, faked (see countersOnFakedClock).

const RATE = { points: 5, windowMs: 60_000 };
const BLOCK_MS = 5 * 60_000;

let store: CounterStore;
let limiter: RequestLimiter;
let keyIds = 0;
let ips = 0;
const newKey = () => ++keyIds;
const newIp = () => `198.51.100.${++ips}`;

const clock = countersOnFakedClock((opened) => {
  store = opened;
  limiter = new RequestLimiter(store, RATE, BLOCK_MS, silentLogger);
});
const { advance } = clock;
const databaseUrl = () => clock.database()?.url;

function expectRefusal(answer: AppError | undefined, code: string, retryAfterS: number) {
  expect(answer).toBeInstanceOf(AppError);
  expect(answer?.code).toBe(code);
  expect(answer?.retryAfterSeconds).toBe(retryAfterS);
}

/** Spends the key's whole budget from `ip`, then the request that crosses it. */
async function exhaust(keyId: number, ip: string): Promise<AppError | undefined> {
  for (let i = 0; i < RATE.points; i++) expect(await limiter.spend(keyId, ip)).toBeUndefined();
  return limiter.spend(keyId, ip);
}

/** Requests while refused, up to the one that bans. */
async function strikeUntilBanned(
  keyId: number,
  ip: string,
  alreadyStruck = 0,
): Promise<AppError | undefined> {
  for (let i = alreadyStruck; i < STRIKES_BEFORE_BAN; i++) {
    expect((await limiter.spend(keyId, ip))?.code).toBe('rate_limit_exceeded');
  }
  return limiter.spend(keyId, ip);
}

describe('the ladder', () => {
  it('doubles from 2 minutes and stops at 3 days', () => {
    expect([1, 2, 3, 4].map(banLengthMs)).toEqual([2, 4, 8, 16].map((m) => m * 60_000));
    expect(banLengthMs(12)).toBe(4096 * 60_000);
    expect(banLengthMs(13)).toBe(LONGEST_BAN_MS);
    expect(banLengthMs(1000)).toBe(LONGEST_BAN_MS);
  });
});

describe('an API key over its limit', () => {
  it('is refused with 429 and Retry-After, and stays refused for the whole mitigation period', async () => {
    const key = newKey();
    const ip = newIp();
    expectRefusal(await exhaust(key, ip), 'rate_limit_exceeded', 300);
    // The window (1 minute) ends long before the mitigation period (5 minutes).
    advance(2 * 60_000);
    expectRefusal(await limiter.spend(key, ip), 'rate_limit_exceeded', 180);
    advance(3 * 60_000 - 1000);
    expectRefusal(await limiter.spend(key, ip), 'rate_limit_exceeded', 1);
    advance(1000);
    expect(await limiter.spend(key, ip)).toBeUndefined();
    // On PostgreSQL the count is in the shared table, not in the in-memory fallback.
    if (databaseUrl()) expect(await storedPoints(`key:${key}`)).toBe(1);
  });

  it('leaves other keys alone', async () => {
    const ip = newIp();
    await exhaust(newKey(), ip);
    expect(await limiter.spend(newKey(), ip)).toBeUndefined();
  });
});

describe('requests that keep arriving while refused', () => {
  it('ban the IP from the eleventh on, for every key, and no other IP', async () => {
    const key = newKey();
    const ip = newIp();
    await exhaust(key, ip);
    expectRefusal(await strikeUntilBanned(key, ip), 'ip_banned', 120);
    expectRefusal(await limiter.admit(ip), 'ip_banned', 120);
    const otherIp = newIp();
    expect(await limiter.admit(otherIp)).toBeUndefined();
    expect(await limiter.spend(newKey(), otherIp)).toBeUndefined();
    advance(FIRST_BAN_MS - 1000);
    expectRefusal(await limiter.admit(ip), 'ip_banned', 1);
    advance(1000);
    expect(await limiter.admit(ip)).toBeUndefined();
  });

  it('climb the ladder: 2, 4, 8 … minutes, capped at 3 days', async () => {
    const ip = newIp();
    const key = newKey();
    const expected = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 4320, 4320].map(
      (minutes) => minutes * 60,
    );
    const seen: number[] = [];
    for (let step = 0; step < expected.length; step++) {
      // The key's own mitigation may have ended during a long ban: make it over its limit again.
      const struck = await overLimit(key, ip);
      const ban = await strikeUntilBanned(key, ip, struck);
      expect(ban?.code).toBe('ip_banned');
      seen.push(ban?.retryAfterSeconds ?? 0);
      expect((await limiter.admit(ip))?.code).toBe('ip_banned');
      advance((ban?.retryAfterSeconds ?? 0) * 1000);
      expect(await limiter.admit(ip)).toBeUndefined();
    }
    expect(seen).toEqual(expected);
  });

  it('are forgotten by the ladder a week after the last ban ended', async () => {
    const ip = newIp();
    const key = newKey();
    await exhaust(key, ip);
    expectRefusal(await strikeUntilBanned(key, ip), 'ip_banned', 120);
    advance(FIRST_BAN_MS);
    expectRefusal(await strikeUntilBanned(key, ip), 'ip_banned', 240);
    advance(4 * 60_000 + LADDER_MEMORY_MS - 60_000);
    // Still remembered: the third ban is 8 minutes.
    await exhaust(key, ip);
    expectRefusal(await strikeUntilBanned(key, ip), 'ip_banned', 480);
    advance(8 * 60_000 + LADDER_MEMORY_MS);
    await exhaust(key, ip);
    expectRefusal(await strikeUntilBanned(key, ip), 'ip_banned', 120);
  });
});

/** The points stored for a counter on PostgreSQL. */
async function storedPoints(counterKey: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    const result = await client.query<{ points: number }>(
      `SELECT points FROM ${COUNTERS_TABLE} WHERE key = $1`,
      [counterKey],
    );
    return result.rows[0]?.points;
  } finally {
    await client.end();
  }
}

/**
 * Makes sure the key is refused: a probe that is refused was itself a strike (returns 1);
 * otherwise the key's budget is spent up to the crossing request (returns 0).
 */
async function overLimit(keyId: number, ip: string): Promise<number> {
  const probe = await limiter.spend(keyId, ip);
  if (probe !== undefined) return 1;
  for (let i = 1; i < RATE.points; i++) expect(await limiter.spend(keyId, ip)).toBeUndefined();
  expect((await limiter.spend(keyId, ip))?.code).toBe('rate_limit_exceeded');
  return 0;
}

describe('failed authentications', () => {
  it('are limited per IP with the same budget, then refused before any lookup, then banned', async () => {
    const ip = newIp();
    for (let i = 0; i < RATE.points; i++) {
      expect(await limiter.admit(ip)).toBeUndefined();
      expect(await limiter.authenticationFailed(ip)).toBeUndefined();
    }
    expect(await limiter.admit(ip)).toBeUndefined();
    const crossing = await limiter.authenticationFailed(ip);
    expectRefusal(crossing, 'rate_limit_exceeded', 300);
    expect(crossing?.message).toContain(ip);
    // From now on `admit` answers: the caller never gets as far as a key lookup.
    for (let i = 0; i < STRIKES_BEFORE_BAN; i++) {
      expect((await limiter.admit(ip))?.code).toBe('rate_limit_exceeded');
    }
    expectRefusal(await limiter.admit(ip), 'ip_banned', 120);
    expect(await limiter.admit(newIp())).toBeUndefined();
  });
});

// Two processes share bans through PostgreSQL; the embedded default is one process.
if (onPostgres) {
  describe('a ban imposed by another process', () => {
    it('is honoured here within a second of an IP last found in good standing', async () => {
      const otherStore = await postgresCounters(databaseUrl() ?? '');
      try {
        const other = new RequestLimiter(otherStore, RATE, BLOCK_MS, silentLogger);
        const ip = newIp();
        expect(await other.admit(ip)).toBeUndefined();
        const key = newKey();
        await exhaust(key, ip);
        expect((await strikeUntilBanned(key, ip))?.code).toBe('ip_banned');
        advance(1000);
        expectRefusal(await other.admit(ip), 'ip_banned', 119);
      } finally {
        await otherStore.close();
      }
    });
  });

  describe('two processes leasing points of one key', () => {
    it('never serve it more than its limit together', async () => {
      const stores = [await postgresCounters(databaseUrl() ?? ''), store];
      try {
        const limit = { points: 100, windowMs: 60_000 };
        const [a, b] = stores.map(
          (each) => new RequestLimiter(each, limit, BLOCK_MS, silentLogger),
        ) as [RequestLimiter, RequestLimiter];
        const key = newKey();
        let served = 0;
        // Uneven traffic: process a takes two requests for each one of b, some at once.
        for (let round = 0; round < 100; round++) {
          const answers = await Promise.all([a.spend(key, '10.0.0.1'), a.spend(key, '10.0.0.1')]);
          answers.push(await b.spend(key, '10.0.0.2'));
          served += answers.filter((answer) => answer === undefined).length;
        }
        expect(served).toBeLessThanOrEqual(limit.points);
        // Points leased by one process and unused are all that is lost.
        expect(served).toBeGreaterThanOrEqual(limit.points - 10);
      } finally {
        await stores[0]?.close();
      }
    });
  });

  describe('when its PostgreSQL table is unusable', () => {
    it('still limits, counting in this process’s memory', async () => {
      const own = await createTestDatabase();
      const ownStore = await postgresCounters(own.url ?? '');
      try {
        const client = new pg.Client({ connectionString: own.url });
        await client.connect();
        await client.query(`DROP TABLE ${COUNTERS_TABLE}`);
        await client.end();
        const alone = new RequestLimiter(ownStore, RATE, BLOCK_MS, silentLogger);
        const key = newKey();
        for (let i = 0; i < RATE.points; i++)
          expect(await alone.spend(key, newIp())).toBeUndefined();
        expectRefusal(await alone.spend(key, newIp()), 'rate_limit_exceeded', 300);
      } finally {
        await ownStore.close();
        await own.drop();
      }
    });
  });
}

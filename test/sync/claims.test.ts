import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { claimDue, newClaimToken } from '../../src/sync/claims.ts';
import { SyncWorker } from '../../src/sync/worker.ts';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';
import { startTestServer, userWithKey, type TestServer } from '../support/server.ts';

// Issue 14: a worker claims due accounts in batches, fairly — a user with many due accounts, or
// an exchange with a backlog, does not fill a batch while other users and exchanges wait — and
// an account whose worker stalls past its lease is synced once, by the next worker, never twice.

let binance: Awaited<ReturnType<typeof startFakeBinance>>;
let server: TestServer;

beforeAll(async () => {
  binance = await startFakeBinance();
  binance.setPrice('BTC/USDT', '50000');
  server = await startTestServer({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
    OPENCOMMAS_EXCHANGE_TIMEOUT: '10s',
  });
});
afterAll(async () => {
  await server?.close();
  await binance?.close();
});

const db = () => server.services.storage.db;
const LEASE_MS = 60_000;

beforeEach(async () => {
  await db().deleteFrom('accounts').execute();
});

let emails = 0;
async function newUser(): Promise<number> {
  emails += 1;
  const row = await db()
    .insertInto('users')
    .values({ email: `claims-${emails}@example.com` })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** `count` accounts of the user on `market`, due `minutesAgo` minutes ago (the oldest first). */
async function dueAccounts(userId: number, market: string, count: number, minutesAgo: number) {
  const rows = Array.from({ length: count }, (_, i) => ({
    user_id: userId,
    market_code: market,
    name: `${market} ${i}`,
    exchange_api_key: `key-${userId}-${i}`,
    next_sync_at: new Date(Date.now() - (minutesAgo * 60 + count - i) * 1000),
    updated_at: new Date(),
  }));
  return db().insertInto('accounts').values(rows).returning(['id', 'user_id']).execute();
}

const OTHER_EXCHANGES = ['okex', 'kraken', 'kucoin', 'coinbase', 'gate_io'];

describe('a batch of claims is fair', () => {
  it("a user's 40 due accounts take one place in a batch of 10; the other users fill the rest", async () => {
    const heavy = await newUser();
    // The heavy user's accounts have waited longest: in due order they alone would fill it.
    await dueAccounts(heavy, 'binance', 40, 10);
    const others: number[] = [];
    for (let i = 0; i < 10; i++) {
      const user = await newUser();
      others.push(user);
      await dueAccounts(user, OTHER_EXCHANGES[i % OTHER_EXCHANGES.length] ?? 'okex', 1, 5);
    }
    const batch = await claimDue(server.services.storage, newClaimToken('w'), 10, LEASE_MS);
    expect(batch).toHaveLength(10);
    expect(batch.filter((a) => a.user_id === heavy)).toHaveLength(1);
    expect(new Set(batch.map((a) => a.user_id).filter((id) => others.includes(id))).size).toBe(9);
  });

  it('a backlog on one exchange leaves room in the batch for every other exchange', async () => {
    // 30 users' Binance accounts waited longest; one account on each other exchange behind them.
    for (let i = 0; i < 30; i++) await dueAccounts(await newUser(), 'binance', 1, 10);
    for (const market of OTHER_EXCHANGES) await dueAccounts(await newUser(), market, 1, 5);
    const batch = await claimDue(server.services.storage, newClaimToken('w'), 10, LEASE_MS);
    expect(batch).toHaveLength(10);
    expect(new Set(batch.map((a) => a.market_code))).toEqual(
      new Set(['binance', ...OTHER_EXCHANGES]),
    );
    expect(batch.filter((a) => a.market_code === 'binance')).toHaveLength(5);
  });

  it('with room for one account, the one due longest goes first', async () => {
    const user = await newUser();
    const [oldest] = await dueAccounts(user, 'okex', 1, 20);
    await dueAccounts(user, 'binance', 5, 10);
    await dueAccounts(await newUser(), 'kraken', 3, 5);
    const batch = await claimDue(server.services.storage, newClaimToken('w'), 1, LEASE_MS);
    expect(batch.map((a) => a.id)).toEqual([oldest?.id]);
  });

  it('batch after batch, every due account is claimed exactly once and no other is', async () => {
    const heavy = await newUser();
    const due = [
      ...(await dueAccounts(heavy, 'binance', 30, 10)),
      ...(await dueAccounts(await newUser(), 'okex', 3, 8)),
      ...(await dueAccounts(await newUser(), 'kraken', 1, 1)),
    ];
    await db()
      .insertInto('accounts')
      .values({
        user_id: heavy,
        market_code: 'binance',
        name: 'later',
        next_sync_at: new Date(Date.now() + 3_600_000),
        updated_at: new Date(),
      })
      .execute();
    const claimed: number[] = [];
    // Two workers claiming at once, until nothing is left.
    for (;;) {
      const [a, b] = await Promise.all([
        claimDue(server.services.storage, newClaimToken('a'), 7, LEASE_MS),
        claimDue(server.services.storage, newClaimToken('b'), 7, LEASE_MS),
      ]);
      if (a.length + b.length === 0) break;
      claimed.push(...[...a, ...b].map((account) => account.id));
    }
    expect([...claimed].sort((x, y) => x - y)).toEqual(
      due.map((account) => account.id).sort((x, y) => x - y),
    );
  });

  it('skips an exchange paused for this IP, and accounts another worker holds', async () => {
    const user = await newUser();
    await dueAccounts(user, 'kraken', 2, 10);
    const [held] = await dueAccounts(await newUser(), 'okex', 1, 10);
    const [free] = await dueAccounts(await newUser(), 'binance', 1, 5);
    await sql`INSERT INTO exchange_pauses (market_code, until, reason)
      VALUES ('kraken', ${new Date(Date.now() + 60_000)}, 'test')`.execute(db());
    await db()
      .updateTable('accounts')
      .set({ claimed_by: 'elsewhere', claimed_until: new Date(Date.now() + 60_000) })
      .where('id', '=', held?.id ?? 0)
      .execute();
    try {
      const batch = await claimDue(server.services.storage, newClaimToken('w'), 10, LEASE_MS);
      expect(batch.map((a) => a.id)).toEqual([free?.id]);
    } finally {
      await sql`DELETE FROM exchange_pauses`.execute(db());
    }
  });
});

describe('a worker that stalls past its lease', () => {
  it('a worker refills its slots in batches, not one claim per freed slot', async () => {
    const { user } = await userWithKey(server.services);
    const ids: number[] = [];
    for (let i = 0; i < 48; i++) {
      binance.addAccount(`batch-key-${i}`, {
        secret: 's',
        balances: { BTC: { free: '1', locked: '0' } },
      });
      const account = await server.services.accounts.add({
        user_id: user.id,
        market_code: 'binance',
        name: `Batch ${i}`,
        api_key: `batch-key-${i}`,
        secret: 's',
        sync: false,
      });
      ids.push(account.id);
    }
    await db()
      .updateTable('accounts')
      .set({ next_sync_at: new Date(Date.now() - 1000) })
      .where('id', 'in', ids)
      .execute();
    // Each balance read takes a while, so slots free up one by one.
    binance.fail({ kind: 'slow', path: '/api/v3/account', delayMs: 150, times: Infinity });
    const { storage, sync } = server.services;
    const settings = { concurrency: 16, leaseMs: LEASE_MS, idlePollMs: 20 };
    const worker = new SyncWorker(storage, sync, settings, pino({ level: 'silent' }));
    worker.start();
    try {
      await waitFor(() => worker.stats.synced + worker.stats.failed >= 48, 60_000);
    } finally {
      await worker.stop();
      binance.fail({ kind: 'slow', path: '/api/v3/account', times: 0 });
    }
    expect(worker.stats).toMatchObject({ synced: 48, failed: 0, lost: 0 });
    // 16 at first, then at least an eighth of the slots (2) a claim: at most 1 + 32 / 2 claims.
    expect(worker.stats.batches).toBeGreaterThanOrEqual(3);
    expect(worker.stats.batches).toBeLessThanOrEqual(17);
  });

  it('loses the account to the next worker, which syncs it; its late write is refused', async () => {
    const { user } = await userWithKey(server.services);
    binance.addAccount('stall-key', { secret: 's', balances: { BTC: { free: '1', locked: '0' } } });
    const account = await server.services.accounts.add({
      user_id: user.id,
      market_code: 'binance',
      name: 'Stalls',
      api_key: 'stall-key',
      secret: 's',
      sync: false,
    });
    await db()
      .updateTable('accounts')
      .set({ next_sync_at: new Date(Date.now() - 1000) })
      .where('id', '=', account.id)
      .execute();
    const storage = server.services.storage;

    // Worker A claims it with a short lease, and its balance request hangs at the exchange.
    const [forA] = await claimDue(storage, newClaimToken('a'), 10, 1_000);
    expect(forA?.id).toBe(account.id);
    binance.fail({ kind: 'slow', path: '/api/v3/account', delayMs: 3_000 });
    const before = binance.stats.byPath['/api/v3/account'] ?? 0;
    const stalled = server.services.sync.run(forA!, forA!.claimed_by!, false);
    await waitFor(() => (binance.stats.byPath['/api/v3/account'] ?? 0) > before);

    // Once A's lease has run out, worker B claims the account and syncs it.
    const afterLease = new Date(Date.now() + 1_500);
    const [forB] = await claimDue(storage, newClaimToken('b'), 10, LEASE_MS, afterLease);
    expect(forB?.id).toBe(account.id);
    expect(await server.services.sync.run(forB!, forB!.claimed_by!, false)).toMatchObject({
      status: 'synced',
    });

    // A's answer finally comes: nothing of it is written.
    expect(await stalled).toEqual({ status: 'lost' });
    const snapshots = await db()
      .selectFrom('balance_snapshots')
      .select('id')
      .where('account_id', '=', account.id)
      .execute();
    expect(snapshots).toHaveLength(1);
    const row = await server.services.accounts.findAny(account.id);
    expect(row.claimed_by).toBeNull();
    expect(row.last_sync_error).toBeNull();
  });
});

async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountDetails } from '../../src/accounts/details.ts';
import { loadConfig } from '../../src/config.ts';
import { metrics } from '../../src/ops/metrics.ts';
import type { Services } from '../../src/services.ts';
import { BalanceSources } from '../../src/sources/sources.ts';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';
import { onPostgres } from '../support/database.ts';
import { otherProcess, startTestServer, userWithKey, type TestServer } from '../support/server.ts';

// An exchange that bans this IP is paused for every account and every process on the database
// (a restarted one too) until the time it asked for; then every account of it syncs again.

const ACCOUNT = '/api/v3/account';

let binance: Awaited<ReturnType<typeof startFakeBinance>>;
let server: TestServer;
/** Another process on the same PostgreSQL database (PostgreSQL only). */
let other: Services | undefined;
let env: Record<string, string>;
let userId: number;

beforeAll(async () => {
  binance = await startFakeBinance();
  binance.setPrice('BTC/USDT', '50000');
  env = {
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
    OPENCOMMAS_SYNC_INTERVAL: '1s',
  };
  server = await startTestServer(env);
  if (onPostgres) other = await otherProcess(server, env);
  userId = (await userWithKey(server.services)).user.id;
});
afterAll(async () => {
  await other?.worker.stop();
  await server?.services.worker.stop();
  await other?.close();
  await server?.close();
  await binance?.close();
});

let keys = 0;
async function connected(): Promise<{ id: number; apiKey: string }> {
  keys += 1;
  const apiKey = `pause-key-${keys}`;
  binance.addAccount(apiKey, { secret: `s-${keys}`, balances: { BTC: { free: '1' } } });
  const entity = await server.services.accounts.add({
    user_id: userId,
    market_code: 'binance',
    name: apiKey,
    api_key: apiKey,
    secret: `s-${keys}`,
  });
  return { id: entity.id, apiKey };
}

const syncNow = async (id: number) =>
  server.services.onDemand.syncNow(await server.services.accounts.findAny(id));

async function makeDue(ids: number[]) {
  await server.services.storage.db
    .updateTable('accounts')
    .set({ next_sync_at: new Date(Date.now() - 1000) })
    .where('id', 'in', ids)
    .execute();
}

async function storedPause(): Promise<number | undefined> {
  const pause = await server.services.sync.sources.pauses.current('binance');
  return pause.until > 0 ? pause.until : undefined;
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Scheduled syncs this process has run, whatever their outcome. */
async function scheduledSyncs(): Promise<number> {
  const { values } = await metrics.syncs.get();
  return values
    .filter((value) => value.labels.trigger === 'scheduled')
    .reduce((sum, value) => sum + value.value, 0);
}

function startWorkers() {
  server.services.worker.start();
  other?.worker.start();
}
async function stopWorkers() {
  await server.services.worker.stop();
  await other?.worker.stop();
}

describe('a ban pauses the exchange for every account and every process', () => {
  it('after a 418 no account of the exchange is requested until the time asked; then all sync', async () => {
    const [banned, ...others] = [await connected(), await connected(), await connected()];
    binance.resetStats();
    binance.fail({ kind: 'ban418', path: ACCOUNT, apiKey: banned.apiKey, retryAfterSeconds: 3 });
    // Waits out the ban within the sync, then reads the account.
    const bannedSync = syncNow(banned.id);
    await waitFor(async () => (await storedPause()) !== undefined);
    const until = (await storedPause())!;

    // Every other account is due, and workers in this process (and another one on PostgreSQL)
    // are looking for due accounts; a process that never saw the 418 (the other one on
    // PostgreSQL; on PGlite, sources built afresh as after a restart) asks the exchange directly.
    await makeDue(others.map((a) => a.id));
    startWorkers();
    const fresh =
      other?.sync.sources ?? new BalanceSources(server.services.storage, loadConfig(env).sync);
    const row = await server.services.accounts.findAny(others[0]!.id);
    const direct = fresh.fetchHoldings(server.services.sync.target(row));
    try {
      expect((await bannedSync).status).toBe('synced');
      expect((await direct).total.get('BTC')).toBe('1');
      await waitFor(async () => {
        const states = await Promise.all(
          others.map((a) => accountDetails(server.services.storage, a.id)),
        );
        return states.every((s) => s.last_sync_at && s.last_sync_at.getTime() >= until);
      });
    } finally {
      await stopWorkers();
    }
    // Before the ban ended, the exchange heard only the request it banned.
    const early = binance.stats.arrivals.filter((arrival) => arrival.at < until);
    expect(early).toEqual([expect.objectContaining({ path: ACCOUNT, apiKey: banned.apiKey })]);
    for (const account of [banned, ...others]) {
      expect(binance.stats.byKey[account.apiKey]).toBeGreaterThanOrEqual(1);
    }
  });

  it('a long ban (Binance -1003 "banned until") leaves accounts due and unread; asked for, one says why', async () => {
    const [banned, waiting, asked] = [await connected(), await connected(), await connected()];
    const bannedUntil = Date.now() + 120_000;
    binance.fail({
      kind: 'answer',
      path: ACCOUNT,
      apiKey: banned.apiKey,
      status: 418,
      body: {
        code: -1003,
        msg: `Way too much request weight used; IP banned until ${bannedUntil}. Please use WebSocket Streams for live updates to avoid bans.`,
      },
    });
    expect(await syncNow(banned.id)).toMatchObject({ status: 'failed', kind: 'rate_limited' });
    expect(await storedPause()).toBeGreaterThanOrEqual(bannedUntil);
    expect(await storedPause()).toBeLessThan(bannedUntil + 1000);
    const bannedState = await accountDetails(server.services.storage, banned.id);
    expect(bannedState.next_sync_at!.getTime()).toBeGreaterThanOrEqual(bannedUntil);

    binance.resetStats();
    const syncsBefore = await scheduledSyncs();
    await makeDue([waiting.id]);
    startWorkers();
    try {
      // Workers look for due accounts at least once a second: give them a few looks.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(binance.stats.total).toBe(0);
      expect(await scheduledSyncs()).toBe(syncsBefore); // not even claimed
      const state = await accountDetails(server.services.storage, waiting.id);
      expect(state.next_sync_at!.getTime()).toBeLessThan(Date.now()); // still due
      expect(state.sync_failures).toBe(0);

      const outcome = await syncNow(asked.id);
      expect(outcome).toMatchObject({ status: 'failed', kind: 'rate_limited' });
      expect(outcome.status === 'failed' && outcome.error).toMatch(/paused until .*banned until/);
      expect(binance.stats.total).toBe(0);
      expect(await server.services.accounts.render(asked.id)).toMatchObject({
        api_key_invalid: false,
        is_locked: false,
      });

      // The ban's end reached (its stored time moved to now): the waiting account syncs.
      await server.services.storage.db
        .updateTable('exchange_pauses' as never)
        .set({ until: new Date() } as never)
        .execute();
      await waitFor(async () => {
        const after = await accountDetails(server.services.storage, waiting.id);
        return Boolean(after.last_sync_at && after.next_sync_at!.getTime() > Date.now());
      });
      expect(binance.stats.byKey[waiting.apiKey]).toBeGreaterThanOrEqual(1);
    } finally {
      await stopWorkers();
      await server.services.sync.sources.pauses.lift('binance');
    }
  });
});

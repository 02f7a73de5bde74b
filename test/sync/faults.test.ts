import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountDetails } from '../../src/accounts/details.ts';
import { newClaimToken } from '../../src/sync/claims.ts';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';
import { startTestServer, userWithKey, type TestServer } from '../support/server.ts';

// What a flaky exchange or a dead key does to an account: never a partial or wrong snapshot,
// a clear last error, and the 3Commas credential fields when the key is refused.

let binance: Awaited<ReturnType<typeof startFakeBinance>>;
let server: TestServer;
let userId: number;

beforeAll(async () => {
  binance = await startFakeBinance();
  binance.setPrice('BTC/USDT', '50000');
  server = await startTestServer({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
    OPENCOMMAS_EXCHANGE_TIMEOUT: '300ms',
  });
  userId = (await userWithKey(server.services)).user.id;
});
afterAll(async () => {
  await server?.close();
  await binance?.close();
});

let keys = 0;
/** A connected account holding `btc` BTC on its own key. */
async function connected(btc = '1'): Promise<{ id: number; apiKey: string }> {
  keys += 1;
  const apiKey = `fault-key-${keys}`;
  binance.addAccount(apiKey, {
    secret: `secret-${keys}`,
    balances: { BTC: { free: btc, locked: '0' } },
  });
  const entity = await server.services.accounts.add({
    user_id: userId,
    market_code: 'binance',
    name: apiKey,
    api_key: apiKey,
    secret: `secret-${keys}`,
  });
  return { id: entity.id, apiKey };
}

async function syncNow(id: number) {
  return server.services.onDemand.syncNow(await server.services.accounts.findAny(id));
}

const snapshots = async (id: number) =>
  (
    await server.services.storage.db
      .selectFrom('balance_snapshots')
      .select(['taken_at', 'usd_value'])
      .where('account_id', '=', id)
      .execute()
  ).length;

describe('transient faults: retried with backoff, then given up until the next round', () => {
  it.each(['status500', 'malformedJson', 'timeout'] as const)(
    'recovers from one %s within the same sync',
    async (kind) => {
      const { id, apiKey } = await connected();
      binance.fail({ kind, path: '/api/v3/account', apiKey, times: 1 });
      const outcome = await syncNow(id);
      expect(outcome.status).toBe('synced');
      expect(await snapshots(id)).toBe(2);
    },
  );

  it.each(['status500', 'malformedJson', 'timeout'] as const)(
    'a lasting %s writes no snapshot, keeps the figures, and records the error',
    async (kind) => {
      const { id, apiKey } = await connected('2');
      const before = await server.services.accounts.render(id);
      binance.fail({ kind, path: '/api/v3/account', apiKey, times: 3 });
      const outcome = await syncNow(id);
      expect(outcome).toMatchObject({ status: 'failed', kind: 'unavailable' });
      expect(await snapshots(id)).toBe(1);
      const details = await accountDetails(server.services.storage, id);
      expect(details.last_sync_error).toBeTruthy();
      expect(details.sync_failures).toBe(1);
      expect(details.next_sync_at).not.toBeNull(); // tried again next round
      expect(details.api_key_invalid).toBe(false);
      expect(await server.services.accounts.render(id)).toMatchObject({
        usd_amount: before.usd_amount,
      });
    },
  );
});

describe('rate limits', () => {
  it('waits out a 429 with Retry-After, then syncs; no request comes sooner', async () => {
    const { id, apiKey } = await connected();
    binance.resetStats();
    binance.fail({ kind: 'rateLimit429', path: '/api/v3/account', apiKey, retryAfterSeconds: 1 });
    const started = Date.now();
    const outcome = await syncNow(id);
    expect(outcome.status).toBe('synced');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(binance.stats.rateLimited).toBe(1);
  });

  it('gives up the round on a long ban (418) and schedules after it', async () => {
    const { id, apiKey } = await connected();
    binance.fail({ kind: 'ban418', path: '/api/v3/account', apiKey, retryAfterSeconds: 120 });
    const outcome = await syncNow(id);
    expect(outcome).toMatchObject({ status: 'failed', kind: 'rate_limited' });
    const details = await accountDetails(server.services.storage, id);
    expect(details.next_sync_at!.getTime() - Date.now()).toBeGreaterThan(100_000);
    // The ban paused all of Binance for this IP (test/sync/exchange-pauses.test.ts): lifted
    // here so the tests below reach the exchange.
    await server.services.sync.sources.pauses.lift('binance');
  });
});

describe('credential health', () => {
  it('a key revoked between rounds locks the account with the 3Commas fields, and stops syncing', async () => {
    const { id, apiKey } = await connected();
    binance.revoke(apiKey);
    const outcome = await syncNow(id);
    expect(outcome).toMatchObject({ status: 'failed', kind: 'credentials' });
    expect(await server.services.accounts.render(id)).toMatchObject({
      api_key_invalid: true,
      is_locked: true,
      lock_reason: 'invalid_api_key',
      deposit_enabled: false,
    });
    const details = await accountDetails(server.services.storage, id);
    expect(details.next_sync_at).toBeNull();
    expect(details.last_sync_error).toMatch(/Invalid API-key/);
    expect(await snapshots(id)).toBe(1);

    // New keys that work clear every flag and resume the schedule.
    binance.addAccount(`${apiKey}-new`, {
      secret: 'fresh',
      balances: { BTC: { free: '1', locked: '0' } },
    });
    await server.services.accounts.updateKeys({
      account_id: id,
      api_key: `${apiKey}-new`,
      secret: 'fresh',
    });
    expect(await server.services.accounts.render(id)).toMatchObject({
      api_key_invalid: false,
      is_locked: false,
      lock_reason: null,
    });
    expect((await accountDetails(server.services.storage, id)).next_sync_at).not.toBeNull();
  });

  it('refuses replacement keys the exchange rejects, and changes nothing', async () => {
    const { id } = await connected();
    await expect(
      server.services.accounts.updateKeys({ account_id: id, api_key: 'nope', secret: 'x' }),
    ).rejects.toMatchObject({ code: 'record_invalid' });
    expect((await server.services.accounts.findAny(id)).exchange_api_key).toMatch(/^fault-key/);
  });

  it('api_keys_state tells expire_soon within 7 days of a known expiry, expired after', async () => {
    const soon = new Date(Date.now() + 3 * 86_400_000).toISOString();
    binance.addAccount('expiring', { secret: 's', balances: {} });
    const entity = await server.services.accounts.add({
      user_id: userId,
      market_code: 'binance',
      name: 'Expiring',
      api_key: 'expiring',
      secret: 's',
      api_keys_expire_at: soon,
    });
    expect(entity.api_keys_state).toBe('expire_soon');
    const later = new Date(Date.now() + 4 * 86_400_000);
    expect(
      (await server.services.accounts.render(entity.id, undefined, later)).api_keys_state,
    ).toBe('expired');
  });
});

describe('one exchange account down while the others sync', () => {
  it('a transfer history that cannot be read holds back no balances: recorded, said, read next', async () => {
    const { id, apiKey } = await connected('1');
    // 1 BTC more arrives by a deposit, but the deposit history answers 500 for now.
    binance.setBalance(apiKey, 'BTC', '2');
    binance.addDeposit(apiKey, {
      id: `dep-${apiKey}`,
      asset: 'BTC',
      amount: '1',
      timestamp: Date.now() - 1000,
      status: 'ok',
    });
    binance.fail({ kind: 'status500', path: '/sapi/v1/capital/deposit/hisrec', times: Infinity });
    try {
      const outcome = await syncNow(id);
      expect(outcome.status).toBe('synced');
      expect(await snapshots(id)).toBe(2);
      const details = await accountDetails(server.services.storage, id);
      expect(details.last_sync_error).toMatch(/^deposits and withdrawals not read: /);
    } finally {
      binance.fail({ kind: 'status500', path: '/sapi/v1/capital/deposit/hisrec', times: 0 });
    }
    // The next sync reads the history it missed: the deposit is stored, the error cleared.
    await syncNow(id);
    const details = await accountDetails(server.services.storage, id);
    expect(details.last_sync_error).toBeNull();
    const deposits = await server.services.storage.db
      .selectFrom('transfers')
      .select(['amount', 'kind'])
      .where('account_id', '=', id)
      .execute();
    expect(deposits).toEqual([{ amount: '1', kind: 'deposit' }]);
  });

  it('the worker syncs the healthy accounts and records the failure of the other', async () => {
    const healthy = [await connected(), await connected()];
    const broken = await connected();
    binance.fail({ kind: 'status500', apiKey: broken.apiKey, times: Infinity });
    // Make all three due now, and let a worker take them.
    await server.services.storage.db
      .updateTable('accounts')
      .set({ next_sync_at: new Date(Date.now() - 1000) })
      .where(
        'id',
        'in',
        [...healthy, broken].map((a) => a.id),
      )
      .execute();
    server.services.worker.start();
    try {
      await waitFor(async () => {
        const states = await Promise.all(
          [...healthy, broken].map((a) => accountDetails(server.services.storage, a.id)),
        );
        return states.every((s) => s.next_sync_at && s.next_sync_at.getTime() > Date.now());
      });
    } finally {
      await server.services.worker.stop();
      binance.fail({ kind: 'status500', apiKey: broken.apiKey, times: 0 });
    }
    for (const account of healthy) expect(await snapshots(account.id)).toBe(2);
    expect(await snapshots(broken.id)).toBe(1);
    expect((await accountDetails(server.services.storage, broken.id)).last_sync_error).toMatch(
      /500|ExchangeNotAvailable/,
    );
  });

  it('an account claimed by another worker is not synced twice at once', async () => {
    const { id } = await connected();
    const token = newClaimToken('elsewhere');
    await server.services.storage.db
      .updateTable('accounts')
      .set({ claimed_by: token, claimed_until: new Date(Date.now() + 60_000) })
      .where('id', '=', id)
      .execute();
    // A sync that lost its claim writes nothing.
    const row = await server.services.accounts.findAny(id);
    const outcome = await server.services.sync.run(row, newClaimToken('me'), false);
    expect(outcome.status).toBe('lost');
    expect(await snapshots(id)).toBe(1);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

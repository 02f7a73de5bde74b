import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOCK_SKEW_MS, pruneSnapshots } from '../../src/balances/retention.ts';
import { ConfigError, loadConfig, type RetentionConfig } from '../../src/config.ts';
import { metrics } from '../../src/ops/metrics.ts';
import type { Services } from '../../src/services.ts';
import { SyncWorker } from '../../src/sync/worker.ts';
import {
  LIST,
  signedGet,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const DEFAULTS: RetentionConfig = { allMs: 48 * HOUR, hourlyMs: 31 * DAY, pruneIntervalMs: HOUR };

/** A snapshot of BTC and USDT (and, when `unpriced`, an asset without a price) at `at`. */
function snapshot(accountId: number, at: Date, i: number, unpriced = false) {
  const btcPrice = String(30_000 + ((i * 37) % 5_000));
  return {
    account_id: accountId,
    at: at.toISOString(),
    btc_usd_price: btcPrice,
    assets: [
      { asset: 'BTC', amount: `0.${String(1000 + (i % 89)).slice(1)}`, usd_price: btcPrice },
      { asset: 'USDT', amount: String(1_000 + (i % 97)), usd_price: '1' },
      ...(unpriced ? [{ asset: 'XYZ', amount: String(5 + (i % 3)), usd_price: null }] : []),
    ],
  };
}

async function newAccount(services: Services, userId: number, name: string): Promise<number> {
  const row = await services.accounts.add({ user_id: userId, market_code: 'binance', name });
  return row.id;
}

async function remaining(services: Services, accountId: number): Promise<string[]> {
  const rows = await services.storage.db
    .selectFrom('balance_snapshots')
    .select('taken_at')
    .where('account_id', '=', accountId)
    .orderBy('taken_at')
    .execute();
  return rows.map((row) => row.taken_at.toISOString());
}

async function countAll(services: Services, table: 'balance_snapshots' | 'snapshot_assets') {
  const row = await services.storage.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('snapshot retention, counted by hand', () => {
  let server: TestServer;
  let userId: number;
  beforeAll(async () => {
    server = await startTestServer();
    userId = (await userWithKey(server.services)).user.id;
  });
  afterAll(() => server.close());

  // now − 48 h = 06-13 12:30, now − 24 h = 06-14 12:30, now − 30 d = 05-16 12:30,
  // now − 31 d = 05-15 12:30.
  const now = new Date('2026-06-15T12:30:00Z');
  const at = (text: string) => new Date(`2026-${text}:00Z`);

  it('keeps every young snapshot, the latest of each hour to 31 days, of each day beyond, and the window starts', async () => {
    const active = await newAccount(server.services, userId, 'active');
    const stopped = await newAccount(server.services, userId, 'stopped');
    const times = {
      first: at('04-01T08:00'), // daily tier, not its day's latest: kept as the first
      apr1Last: at('04-01T20:00'), // latest of 04-01: kept
      apr2Early: at('04-02T06:00'), // removed (04-02 ends at 18:00)
      apr2Last: at('04-02T18:00'), // kept
      may15Early: at('05-15T10:00'), // daily tier; its day's latest is 14:00: removed
      may15Late: at('05-15T14:00'), // hourly tier, alone in its hour: kept
      may16h9a: at('05-16T09:10'), // removed (09:40 is later in the hour)
      may16h9b: at('05-16T09:40'), // kept
      may16h11: at('05-16T11:50'), // kept
      periodStart: at('05-16T12:20'), // not its hour's latest, but the 30-day window start: kept
      // Not its hour's latest, but within 5 minutes after the 30-day window's start: a process
      // whose clock is 3 minutes ahead starts the window there. Kept.
      skewedStart: at('05-16T12:33'),
      may16h12: at('05-16T12:50'), // kept
      jun1a: at('06-01T10:05'), // removed
      jun1b: at('06-01T10:35'), // removed
      jun1c: at('06-01T10:55'), // kept
      jun1d: at('06-01T11:05'), // kept
      jun13a: at('06-13T12:05'), // removed: 12:10 is the hour's latest snapshot older than 48 h
      jun13b: at('06-13T12:10'), // kept
      jun13c: at('06-13T12:40'), // younger than 48 h: kept, as every one after it
      dayStart: at('06-14T00:01'),
      latest: at('06-15T12:25'),
    };
    const list = Object.values(times);
    await server.services.balances.importSnapshots(
      list.map((time, i) => snapshot(active, time, i, i % 4 === 0)),
    );
    // Stopped syncing in March: its latest (also both window starts) and first stay.
    await server.services.balances.importSnapshots([
      snapshot(stopped, at('03-01T01:00'), 1),
      snapshot(stopped, at('03-01T05:00'), 2), // removed
      snapshot(stopped, at('03-01T09:00'), 3),
    ]);
    await server.services.balances.importTransfers([
      // Before and inside the 30-day window, and inside the last day.
      transfer(active, at('04-20T00:00'), 'deposit', '250'),
      transfer(active, at('05-20T07:00'), 'withdrawal', '75.5'),
      transfer(active, at('06-15T01:00'), 'deposit', '12.25'),
    ]);
    const page = async () => {
      server.services.lister.cache.invalidateAll(); // a render from storage, never a cached page
      return (
        await server.services.lister.page(userId, { page: 1, per_page: 100 }, now.getTime())
      ).toString('utf8');
    };
    const before = await page();
    const assetsBefore = await countAll(server.services, 'snapshot_assets');

    const result = await pruneSnapshots(server.services.storage, DEFAULTS, now);

    // 21 + 3 snapshots; removed: apr2Early, may15Early, may16h9a, jun1a, jun1b, jun13a and the
    // stopped account's 05:00 = 7, from 2 accounts.
    expect(result).toEqual({ removed: 7, accounts: 2 });
    const removed = ['apr2Early', 'may15Early', 'may16h9a', 'jun1a', 'jun1b', 'jun13a'];
    const kept = Object.entries(times)
      .filter(([name]) => !removed.includes(name))
      .map(([, time]) => time.toISOString());
    expect(kept).toHaveLength(15);
    expect(await remaining(server.services, active)).toEqual(kept);
    expect(await remaining(server.services, stopped)).toEqual([
      '2026-03-01T01:00:00.000Z',
      '2026-03-01T09:00:00.000Z',
    ]);
    // Their assets went with them: 2 per snapshot, 3 for every 4th of the active account's
    // (removed: apr2Early is index 2, may15Early 4, may16h9a 6, jun1a 12, jun1b 13, jun13a 16;
    // 4, 12 and 16 also held XYZ), so 6 × 2 + 3 + the stopped account's 2 = 17 asset rows.
    expect(assetsBefore - (await countAll(server.services, 'snapshot_assets'))).toBe(17);

    expect(await page()).toBe(before);
    expect(await pruneSnapshots(server.services.storage, DEFAULTS, now)).toEqual({
      removed: 0,
      accounts: 0,
    });
  });

  it('keeps a window start that the daily tier would remove (a short hourly tier)', async () => {
    const account = await newAccount(server.services, userId, 'short hourly tier');
    // With 3 days of hourly snapshots, 05-16 is in the daily tier; its latest is 23:00, but the
    // 30-day window starts at 12:00 (the latest at or before 12:30).
    await server.services.balances.importSnapshots([
      snapshot(account, at('05-16T08:00'), 1), // first: kept
      snapshot(account, at('05-16T10:00'), 2), // removed
      snapshot(account, at('05-16T12:00'), 3), // the 30-day window start: kept
      snapshot(account, at('05-16T23:00'), 4), // its day's latest: kept
      snapshot(account, at('06-15T12:00'), 5), // latest: kept
    ]);
    // (The other accounts of this database lose their hourly snapshots older than 3 days too.)
    await pruneSnapshots(server.services.storage, { ...DEFAULTS, hourlyMs: 3 * DAY }, now);
    expect(await remaining(server.services, account)).toEqual([
      '2026-05-16T08:00:00.000Z',
      '2026-05-16T12:00:00.000Z',
      '2026-05-16T23:00:00.000Z',
      '2026-06-15T12:00:00.000Z',
    ]);
  });

  it('finishes a backlog in several transactions when one may remove only a few', async () => {
    const id = await newAccount(server.services, userId, 'backlog');
    const base = Date.parse('2021-03-01T00:00:00Z');
    // 10 days × 6 snapshots a day (every 4 h) long ago: the daily tier keeps the first (day 1,
    // 00:00) and each day's latest (20:00), so 60 − 11 = 49 go, at most 7 per transaction (7 of
    // them, then one that finds nothing). The other accounts were pruned at this `now` already.
    const times = Array.from({ length: 60 }, (_, k) => base + k * 4 * HOUR);
    await server.services.balances.importSnapshots(
      times.map((t, i) => snapshot(id, new Date(t), i)),
    );
    const result = await pruneSnapshots(server.services.storage, DEFAULTS, now, {
      rangeWidth: 3,
      maxRowsPerTransaction: 7,
    });
    expect(result).toEqual({ removed: 49, accounts: 1 });
    const left = await remaining(server.services, id);
    expect(left).toHaveLength(11);
    expect(left.slice(0, 3)).toEqual([
      '2021-03-01T00:00:00.000Z',
      '2021-03-01T20:00:00.000Z',
      '2021-03-02T20:00:00.000Z',
    ]);
  });

  it('removes each snapshot once when several workers prune at the same moment', async () => {
    const id = await newAccount(server.services, userId, 'pruned twice at once');
    const base = Date.parse('2019-05-01T00:00:00Z');
    // As above: 60 snapshots every 4 h over 10 days long ago; 11 stay, 49 go.
    const times = Array.from({ length: 60 }, (_, k) => base + k * 4 * HOUR);
    await server.services.balances.importSnapshots(
      times.map((t, i) => snapshot(id, new Date(t), i)),
    );
    const tuning = { rangeWidth: 2, maxRowsPerTransaction: 5 };
    const passes = await Promise.all(
      [1, 2, 3].map(() => pruneSnapshots(server.services.storage, DEFAULTS, now, tuning)),
    );
    expect(passes.reduce((sum, pass) => sum + pass.removed, 0)).toBe(49);
    expect(await remaining(server.services, id)).toHaveLength(11);
  });
});

function transfer(
  accountId: number,
  at: Date,
  kind: 'deposit' | 'withdrawal',
  amount: string,
  asset = 'USDT',
) {
  const usdPrice = asset === 'USDT' ? '1' : '41000';
  return {
    account_id: accountId,
    at: at.toISOString(),
    asset,
    amount,
    usd_price: usdPrice,
    btc_usd_price: '41000',
    kind,
  };
}

interface Span {
  /** How long ago the span starts and ends, and the time between its snapshots. */
  from: number;
  to: number;
  every: number;
}

/**
 * The policy written out in plain code, from the snapshots' times alone: what the SQL must keep.
 */
function expectedKept(times: number[], now: number, policy: RetentionConfig): number[] {
  const sorted = [...times].sort((a, b) => a - b);
  const allBefore = now - policy.allMs;
  const hourlyBefore = now - policy.hourlyMs;
  const latestAtOrBefore = (bound: number) => sorted.filter((t) => t <= bound).at(-1);
  const keep = new Set(sorted.filter((t) => t >= allBefore));
  const lastOf = (bucket: (t: number) => string) => {
    const last = new Map<string, number>();
    for (const t of sorted.filter((t) => t < allBefore)) last.set(bucket(t), t);
    return [...last.values()];
  };
  for (const t of lastOf((t) => new Date(t).toISOString().slice(0, 13))) {
    if (t >= hourlyBefore) keep.add(t);
  }
  for (const t of lastOf((t) => new Date(t).toISOString().slice(0, 10))) keep.add(t);
  for (const t of [sorted[0], sorted.at(-1)]) if (t !== undefined) keep.add(t);
  // Each window's start for a clock up to 5 minutes behind or ahead of ours.
  for (const start of [now - DAY, now - 30 * DAY]) {
    const behind = latestAtOrBefore(start - CLOCK_SKEW_MS);
    if (behind !== undefined) keep.add(behind);
    for (const t of sorted)
      if (t > start - CLOCK_SKEW_MS && t <= start + CLOCK_SKEW_MS) keep.add(t);
  }
  return [...keep].sort((a, b) => a - b);
}

describe('snapshot retention over years of history, through the signed API', () => {
  let server: TestServer;
  let credentials: Credentials;
  let userId: number;
  const histories = new Map<number, number[]>();
  // Every snapshot is 150 s off each window boundary as the test starts: no snapshot enters or
  // leaves a window while it runs, so the list reads the same before and after on the clock.
  const anchor = Date.now() - 150_000;

  beforeAll(async () => {
    server = await startTestServer();
    const owner = await userWithKey(server.services);
    credentials = owner.credentials;
    userId = owner.user.id;
    const accounts: { name: string; spans: Span[]; unpriced?: boolean }[] = [
      {
        name: 'two years',
        spans: [
          { from: 730 * DAY, to: 40 * DAY, every: 6 * HOUR },
          { from: 40 * DAY, to: 3 * DAY, every: 20 * MINUTE },
          { from: 3 * DAY, to: 0, every: 5 * MINUTE },
        ],
      },
      {
        name: 'a year, an asset without a price',
        unpriced: true,
        spans: [
          { from: 365 * DAY, to: 40 * DAY, every: 8 * HOUR },
          { from: 40 * DAY, to: 3 * DAY, every: 30 * MINUTE },
          { from: 3 * DAY, to: 0, every: 10 * MINUTE },
        ],
      },
      {
        name: 'stopped 100 days ago',
        spans: [{ from: 400 * DAY, to: 100 * DAY, every: 4 * HOUR }],
      },
      { name: 'five days old', spans: [{ from: 5 * DAY, to: 0, every: 10 * MINUTE }] },
    ];
    for (const account of accounts) {
      const id = await newAccount(server.services, userId, account.name);
      const times = account.spans.flatMap(({ from, to, every }) =>
        Array.from({ length: (from - to) / every }, (_, k) => anchor - from + k * every),
      );
      times.push(anchor - (account.spans.at(-1)?.to ?? 0));
      histories.set(id, times);
      await server.services.balances.importSnapshots(
        times.map((t, i) => snapshot(id, new Date(t), i, account.unpriced === true && i % 3 === 0)),
      );
      // A deposit every 20 days and a withdrawal every 15, from the account's start on, and one
      // in the last day.
      const first = Math.min(...times);
      const last = Math.max(...times);
      const transfers = [
        ...Array.from({ length: Math.floor((last - first) / (20 * DAY)) }, (_, k) =>
          transfer(id, new Date(first + (k + 1) * 20 * DAY - 7 * MINUTE), 'deposit', '100'),
        ),
        ...Array.from({ length: Math.floor((last - first) / (15 * DAY)) }, (_, k) =>
          transfer(
            id,
            new Date(first + (k + 1) * 15 * DAY + 3 * MINUTE),
            'withdrawal',
            '0.01',
            'BTC',
          ),
        ),
        transfer(id, new Date(last - 2 * HOUR - 1_000), 'deposit', '33.3'),
      ].filter((t) => Date.parse(t.at) < last);
      await server.services.balances.importTransfers(transfers);
    }
  }, 180_000);
  afterAll(() => server.close());

  it('serves the same list, byte for byte, after removing exactly what the policy drops', async () => {
    const list = async () => {
      server.services.lister.cache.invalidateAll(); // rendered from storage, not the cache
      const response = await signedGet(server, LIST, credentials);
      expect(response.status).toBe(200);
      return response.text();
    };
    const before = await list();
    const total = await countAll(server.services, 'balance_snapshots');
    const now = new Date();
    const result = await pruneSnapshots(server.services.storage, DEFAULTS, now);
    const after = await list();
    expect(after).toBe(before);

    let expectedRemoved = 0;
    for (const [id, times] of histories) {
      const expected = expectedKept(times, now.getTime(), DEFAULTS);
      expectedRemoved += times.length - expected.length;
      expect((await remaining(server.services, id)).map((t) => Date.parse(t))).toEqual(expected);
    }
    // The young account keeps everything younger than 48 h and one an hour before: it loses some.
    expect(result.removed).toBe(expectedRemoved);
    expect(result.accounts).toBe(4);
    expect(await countAll(server.services, 'balance_snapshots')).toBe(total - expectedRemoved);
    // Two years at 6 h, 37 days at 20 min, 3 days at 5 min: far fewer remain.
    expect(expectedRemoved).toBeGreaterThan(total / 2);

    expect(await pruneSnapshots(server.services.storage, DEFAULTS, now)).toEqual({
      removed: 0,
      accounts: 0,
    });
    expect(await list()).toBe(before);
  });
});

describe('the worker prunes on its own', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ OPENCOMMAS_PRUNE_INTERVAL: '1h' });
  });
  afterAll(() => server.close());

  it('runs a pass once it starts, and counts what it removed', async () => {
    const { user } = await userWithKey(server.services);
    const id = await newAccount(server.services, user.id, 'old');
    // 2020-01-01 at 01:00, 05:00, 09:00 and 2020-01-02 at 03:00, 07:00: the daily tier keeps
    // the first (01:00), 01-01's latest (09:00) and the latest (01-02 07:00); 2 go.
    await server.services.balances.importSnapshots(
      ['01T01', '01T05', '01T09', '02T03', '02T07'].map((day, i) =>
        snapshot(id, new Date(`2020-01-${day}:00:00Z`), i),
      ),
    );
    const counted = (await metrics.snapshotsPruned.get()).values[0]?.value ?? 0;
    server.services.worker.start();
    try {
      while ((await remaining(server.services, id)).length > 3) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await server.services.worker.stop();
    }
    expect(await remaining(server.services, id)).toEqual([
      '2020-01-01T01:00:00.000Z',
      '2020-01-01T09:00:00.000Z',
      '2020-01-02T07:00:00.000Z',
    ]);
    expect((await metrics.snapshotsPruned.get()).values[0]?.value).toBeGreaterThanOrEqual(
      counted + 2,
    );
  });

  it('logs one line per pass with what it removed', async () => {
    const { user } = await userWithKey(server.services);
    const id = await newAccount(server.services, user.id, 'old too');
    // As above: 2 of the 5 go.
    await server.services.balances.importSnapshots(
      ['01T01', '01T05', '01T09', '02T03', '02T07'].map((day, i) =>
        snapshot(id, new Date(`2020-01-${day}:00:00Z`), i),
      ),
    );
    const lines: { msg: string; removed?: number; accounts?: number }[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (text: string) => lines.push(JSON.parse(text)) },
    );
    const { storage, sync, retention } = server.services;
    const settings = { ...loadConfig({}).sync, idlePollMs: 20 };
    const worker = new SyncWorker(storage, sync, settings, logger, retention);
    worker.start();
    try {
      while (!lines.some((line) => line.msg.startsWith('snapshots pruned'))) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await worker.stop();
    }
    expect(lines.filter((line) => line.msg.startsWith('snapshots pruned'))).toEqual([
      expect.objectContaining({ msg: 'snapshots pruned: 2 removed', removed: 2, accounts: 1 }),
    ]);
  });
});

describe('retention settings', () => {
  it('defaults to every snapshot for 48 h, hourly to 31 days, pruned hourly', () => {
    expect(loadConfig({}).sync.retention).toEqual(DEFAULTS);
    expect(
      loadConfig({
        OPENCOMMAS_RETENTION_ALL: '72h',
        OPENCOMMAS_RETENTION_HOURLY: '90d',
        OPENCOMMAS_PRUNE_INTERVAL: '15m',
      }).sync.retention,
    ).toEqual({ allMs: 72 * HOUR, hourlyMs: 90 * DAY, pruneIntervalMs: 15 * MINUTE });
  });

  it('turns the worker’s pruning off', () => {
    expect(loadConfig({ OPENCOMMAS_PRUNE_INTERVAL: 'off' }).sync.retention.pruneIntervalMs).toBe(
      null,
    );
  });

  it('refuses an hourly tier shorter than the all tier, and what is not a duration', () => {
    const load = (env: Record<string, string>) => () => loadConfig(env);
    expect(load({ OPENCOMMAS_RETENTION_HOURLY: '24h' })).toThrow(ConfigError);
    expect(load({ OPENCOMMAS_RETENTION_HOURLY: '24h' })).toThrow(
      'OPENCOMMAS_RETENTION_HOURLY (24h) must be at least OPENCOMMAS_RETENTION_ALL (48h)',
    );
    expect(load({ OPENCOMMAS_RETENTION_ALL: 'two days' })).toThrow(
      'OPENCOMMAS_RETENTION_ALL must be a duration',
    );
    expect(load({ OPENCOMMAS_RETENTION_ALL: '0' })).toThrow('OPENCOMMAS_RETENTION_ALL');
    expect(load({ OPENCOMMAS_PRUNE_INTERVAL: 'hourly' })).toThrow('OPENCOMMAS_PRUNE_INTERVAL');
  });
});

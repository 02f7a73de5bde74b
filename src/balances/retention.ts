import { sql } from 'kysely';
import type { RetentionConfig } from '../config.ts';
import { metrics } from '../ops/metrics.ts';
import type { Storage } from '../storage/database.ts';
import { DAY_MS, PERIOD_MS } from '../valuation/index.ts';

export interface PruneResult {
  /** Snapshots removed (with their assets and every other per-snapshot row, by cascade). */
  removed: number;
  /** Accounts that lost at least one snapshot. */
  accounts: number;
}

export interface PruneTuning {
  /** Accounts whose ids fall in one range are pruned together, under one lock. */
  rangeWidth: number;
  /** Most snapshots one transaction removes: a large backlog is removed in several. */
  maxRowsPerTransaction: number;
}

/**
 * How far another process's clock may be from the pruning worker's while its figures stay
 * exactly as they were: the window starts of every moment within this of now are kept.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

export const PRUNE_TUNING: PruneTuning = { rangeWidth: 64, maxRowsPerTransaction: 2000 };

/**
 * Thins balance snapshots by age, keeping every figure the API serves as it is:
 * - younger than `allMs`: every snapshot;
 * - up to `hourlyMs`: the latest snapshot of each clock hour (UTC);
 * - older: the latest snapshot of each UTC day;
 * - always: the account's first and latest snapshots and the current window starts (the latest
 *   at or before now − 24 h and now − 30 d, as `loadHistories` reads them; those of any clock
 *   within `CLOCK_SKEW_MS` of this one too).
 *
 * The latest of a bucket is kept, not the first: a window starts at the latest snapshot at or
 * before its start, so keeping each hour's (day's) last one makes a window starting at the end of
 * that hour (day) start where it would have without pruning; it is also the bucket's closing value.
 * Buckets are ranked among the snapshots older than `allMs` only, so a bucket straddling a tier
 * boundary keeps one old snapshot besides the young ones, and a pass changes nothing when re-run.
 */
export async function pruneSnapshots(
  storage: Storage,
  policy: Pick<RetentionConfig, 'allMs' | 'hourlyMs'>,
  now: Date,
  tuning: PruneTuning = PRUNE_TUNING,
  signal?: AbortSignal,
): Promise<PruneResult> {
  const pruned = new Set<number>();
  let removed = 0;
  // A stopping worker ends its pass between two transactions; the next pass finishes it.
  for (let range = await nextRange(storage, 0, tuning); range && !signal?.aborted;) {
    for (;;) {
      const batch = await pruneRange(storage, policy, now, range, tuning.maxRowsPerTransaction);
      if (batch === null) break; // another worker holds this range: it prunes it
      const batchRows = batch.reduce((sum, row) => sum + Number(row.removed), 0);
      removed += batchRows;
      for (const row of batch) pruned.add(Number(row.account_id));
      if (batchRows < tuning.maxRowsPerTransaction) break;
    }
    range = await nextRange(storage, range.end, tuning);
  }
  metrics.snapshotsPruned.inc(removed);
  return { removed, accounts: pruned.size };
}

interface AccountRange {
  /** The lock key of the range: ids [index × width, (index + 1) × width). */
  index: number;
  start: number;
  end: number;
}

/** The next range of account ids holding an account, from `from` on (an index probe). */
async function nextRange(
  storage: Storage,
  from: number,
  tuning: PruneTuning,
): Promise<AccountRange | null> {
  const row = await storage.db
    .selectFrom('accounts')
    .select((eb) => eb.fn.min('id').as('id'))
    .where('id', '>=', from)
    .executeTakeFirst();
  if (row?.id === null || row?.id === undefined) return null;
  const index = Math.floor(Number(row.id) / tuning.rangeWidth);
  return {
    index,
    start: index * tuning.rangeWidth,
    end: (index + 1) * tuning.rangeWidth,
  };
}

interface RemovedRow {
  account_id: number | string;
  removed: number | string;
}

/**
 * One transaction over one range of accounts: removes up to `limit` snapshots that no tier keeps.
 * The range's advisory lock (transaction-scoped, so no connection keeps it by mistake) lets
 * several workers prune at once without doing the same range twice; null when another holds it.
 * Removing snapshots a bucket does not keep leaves each bucket's latest the latest, so a range
 * left over `limit` is finished by the next transaction with the same answer.
 */
async function pruneRange(
  storage: Storage,
  policy: Pick<RetentionConfig, 'allMs' | 'hourlyMs'>,
  now: Date,
  range: AccountRange,
  limit: number,
): Promise<RemovedRow[] | null> {
  const allBefore = new Date(now.getTime() - policy.allMs);
  const hourlyBefore = new Date(now.getTime() - policy.hourlyMs);
  const probe = (condition: ReturnType<typeof sql>, order: 'ASC' | 'DESC') =>
    sql`(SELECT id FROM balance_snapshots s
      WHERE s.user_id = a.user_id AND s.account_id = a.id AND ${condition}
      ORDER BY s.taken_at ${sql.raw(order)} LIMIT 1)`;
  // Each window's start, for any API process whose clock is within CLOCK_SKEW_MS of ours: the
  // latest snapshot at or before the earliest such start, and every one up to the latest.
  const windowStarts = [DAY_MS, PERIOD_MS].map((length) => {
    const start = now.getTime() - length;
    const [earliest, latest] = [new Date(start - CLOCK_SKEW_MS), new Date(start + CLOCK_SKEW_MS)];
    return sql`UNION ALL ${probe(sql`s.taken_at <= ${earliest}`, 'DESC')}
      UNION ALL (SELECT id FROM balance_snapshots s
        WHERE s.user_id = a.user_id AND s.account_id = a.id
          AND s.taken_at > ${earliest} AND s.taken_at <= ${latest})`;
  });
  return storage.db.transaction().execute(async (tx) => {
    const lock = await sql<{ locked: boolean }>`
      SELECT pg_try_advisory_xact_lock(hashtext('opencommas.snapshot-retention'), ${range.index}::int)
        AS locked`.execute(tx);
    if (!lock.rows[0]?.locked) return null;
    const result = await sql<RemovedRow>`
      WITH accounts_in_range AS (
        SELECT user_id, id FROM accounts a WHERE a.id >= ${range.start} AND a.id < ${range.end}
      ),
      -- What the windows read (first, latest, window starts): index probes per account.
      always_kept AS (
        SELECT k.id FROM accounts_in_range a CROSS JOIN LATERAL (
          ${probe(sql`true`, 'ASC')}
          UNION ALL ${probe(sql`true`, 'DESC')}
          ${sql.join(windowStarts, sql` `)}
        ) k
      ),
      ranked AS (
        SELECT s.user_id, s.id, s.taken_at,
          row_number() OVER (PARTITION BY s.user_id, s.account_id,
            date_trunc('hour', s.taken_at AT TIME ZONE 'UTC') ORDER BY s.taken_at DESC) AS in_hour,
          row_number() OVER (PARTITION BY s.user_id, s.account_id,
            date_trunc('day', s.taken_at AT TIME ZONE 'UTC') ORDER BY s.taken_at DESC) AS in_day
        FROM accounts_in_range a
        JOIN balance_snapshots s ON s.user_id = a.user_id AND s.account_id = a.id
        WHERE s.taken_at < ${allBefore}
      ),
      doomed AS (
        SELECT r.user_id, r.id FROM ranked r
        WHERE r.in_day > 1 AND (r.in_hour > 1 OR r.taken_at < ${hourlyBefore})
          AND r.id NOT IN (SELECT id FROM always_kept WHERE id IS NOT NULL)
        LIMIT ${limit}
      ),
      removed AS (
        DELETE FROM balance_snapshots s USING doomed d
        WHERE s.user_id = d.user_id AND s.id = d.id RETURNING s.account_id
      )
      SELECT account_id, count(*) AS removed FROM removed GROUP BY account_id`.execute(tx);
    return result.rows;
  });
}

/** The configured policy, run on demand (`opencommas snapshots prune`) or by the worker. */
export class SnapshotRetention {
  constructor(
    private readonly storage: Storage,
    readonly config: RetentionConfig,
  ) {}

  /** How often a worker prunes; null when pruning by the worker is off. */
  get intervalMs(): number | null {
    return this.config.pruneIntervalMs;
  }

  prune(now: Date = new Date(), signal?: AbortSignal): Promise<PruneResult> {
    return pruneSnapshots(this.storage, this.config, now, PRUNE_TUNING, signal);
  }
}

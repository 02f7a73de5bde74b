import { sql } from 'kysely';
import { CLOCK_SKEW_MS } from '../balances/retention.ts';
import type { Storage } from '../storage/database.ts';
import { PERIOD_MS } from '../valuation/index.ts';
import { DISPLAY_PRICE_REACH_MS } from './display-currencies.ts';

export interface DisplayPruneTuning {
  /** Most rounds one slice examines (and so one DELETE removes), oldest first. */
  maxRowsPerSlice: number;
  /** Accounts whose moments one statement reads (ids in one range of this width). */
  accountRangeWidth: number;
}

export const DISPLAY_PRUNE_TUNING: DisplayPruneTuning = {
  maxRowsPerSlice: 2000,
  accountRangeWidth: 1000,
};

/**
 * Rounds younger than this are all kept: each may still price a snapshot that opens a window
 * (the latest, now − 24 h or now − 30 d, on any clock within `CLOCK_SKEW_MS`), and a price is
 * read up to `DISPLAY_PRICE_REACH_MS` from its moment.
 */
export const DISPLAY_PRICES_KEPT_MS = PERIOD_MS + CLOCK_SKEW_MS + DISPLAY_PRICE_REACH_MS;

/**
 * Removes the display-price rounds no reader can ask for again, keeping every figure as it is.
 * A price is read only at a snapshot's or a transfer's moment, from the rounds within
 * `DISPLAY_PRICE_REACH_MS` of it (`displayUsdPriceAt`). Past `DISPLAY_PRICES_KEPT_MS`, the only
 * such moments are every transfer, each account's first snapshot, and its latest snapshot at or
 * before the earliest period start (a window start of an account not synced since). A round
 * within reach of none of them is removed: the rounds within reach of every moment read are
 * untouched, so each probe (own source or any, before or after, for every currency) answers
 * as before. Rounds are examined oldest first, a slice at a time through the fetched_at index;
 * each slice's moments are read per range of accounts by index probes.
 *
 * An import of history older than `DISPLAY_PRICES_KEPT_MS` made after a pass is valued from the
 * rounds that pass kept (those near other accounts' moments), if any is within reach.
 */
export async function pruneDisplayPrices(
  storage: Storage,
  now: Date,
  tuning: DisplayPruneTuning = DISPLAY_PRUNE_TUNING,
  signal?: AbortSignal,
  since: Date | null = null,
): Promise<number> {
  const horizon = displayPriceHorizon(now);
  const periodEdge = new Date(now.getTime() - PERIOD_MS - CLOCK_SKEW_MS);
  let removed = 0;
  let after: string | null = since?.toISOString() ?? null;
  while (!signal?.aborted) {
    const slice = await nextSlice(storage, after, horizon, tuning.maxRowsPerSlice);
    if (!slice) break;
    const moments = await momentsNear(storage, slice, periodEdge, tuning.accountRangeWidth);
    removed += await removeUnread(storage, after, slice.last, moments);
    if (slice.rows < tuning.maxRowsPerSlice) break;
    after = slice.last;
  }
  return removed;
}

/** Rounds fetched before this are past the window kept whole. */
const displayPriceHorizon = (now: Date) => new Date(now.getTime() - DISPLAY_PRICES_KEPT_MS);

interface Slice {
  /** The first and last round's fetched_at, as PostgreSQL's text (exact to the microsecond). */
  first: string;
  last: string;
  rows: number;
}

/** The oldest rounds after `after` and before `horizon`, at most `limit` (one index range). */
async function nextSlice(
  storage: Storage,
  after: string | null,
  horizon: Date,
  limit: number,
): Promise<Slice | null> {
  const { rows } = await sql<{ first: string | null; last: string | null; rows: string }>`
    SELECT min(fetched_at)::text AS first, max(fetched_at)::text AS last, count(*) AS rows
    FROM (SELECT fetched_at FROM display_prices
      WHERE fetched_at < ${horizon} ${after === null ? sql`` : sql`AND fetched_at > ${after}::timestamptz`}
      ORDER BY fetched_at LIMIT ${limit}) r`.execute(storage.db);
  const row = rows[0];
  if (!row?.first || !row.last) return null;
  return { first: row.first, last: row.last, rows: Number(row.rows) };
}

/**
 * Every moment a reader may value at within reach of the slice, as text: one statement per
 * range of account ids, each account read by index probes (its transfers in the slice's span,
 * its first snapshot, its latest at or before `periodEdge`).
 */
async function momentsNear(
  storage: Storage,
  slice: Slice,
  periodEdge: Date,
  width: number,
): Promise<string[]> {
  const reach = sql`make_interval(secs => ${DISPLAY_PRICE_REACH_MS / 1000})`;
  const low = sql`${slice.first}::timestamptz - ${reach}`;
  const high = sql`${slice.last}::timestamptz + ${reach}`;
  const moments = new Set<string>();
  for (let from = 0; ;) {
    const next = await storage.db
      .selectFrom('accounts')
      .select((eb) => eb.fn.min('id').as('id'))
      .where('id', '>=', from)
      .executeTakeFirst();
    if (next?.id === null || next?.id === undefined) break;
    const start = Math.floor(Number(next.id) / width) * width;
    const { rows } = await sql<{ at: string }>`
      SELECT DISTINCT m.at::text AS at FROM accounts a CROSS JOIN LATERAL (
        (SELECT t.at FROM transfers t WHERE t.user_id = a.user_id AND t.account_id = a.id
          AND t.at >= ${low} AND t.at <= ${high})
        UNION ALL (SELECT s.taken_at FROM balance_snapshots s
          WHERE s.user_id = a.user_id AND s.account_id = a.id
          ORDER BY s.taken_at ASC LIMIT 1)
        UNION ALL (SELECT s.taken_at FROM balance_snapshots s
          WHERE s.user_id = a.user_id AND s.account_id = a.id
          AND s.taken_at <= ${periodEdge} ORDER BY s.taken_at DESC LIMIT 1)
      ) m(at)
      WHERE a.id >= ${start} AND a.id < ${start + width} AND m.at >= ${low} AND m.at <= ${high}`.execute(
      storage.db,
    );
    for (const row of rows) moments.add(row.at);
    from = start + width;
  }
  return [...moments];
}

/** Deletes the slice's rounds (after `after`, up to `last`) within reach of no moment. */
async function removeUnread(
  storage: Storage,
  after: string | null,
  last: string,
  moments: string[],
): Promise<number> {
  const reach = sql`make_interval(secs => ${DISPLAY_PRICE_REACH_MS / 1000})`;
  const result = await sql`
    DELETE FROM display_prices r
    WHERE r.fetched_at <= ${last}::timestamptz
      ${after === null ? sql`` : sql`AND r.fetched_at > ${after}::timestamptz`}
      AND NOT EXISTS (SELECT 1 FROM unnest(${moments}::timestamptz[]) m(at)
        WHERE m.at >= r.fetched_at - ${reach} AND m.at <= r.fetched_at + ${reach})`.execute(
    storage.db,
  );
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Run by the worker beside snapshot retention (same interval), or by `opencommas prices prune`.
 * Each pass after the process's first examines only the rounds aged past the kept window since
 * the last complete one: what a pass kept stays within reach of a moment that does not go away
 * (a transfer, a first snapshot), and reading every account's moments again for every old slice
 * would cost each hourly pass a million index probes per slice at a million accounts.
 */
export class DisplayPriceRetention {
  /** The horizon of the last complete pass: rounds before it were examined. */
  private examinedUntil: Date | null = null;

  constructor(private readonly storage: Storage) {}

  async prune(now: Date = new Date(), signal?: AbortSignal): Promise<{ removed: number }> {
    const horizon = displayPriceHorizon(now);
    const since = this.examinedUntil;
    const removed = await pruneDisplayPrices(
      this.storage,
      now,
      DISPLAY_PRUNE_TUNING,
      signal,
      since,
    );
    if (!signal?.aborted && (since === null || horizon > since)) this.examinedUntil = horizon;
    return { removed };
  }
}

import { sql } from 'kysely';
import { displayUsdPriceAt } from '../prices/display-currencies.ts';
import type { Storage } from '../storage/database.ts';
import {
  DAY_MS,
  Dec,
  PERIOD_MS,
  TRANSFER_BTC_PLACES,
  type AssetMoves,
  type MovedSums,
  type SnapshotPoint,
  type ValuationInput,
} from '../valuation/index.ts';

export interface AccountHistory {
  input: ValuationInput;
  /** Earliest moment after `now` at which a snapshot enters or leaves one of the windows. */
  nextBoundary: number | null;
}

interface WindowRow {
  /** The account's owner: every row below is looked up with it (see distribution.ts). */
  user_id: number;
  id: number;
  latest_id: number | null;
  day_id: number | null;
  period_id: number | null;
  first_id: number | null;
  /** true when one of those snapshots holds an asset without a price. */
  holds_unpriced: boolean | null;
  latest_at: Date | null;
  latest_usd: string | null;
  latest_btc: string | null;
  day_at: Date | null;
  day_usd: string | null;
  day_btc: string | null;
  period_at: Date | null;
  period_usd: string | null;
  period_btc: string | null;
  first_at: Date | null;
  first_usd: string | null;
  first_btc: string | null;
  latest_display: string | null;
  day_display: string | null;
  period_display: string | null;
  first_display: string | null;
  next_any: Date | null;
  next_day: Date | null;
  next_period: Date | null;
}

interface MovesRow {
  account_id: number;
  asset: string;
  day_usd: string | null;
  day_btc: string | null;
  day_unpriced: boolean | null;
  period_usd: string | null;
  period_btc: string | null;
  period_unpriced: boolean | null;
  total_usd: string | null;
  total_btc: string | null;
  total_unpriced: boolean | null;
  day_display: string | null;
  day_display_missing: boolean | null;
  period_display: string | null;
  period_display_missing: boolean | null;
  total_display: string | null;
  total_display_missing: boolean | null;
}

/**
 * Loads what the profit model needs for each account, with index lookups only: the snapshots
 * that open and close each window (never the whole history), the transfers summed per window
 * and asset in SQL (never the transfers themselves), and the next moment the answer would
 * change — so a cached page knows when it expires.
 */
export async function loadHistories(
  storage: Storage,
  accountIds: number[],
  now: Date,
  /** A catalog display currency to value in too (USD and BTC need nothing more). */
  displayCurrency?: string,
): Promise<Map<number, AccountHistory>> {
  const result = new Map<number, AccountHistory>();
  if (accountIds.length === 0) return result;
  const dayStart = new Date(now.getTime() - DAY_MS);
  const periodStart = new Date(now.getTime() - PERIOD_MS);
  const ids = sql.join(accountIds);
  const display =
    displayCurrency && !['USD', 'BTC'].includes(displayCurrency) ? displayCurrency : null;
  const displayAt = (at: string) =>
    display ? displayUsdPriceAt(sql.ref(at), sql.ref('a.market_code'), display) : sql`NULL`;
  const after = (bound: Date) => sql`(SELECT min(taken_at) FROM balance_snapshots s
      WHERE s.user_id = a.user_id AND s.account_id = a.id AND s.taken_at > ${bound})`;
  const windows = await sql<WindowRow>`
    SELECT a.user_id, a.id, l.id AS latest_id, d.id AS day_id, p.id AS period_id, f.id AS first_id,
      l.taken_at AS latest_at, l.usd_value AS latest_usd, l.btc_usd_price AS latest_btc,
      d.taken_at AS day_at, d.usd_value AS day_usd, d.btc_usd_price AS day_btc,
      p.taken_at AS period_at, p.usd_value AS period_usd, p.btc_usd_price AS period_btc,
      f.taken_at AS first_at, f.usd_value AS first_usd, f.btc_usd_price AS first_btc,
      -- A scalar subquery stays a primary-key probe per account (an EXISTS may be hashed into
      -- one scan of every holding).
      (SELECT true FROM snapshot_assets h
        WHERE h.user_id = a.user_id AND h.snapshot_id IN (l.id, d.id, p.id, f.id)
        AND h.usd_price IS NULL LIMIT 1) AS holds_unpriced,
      ${displayAt('l.taken_at')} AS latest_display, ${displayAt('d.taken_at')} AS day_display,
      ${displayAt('p.taken_at')} AS period_display, ${displayAt('f.taken_at')} AS first_display,
      ${after(now)} AS next_any, ${after(dayStart)} AS next_day, ${after(periodStart)} AS next_period
    FROM accounts a
    LEFT JOIN LATERAL (SELECT id, taken_at, usd_value, btc_usd_price FROM balance_snapshots s
      WHERE s.user_id = a.user_id AND s.account_id = a.id AND s.taken_at <= ${now}
      ORDER BY taken_at DESC LIMIT 1) l ON true
    LEFT JOIN LATERAL (SELECT id, taken_at, usd_value, btc_usd_price FROM balance_snapshots s
      WHERE s.user_id = a.user_id AND s.account_id = a.id AND s.taken_at <= ${dayStart}
      ORDER BY taken_at DESC LIMIT 1) d ON true
    LEFT JOIN LATERAL (SELECT id, taken_at, usd_value, btc_usd_price FROM balance_snapshots s
      WHERE s.user_id = a.user_id AND s.account_id = a.id AND s.taken_at <= ${periodStart}
      ORDER BY taken_at DESC LIMIT 1) p ON true
    LEFT JOIN LATERAL (SELECT id, taken_at, usd_value, btc_usd_price FROM balance_snapshots s
      WHERE s.user_id = a.user_id AND s.account_id = a.id
      ORDER BY taken_at ASC LIMIT 1) f ON true
    WHERE a.id IN (${ids})`.execute(storage.db);
  const moved = await loadMovedSums(storage, windows.rows, display);
  const movedUnpriced = new Map(
    [...moved].map(([id, sums]) => [
      id,
      [...sums.total].filter(([, m]) => m.unpriced).map(([asset]) => asset),
    ]),
  );
  const assets = await holdingsToLeaveOut(storage, windows.rows, movedUnpriced);
  for (const row of windows.rows) {
    const at = (id: number | null) => (id === null ? undefined : assets.get(id));
    const input: ValuationInput = {
      latest: point(
        row.latest_at,
        row.latest_usd,
        row.latest_btc,
        row.latest_display,
        at(row.latest_id),
      ),
      dayStart: point(row.day_at, row.day_usd, row.day_btc, row.day_display, at(row.day_id)),
      periodStart: point(
        row.period_at,
        row.period_usd,
        row.period_btc,
        row.period_display,
        at(row.period_id),
      ),
      first: point(row.first_at, row.first_usd, row.first_btc, row.first_display, at(row.first_id)),
      transfers: [],
      moved: moved.get(row.id) ?? NOTHING_MOVED,
    };
    result.set(row.id, { input, nextBoundary: nextBoundary(row) });
  }
  return result;
}

const NOTHING_MOVED: MovedSums = { day: new Map(), period: new Map(), total: new Map() };

/** `0.000…` with the transfer BTC scale: added to a dividend, it makes numeric divide to it. */
const BTC_SCALE_ZERO = `0.${'0'.repeat(TRANSFER_BTC_PLACES)}`;

/**
 * Sums each account's transfers per window (after the window's start snapshot, up to the
 * latest) and asset, the way `transferValues` values one: exact numeric, BTC rounded to
 * `TRANSFER_BTC_PLACES` per transfer. One index range scan per account on
 * (user_id, account_id, at) between the first and latest snapshots; only a few rows per account
 * (one per asset moved) leave the database, however many years of transfers it has. The window bounds
 * are the snapshots' own stored instants (looked up by id), never a rounded copy of them.
 */
async function loadMovedSums(
  storage: Storage,
  rows: WindowRow[],
  display: string | null,
): Promise<Map<number, MovedSums>> {
  const spans = rows.filter((r) => r.first_id !== null && r.latest_id !== null);
  const result = new Map<number, Record<keyof MovedSums, Map<string, AssetMoves>>>();
  if (spans.length === 0) return result;
  const column = (pick: (r: WindowRow) => number | null) =>
    sql`ARRAY[${sql.join(spans.map(pick))}]::bigint[]`;
  // A window's bounding snapshot: its stored instant, by primary key.
  const bound = (column: 'first_id' | 'day_id' | 'period_id' | 'latest_id') =>
    sql`(SELECT taken_at FROM balance_snapshots s
      WHERE s.user_id = w.user_id AND s.id = ${sql.ref(`w.${column}`)})`;
  const sums = await sql<MovesRow>`
    SELECT w.id AS account_id, t.asset,
      sum(v.usd) FILTER (WHERE t.at > b.day_at) AS day_usd,
      sum(v.btc) FILTER (WHERE t.at > b.day_at) AS day_btc,
      bool_or(t.usd_price IS NULL) FILTER (WHERE t.at > b.day_at) AS day_unpriced,
      sum(v.usd) FILTER (WHERE t.at > b.period_at) AS period_usd,
      sum(v.btc) FILTER (WHERE t.at > b.period_at) AS period_btc,
      bool_or(t.usd_price IS NULL) FILTER (WHERE t.at > b.period_at) AS period_unpriced,
      sum(v.usd) AS total_usd, sum(v.btc) AS total_btc,
      bool_or(t.usd_price IS NULL) AS total_unpriced,
      sum(v.display) FILTER (WHERE t.at > b.day_at) AS day_display,
      bool_or(v.display_missing) FILTER (WHERE t.at > b.day_at) AS day_display_missing,
      sum(v.display) FILTER (WHERE t.at > b.period_at) AS period_display,
      bool_or(v.display_missing) FILTER (WHERE t.at > b.period_at) AS period_display_missing,
      sum(v.display) AS total_display, bool_or(v.display_missing) AS total_display_missing
    FROM unnest(${column((r) => r.user_id)}, ${column((r) => r.id)}, ${column((r) => r.first_id)},
      ${column((r) => r.day_id ?? r.first_id)}, ${column((r) => r.period_id ?? r.first_id)},
      ${column((r) => r.latest_id)}) w(user_id, id, first_id, day_id, period_id, latest_id)
    -- Scalar probes and laterals that stay subqueries (OFFSET 0): joined, the user_id they share
    -- would let the planner pair them by user alone, reading all of a user's history.
    CROSS JOIN LATERAL (SELECT ${bound('first_id')} AS first_at, ${bound('day_id')} AS day_at,
      ${bound('period_id')} AS period_at, ${bound('latest_id')} AS latest_at OFFSET 0) b
    JOIN accounts a ON a.user_id = w.user_id AND a.id = w.id
    CROSS JOIN LATERAL (SELECT * FROM transfers t WHERE t.user_id = w.user_id
      AND t.account_id = w.id AND t.at > b.first_at AND t.at <= b.latest_at OFFSET 0) t
    CROSS JOIN LATERAL (SELECT
      CASE t.kind WHEN 'deposit' THEN 1 ELSE -1 END * t.amount * t.usd_price AS usd,
      ${display ? displayUsdPriceAt(sql.ref('t.at'), sql.ref('a.market_code'), display) : sql`NULL::numeric`} AS display_price) u
    CROSS JOIN LATERAL (SELECT u.usd,
      round((u.usd + ${BTC_SCALE_ZERO}::numeric) / t.btc_usd_price, ${TRANSFER_BTC_PLACES}) AS btc,
      round((u.usd + ${BTC_SCALE_ZERO}::numeric) / u.display_price, ${TRANSFER_BTC_PLACES}) AS display,
      u.usd IS NOT NULL AND u.display_price IS NULL AS display_missing) v
    GROUP BY w.user_id, w.id, t.asset`.execute(storage.db);
  for (const row of sums.rows) {
    const known = result.get(row.account_id);
    const sumsOf = known ?? { day: new Map(), period: new Map(), total: new Map() };
    if (!known) result.set(row.account_id, sumsOf);
    const add = (
      into: Map<string, AssetMoves>,
      [usd, btc, unpriced]: [string | null, string | null, boolean | null],
      [inDisplay, missing]: [string | null, boolean | null],
    ) => {
      // No transfer of the asset in this window (the FILTER matched none).
      if (unpriced === null) return;
      into.set(row.asset, {
        usd: new Dec(usd ?? 0),
        btc: new Dec(btc ?? 0),
        // Without a display currency, or with a transfer it cannot value, there is no sum.
        display: display === null || missing ? null : new Dec(inDisplay ?? 0),
        unpriced,
      });
    };
    add(
      sumsOf.day,
      [row.day_usd, row.day_btc, row.day_unpriced],
      [row.day_display, row.day_display_missing],
    );
    add(
      sumsOf.period,
      [row.period_usd, row.period_btc, row.period_unpriced],
      [row.period_display, row.period_display_missing],
    );
    add(
      sumsOf.total,
      [row.total_usd, row.total_btc, row.total_unpriced],
      [row.total_display, row.total_display_missing],
    );
  }
  return result;
}

function point(
  at: Date | null,
  usd: string | null,
  btc: string | null,
  display: string | null,
  assets: ReadonlyMap<string, Dec | null> | undefined,
): SnapshotPoint | null {
  if (!at || usd === null || btc === null) return null;
  return {
    at,
    usdValue: new Dec(usd),
    btcUsdPrice: new Dec(btc),
    displayUsdPrice: display === null ? null : new Dec(display),
    ...(assets && { assets }),
  };
}

/**
 * What the windows need to leave out assets without a price, per window snapshot: each asset
 * it holds without a price (null), and its USD value for each asset that another window snapshot
 * of the account holds without a price or that was moved without one. Only accounts with such an
 * asset read anything; an asset unpriced in every window snapshot needs no values.
 */
async function holdingsToLeaveOut(
  storage: Storage,
  rows: WindowRow[],
  movedUnpriced: ReadonlyMap<number, string[]>,
): Promise<Map<number, Map<string, Dec | null>>> {
  const bySnapshot = new Map<number, Map<string, Dec | null>>();
  const snapshotsOf = (r: WindowRow) => [
    ...new Set([r.latest_id, r.day_id, r.period_id, r.first_id].filter((id) => id !== null)),
  ];
  const affected = rows.filter(
    (r) => r.holds_unpriced || (movedUnpriced.get(r.id) ?? []).length > 0,
  );
  const owned = affected.flatMap((r) => snapshotsOf(r).map((id) => ({ id, user: r.user_id })));
  if (owned.length === 0) return bySnapshot;
  const entry = (id: number) => {
    const known = bySnapshot.get(id);
    if (known) return known;
    const assets = new Map<string, Dec | null>();
    bySnapshot.set(id, assets);
    return assets;
  };
  // OFFSET 0 keeps each lateral a primary-key probe per snapshot: flattened, the planner may
  // scan every holding of every account instead.
  const unpriced = await sql<{ snapshot_id: number; asset: string }>`
    SELECT s.id AS snapshot_id, h.asset
    FROM unnest(ARRAY[${sql.join(owned.map((o) => o.user))}]::bigint[],
      ARRAY[${sql.join(owned.map((o) => o.id))}]::bigint[]) s(user_id, id)
    CROSS JOIN LATERAL (SELECT asset FROM snapshot_assets
      WHERE user_id = s.user_id AND snapshot_id = s.id AND usd_price IS NULL OFFSET 0) h`.execute(
    storage.db,
  );
  for (const row of unpriced.rows) entry(row.snapshot_id).set(row.asset, null);

  const wanted = affected.flatMap((r) => {
    const snapshots = snapshotsOf(r);
    const assets = new Set([
      ...snapshots.flatMap((id) => [...(bySnapshot.get(id)?.keys() ?? [])]),
      ...(movedUnpriced.get(r.id) ?? []),
    ]);
    return snapshots.flatMap((id) =>
      [...assets]
        .filter((asset) => !bySnapshot.get(id)?.has(asset))
        .map((asset) => ({ id, asset, user: r.user_id })),
    );
  });
  if (wanted.length === 0) return bySnapshot;
  const priced = await sql<{ snapshot_id: number; asset: string; usd_value: string }>`
    SELECT w.id AS snapshot_id, w.asset, h.usd_value
    FROM unnest(ARRAY[${sql.join(wanted.map((w) => w.user))}]::bigint[],
      ARRAY[${sql.join(wanted.map((w) => w.id))}]::bigint[],
      ARRAY[${sql.join(wanted.map((w) => w.asset))}]::text[]) w(user_id, id, asset)
    CROSS JOIN LATERAL (SELECT amount * usd_price AS usd_value FROM snapshot_assets
      WHERE user_id = w.user_id AND snapshot_id = w.id AND asset = w.asset OFFSET 0) h`.execute(
    storage.db,
  );
  for (const row of priced.rows) entry(row.snapshot_id).set(row.asset, new Dec(row.usd_value));
  return bySnapshot;
}

function nextBoundary(row: WindowRow): number | null {
  const candidates = [
    row.next_any?.getTime(),
    row.next_day && row.next_day.getTime() + DAY_MS,
    row.next_period && row.next_period.getTime() + PERIOD_MS,
  ].filter((time): time is number => typeof time === 'number');
  return candidates.length > 0 ? Math.min(...candidates) : null;
}

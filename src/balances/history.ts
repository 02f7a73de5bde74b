import { sql } from 'kysely';
import type { Storage } from '../storage/database.ts';
import {
  DAY_MS,
  Dec,
  PERIOD_MS,
  type SnapshotPoint,
  type TransferPoint,
  type UnpricedTransfer,
  type ValuationInput,
} from '../valuation/index.ts';

export interface AccountHistory {
  input: ValuationInput;
  /** Earliest moment after `now` at which a snapshot enters or leaves one of the windows. */
  nextBoundary: number | null;
}

interface WindowRow {
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
  next_any: Date | null;
  next_day: Date | null;
  next_period: Date | null;
}

interface TransferRow {
  account_id: number;
  at: Date;
  asset: string;
  amount: string;
  usd_price: string | null;
  btc_usd_price: string;
  kind: 'deposit' | 'withdrawal';
}

/**
 * Loads what the profit model needs for each account, with index lookups only: the snapshots
 * that open and close each window (never the whole history), the transfers, and the next moment
 * the answer would change — so a cached page knows when it expires.
 */
export async function loadHistories(
  storage: Storage,
  accountIds: number[],
  now: Date,
): Promise<Map<number, AccountHistory>> {
  const result = new Map<number, AccountHistory>();
  if (accountIds.length === 0) return result;
  const dayStart = new Date(now.getTime() - DAY_MS);
  const periodStart = new Date(now.getTime() - PERIOD_MS);
  const ids = sql.join(accountIds);
  const after = (bound: Date) => sql`(SELECT min(taken_at) FROM balance_snapshots s
      WHERE s.account_id = a.id AND s.taken_at > ${bound})`;
  const windows = await sql<WindowRow>`
    SELECT a.id, l.id AS latest_id, d.id AS day_id, p.id AS period_id, f.id AS first_id,
      l.taken_at AS latest_at, l.usd_value AS latest_usd, l.btc_usd_price AS latest_btc,
      d.taken_at AS day_at, d.usd_value AS day_usd, d.btc_usd_price AS day_btc,
      p.taken_at AS period_at, p.usd_value AS period_usd, p.btc_usd_price AS period_btc,
      f.taken_at AS first_at, f.usd_value AS first_usd, f.btc_usd_price AS first_btc,
      -- A scalar subquery stays a primary-key probe per account (an EXISTS may be hashed into
      -- one scan of every holding).
      (SELECT true FROM snapshot_assets h WHERE h.snapshot_id IN (l.id, d.id, p.id, f.id)
        AND h.usd_price IS NULL LIMIT 1) AS holds_unpriced,
      ${after(now)} AS next_any, ${after(dayStart)} AS next_day, ${after(periodStart)} AS next_period
    FROM accounts a
    LEFT JOIN LATERAL (SELECT id, taken_at, usd_value, btc_usd_price FROM balance_snapshots s
      WHERE s.account_id = a.id AND s.taken_at <= ${now} ORDER BY taken_at DESC LIMIT 1) l ON true
    LEFT JOIN LATERAL (SELECT id, taken_at, usd_value, btc_usd_price FROM balance_snapshots s
      WHERE s.account_id = a.id AND s.taken_at <= ${dayStart} ORDER BY taken_at DESC LIMIT 1) d ON true
    LEFT JOIN LATERAL (SELECT id, taken_at, usd_value, btc_usd_price FROM balance_snapshots s
      WHERE s.account_id = a.id AND s.taken_at <= ${periodStart} ORDER BY taken_at DESC LIMIT 1) p ON true
    LEFT JOIN LATERAL (SELECT id, taken_at, usd_value, btc_usd_price FROM balance_snapshots s
      WHERE s.account_id = a.id ORDER BY taken_at ASC LIMIT 1) f ON true
    WHERE a.id IN (${ids})`.execute(storage.db);
  const transfers = await sql<TransferRow>`
    SELECT account_id, at, asset, amount, usd_price, btc_usd_price, kind FROM transfers
    WHERE account_id IN (${ids}) AND at <= ${now} ORDER BY at`.execute(storage.db);

  const { priced, unpriced } = groupTransfers(transfers.rows);
  const assets = await holdingsToLeaveOut(storage, windows.rows, unpriced);
  for (const row of windows.rows) {
    const at = (id: number | null) => (id === null ? undefined : assets.get(id));
    const first = point(row.first_at, row.first_usd, row.first_btc, at(row.first_id));
    const latest = point(row.latest_at, row.latest_usd, row.latest_btc, at(row.latest_id));
    const inSpan = (t: { at: Date }) =>
      first !== null && latest !== null && t.at > first.at && t.at <= latest.at;
    const input: ValuationInput = {
      latest,
      dayStart: point(row.day_at, row.day_usd, row.day_btc, at(row.day_id)),
      periodStart: point(row.period_at, row.period_usd, row.period_btc, at(row.period_id)),
      first,
      transfers: (priced.get(row.id) ?? []).filter(inSpan),
      unpricedTransfers: (unpriced.get(row.id) ?? []).filter(inSpan),
    };
    result.set(row.id, { input, nextBoundary: nextBoundary(row) });
  }
  return result;
}

function point(
  at: Date | null,
  usd: string | null,
  btc: string | null,
  assets: ReadonlyMap<string, Dec | null> | undefined,
): SnapshotPoint | null {
  if (!at || usd === null || btc === null) return null;
  return { at, usdValue: new Dec(usd), btcUsdPrice: new Dec(btc), ...(assets && { assets }) };
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
  movedUnpriced: ReadonlyMap<number, UnpricedTransfer[]>,
): Promise<Map<number, Map<string, Dec | null>>> {
  const bySnapshot = new Map<number, Map<string, Dec | null>>();
  const snapshotsOf = (r: WindowRow) => [
    ...new Set([r.latest_id, r.day_id, r.period_id, r.first_id].filter((id) => id !== null)),
  ];
  const affected = rows.filter((r) => r.holds_unpriced || movedUnpriced.has(r.id));
  const ids = affected.flatMap(snapshotsOf);
  if (ids.length === 0) return bySnapshot;
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
    SELECT s.id AS snapshot_id, h.asset FROM unnest(ARRAY[${sql.join(ids)}]::bigint[]) s(id)
    CROSS JOIN LATERAL (SELECT asset FROM snapshot_assets
      WHERE snapshot_id = s.id AND usd_price IS NULL OFFSET 0) h`.execute(storage.db);
  for (const row of unpriced.rows) entry(row.snapshot_id).set(row.asset, null);

  const wanted = affected.flatMap((r) => {
    const snapshots = snapshotsOf(r);
    const assets = new Set([
      ...snapshots.flatMap((id) => [...(bySnapshot.get(id)?.keys() ?? [])]),
      ...(movedUnpriced.get(r.id) ?? []).map((t) => t.asset),
    ]);
    return snapshots.flatMap((id) =>
      [...assets]
        .filter((asset) => !bySnapshot.get(id)?.has(asset))
        .map((asset) => ({ id, asset })),
    );
  });
  if (wanted.length === 0) return bySnapshot;
  const priced = await sql<{ snapshot_id: number; asset: string; usd_value: string }>`
    SELECT w.id AS snapshot_id, w.asset, h.usd_value
    FROM unnest(ARRAY[${sql.join(wanted.map((w) => w.id))}]::bigint[],
      ARRAY[${sql.join(wanted.map((w) => w.asset))}]::text[]) w(id, asset)
    CROSS JOIN LATERAL (SELECT amount * usd_price AS usd_value FROM snapshot_assets
      WHERE snapshot_id = w.id AND asset = w.asset OFFSET 0) h`.execute(storage.db);
  for (const row of priced.rows) entry(row.snapshot_id).set(row.asset, new Dec(row.usd_value));
  return bySnapshot;
}

function groupTransfers(rows: TransferRow[]) {
  const priced = new Map<number, TransferPoint[]>();
  const unpriced = new Map<number, UnpricedTransfer[]>();
  const add = <T>(byAccount: Map<number, T[]>, id: number, item: T) => {
    const list = byAccount.get(id);
    if (list) list.push(item);
    else byAccount.set(id, [item]);
  };
  for (const row of rows) {
    if (row.usd_price === null) {
      add(unpriced, row.account_id, { at: row.at, asset: row.asset });
      continue;
    }
    const sign = row.kind === 'deposit' ? 1 : -1;
    const usdValue = new Dec(row.amount).times(row.usd_price).times(sign);
    const btcValue = usdValue.dividedBy(row.btc_usd_price);
    add(priced, row.account_id, { at: row.at, asset: row.asset, usdValue, btcValue });
  }
  return { priced, unpriced };
}

function nextBoundary(row: WindowRow): number | null {
  const candidates = [
    row.next_any?.getTime(),
    row.next_day && row.next_day.getTime() + DAY_MS,
    row.next_period && row.next_period.getTime() + PERIOD_MS,
  ].filter((time): time is number => typeof time === 'number');
  return candidates.length > 0 ? Math.min(...candidates) : null;
}

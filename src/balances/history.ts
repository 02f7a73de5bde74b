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
  const assets = await holdingsToExclude(storage, windows.rows, accountIds, now);
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
 * Per window snapshot, the USD value (null: no price) of each asset a window may have to leave
 * out: one held without a price in any of these snapshots, or moved without a price. Usually
 * none, so this reads nothing; it never reads a snapshot's other holdings.
 */
async function holdingsToExclude(
  storage: Storage,
  rows: WindowRow[],
  accountIds: number[],
  now: Date,
): Promise<Map<number, Map<string, Dec | null>>> {
  const bySnapshot = new Map<number, Map<string, Dec | null>>();
  const ids = [
    ...new Set(rows.flatMap((r) => [r.latest_id, r.day_id, r.period_id, r.first_id])),
  ].filter((id): id is number => id !== null);
  if (ids.length === 0) return bySnapshot;
  const snapshots = sql.join(ids);
  const found = await sql<{ snapshot_id: number; asset: string; usd_value: string | null }>`
    SELECT snapshot_id, asset, amount * usd_price AS usd_value FROM snapshot_assets
    WHERE snapshot_id IN (${snapshots}) AND asset IN (
      SELECT asset FROM snapshot_assets WHERE snapshot_id IN (${snapshots}) AND usd_price IS NULL
      UNION SELECT asset FROM transfers
      WHERE account_id IN (${sql.join(accountIds)}) AND at <= ${now} AND usd_price IS NULL)`.execute(
    storage.db,
  );
  for (const row of found.rows) {
    const assets = bySnapshot.get(row.snapshot_id) ?? new Map<string, Dec | null>();
    assets.set(row.asset, row.usd_value === null ? null : new Dec(row.usd_value));
    bySnapshot.set(row.snapshot_id, assets);
  }
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

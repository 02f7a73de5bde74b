import { sql, type Expression } from 'kysely';
import { displayUsdPriceAt } from '../../prices/display-currencies.ts';
import type { Storage } from '../../storage/database.ts';
import type { AccountRow } from '../../storage/schema.ts';
import { DAY_MS, Dec } from '../../valuation/index.ts';

/** One asset of a snapshot. */
export interface Holding {
  asset: string;
  amount: Dec;
  /** null: no price route when the snapshot was taken; the asset has no value. */
  usdPrice: Dec | null;
}

export interface HeldAt {
  btcUsdPrice: Dec;
  /** USD price of one unit of the display currency at the snapshot; null without one. */
  displayUsdPrice: Dec | null;
  assets: Map<string, Holding>;
}

export interface AccountHoldings {
  account: AccountRow;
  /** The latest snapshot at or before now (what the list's `usd_amount` values); null: none. */
  latest: HeldAt | null;
  /** The snapshot that starts the list's day window (else the first one, as the list does). */
  dayStart: HeldAt | null;
}

interface WindowRow {
  user_id: number;
  id: number;
  latest_id: number | null;
  latest_btc: string | null;
  latest_display: string | null;
  day_id: number | null;
  day_btc: string | null;
  day_display: string | null;
  next_any: Date | null;
  next_day: Date | null;
}

/**
 * The holdings of the snapshots the list values, by the list's window rule
 * (`balances/history.ts`): the latest at or before now, and the latest at or before now − 24 h,
 * else the first. Index lookups only: one probe per account and window, then the assets of
 * those snapshots by primary key. `validUntil` is the first moment a snapshot enters either.
 */
export async function loadHoldings(
  storage: Storage,
  accounts: AccountRow[],
  now: Date,
  displayCurrency: string,
): Promise<{ holdings: AccountHoldings[]; validUntil: number | null }> {
  if (accounts.length === 0) return { holdings: [], validUntil: null };
  const dayStart = new Date(now.getTime() - DAY_MS);
  const display = ['USD', 'BTC'].includes(displayCurrency) ? null : displayCurrency;
  const displayAt = (at: Expression<Date>) =>
    display ? displayUsdPriceAt(at, sql.ref('a.market_code'), display) : sql`NULL`;
  const after = (bound: Date) => sql`(SELECT min(taken_at) FROM balance_snapshots s
      WHERE s.user_id = a.user_id AND s.account_id = a.id AND s.taken_at > ${bound})`;
  const windows = await sql<WindowRow>`
    SELECT a.user_id, a.id, l.id AS latest_id, l.btc_usd_price AS latest_btc,
      ${displayAt(sql.ref('l.taken_at'))} AS latest_display,
      coalesce(d.id, f.id) AS day_id, coalesce(d.btc_usd_price, f.btc_usd_price) AS day_btc,
      ${displayAt(sql<Date>`coalesce(d.taken_at, f.taken_at)`)} AS day_display,
      ${after(now)} AS next_any, ${after(dayStart)} AS next_day
    FROM accounts a
    LEFT JOIN LATERAL (SELECT id, taken_at, btc_usd_price FROM balance_snapshots s
      WHERE s.user_id = a.user_id AND s.account_id = a.id AND s.taken_at <= ${now}
      ORDER BY taken_at DESC LIMIT 1) l ON true
    LEFT JOIN LATERAL (SELECT id, taken_at, btc_usd_price FROM balance_snapshots s
      WHERE s.user_id = a.user_id AND s.account_id = a.id AND s.taken_at <= ${dayStart}
      ORDER BY taken_at DESC LIMIT 1) d ON true
    LEFT JOIN LATERAL (SELECT id, taken_at, btc_usd_price FROM balance_snapshots s
      WHERE s.user_id = a.user_id AND s.account_id = a.id
      ORDER BY taken_at ASC LIMIT 1) f ON true
    WHERE a.id IN (${sql.join(accounts.map((a) => a.id))})`.execute(storage.db);
  const byAccount = new Map(windows.rows.map((row) => [Number(row.id), row]));
  const snapshots = windows.rows.flatMap((r) =>
    [r.latest_id, r.day_id]
      .filter((id): id is number => id !== null)
      .map((id) => ({ userId: r.user_id, id })),
  );
  const assets = await assetsOf(storage, snapshots);
  const heldAt = (id: number | null, btc: string | null, inDisplay: string | null) =>
    id === null || btc === null
      ? null
      : {
          btcUsdPrice: new Dec(btc),
          displayUsdPrice: inDisplay === null ? null : new Dec(inDisplay),
          assets: assets.get(Number(id)) ?? new Map<string, Holding>(),
        };
  const boundaries: number[] = [];
  const holdings = accounts.map((account) => {
    const row = byAccount.get(account.id);
    if (row?.next_any) boundaries.push(row.next_any.getTime());
    if (row?.next_day) boundaries.push(row.next_day.getTime() + DAY_MS);
    return {
      account,
      latest: row ? heldAt(row.latest_id, row.latest_btc, row.latest_display) : null,
      dayStart: row ? heldAt(row.day_id, row.day_btc, row.day_display) : null,
    };
  });
  const future = boundaries.filter((time) => time > now.getTime());
  return { holdings, validUntil: future.length > 0 ? Math.min(...future) : null };
}

async function assetsOf(
  storage: Storage,
  snapshots: Array<{ userId: number; id: number }>,
): Promise<Map<number, Map<string, Holding>>> {
  const result = new Map<number, Map<string, Holding>>();
  if (snapshots.length === 0) return result;
  const unique = [...new Map(snapshots.map((s) => [s.id, s])).values()];
  const rows = await sql<{
    snapshot_id: number;
    asset: string;
    amount: string;
    usd_price: string | null;
  }>`SELECT h.snapshot_id, h.asset, h.amount, h.usd_price
      FROM unnest(ARRAY[${sql.join(unique.map((s) => s.userId))}]::bigint[],
        ARRAY[${sql.join(unique.map((s) => s.id))}]::bigint[]) k(user_id, id)
      JOIN snapshot_assets h ON h.user_id = k.user_id AND h.snapshot_id = k.id`.execute(storage.db);
  for (const row of rows.rows) {
    const id = Number(row.snapshot_id);
    const assets = result.get(id) ?? new Map<string, Holding>();
    result.set(id, assets);
    assets.set(row.asset, {
      asset: row.asset,
      amount: new Dec(row.amount),
      usdPrice: row.usd_price === null ? null : new Dec(row.usd_price),
    });
  }
  return result;
}

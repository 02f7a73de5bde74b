import { sql } from 'kysely';
import type { Storage } from '../storage/database.ts';
import {
  DAY_MS,
  Dec,
  PERIOD_MS,
  type SnapshotPoint,
  type TransferPoint,
  type ValuationInput,
} from '../valuation/index.ts';

export interface AccountHistory {
  input: ValuationInput;
  /** Earliest moment after `now` at which a snapshot enters or leaves one of the windows. */
  nextBoundary: number | null;
}

interface WindowRow {
  id: number;
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
    SELECT a.id,
      l.taken_at AS latest_at, l.usd_value AS latest_usd, l.btc_usd_price AS latest_btc,
      d.taken_at AS day_at, d.usd_value AS day_usd, d.btc_usd_price AS day_btc,
      p.taken_at AS period_at, p.usd_value AS period_usd, p.btc_usd_price AS period_btc,
      f.taken_at AS first_at, f.usd_value AS first_usd, f.btc_usd_price AS first_btc,
      ${after(now)} AS next_any, ${after(dayStart)} AS next_day, ${after(periodStart)} AS next_period
    FROM accounts a
    LEFT JOIN LATERAL (SELECT taken_at, usd_value, btc_usd_price FROM balance_snapshots s
      WHERE s.account_id = a.id AND s.taken_at <= ${now} ORDER BY taken_at DESC LIMIT 1) l ON true
    LEFT JOIN LATERAL (SELECT taken_at, usd_value, btc_usd_price FROM balance_snapshots s
      WHERE s.account_id = a.id AND s.taken_at <= ${dayStart} ORDER BY taken_at DESC LIMIT 1) d ON true
    LEFT JOIN LATERAL (SELECT taken_at, usd_value, btc_usd_price FROM balance_snapshots s
      WHERE s.account_id = a.id AND s.taken_at <= ${periodStart} ORDER BY taken_at DESC LIMIT 1) p ON true
    LEFT JOIN LATERAL (SELECT taken_at, usd_value, btc_usd_price FROM balance_snapshots s
      WHERE s.account_id = a.id ORDER BY taken_at ASC LIMIT 1) f ON true
    WHERE a.id IN (${ids})`.execute(storage.db);
  const transfers = await sql<TransferRow>`
    SELECT account_id, at, amount, usd_price, btc_usd_price, kind FROM transfers
    WHERE account_id IN (${ids}) AND at <= ${now} ORDER BY at`.execute(storage.db);

  const transfersByAccount = groupTransfers(transfers.rows);
  for (const row of windows.rows) {
    const first = point(row.first_at, row.first_usd, row.first_btc);
    const latest = point(row.latest_at, row.latest_usd, row.latest_btc);
    const input: ValuationInput = {
      latest,
      dayStart: point(row.day_at, row.day_usd, row.day_btc),
      periodStart: point(row.period_at, row.period_usd, row.period_btc),
      first,
      transfers: (transfersByAccount.get(row.id) ?? []).filter(
        (t) => first !== null && latest !== null && t.at > first.at && t.at <= latest.at,
      ),
    };
    result.set(row.id, { input, nextBoundary: nextBoundary(row) });
  }
  return result;
}

function point(at: Date | null, usd: string | null, btc: string | null): SnapshotPoint | null {
  if (!at || usd === null || btc === null) return null;
  return { at, usdValue: new Dec(usd), btcUsdPrice: new Dec(btc) };
}

function groupTransfers(rows: TransferRow[]): Map<number, TransferPoint[]> {
  const byAccount = new Map<number, TransferPoint[]>();
  for (const row of rows) {
    // An unpriced asset is left out of every snapshot's value, so its transfers are too.
    if (row.usd_price === null) continue;
    const sign = row.kind === 'deposit' ? 1 : -1;
    const usdValue = new Dec(row.amount).times(row.usd_price).times(sign);
    const list = byAccount.get(row.account_id) ?? [];
    list.push({ at: row.at, usdValue, btcValue: usdValue.dividedBy(row.btc_usd_price) });
    byAccount.set(row.account_id, list);
  }
  return byAccount;
}

function nextBoundary(row: WindowRow): number | null {
  const candidates = [
    row.next_any?.getTime(),
    row.next_day && row.next_day.getTime() + DAY_MS,
    row.next_period && row.next_period.getTime() + PERIOD_MS,
  ].filter((time): time is number => typeof time === 'number');
  return candidates.length > 0 ? Math.min(...candidates) : null;
}

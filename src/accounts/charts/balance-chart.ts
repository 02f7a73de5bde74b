import { sql } from 'kysely';
import { invalid } from '../../errors.ts';
import type { Storage } from '../../storage/database.ts';
import { DAY_MS, Dec, TRANSFER_BTC_PLACES, toDouble } from '../../valuation/index.ts';
import type { BalanceChartQuery, BalancePoint } from './schemas.ts';

/** At most this many daily points (five years and a leap day); a longer span is refused. */
export const MAX_CHART_DAYS = 5 * 365 + 2;

export interface ChartSpan {
  /** 00:00 UTC of `date_from`'s day: the first daily point. */
  firstMidnight: number;
  /** The final point: `date_to`, or now when absent or later than now. */
  end: number;
  /** true when the final point is "now" (it moves with the clock; see `restampFinalPoint`). */
  endIsNow: boolean;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const UNIX_SECONDS = /^\d{9,11}$/;

/**
 * An ISO 8601 instant, a `YYYY-MM-DD` day (its 00:00 UTC) or, as the docs once typed
 * `date_to`, unix seconds. A time without a zone is UTC. Impossible dates (02-30) are refused.
 */
export function parseInstant(text: string): number | null {
  const value = text.trim();
  if (UNIX_SECONDS.test(value)) return Number(value) * 1000;
  const day = DATE.exec(value) ?? DATE_TIME.exec(value);
  if (!day) return null;
  const zoned = DATE.test(value)
    ? `${value}T00:00:00Z`
    : day[7]
      ? value.replace(' ', 'T')
      : `${value.replace(' ', 'T')}Z`;
  const time = Date.parse(zoned);
  if (Number.isNaN(time)) return null;
  // Date.parse rolls 2024-02-30 over to March: the calendar day must survive the round trip.
  const [, year, month, date] = day;
  const check = new Date(Date.UTC(Number(year), Number(month) - 1, Number(date)));
  if (check.getUTCDate() !== Number(date) || check.getUTCMonth() !== Number(month) - 1) return null;
  return time;
}

const midnightOf = (time: number) => Math.floor(time / DAY_MS) * DAY_MS;

/** The span of a chart request, or the specification's 400 naming the bad parameter. */
export function chartSpan(query: BalanceChartQuery, now: number): ChartSpan {
  const from = parseInstant(query.date_from);
  if (from === null) throw invalid('date_from', 'is invalid');
  const to =
    query.date_to === undefined || query.date_to === '' ? null : parseInstant(query.date_to);
  if (to === null && query.date_to !== undefined && query.date_to !== '') {
    throw invalid('date_to', 'is invalid');
  }
  const endIsNow = to === null || to >= now;
  const end = endIsNow ? now : to;
  if (from > end) {
    throw invalid('date_from', `must not be after ${to === null ? 'now' : 'date_to'}`);
  }
  const firstMidnight = midnightOf(from);
  if ((midnightOf(end) - firstMidnight) / DAY_MS + 1 > MAX_CHART_DAYS) {
    throw invalid('date_from', `must be at most ${MAX_CHART_DAYS} days before date_to`);
  }
  return { firstMidnight, end, endIsNow };
}

/** The instants of the points: every 00:00 UTC from the first to the end, then the end. */
export function pointTimes(span: ChartSpan): number[] {
  const times: number[] = [];
  for (let t = span.firstMidnight; t <= span.end; t += DAY_MS) times.push(t);
  if (times.at(-1) !== span.end) times.push(span.end);
  return times;
}

/** `0.000…` at the transfer BTC scale, as `balances/history.ts` divides. */
const BTC_SCALE_ZERO = `0.${'0'.repeat(TRANSFER_BTC_PLACES)}`;

/**
 * The balance chart of some accounts: at each point the value of each account's latest snapshot
 * at or before it (USD exactly, BTC at that snapshot's own BTC price, as the list values
 * `usd_amount` and `btc_amount`), added up; points before any snapshot are left out. The deposit
 * amounts are per point, not cumulative: the net money moved in (deposits minus withdrawals,
 * valued at their own time as the profit model values them) in the interval that ends at the
 * point — the UTC day before a midnight point, and since the last midnight for the final one.
 * Unpriced transfers count for nothing, as they count for nothing in the profit.
 * Two set-based queries: one index probe per account and point, one range scan of the transfers.
 */
export async function balancePoints(
  storage: Storage,
  userId: number,
  accountIds: number[],
  span: ChartSpan,
): Promise<BalancePoint[]> {
  if (accountIds.length === 0) return [];
  const times = pointTimes(span);
  const instants = times.map((t) => new Date(t).toISOString());
  const ids = sql.join(accountIds);
  const values = await sql<{ i: number; usd_value: string; btc_usd_price: string }>`
    SELECT p.i, s.usd_value, s.btc_usd_price
    FROM unnest(string_to_array(${instants.join(',')}, ',')::timestamptz[]) WITH ORDINALITY p(at, i)
    CROSS JOIN unnest(ARRAY[${ids}]::bigint[]) a(id)
    CROSS JOIN LATERAL (SELECT usd_value, btc_usd_price FROM balance_snapshots s
      WHERE s.user_id = ${userId} AND s.account_id = a.id AND s.taken_at <= p.at
      ORDER BY taken_at DESC LIMIT 1) s
    `.execute(storage.db);
  const first = new Date(span.firstMidnight);
  const moved = await sql<{ bucket: number; usd: string; btc: string }>`
    SELECT least(ceil(extract(epoch FROM t.at - ${first}::timestamptz) / 86400), ${times.length - 1})::int AS bucket,
      sum(v.usd) AS usd,
      sum(round((v.usd + ${BTC_SCALE_ZERO}::numeric) / t.btc_usd_price, ${TRANSFER_BTC_PLACES})) AS btc
    FROM unnest(ARRAY[${ids}]::bigint[]) a(id)
    -- Per account and in time order, so the span is read on (user_id, account_id, at): by the
    -- external-id key, which starts alike, the planner may read every transfer of the account.
    CROSS JOIN LATERAL (SELECT at, kind, amount, usd_price, btc_usd_price FROM transfers
      WHERE user_id = ${userId} AND account_id = a.id AND usd_price IS NOT NULL
        AND at > ${new Date(span.firstMidnight - DAY_MS)}::timestamptz
        AND at <= ${new Date(span.end)}::timestamptz
      ORDER BY at OFFSET 0) t
    CROSS JOIN LATERAL (SELECT
      CASE t.kind WHEN 'deposit' THEN 1 ELSE -1 END * t.amount * t.usd_price AS usd) v
    GROUP BY 1`.execute(storage.db);

  const totals = times.map(() => ({ usd: new Dec(0), btc: new Dec(0), held: false }));
  for (const row of values.rows) {
    const point = totals[Number(row.i) - 1];
    if (!point) continue;
    const usd = new Dec(row.usd_value);
    point.usd = point.usd.plus(usd);
    point.btc = point.btc.plus(usd.dividedBy(row.btc_usd_price));
    point.held = true;
  }
  const deposits = new Map(moved.rows.map((row) => [Number(row.bucket), row]));
  const at = (places: number, d: Dec) => toDouble(d.toDecimalPlaces(places, Dec.ROUND_HALF_UP));
  return totals.flatMap((point, index) => {
    if (!point.held) return [];
    const move = deposits.get(index);
    return [
      {
        date: Math.floor((times[index] ?? 0) / 1000),
        usd: at(2, point.usd),
        btc: at(6, point.btc),
        btc_deposit_amount: at(6, new Dec(move?.btc ?? 0)),
        usd_deposit_amount: at(2, new Dec(move?.usd ?? 0)),
      },
    ];
  });
}

/** The next moment a chart ending now gains a point: the coming 00:00 UTC. */
export const nextMidnight = (now: number) => midnightOf(now) + DAY_MS;

/**
 * A cached chart ending "now" is served with its final point dated now: the body is serialized
 * with `date` first in each point, so the final point's date is the number after the last
 * `{"date":`. Only the date moves; its figures are those of the latest snapshot at or before
 * now, which only a write (dropping the cache) or a snapshot dated later changes.
 */
export function restampFinalPoint(body: Buffer, now: number): Buffer {
  const marker = Buffer.from('{"date":');
  const start = body.lastIndexOf(marker);
  if (start < 0) return body;
  const digits = start + marker.length;
  const comma = body.indexOf(',', digits);
  if (comma < 0) return body;
  return Buffer.concat([
    body.subarray(0, digits),
    Buffer.from(String(Math.floor(now / 1000))),
    body.subarray(comma),
  ]);
}

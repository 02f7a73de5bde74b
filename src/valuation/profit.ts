import { Dec } from './decimal.ts';

/** Length of the day window. */
export const DAY_MS = 24 * 60 * 60 * 1000;
/** Length of the period window ("monthly" in the docs). */
export const PERIOD_MS = 30 * DAY_MS;

/** A balance snapshot, reduced to what valuation needs. */
export interface SnapshotPoint {
  at: Date;
  /** Σ amount × usd_price over the snapshot's priced assets. */
  usdValue: Dec;
  btcUsdPrice: Dec;
}

/** A transfer, signed: positive for a deposit, negative for a withdrawal. */
export interface TransferPoint {
  at: Date;
  usdValue: Dec;
  /** usdValue / btc_usd_price at the time of the transfer. */
  btcValue: Dec;
}

export interface ValuationInput {
  /** Latest snapshot at or before now. */
  latest: SnapshotPoint | null;
  /** Latest snapshot at or before now − 24 h; null when the account is younger. */
  dayStart: SnapshotPoint | null;
  /** Latest snapshot at or before now − 30 days; null when the account is younger. */
  periodStart: SnapshotPoint | null;
  /** The account's first snapshot. */
  first: SnapshotPoint | null;
  /** Transfers with first.at < at <= latest.at, in any order. */
  transfers: TransferPoint[];
}

export interface WindowFigures {
  profit: Dec;
  /** Unrounded; formatting rounds it. */
  percentage: Dec;
}

export interface CurrencyFigures {
  amount: Dec;
  day: WindowFigures;
  period: WindowFigures;
  total: Dec;
}

export interface Valuation {
  usd: CurrencyFigures;
  btc: CurrencyFigures;
}

type Currency = 'usd' | 'btc';

const valueOf = (point: SnapshotPoint, currency: Currency): Dec =>
  currency === 'usd' ? point.usdValue : point.usdValue.dividedBy(point.btcUsdPrice);

const moved = (transfer: TransferPoint, currency: Currency): Dec =>
  currency === 'usd' ? transfer.usdValue : transfer.btcValue;

/**
 * Values an account from the snapshots that bound its windows. Money moved in or out is not
 * profit, so each window subtracts the transfers it contains; the first snapshot counts as the
 * first deposit, which makes the total profit "value now − net amount put in".
 */
export function valueAccount(input: ValuationInput): Valuation {
  const { latest } = input;
  if (!latest) return { usd: zeroFigures(), btc: zeroFigures() };
  const first = input.first ?? latest;
  // A window reaching back before the account's first snapshot starts at that snapshot.
  const dayStart = input.dayStart ?? first;
  const periodStart = input.periodStart ?? first;

  const figures = (currency: Currency): CurrencyFigures => {
    const now = valueOf(latest, currency);
    // Money moved in or out after `start` (up to the latest snapshot) is not profit.
    const profitSince = (start: SnapshotPoint): Dec =>
      input.transfers
        .filter((t) => t.at > start.at && t.at <= latest.at)
        .reduce((rest, t) => rest.minus(moved(t, currency)), now.minus(valueOf(start, currency)));
    const window = (start: SnapshotPoint): WindowFigures => {
      const profit = profitSince(start);
      return { profit, percentage: percentage(profit, now) };
    };
    return {
      amount: now,
      day: window(dayStart),
      period: window(periodStart),
      total: profitSince(first),
    };
  };
  return { usd: figures('usd'), btc: figures('btc') };
}

/**
 * Profit relative to what the window started with plus what was moved in — which equals the
 * value now minus the profit. A zero base has no meaningful ratio; it reports 0.
 */
function percentage(profit: Dec, now: Dec): Dec {
  const base = now.minus(profit);
  return base.isZero() ? new Dec(0) : profit.times(100).dividedBy(base);
}

function zeroFigures(): CurrencyFigures {
  const zero = new Dec(0);
  const window = { profit: zero, percentage: zero };
  return { amount: zero, day: window, period: window, total: zero };
}

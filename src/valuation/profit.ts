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
  /**
   * USD price of one unit of the display currency in the round that priced the snapshot; null
   * or absent when that round had none (the display figures it bounds are then unavailable).
   */
  displayUsdPrice?: Dec | null;
  /**
   * USD value of single holdings, null for an asset held without a price. It needs only the
   * assets some window may leave out (see `excludedAssets`); absent, every asset was priced.
   */
  assets?: ReadonlyMap<string, Dec | null>;
}

/** A transfer, signed: positive for a deposit, negative for a withdrawal. */
export interface TransferPoint {
  at: Date;
  /** Needed only to leave the transfer out with its asset; see `excludedAssets`. */
  asset?: string;
  usdValue: Dec;
  /** usdValue / btc_usd_price at the time of the transfer. */
  btcValue: Dec;
  /** usdValue in the display currency at the transfer's time; null or absent without a price. */
  displayValue?: Dec | null;
}

/** A transfer of an asset that had no price when it was recorded. */
export interface UnpricedTransfer {
  at: Date;
  asset: string;
}

/** Money moved of one asset inside one window: signed sums, and whether a move had no price. */
export interface AssetMoves {
  usd: Dec;
  btc: Dec;
  /** In the display currency; null when a transfer of it had no display price. */
  display?: Dec | null;
  /** true when a transfer of the asset in the window had no price: the asset is left out. */
  unpriced: boolean;
}

/** Per asset; a transfer given without an asset is kept under `''` and never left out. */
export type WindowMoves = ReadonlyMap<string, AssetMoves>;

/** What each window moved: after its start snapshot, up to the latest. */
export interface MovedSums {
  day: WindowMoves;
  period: WindowMoves;
  total: WindowMoves;
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
  /** Unpriced transfers in the same span; each leaves its asset out of its windows. */
  unpricedTransfers?: UnpricedTransfer[];
  /**
   * The same transfers already summed per window and asset (storage sums them in SQL, so an
   * account's years of transfers are never read). When given, `transfers` and
   * `unpricedTransfers` are not read.
   */
  moved?: MovedSums;
}

export interface WindowFigures {
  profit: Dec;
  /** Unrounded; formatting rounds it. */
  percentage: Dec;
  /**
   * What the percentage is relative to: the window's start value plus what was moved in. Several
   * accounts' windows add up by summing their profits and their bases (the summary account).
   */
  base: Dec;
}

export interface CurrencyFigures {
  amount: Dec;
  day: WindowFigures;
  period: WindowFigures;
  total: Dec;
}

/** Figures in the display currency; null where a price it needs is missing (never guessed). */
export interface DisplayFigures {
  amount: Dec | null;
  day: WindowFigures | null;
  period: WindowFigures | null;
  total: Dec | null;
}

export interface Valuation {
  usd: CurrencyFigures;
  btc: CurrencyFigures;
  display: DisplayFigures;
}

/**
 * Sums of transfer values are exact: enough digits for any realistic sum of 80-place values,
 * so the order of addition never matters and SQL's numeric sums give the same digits.
 */
const Exact = Dec.clone({ precision: 1000 });
/** A transfer's BTC value keeps this many decimals (rounded half away from zero, as numeric). */
export const TRANSFER_BTC_PLACES = 80;

/**
 * A transfer's signed values, as storage computes them in SQL: USD exactly, BTC as USD divided
 * by the BTC price at the transfer's time, rounded to `TRANSFER_BTC_PLACES` decimals.
 */
export function transferValues(
  amount: string,
  usdPrice: string,
  btcUsdPrice: string,
  kind: 'deposit' | 'withdrawal',
  displayUsdPrice?: string | null,
): { usdValue: Dec; btcValue: Dec; displayValue: Dec | null } {
  const usd = new Exact(amount).times(usdPrice).times(kind === 'deposit' ? 1 : -1);
  const inUnits = (price: string) =>
    new Dec(usd.dividedBy(price).toDecimalPlaces(TRANSFER_BTC_PLACES, Dec.ROUND_HALF_UP));
  return {
    usdValue: new Dec(usd),
    btcValue: inUnits(btcUsdPrice),
    displayValue: displayUsdPrice ? inUnits(displayUsdPrice) : null,
  };
}

type Currency = 'usd' | 'btc' | 'display';

/** A USD value in `currency` at a snapshot; null when it has no display price. */
const toCurrency = (usd: Dec, at: SnapshotPoint, currency: Currency): Dec | null => {
  if (currency === 'usd') return usd;
  if (currency === 'btc') return usd.dividedBy(at.btcUsdPrice);
  return at.displayUsdPrice ? usd.dividedBy(at.displayUsdPrice) : null;
};

const unpricedIn = (point: SnapshotPoint): string[] =>
  [...(point.assets ?? [])].filter(([, usd]) => usd === null).map(([asset]) => asset);

/**
 * The assets a window from `start` to `end` leaves out: those held without a price at either
 * end, and those moved without a price inside it. Its value would otherwise appear or vanish
 * with its price route (or its unvalued move) and show as profit or loss. An asset not held at
 * one end is worth zero there whatever its price, so it stays in.
 */
function excludedAssets(start: SnapshotPoint, end: SnapshotPoint, moves: WindowMoves) {
  return new Set([
    ...unpricedIn(start),
    ...unpricedIn(end),
    ...[...moves].filter(([, m]) => m.unpriced).map(([asset]) => asset),
  ]);
}

/** Sums a window's transfers (after `start`, up to `end`) per asset, exactly. */
export function sumWindow(input: ValuationInput, start: SnapshotPoint, end: SnapshotPoint) {
  const moves = new Map<string, AssetMoves>();
  const inside = (t: { at: Date }) => t.at > start.at && t.at <= end.at;
  const entry = (asset: string) => {
    const known = moves.get(asset);
    if (known) return known;
    const created: AssetMoves = {
      usd: new Exact(0),
      btc: new Exact(0),
      display: new Exact(0),
      unpriced: false,
    };
    moves.set(asset, created);
    return created;
  };
  for (const t of input.transfers.filter(inside)) {
    const sums = entry(t.asset ?? '');
    sums.usd = sums.usd.plus(t.usdValue);
    sums.btc = sums.btc.plus(t.btcValue);
    sums.display = t.displayValue && sums.display ? sums.display.plus(t.displayValue) : null;
  }
  for (const t of (input.unpricedTransfers ?? []).filter(inside)) entry(t.asset).unpriced = true;
  return moves;
}

/** USD value of a snapshot without the excluded assets. */
function usdValueWithout(point: SnapshotPoint, excluded: ReadonlySet<string>): Dec {
  let value = point.usdValue;
  for (const asset of excluded) value = value.minus(point.assets?.get(asset) ?? 0);
  return value;
}

/**
 * Values an account from the snapshots that bound its windows. Money moved in or out is not
 * profit, so each window subtracts the transfers it contains; the first snapshot counts as the
 * first deposit, which makes the total profit "value now − net amount put in". Each window is
 * measured over the assets it can value at both ends (see `excludedAssets`).
 */
export function valueAccount(input: ValuationInput): Valuation {
  const { latest } = input;
  if (!latest) return { usd: zeroFigures(), btc: zeroFigures(), display: zeroFigures() };
  const first = input.first ?? latest;
  // A window reaching back before the account's first snapshot starts at that snapshot.
  const dayStart = input.dayStart ?? first;
  const periodStart = input.periodStart ?? first;

  const moved = input.moved ?? {
    day: sumWindow(input, dayStart, latest),
    period: sumWindow(input, periodStart, latest),
    total: sumWindow(input, first, latest),
  };

  /** A window's figures in `currency`; null when a display price it needs is missing. */
  const window = (start: SnapshotPoint, moves: WindowMoves, currency: Currency) => {
    const excluded = excludedAssets(start, latest, moves);
    const end = toCurrency(usdValueWithout(latest, excluded), latest, currency);
    const begin = toCurrency(usdValueWithout(start, excluded), start, currency);
    const kept = [...moves].filter(([asset]) => !excluded.has(asset)).map(([, m]) => m[currency]);
    if (end === null || begin === null || kept.some((m) => m === null || m === undefined)) {
      return null;
    }
    // Money moved in or out after `start` (up to the latest snapshot) is not profit.
    const movedIn = new Dec(kept.reduce((sum: Dec, m) => sum.plus(m ?? 0), new Exact(0)));
    const profit = end.minus(begin).minus(movedIn);
    const base = begin.plus(movedIn);
    return { profit, percentage: percentage(profit, base), base };
  };
  const figures = (currency: Currency) => ({
    amount: toCurrency(latest.usdValue, latest, currency),
    day: window(dayStart, moved.day, currency),
    period: window(periodStart, moved.period, currency),
    total: window(first, moved.total, currency)?.profit ?? null,
  });
  // USD and BTC always have their prices: every snapshot and priced transfer stores both.
  const known = (f: DisplayFigures): CurrencyFigures => ({
    amount: f.amount ?? new Dec(0),
    day: f.day ?? zeroWindow(),
    period: f.period ?? zeroWindow(),
    total: f.total ?? new Dec(0),
  });
  return { usd: known(figures('usd')), btc: known(figures('btc')), display: figures('display') };
}

/**
 * Profit relative to the window's base: what it started with plus what was moved in. A base of
 * zero or less (everything withdrawn, or more withdrawn than the start) has no meaningful ratio
 * — the sign would flip or the division fail — so it reports 0; the profit itself stays exact.
 */
export function percentage(profit: Dec, base: Dec): Dec {
  return base.lte(0) ? new Dec(0) : profit.times(100).dividedBy(base);
}

function zeroWindow(): WindowFigures {
  return { profit: new Dec(0), percentage: new Dec(0), base: new Dec(0) };
}

function zeroFigures(): CurrencyFigures {
  const zero = new Dec(0);
  return { amount: zero, day: zeroWindow(), period: zeroWindow(), total: zero };
}

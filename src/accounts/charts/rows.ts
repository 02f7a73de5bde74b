import { Dec, formatAmount, toDouble } from '../../valuation/index.ts';
import type { PieChartItem, TableRow } from './schemas.ts';
import type { ValuedAsset } from './values.ts';

/** JSON number from an exact decimal, rounded half away from zero to `places`. */
const rounded = (d: Dec, places: number) => toDouble(d.toDecimalPlaces(places, Dec.ROUND_HALF_UP));

/**
 * We store no currency names (ccxt has them only from an exchange's currency endpoint, a network
 * call per request): the name is the code, as the table's `currency_name` is.
 */
const nameOf = (code: string) => code;

/** Largest share first; ties by exact value, then account and code, so the order is stable. */
function byShare(a: ValuedAsset, b: ValuedAsset): number {
  const value = (x: ValuedAsset) => x.usdValue ?? new Dec(-1);
  return (
    value(b).comparedTo(value(a)) || a.accountId - b.accountId || a.asset.localeCompare(b.asset)
  );
}

/**
 * One slice per priced asset (per account, for the summary). An asset without a price has no
 * value and so no slice; the slices' exact display amounts add up to the account's value.
 */
export function pieItems(assets: ValuedAsset[]): PieChartItem[] {
  return assets
    .filter((a) => a.usdValue !== null && !a.amount.isZero())
    .sort(byShare)
    .map((a) => {
      const percentage = rounded(a.share ?? new Dec(0), 2);
      return {
        code: a.asset,
        coinmarketcapid: null,
        name: nameOf(a.asset),
        y: percentage,
        percentage,
        amount: toDouble(a.amount),
        btc_value: (a.btcValue ?? new Dec(0)).toFixed(8, Dec.ROUND_HALF_UP),
        usd_value: (a.usdValue ?? new Dec(0)).toFixed(2, Dec.ROUND_HALF_UP),
        primary_display_currency: {
          currency: a.shown?.currency ?? 'USD',
          amount: formatAmount(a.shown?.amount ?? new Dec(0)),
        },
        account_id: a.accountId,
      };
    });
}

const number = (d: Dec | null) => (d === null ? null : toDouble(d));

/**
 * One row per asset held (per account, for the summary), priced ones by share first. Snapshots
 * store each asset's total only (this service does not trade), so nothing is on orders or
 * borrowed, and the whole position is available. An asset without a price keeps its position;
 * its price-derived figures are null rather than a made-up 0.
 */
export function tableRows(assets: ValuedAsset[]): TableRow[] {
  return [...assets].sort(byShare).map((a) => {
    const position = toDouble(a.amount);
    return {
      currency_code: a.asset,
      currency_name: nameOf(a.asset),
      percentage: number(a.share),
      position,
      position_available: position,
      position_type: 0,
      borrowed: 0,
      on_orders: 0,
      on_orders_with_leverage: 0,
      on_orders_long: 0,
      on_orders_short: 0,
      equity: position,
      current_price: number(a.btcPrice),
      current_price_usd: number(a.usdPrice),
      day_change_percent: number(a.dayChange.display),
      day_change_percent_btc: number(a.dayChange.btc),
      day_change_percent_usd: number(a.dayChange.usd),
      btc_value: number(a.btcValue),
      usd_value: number(a.usdValue),
      available_long: 0,
      available_short: 0,
      available_with_leverage_long: 0,
      available_with_leverage_short: 0,
      account_id: a.accountId,
      is_wallet: a.isWallet,
    };
  });
}

import { Dec } from '../../valuation/index.ts';
import type { AccountHoldings, HeldAt, Holding } from './holdings.ts';

/** One priced asset of one account, valued exactly; rounding happens only at the edge. */
export interface ValuedAsset {
  accountId: number;
  isWallet: boolean;
  asset: string;
  amount: Dec;
  /** null: held without a price, so it has no value (the list leaves it out too). */
  usdPrice: Dec | null;
  btcPrice: Dec | null;
  usdValue: Dec | null;
  btcValue: Dec | null;
  /** The value in the display currency and the currency it is in (USD when it has no price). */
  shown: { currency: string; amount: Dec } | null;
  /** Percent share of the caller's total USD value (the account's, or the summary's). */
  share: Dec | null;
  /** Percent change of its price since the day window's start, per currency; null: unknown. */
  dayChange: { usd: Dec | null; btc: Dec | null; display: Dec | null };
}

/**
 * Values every asset of the accounts' latest snapshots. An asset's USD value is amount × price,
 * exactly, so the values of an account add up to the stored `usd_value` the list shows as
 * `usd_amount`; BTC divides by the snapshot's BTC price, as the list's `btc_amount` does.
 */
export function valueAssets(
  accounts: AccountHoldings[],
  displayCurrency: string,
  isWallet: (accountId: number) => boolean,
): ValuedAsset[] {
  const assets = accounts.flatMap(({ account, latest, dayStart }) =>
    latest === null
      ? []
      : [...latest.assets.values()].map((holding) =>
          valueOne(account.id, isWallet(account.id), holding, latest, dayStart, displayCurrency),
        ),
  );
  const total = assets.reduce((sum, a) => (a.usdValue ? sum.plus(a.usdValue) : sum), new Dec(0));
  for (const asset of assets) {
    if (asset.usdValue === null) continue;
    asset.share = total.isZero() ? new Dec(0) : asset.usdValue.times(100).dividedBy(total);
  }
  return assets;
}

function valueOne(
  accountId: number,
  wallet: boolean,
  { asset, amount, usdPrice }: Holding,
  latest: HeldAt,
  dayStart: HeldAt | null,
  displayCurrency: string,
): ValuedAsset {
  const usdValue = usdPrice === null ? null : amount.times(usdPrice);
  const btcValue = usdValue === null ? null : usdValue.dividedBy(latest.btcUsdPrice);
  return {
    accountId,
    isWallet: wallet,
    asset,
    amount,
    usdPrice,
    btcPrice: usdPrice === null ? null : usdPrice.dividedBy(latest.btcUsdPrice),
    usdValue,
    btcValue,
    shown: usdValue === null ? null : inDisplay(usdValue, btcValue, latest, displayCurrency),
    share: null,
    dayChange: dayChange(asset, latest, dayStart, displayCurrency),
  };
}

/** As the list shows its amount: in the display currency, else in USD labelled so. */
function inDisplay(usd: Dec, btc: Dec | null, at: HeldAt, currency: string) {
  if (currency === 'USD') return { currency, amount: usd };
  if (currency === 'BTC' && btc !== null) return { currency, amount: btc };
  if (at.displayUsdPrice) return { currency, amount: usd.dividedBy(at.displayUsdPrice) };
  return { currency: 'USD', amount: usd };
}

/**
 * The change of one unit's price from the snapshot that starts the list's day window to the
 * latest, in percent. Unknown (null) where either end has no price for it, or the asset was not
 * held at the start (no price was recorded for it then).
 */
function dayChange(asset: string, latest: HeldAt, start: HeldAt | null, currency: string) {
  const now = latest.assets.get(asset)?.usdPrice ?? null;
  const then = start?.assets.get(asset)?.usdPrice ?? null;
  if (start === null || now === null || then === null || then.isZero()) {
    return { usd: null, btc: null, display: null };
  }
  const change = (a: Dec, b: Dec) => (b.isZero() ? null : a.minus(b).times(100).dividedBy(b));
  const usd = change(now, then);
  const btc = change(now.dividedBy(latest.btcUsdPrice), then.dividedBy(start.btcUsdPrice));
  const display =
    currency === 'USD'
      ? usd
      : currency === 'BTC'
        ? btc
        : latest.displayUsdPrice && start.displayUsdPrice
          ? change(now.dividedBy(latest.displayUsdPrice), then.dividedBy(start.displayUsdPrice))
          : null;
  return { usd, btc, display };
}

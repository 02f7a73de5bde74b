import { Dec } from '../valuation/index.ts';

/** Dollar stablecoins, in the order their pairs are preferred when an asset has no USD pair. */
export const USD_STABLECOINS: readonly string[] = [
  'USDT',
  'USDC',
  'FDUSD',
  'DAI',
  'TUSD',
  'USDP',
  'PYUSD',
  'BUSD',
];

/** What an asset can be priced against: the quotes `priceTable`'s routes use. */
const ROUTE_QUOTES: ReadonlySet<string> = new Set(['USD', ...USD_STABLECOINS, 'BTC']);

/**
 * Whether `base/quote` is a pair `priceTable` may need to price `assets`: each asset's USD,
 * stablecoin and BTC pairs, and BTC's own (every BTC route goes through BTC/USD).
 */
export function pricingPair(assets: ReadonlySet<string>, base: string, quote: string): boolean {
  return (assets.has(base) || base === 'BTC') && ROUTE_QUOTES.has(quote);
}

/** One round's prices from one source: asset → USD price, and BTC/USD. Decimal strings. */
export interface PriceTable {
  btcUsd: string | null;
  usd: Record<string, string>;
}

/** A spot market's last trade price, e.g. `{ base: 'ETH', quote: 'USDT', last: '3000.5' }`. */
export interface Quote {
  base: string;
  quote: string;
  last: string;
}

/**
 * Every asset's USD price from one exchange's tickers. Routes, in order: ASSET/USD; ASSET/USDT
 * or another dollar stablecoin (taken at face value); ASSET/BTC × BTC/USD. A stablecoin with no
 * USD pair counts as 1 USD. An asset with no route is absent: it is never priced at 0.
 */
export function priceTable(quotes: Iterable<Quote>): PriceTable {
  const last = new Map<string, string>();
  const assets = new Set<string>();
  for (const quote of quotes) {
    if (!/[1-9]/.test(quote.last) || quote.last.startsWith('-')) continue;
    last.set(`${quote.base}/${quote.quote}`, quote.last);
    assets.add(quote.base);
    assets.add(quote.quote);
  }
  const direct = (asset: string): string | undefined => {
    if (asset === 'USD') return '1';
    const usd = last.get(`${asset}/USD`);
    if (usd !== undefined) return usd;
    for (const stable of USD_STABLECOINS) {
      const price = last.get(`${asset}/${stable}`);
      if (price !== undefined) return price;
    }
    return USD_STABLECOINS.includes(asset) ? '1' : undefined;
  };
  const btcUsd = direct('BTC') ?? null;
  const usd: Record<string, string> = {};
  for (const asset of assets) {
    const price = direct(asset) ?? viaBitcoin(last.get(`${asset}/BTC`), btcUsd);
    if (price !== undefined) usd[asset] = price;
  }
  for (const stable of USD_STABLECOINS) usd[stable] ??= '1';
  usd.USD = '1';
  if (btcUsd !== null) usd.BTC = btcUsd;
  return { btcUsd, usd };
}

function viaBitcoin(inBtc: string | undefined, btcUsd: string | null): string | undefined {
  if (inBtc === undefined || btcUsd === null) return undefined;
  return new Dec(inBtc).times(btcUsd).toFixed();
}

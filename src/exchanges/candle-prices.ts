import { USD_STABLECOINS } from '../prices/routes.ts';
import { Dec } from '../valuation/index.ts';

/** An asset's USD price and BTC/USD at one moment in the past, as decimal strings. */
export interface PricesAt {
  usd: string;
  btcUsd: string;
}

/** A spot market as ccxt lists it (the fields the routes need). */
export interface RouteMarket {
  symbol: string;
  base: string;
  quote: string;
  spot?: boolean;
}

/** The close of `symbol`'s candle containing `at` (ms), or null when the exchange has none. */
export type CloseAt = (symbol: string, at: number) => Promise<string | null>;

/**
 * `asset`'s USD price at `at` by `priceTable`'s routes, from candles instead of tickers: ASSET/USD;
 * ASSET/USDT or another dollar stablecoin at face value (a stablecoin without one counts 1 USD);
 * ASSET/BTC × BTC/USD. BTC/USD itself the same way. Null when no route has a candle then.
 */
export async function pricesAt(
  asset: string,
  at: number,
  markets: Record<string, RouteMarket>,
  closeAt: CloseAt,
): Promise<PricesAt | null> {
  const symbols = new Map(
    Object.values(markets)
      .filter((market) => market.spot !== false)
      .map((market) => [`${market.base}/${market.quote}`, market.symbol]),
  );
  const closeOf = async (base: string, quote: string): Promise<string | null> => {
    const symbol = symbols.get(`${base}/${quote}`);
    return symbol === undefined ? null : closeAt(symbol, at);
  };
  const direct = async (base: string): Promise<string | null> => {
    if (base === 'USD') return '1';
    for (const quote of ['USD', ...USD_STABLECOINS]) {
      const close = await closeOf(base, quote);
      if (close !== null) return close;
    }
    return USD_STABLECOINS.includes(base) ? '1' : null;
  };
  const btcUsd = await direct('BTC');
  if (btcUsd === null) return null;
  if (asset === 'BTC') return { usd: btcUsd, btcUsd };
  const usd = await direct(asset);
  if (usd !== null) return { usd, btcUsd };
  const close = await closeOf(asset, 'BTC');
  return close === null ? null : { usd: new Dec(close).times(btcUsd).toFixed(), btcUsd };
}

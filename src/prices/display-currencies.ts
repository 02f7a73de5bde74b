import { sql, type Expression } from 'kysely';
import type { Storage } from '../storage/database.ts';
import { Dec } from '../valuation/index.ts';
import { USD_STABLECOINS, type Quote } from './routes.ts';

/** Figures are valued in these two from every snapshot's own prices, as always. */
export const BASE_DISPLAY_CURRENCIES = ['USD', 'BTC'] as const;

/**
 * Well-known fiats and coins a user may display in, besides USD and BTC. A fixed catalog rather
 * than whatever an exchange quotes: the list is stable and can be named in an error, a setting
 * does not change meaning when one exchange delists a pair, and each round stores these few
 * prices only (not every asset it quotes). An account whose exchange does not quote one shows
 * the windows it cannot value in USD, labelled so.
 */
export const CATALOG_DISPLAY_CURRENCIES: readonly string[] = [
  // Fiats
  'EUR',
  'GBP',
  'JPY',
  'AUD',
  'CAD',
  'CHF',
  'CNY',
  'HKD',
  'SGD',
  'KRW',
  'INR',
  'BRL',
  'MXN',
  'ARS',
  'TRY',
  'PLN',
  'CZK',
  'SEK',
  'NOK',
  'DKK',
  'UAH',
  'RUB',
  'ZAR',
  'NGN',
  'IDR',
  'THB',
  'VND',
  'PHP',
  'AED',
  // Coins
  'ETH',
  'BNB',
  'SOL',
  'XRP',
  'ADA',
  'DOGE',
  'TRX',
  'LTC',
  'DOT',
  'AVAX',
];

export const DISPLAY_CURRENCIES: readonly string[] = [
  ...BASE_DISPLAY_CURRENCIES,
  ...CATALOG_DISPLAY_CURRENCIES,
];

/**
 * Each catalog currency's USD price of one unit from one round's tickers, where the exchange
 * quotes it: CUR/USD or CUR/a dollar stablecoin; else USD/CUR or stablecoin/CUR, inverted (how
 * exchanges list fiat: USDT/TRY); else CUR/BTC × BTC/USD. Absent when there is no such pair.
 */
export function displayUsdPrices(quotes: Iterable<Quote>): Record<string, string> {
  const last = new Map<string, string>();
  for (const quote of quotes) {
    if (!/[1-9]/.test(quote.last) || quote.last.startsWith('-')) continue;
    last.set(`${quote.base}/${quote.quote}`, quote.last);
  }
  const dollars = ['USD', ...USD_STABLECOINS];
  const direct = (currency: string) =>
    dollars.map((d) => last.get(`${currency}/${d}`)).find((p) => p !== undefined);
  const inverted = (currency: string) => {
    const price = dollars.map((d) => last.get(`${d}/${currency}`)).find((p) => p !== undefined);
    return price === undefined ? undefined : new Dec(1).dividedBy(price).toFixed();
  };
  const btcUsd = direct('BTC');
  const viaBitcoin = (currency: string) => {
    const inBtc = last.get(`${currency}/BTC`);
    return inBtc === undefined || btcUsd === undefined
      ? undefined
      : new Dec(inBtc).times(btcUsd).toFixed();
  };
  const prices: Record<string, string> = {};
  for (const currency of CATALOG_DISPLAY_CURRENCIES) {
    const price = direct(currency) ?? inverted(currency) ?? viaBitcoin(currency);
    if (price !== undefined) prices[currency] = price;
  }
  return prices;
}

/** Stores one round's display prices: one row per source and round, whatever the accounts. */
export async function recordDisplayPrices(
  storage: Storage,
  source: string,
  fetchedAt: Date,
  quotes: Iterable<Quote>,
): Promise<void> {
  const prices = displayUsdPrices(quotes);
  if (Object.keys(prices).length === 0) return;
  await storage.db
    .insertInto('display_prices')
    .values({ source, fetched_at: fetchedAt, usd_prices: JSON.stringify(prices) })
    .onConflict((conflict) => conflict.columns(['source', 'fetched_at']).doNothing())
    .execute();
}

/** How far from a moment a round's display price may be taken for it: about a round or two. */
export const DISPLAY_PRICE_REACH_MS = 60 * 60 * 1000;

/**
 * SQL for `currency`'s USD price at `at`, from the stored rounds: the account's own exchange's
 * (`source`) latest round at or before `at`, else its first round after (a snapshot taken on
 * demand, before any round, as when connecting); else any source's, the same way (wallets, or an
 * exchange without the pair). Never further than `DISPLAY_PRICE_REACH_MS`; NULL when none is.
 * Each probe is one descent of an index.
 */
export function displayUsdPriceAt(
  at: Expression<Date>,
  source: Expression<string>,
  currency: string,
) {
  const reach = sql`make_interval(secs => ${DISPLAY_PRICE_REACH_MS / 1000})`;
  const probe = (own: boolean, before: boolean) => sql`(SELECT (r.usd_prices->>${currency})::numeric
    FROM display_prices r WHERE ${own ? sql`r.source = ${source}` : sql`true`}
      AND r.usd_prices ? ${currency}
      AND ${
        before
          ? sql`r.fetched_at <= ${at} AND r.fetched_at >= ${at} - ${reach}`
          : sql`r.fetched_at > ${at} AND r.fetched_at <= ${at} + ${reach}`
      }
    ORDER BY r.fetched_at ${before ? sql`DESC` : sql`ASC`} LIMIT 1)`;
  return sql<string | null>`COALESCE(${probe(true, true)}, ${probe(true, false)},
    ${probe(false, true)}, ${probe(false, false)})`;
}

import type { MarketInterface as CcxtMarket } from 'ccxt';
import { AppError, invalid } from '../errors.ts';
import { toDecimal } from '../exchanges/connector.ts';
import { SourceError } from '../exchanges/failures.ts';
import type { BalanceSources } from '../sources/sources.ts';
import type { Storage } from '../storage/database.ts';
import { Dec, formatAmount } from '../valuation/index.ts';
import { findMarket, listMarkets, type Market, type MarketCredentials } from './catalog.ts';
import type {
  CurrencyRates,
  CurrencyRatesWithLeverage,
  FormField,
  LeverageType,
  MarketListItem,
  TypeToConnect,
} from './market-data-schema.ts';

// 3Commas' market-data endpoints (spec §3) and types_to_connect (§4.1), from the catalog and
// from each exchange's markets and tickers through ccxt. A figure we cannot know is left out.

/** The labels 3Commas' connect forms use. */
const API_KEY: FormField = { field: 'api_key', localized_name: 'API Key:' };
const SECRET: FormField = { field: 'secret', localized_name: 'Secret:' };
const PASSPHRASE: FormField = { field: 'passphrase', localized_name: 'Passphrase:' };
/**
 * 3Commas dropped `address` from its docs with its Ethereum wallets (2025-11); it is kept here
 * because our wallet markets are connected by their address alone (POST /new `address`), and a
 * client building the form from market_list must know to ask for it.
 */
const ADDRESS: FormField = { field: 'address', localized_name: 'Address:' };

const REQUIRED_FIELDS: Record<MarketCredentials, readonly FormField[]> = {
  api_key: [API_KEY, SECRET],
  api_key_passphrase: [API_KEY, SECRET, PASSPHRASE],
  address: [ADDRESS],
};

/**
 * Every catalog market as 3Commas' market_list item. Left out, since we cannot know them and
 * will not invent them: `market_url` (3Commas' referral link), `help_link` (its help pages),
 * `trusted_ips` and `trusted_ips_input_type` (3Commas' own servers' addresses; ours depend on
 * where this service runs), `third_party_allowed` (3Commas' partner programme) and
 * `fast_connect_action_name` (there is no fast-connect flow: keys are typed into a form).
 */
export function marketList(): MarketListItem[] {
  return listMarkets().map((market) => ({
    market_name: market.exchange_name,
    market_icon: market.market_icon,
    market_code: market.market_code,
    form_fields: { required: [...REQUIRED_FIELDS[market.credentials]], optional: [] },
    available_connection_flows: ['form'],
  }));
}

/** ccxt's precision modes (`base/functions/number.js`), without importing all of ccxt. */
const DECIMAL_PLACES = 2;
const TICK_SIZE = 4;

/** Tickers are shared this long: an anonymous endpoint must not turn N callers into N requests. */
const TICKER_REUSE_MS = 1000;

/** 3Commas' pair of a ccxt market: `QUOTE_BASE` (`USDT_BTC`) on every exchange. */
const pairOf = (market: CcxtMarket) => `${market.quote}_${market.base}`;

/** 3Commas' leverage type of a pair traded without leverage. */
const NO_LEVERAGE: LeverageType = {
  code: 'none',
  name: 'Not specified',
  can_set_leverage_value: false,
  max_leverage: null,
  available_leverage_values: [],
  valid: {},
};

const invalidValue = (field: string) => invalid(field, 'does not have a valid value');

export class MarketData {
  private readonly tickers = new Map<string, { at: number; rates: Promise<TickerRates> }>();

  constructor(
    private readonly sources: BalanceSources,
    private readonly storage: Storage,
  ) {}

  /** The exchange's tradable spot pairs in 3Commas' form, sorted. */
  async pairs(marketCode: string): Promise<string[]> {
    const { markets } = await this.spotMarkets(exchangeMarket(marketCode));
    const pairs = new Set(markets.filter((m) => m.active !== false).map(pairOf));
    return [...pairs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * Prices and order rules of one pair. Prices: a ticker read now through the connector, not the
   * price book's round, which keeps only each asset's USD price (no bid, no ask, no pair). Rules:
   * ccxt's precision and limits of the market, from the markets the sync already loaded.
   */
  async currencyRates(marketCode: string, pair: string): Promise<CurrencyRates> {
    const market = exchangeMarket(marketCode);
    const { markets, precisionMode } = await this.spotMarkets(market);
    const found = markets.find((m) => pairOf(m) === pair);
    if (!found) throw invalidValue('pair');
    const prices = await this.tickerRates(market, found.symbol);
    return { ...prices, instrumentKind: 'spot', ...orderRules(found, precisionMode) };
  }

  /**
   * currency_rates plus the pair's leverage types. Every market here is spot, where trading
   * has no leverage: the one type is 3Commas' own "none" entry (its leverage_data example),
   * which says so, rather than an empty list or invented margin limits.
   */
  async currencyRatesWithLeverage(
    marketCode: string,
    pair: string,
  ): Promise<CurrencyRatesWithLeverage> {
    return { ...(await this.currencyRates(marketCode, pair)), leverage_data: [NO_LEVERAGE] };
  }

  /**
   * The account types one connection would create: spot only here, so the market itself.
   * `connected`: the user already has it with this exchange key (or wallet address); unknown
   * without one. `unified` (Bybit's unified trading account) is not asked of the exchange: the
   * account is read the same either way.
   */
  async typesToConnect(
    userId: number,
    query: { type: string; api_key?: string | undefined; address?: string | undefined },
  ): Promise<TypeToConnect[]> {
    const market = findMarket(query.type);
    if (!market) throw invalidValue('type');
    const connected = await this.connectedWith(userId, market, query.api_key, query.address);
    return [{ type: market.market_code, connected, available: true, unified: false }];
  }

  private async connectedWith(
    userId: number,
    market: Market,
    apiKey: string | undefined,
    address: string | undefined,
  ): Promise<boolean> {
    if (apiKey === undefined && address === undefined) return false;
    const row = await this.storage.db
      .selectFrom('accounts')
      .select('id')
      .where('user_id', '=', userId)
      .where('market_code', '=', market.market_code)
      .where((eb) =>
        eb.or([
          ...(apiKey === undefined ? [] : [eb('exchange_api_key', '=', apiKey)]),
          ...(address === undefined ? [] : [eb('wallet_address', '=', address)]),
        ]),
      )
      .executeTakeFirst();
    return row !== undefined;
  }

  private spotMarkets(market: Market) {
    return reachable(market, () => this.sources.exchange(market.market_code).spotMarkets());
  }

  private tickerRates(market: Market, symbol: string): Promise<TickerRates> {
    const key = `${market.market_code} ${symbol}`;
    const now = Date.now();
    const held = this.tickers.get(key);
    if (held && now - held.at < TICKER_REUSE_MS) return held.rates;
    const rates = reachable(market, async () => {
      const ticker = await this.sources.exchange(market.market_code).fetchTicker(symbol);
      return definedOnly({
        last: decimalString(ticker?.last ?? ticker?.close),
        bid: decimalString(ticker?.bid),
        ask: decimalString(ticker?.ask),
      });
    });
    // Only the answer is shared: a failure is not kept for the next caller.
    rates.catch(() => this.tickers.delete(key));
    this.tickers.set(key, { at: now, rates });
    return rates;
  }
}

type TickerRates = Pick<CurrencyRates, 'last' | 'bid' | 'ask'>;

/** An exchange of the catalog, or the 400 naming `market_code` (wallets have no markets). */
function exchangeMarket(code: string): Market {
  const market = findMarket(code);
  if (market?.connector.type !== 'ccxt') throw invalidValue('market_code');
  return market;
}

/** An exchange that cannot be reached is our 503, with its Retry-After when it sent one. */
async function reachable<T>(market: Market, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    const failure = new AppError(
      'exchange_unavailable',
      `Could not reach ${market.exchange_name}: ${error.message}`,
    );
    if (error.retryAfterMs !== undefined) failure.retryAfter(error.retryAfterMs);
    throw failure;
  }
}

/**
 * 3Commas' order rules from ccxt's market. A step is ccxt's precision where it is a tick size (or
 * a number of decimals: 10^-n); a significant-digits precision has no fixed step and is left
 * out. A zero maximum is the exchange saying "no limit" (Binance's PRICE_FILTER), left out too.
 */
function orderRules(market: CcxtMarket, precisionMode: number | undefined) {
  const { limits, precision } = market;
  return definedOnly({
    minPrice: decimalString(limits.price?.min),
    maxPrice: positiveString(limits.price?.max),
    priceStep: stepString(precision.price, precisionMode),
    minLotSize: decimalString(limits.amount?.min),
    maxLotSize: positiveString(limits.amount?.max),
    lotStep: stepString(precision.amount, precisionMode),
    minTotal: decimalString(limits.cost?.min),
    maxTotal: positiveString(limits.cost?.max),
  });
}

/** A ccxt number as 3Commas writes decimals: exact, plain, integers with ".0" ("5.0"). */
function decimalString(value: number | undefined | null): string | undefined {
  const decimal = toDecimal(value);
  return decimal === null ? undefined : formatAmount(new Dec(decimal));
}

function positiveString(value: number | undefined | null): string | undefined {
  const text = decimalString(value);
  return text === undefined || new Dec(text).isZero() ? undefined : text;
}

function stepString(value: number | undefined, mode: number | undefined): string | undefined {
  if (mode === TICK_SIZE) return positiveString(value);
  if (mode === DECIMAL_PLACES && value !== undefined && Number.isInteger(value)) {
    return formatAmount(new Dec(10).pow(-value));
  }
  return undefined;
}

/** The object without its undefined fields: absent, not null, in the JSON. */
function definedOnly<T extends Record<string, string | undefined>>(fields: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

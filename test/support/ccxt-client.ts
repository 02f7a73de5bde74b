import ccxt, { type Exchange } from 'ccxt';
import { withOrigin } from '../../src/exchanges/origins.ts';
import { findMarket } from '../../src/markets/index.ts';
import type { MarketConnector } from '../../src/markets/catalog.ts';

// ccxt as the product builds it, for the stand-in pin tests: the market's ccxt class, unmodified,
// with the catalog's options, its API origin pointed at a stand-in.

export type CcxtConnector = Extract<MarketConnector, { type: 'ccxt' }>;

/** The catalog's ccxt connector for `market` (throws for any other kind). */
export function ccxtConnector(market: string): CcxtConnector {
  const connector = findMarket(market)?.connector;
  if (connector?.type !== 'ccxt') throw new Error(`${market} is not a ccxt market`);
  return connector;
}

/**
 * `market`'s ccxt class against the stand-in at `url`: the catalog's options, no rate limiting,
 * a 500 ms timeout unless `config` says otherwise, then `config` (credentials and the like).
 */
export function ccxtClient(market: string, url: string, config: object = {}): Exchange {
  const connector = ccxtConnector(market);
  const classes = ccxt as unknown as Record<string, new (config: object) => Exchange>;
  const exchange = new classes[connector.exchangeId]!({
    timeout: 500,
    enableRateLimit: false,
    ...config,
    options: { ...connector.options },
  });
  exchange.urls.api = withOrigin(exchange.urls.api, url) as typeof exchange.urls.api;
  return exchange;
}

/**
 * A keyed instance with markets loaded by a keyless one, as the product lends them; the
 * stand-in's request counts start again from there.
 */
export async function withLentMarkets<C>(
  client: (credentials?: C) => Exchange,
  credentials: C,
  standIn: { resetStats(): void },
): Promise<Exchange> {
  const shared = client();
  await shared.loadMarkets();
  const exchange = client(credentials);
  exchange.setMarkets(shared.markets, shared.currencies as never);
  standIn.resetStats();
  return exchange;
}

/** The error `promise` rejects with (fails if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

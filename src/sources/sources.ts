import type { BitcoinReader } from '../chains/bitcoin.ts';
import type { EthereumReader } from '../chains/ethereum.ts';
import { ConfigError, type SyncConfig } from '../config.ts';
import { ExchangeClients, type ExchangeCredentials } from '../exchanges/clients.ts';
import { ExchangeConnector } from '../exchanges/connector.ts';
import { ExchangePauses } from '../exchanges/pauses.ts';
import { DEFAULT_RETRY } from '../exchanges/retry.ts';
import { findMarket, type Market } from '../markets/index.ts';
import { FreshPrices } from '../prices/fresh-prices.ts';
import { PriceBook } from '../prices/price-book.ts';
import type { Storage } from '../storage/database.ts';
import type { AccountHoldings } from './types.ts';

/** Our budget per exchange API key when the catalog says nothing: safely under every exchange. */
const DEFAULT_KEY_REQUESTS_PER_SECOND = 4;

/** Tickers are re-read at most this often per exchange (and at least once per sync interval). */
const MAX_PRICE_AGE_MS = 60_000;

/** Where an account's balances come from. */
export type SourceTarget =
  | { market: Market; kind: 'exchange'; credentials: ExchangeCredentials }
  | { market: Market; kind: 'wallet'; address: string };

/**
 * Every remote source, built lazily from configuration: one connector (and one set of ccxt
 * instances) per exchange market, one reader per chain, and the shared price book. A chain's
 * reader is imported with the first wallet on it: viem costs a third of a second and tens of
 * megabytes, which a server without wallets never needs.
 */
export class BalanceSources {
  private readonly exchanges = new Map<string, ExchangeConnector>();
  private ethereumReader: Promise<EthereumReader> | undefined;
  private bitcoinReader: Promise<BitcoinReader> | undefined;
  /** Exchanges that asked this IP to stop, shared by every process on the database. */
  readonly pauses: ExchangePauses;
  /** Scheduled rounds' prices: one read per exchange, shared. */
  readonly prices: PriceBook;
  /** On-demand syncs' prices: the held assets' tickers, read for them. */
  readonly freshPrices: FreshPrices;

  constructor(
    storage: Storage,
    private readonly config: SyncConfig,
  ) {
    this.pauses = new ExchangePauses(storage);
    for (const code of [
      ...Object.keys(config.exchangeUrls),
      ...Object.keys(config.exchangeRateLimits),
      config.priceExchange,
    ]) {
      if (findMarket(code)?.connector.type !== 'ccxt') {
        throw new ConfigError(`"${code}" in the sync configuration is not an exchange market code`);
      }
    }
    this.prices = new PriceBook(
      storage,
      (source) => this.exchange(source).fetchQuotes(),
      Math.min(MAX_PRICE_AGE_MS, config.intervalMs),
    );
    this.freshPrices = new FreshPrices(
      this.prices,
      (source, assets) => this.exchange(source).fetchQuotes(assets),
      // Never older than a round's prices either.
      Math.min(config.freshPricesMs, config.intervalMs),
    );
  }

  exchange(marketCode: string): ExchangeConnector {
    let connector = this.exchanges.get(marketCode);
    if (!connector) {
      const market = findMarket(marketCode);
      if (market?.connector.type !== 'ccxt') throw new Error(`${marketCode} is not an exchange`);
      const clients = new ExchangeClients(
        market.connector,
        {
          origin: this.config.exchangeUrls[marketCode],
          rateLimitMs: this.config.exchangeRateLimits[marketCode],
          marketCode,
          timeoutMs: this.config.timeoutMs,
          keyRequestsPerSecond:
            market.connector.keyRequestsPerSecond ?? DEFAULT_KEY_REQUESTS_PER_SECOND,
        },
        this.pauses,
      );
      connector = new ExchangeConnector(clients, DEFAULT_RETRY);
      this.exchanges.set(marketCode, connector);
    }
    return connector;
  }

  /** Whose tickers price this market: an exchange prices itself; wallets use the price exchange. */
  priceSource(market: Market): string {
    return market.kind === 'exchange' ? market.market_code : this.config.priceExchange;
  }

  async fetchHoldings(target: SourceTarget): Promise<AccountHoldings> {
    if (target.kind === 'exchange') {
      return this.exchange(target.market.market_code).fetchHoldings(target.credentials);
    }
    if (target.market.connector.type !== 'chain') throw new Error('a wallet without a chain');
    const reader = target.market.connector.chain === 'ethereum' ? this.ethereum() : this.bitcoin();
    return { total: await (await reader).fetchHoldings(target.address), wallets: new Map() };
  }

  private ethereum(): Promise<EthereumReader> {
    this.ethereumReader ??= retriable(
      async () => {
        const [{ EthereumReader }, { loadTokenList }] = await Promise.all([
          import('../chains/ethereum.ts'),
          import('../chains/token-list.ts'),
        ]);
        return new EthereumReader(this.config.ethRpcUrl, loadTokenList(), this.config.timeoutMs);
      },
      () => (this.ethereumReader = undefined),
    );
    return this.ethereumReader;
  }

  private bitcoin(): Promise<BitcoinReader> {
    this.bitcoinReader ??= retriable(
      async () => {
        const { BitcoinReader } = await import('../chains/bitcoin.ts');
        return new BitcoinReader(this.config.btcEsploraUrl, this.config.timeoutMs);
      },
      () => (this.bitcoinReader = undefined),
    );
    return this.bitcoinReader;
  }
}

/** A reader that failed to build (a bad token list) is built again next time, not kept failed. */
function retriable<T>(build: () => Promise<T>, forget: () => void): Promise<T> {
  return build().catch((error: unknown) => {
    forget();
    throw error;
  });
}

import type { Exchange } from 'ccxt';
import type { MarketConnector, TransferHistoryRead, WalletRead } from '../markets/index.ts';
import { metrics } from '../ops/metrics.ts';
import { loadExchangeClass, type ExchangeClass } from './ccxt-modules.ts';
import { SourceError } from './failures.ts';
import { KeyLimiters } from './key-limiters.ts';
import { withOrigin } from './origins.ts';
import type { ExchangePauses } from './pauses.ts';

export interface ExchangeCredentials {
  apiKey: string;
  secret: string;
  /** ccxt's `password`: OKX, KuCoin and others call it a passphrase. */
  passphrase?: string | undefined;
}

export interface ExchangeSettings {
  /** Replaces the origin of every URL ccxt uses (testnet, proxy, local stand-in). */
  origin?: string | undefined;
  /** ccxt's `rateLimit` (ms per unit of request cost) for this IP; ccxt's default otherwise. */
  rateLimitMs?: number | undefined;
  timeoutMs: number;
  /** Our budget per API key, below what the exchange allows one key. */
  keyRequestsPerSecond: number;
  /** The 3Commas market code, for metrics; the ccxt id when absent. */
  marketCode?: string | undefined;
}

type CcxtConnector = Extract<MarketConnector, { type: 'ccxt' }>;

/** Markets change rarely; tickers are read every round. */
const MARKETS_TTL_MS = 60 * 60 * 1000;

/** Pushback shorter than this is waited out in this process; longer is stored for every one. */
export const STORED_PAUSE_MS = 10_000;

/** A request held back by a pause too long to wait out: the account is read after it. */
export class ExchangePaused extends SourceError {
  override name = 'ExchangePaused';

  constructor(
    readonly marketCode: string,
    message: string,
    retryAfterMs: number,
  ) {
    super('rate_limited', message, retryAfterMs);
  }
}

/**
 * The ccxt instances of one market in this process.
 *
 * - One public instance loads the markets and reads the tickers, and its limiter is the IP's
 *   budget: every request to the exchange from this process waits on it, so a thousand accounts
 *   on one exchange share the budget instead of each assuming it has all of it.
 * - Keyed instances are pooled and lent to one account at a time (a ccxt instance holds its
 *   credentials, so it is never shared by two requests at once). Building one costs milliseconds
 *   and half a megabyte, too much to do per account per round.
 * - Each key also waits on its own limiter: the exchange counts per key too.
 * - The exchange's ccxt class is imported when first needed, not with this process.
 */
export class ExchangeClients {
  private loading: Promise<{ Class: ExchangeClass; publicClient: Exchange }> | undefined;
  private readonly idle: Exchange[] = [];
  private marketsLoad: Promise<void> | undefined;
  private marketsLoadedAt = 0;
  private marketsVersion = 0;
  private readonly versions = new WeakMap<Exchange, number>();
  /** Each pooled instance's options as built, restored after every loan. */
  private readonly pristineOptions = new WeakMap<Exchange, Record<string, unknown>>();
  private readonly keyLimiters: KeyLimiters;
  /** Set from a 418/429 with Retry-After: nothing goes to the exchange before then. */
  private pausedUntil = 0;
  /** The HTTP status of each instance's last answer (ccxt's errors do not carry it). */
  private readonly lastStatus = new WeakMap<Exchange, number>();

  constructor(
    private readonly connector: CcxtConnector,
    private readonly settings: ExchangeSettings,
    /** Pauses shared with every process on the database; this process's memory only without. */
    private readonly pauses?: ExchangePauses,
  ) {
    this.keyLimiters = new KeyLimiters(settings.keyRequestsPerSecond);
  }

  /** The wallets an account of this market is read from. */
  get wallets(): readonly WalletRead[] {
    return this.connector.wallets;
  }

  /** How this market's deposit and withdrawal history is read (the catalog's description). */
  get transferHistory(): TransferHistoryRead {
    return this.connector.transfers ?? {};
  }

  /** Codes this market holds assets under that stand for another asset (the catalog's). */
  get assetAliases(): NonNullable<CcxtConnector['assetAliases']> {
    return this.connector.assetAliases ?? [];
  }

  /** The instance for public calls (built once the exchange's class is loaded). */
  async publicClient(): Promise<Exchange> {
    return (await this.loaded()).publicClient;
  }

  private loaded(): Promise<{ Class: ExchangeClass; publicClient: Exchange }> {
    this.loading ??= loadExchangeClass(this.connector.exchangeId).then((Class) => ({
      Class,
      publicClient: this.build(Class),
    }));
    return this.loading;
  }

  /** Loads (or reuses, for an hour) the exchange's markets. */
  async loadMarkets(): Promise<void> {
    const publicClient = await this.publicClient();
    const stale = Date.now() - this.marketsLoadedAt > MARKETS_TTL_MS;
    if (!this.marketsLoad || stale) {
      await this.waitUntilUnpaused();
      const load = publicClient.loadMarkets(true).then((markets) => {
        // ccxt turns an unreadable answer into no markets at all, and would keep that.
        if (Object.keys(markets ?? {}).length === 0) {
          throw new SourceError('unavailable', `${publicClient.id}: no markets in the answer`);
        }
        this.marketsLoadedAt = Date.now();
        this.marketsVersion += 1;
      });
      this.marketsLoad = load.catch((error: unknown) => {
        this.marketsLoad = undefined;
        throw error;
      });
    }
    await this.marketsLoad;
  }

  /** Lends a keyed instance to `work`, with the exchange's markets already loaded. */
  async withCredentials<T>(
    credentials: ExchangeCredentials,
    work: (client: Exchange) => Promise<T>,
  ): Promise<T> {
    await this.loadMarkets();
    const { Class, publicClient } = await this.loaded();
    const client = this.idle.pop() ?? this.build(Class);
    if (this.versions.get(client) !== this.marketsVersion) {
      client.setMarkets(publicClient.markets, publicClient.currencies as never);
      this.versions.set(client, this.marketsVersion);
    }
    client.apiKey = credentials.apiKey;
    client.secret = credentials.secret;
    client.password = credentials.passphrase ?? '';
    const keyLimiter = this.keyLimiters.for(credentials.apiKey);
    client.throttler = {
      throttle: async (cost?: number) => {
        await this.waitUntilUnpaused();
        await keyLimiter.throttle();
        await publicClient.throttler.throttle(cost);
      },
    };
    try {
      return await work(client);
    } finally {
      // Nothing learnt under one key may carry over to the next: ccxt keeps per-session
      // state in `options` (Binance: "has authenticated before", which turns a refused key
      // into a presumed temporary ban).
      client.apiKey = '';
      client.secret = '';
      client.password = '';
      client.last_response_headers = undefined;
      // Nor the key's accounts, which ccxt caches on the instance (Coinbase looks up each
      // currency's account id there): the next key would be read with them.
      Object.assign(client, { accounts: undefined, accountsById: undefined });
      this.lastStatus.delete(client);
      const pristine = this.pristineOptions.get(client);
      if (pristine) client.options = client.deepExtend({}, pristine);
      this.idle.push(client);
    }
  }

  /** Public calls (markets, tickers) wait on the IP budget only. */
  async withPublicClient<T>(work: (client: Exchange) => Promise<T>): Promise<T> {
    const publicClient = await this.publicClient();
    await this.waitUntilUnpaused();
    return work(publicClient);
  }

  private get marketCode(): string {
    return this.settings.marketCode ?? this.connector.exchangeId;
  }

  /**
   * The exchange asked us to stop (418/429 with Retry-After, a ban code): every caller waits. A
   * ban or a long pause is stored, so other processes and a restarted one hold back too.
   */
  async pause(untilMs: number, reason: string, banned = false): Promise<void> {
    if (this.pauses && (banned || untilMs - Date.now() > STORED_PAUSE_MS)) {
      try {
        // Stored, the pause is the database's alone: ended there, it ends here too.
        return await this.pauses.extend(this.marketCode, untilMs, reason);
      } catch {
        // Unstored (the database away), it still holds in this process.
      }
    }
    this.pausedUntil = Math.max(this.pausedUntil, untilMs);
  }

  /** The HTTP status of `client`'s last answer, if it got one. */
  statusOf(client: Exchange): number | undefined {
    return this.lastStatus.get(client);
  }

  /** Waits out a short pause; a long one fails the request at once, before it is sent. */
  private async waitUntilUnpaused(): Promise<void> {
    const stored = this.pauses ? await this.pauses.current(this.marketCode) : undefined;
    const until = Math.max(this.pausedUntil, stored?.until ?? 0);
    const wait = until - Date.now();
    if (wait <= 0) return;
    if (wait > STORED_PAUSE_MS) {
      const why = stored && stored.until >= until ? `: ${stored.reason}` : '';
      throw new ExchangePaused(
        this.marketCode,
        `${this.marketCode}: requests paused until ${new Date(until).toISOString()}${why}`,
        wait,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }

  /**
   * Counts the exchange's 429 (slow down) and 418 (IP banned) answers, retried ones included:
   * ccxt hands every REST answer's status to `onRestResponse` before its error mapping, which
   * turns exchange-specific bodies into the same DDoSProtection/RateLimitExceeded either way.
   */
  private countPushback(client: Exchange): void {
    const market = this.settings.marketCode ?? this.connector.exchangeId;
    const tooMany = metrics.exchangeRefusals.labels(market, '429');
    const banned = metrics.exchangeRefusals.labels(market, '418');
    const original = client.onRestResponse.bind(client);
    client.onRestResponse = (status: unknown, ...rest: unknown[]) => {
      if (typeof status === 'number') this.lastStatus.set(client, status);
      if (status === 429) tooMany.inc();
      else if (status === 418) banned.inc();
      return (original as (...args: unknown[]) => unknown)(status, ...rest);
    };
  }

  private build(Class: ExchangeClass): Exchange {
    const client = new Class({
      enableRateLimit: true,
      timeout: this.settings.timeoutMs,
      options: { ...this.connector.options },
      ...(this.settings.rateLimitMs === undefined ? {} : { rateLimit: this.settings.rateLimitMs }),
    });
    this.countPushback(client);
    if (this.settings.origin) {
      client.urls = {
        ...client.urls,
        api: withOrigin(client.urls.api, this.settings.origin) as typeof client.urls.api,
      };
    }
    this.pristineOptions.set(
      client,
      client.deepExtend({}, client.options) as Record<string, unknown>,
    );
    return client;
  }
}

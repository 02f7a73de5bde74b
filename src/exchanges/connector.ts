import type {
  Currencies,
  DepositAddress,
  Exchange,
  MarketInterface,
  Ticker,
  Transaction,
} from 'ccxt';
import type { AssetAlias, TransferRows, WalletRead } from '../markets/index.ts';
import type { AccountHoldings, Holdings, SourceTransfer } from '../sources/types.ts';
import { pricingPair, type Quote } from '../prices/routes.ts';
import { Dec } from '../valuation/index.ts';
import { ExchangePaused, type ExchangeClients, type ExchangeCredentials } from './clients.ts';
import { SourceError, classifyCcxtError, parseRetryAfter } from './failures.ts';
import { withRetry, type RetryPolicy } from './retry.ts';
import { readHistory, type HistoryCall } from './transfer-history.ts';
import { pricesAt, type PricesAt } from './candle-prices.ts';
import { readImplicitWallet } from './implicit-wallet.ts';

/** Where to resume reading deposits and withdrawals (exchange time); undefined = from the start. */
export interface TransferCursors {
  deposits?: Date | undefined;
  withdrawals?: Date | undefined;
}

export interface TransferReading {
  transfers: SourceTransfer[];
  /** Where the next read resumes; null where the exchange has no such history. */
  next: { deposits: Date | null; withdrawals: Date | null };
}

/** A transfer still in flight may complete later with an earlier timestamp: look back a day. */
const CURSOR_OVERLAP_MS = 24 * 60 * 60 * 1000;

type HistoryMethod = 'fetchDeposits' | 'fetchWithdrawals' | 'fetchDepositsWithdrawals';

/** A transfer is priced from its minute's candle, else the nearest coarser one kept. */
const CANDLE_TIMEFRAMES = ['1m', '1h', '1d'];

const NO_HISTORY = { deposits: null, withdrawals: null };

/** The earlier of two cursors; undefined (from the start) when either is. */
function oldest(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (!a || !b) return undefined;
  return a < b ? a : b;
}

/** A combined history's rows of one kind (ccxt's `type`). */
function ofType(rows: Transaction[], type: 'deposit' | 'withdrawal'): Transaction[] {
  return rows.filter((row) => row.type === type);
}

/**
 * The rows that are transfers, each on its side, where the catalog says how to tell (a history
 * that holds trade fills and rewards too); every row otherwise.
 */
function transfersOnly(rows: Transaction[], rule: TransferRows | undefined): Transaction[] {
  if (!rule) return rows;
  return rows.flatMap((row) => {
    const info: unknown = row.info;
    const type = field(info, rule.typeField);
    if (typeof type !== 'string' || !rule.transferTypes.includes(type)) return [];
    if (!rule.signField) return [row];
    const signed = field(info, rule.signField);
    if (typeof signed !== 'string' && typeof signed !== 'number') return [];
    const side = new Dec(signed);
    if (side.isZero()) return [];
    return [{ ...row, type: side.isNegative() ? 'withdrawal' : 'deposit' }];
  });
}

/** A dotted path into an exchange's own row, e.g. `amount.amount`. */
function field(row: unknown, path: string): unknown {
  let value = row;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * Reads one exchange through ccxt's unified API — the same code for every exchange in the
 * catalog. Numbers: ccxt hands back doubles; exchanges quote at most ~12 significant digits, which
 * a double and its shortest decimal form carry exactly, and from there on everything is decimal.
 */
export class ExchangeConnector {
  constructor(
    readonly clients: ExchangeClients,
    private readonly retry: RetryPolicy,
  ) {}

  /**
   * Total (free + in orders) of every asset the account holds, in every wallet the catalog names,
   * summed before anything is priced: a move between two wallets changes nothing.
   */
  async fetchHoldings(credentials: ExchangeCredentials): Promise<AccountHoldings> {
    const wallets = new Map<string, Holdings>();
    for (const [index, wallet] of this.clients.wallets.entries()) {
      try {
        const holdings = await this.fetchWallet(credentials, wallet);
        wallets.set(wallet.name, underAliases(holdings, this.clients.assetAliases));
      } catch (error) {
        // A wallet the key may not read is left out; any other failure fails the read, since a
        // wallet missing for one round would look like a withdrawal and then a deposit.
        const refused = error instanceof SourceError && error.kind === 'credentials';
        if (!(wallet.optional && index > 0 && refused)) throw error;
      }
    }
    return { total: sumWallets(wallets.values()), wallets };
  }

  private fetchWallet(credentials: ExchangeCredentials, wallet: WalletRead): Promise<Holdings> {
    return this.keyed(credentials, async (client) => {
      if (wallet.implicit) return readImplicitWallet(client, wallet.implicit, wallet.params);
      const balance = await client.fetchBalance({ ...wallet.params });
      // ccxt hands back an unparseable answer as its raw text, and an empty balance parsed
      // from it: that is not an empty account.
      if (balance.info === null || typeof balance.info !== 'object') {
        throw new SourceError('unavailable', `${client.id}: unreadable balance answer`);
      }
      const holdings: Holdings = new Map();
      for (const [asset, total] of Object.entries(balance.total ?? {})) {
        const amount = toDecimal(total);
        if (amount !== null && amount !== '0') holdings.set(asset, amount);
      }
      return holdings;
    });
  }

  /** Whether the history is read per currency: `fetchTransfers` then needs the assets. */
  get transfersByCurrency(): boolean {
    return this.clients.transferHistory.byCurrency === true;
  }

  /**
   * Completed deposits and withdrawals since the cursors, where the exchange offers them, read
   * completely (every page, as the catalog's `transfers` says). `assets`: the currencies to read
   * where the exchange needs one per call (those held now or in the previous snapshot).
   */
  async fetchTransfers(
    credentials: ExchangeCredentials,
    since: TransferCursors,
    assets: Iterable<string> = [],
  ): Promise<TransferReading> {
    const { has } = await this.clients.publicClient();
    const history = this.clients.transferHistory;
    const readAt = Date.now();
    const codes = history.byCurrency ? [...new Set(assets)].sort() : [undefined];
    const read = async (method: HistoryMethod, from: Date | undefined) => {
      const start = from ? from.getTime() - CURSOR_OVERLAP_MS : undefined;
      const rows: Transaction[] = [];
      for (const code of codes) {
        const call: HistoryCall = (callSince, limit, params) =>
          this.keyed(credentials, (client) => client[method](code, callSince, limit, params));
        rows.push(...transfersOnly(await readHistory(call, history, start, readAt), history.rows));
      }
      return rows;
    };
    if (codes.length === 0) {
      // Per currency with no currency to ask about: the cursors stay where they were.
      return {
        transfers: [],
        next: { deposits: since.deposits ?? null, withdrawals: since.withdrawals ?? null },
      };
    }
    if (history.calls === 'combined') {
      if (!has.fetchDepositsWithdrawals) return { transfers: [], next: NO_HISTORY };
      const older = oldest(since.deposits, since.withdrawals);
      const rows = await read('fetchDepositsWithdrawals', older);
      const deposits = toTransfers('deposit', ofType(rows, 'deposit'), readAt);
      const withdrawals = toTransfers('withdrawal', ofType(rows, 'withdrawal'), readAt);
      return {
        transfers: [...deposits.transfers, ...withdrawals.transfers],
        next: { deposits: deposits.next, withdrawals: withdrawals.next },
      };
    }
    const kindRead = async (kind: 'deposit' | 'withdrawal', from: Date | undefined) => {
      const supported = kind === 'deposit' ? has.fetchDeposits : has.fetchWithdrawals;
      if (!supported) return { transfers: [], next: null };
      const rows = await read(kind === 'deposit' ? 'fetchDeposits' : 'fetchWithdrawals', from);
      return toTransfers(kind, rows, readAt);
    };
    const deposits = await kindRead('deposit', since.deposits);
    const withdrawals = await kindRead('withdrawal', since.withdrawals);
    return {
      transfers: [...deposits.transfers, ...withdrawals.transfers],
      next: { deposits: deposits.next, withdrawals: withdrawals.next },
    };
  }

  /**
   * Each asset's USD price and BTC/USD at its own moment, from the exchange's candles: the
   * 1-minute candle containing it, else the nearest coarser one the exchange keeps (`pricesAt`'s
   * routes). Null for a moment no candle covers, and for all when the exchange has no candles.
   * Public requests, paced, paused and retried as the tickers are; one candle per request, each
   * read once per call.
   */
  async fetchPricesAt(
    moments: ReadonlyArray<{ asset: string; at: Date }>,
  ): Promise<Array<PricesAt | null>> {
    await withRetry(() => this.clients.loadMarkets(), classifyCcxtError, this.retry);
    const publicClient = await this.clients.publicClient();
    if (!publicClient.has.fetchOHLCV || moments.length === 0) return moments.map(() => null);
    const timeframes = CANDLE_TIMEFRAMES.filter((tf) => tf in (publicClient.timeframes ?? {}));
    const read = new Map<string, Promise<string | null>>();
    const candleClose = (symbol: string, timeframe: string, open: number) => {
      const key = `${symbol} ${timeframe} ${open}`;
      if (!read.has(key)) read.set(key, this.readCandleClose(symbol, timeframe, open));
      return read.get(key)!;
    };
    const closeAt = async (symbol: string, at: number) => {
      for (const timeframe of timeframes) {
        const duration = publicClient.parseTimeframe(timeframe) * 1000;
        const close = await candleClose(symbol, timeframe, at - (at % duration));
        if (close !== null) return close;
      }
      return null;
    };
    const markets = publicClient.markets ?? {};
    const prices: Array<PricesAt | null> = [];
    for (const { asset, at } of moments) {
      prices.push(await pricesAt(asset, at.getTime(), markets, closeAt));
    }
    return prices;
  }

  /** The close of the candle opening at `open`, or null when the exchange has none there. */
  private async readCandleClose(
    symbol: string,
    timeframe: string,
    open: number,
  ): Promise<string | null> {
    const candles = await this.publicRequest((client) =>
      client.fetchOHLCV(symbol, timeframe, open, 1),
    );
    const candle = candles.find((row) => row[0] === open);
    return toDecimal(candle?.[4]) ?? null;
  }

  /**
   * Last prices of every spot market (one request for the whole exchange), or, given `assets`,
   * of the pairs that can price them (`pricingPair`): the smaller read of an on-demand sync.
   */
  async fetchQuotes(assets?: ReadonlySet<string>): Promise<Quote[]> {
    await withRetry(() => this.clients.loadMarkets(), classifyCcxtError, this.retry);
    const publicClient = await this.clients.publicClient();
    const symbols = assets && pricingSymbols(publicClient.markets ?? {}, assets);
    if (symbols?.length === 0) return []; // nothing here can price them: no request
    const tickers = await this.publicRequest((client) => client.fetchTickers(symbols));
    if (Object.keys(tickers).length === 0) {
      // An unreadable or empty answer must not become a round of "no prices".
      throw new SourceError('unavailable', `${publicClient.id}: no tickers`);
    }
    const quotes: Quote[] = [];
    const markets = publicClient.markets ?? {};
    for (const ticker of Object.values(tickers)) {
      const market = ticker.symbol ? markets[ticker.symbol] : undefined;
      const last = toDecimal(ticker.last ?? ticker.close);
      if (!market || market.spot === false || last === null) continue;
      quotes.push({ base: market.base, quote: market.quote, last });
    }
    return quotes;
  }

  /**
   * The exchange's spot markets as ccxt parsed them (symbols, precision, limits), from the
   * markets the sync already loads (reloaded hourly), and ccxt's precision mode for reading them.
   */
  async spotMarkets(): Promise<{ markets: MarketInterface[]; precisionMode: number | undefined }> {
    await withRetry(() => this.clients.loadMarkets(), classifyCcxtError, this.retry);
    const publicClient = await this.clients.publicClient();
    const markets = Object.values(publicClient.markets ?? {}).filter(
      (m): m is MarketInterface => m?.spot === true,
    );
    return { markets, precisionMode: publicClient.precisionMode };
  }

  /**
   * One spot market's ticker, read now: the tickers request the price rounds make (every
   * catalog exchange serves it), narrowed to `symbol`. Undefined when the answer lacks it.
   */
  async fetchTicker(symbol: string): Promise<Ticker | undefined> {
    await withRetry(() => this.clients.loadMarkets(), classifyCcxtError, this.retry);
    const tickers = await this.publicRequest((client) => client.fetchTickers([symbol]));
    return tickers[symbol];
  }

  /** A public request, paced on the IP's budget, classified, paused and retried as tickers are. */
  private publicRequest<T>(work: (client: Exchange) => Promise<T>): Promise<T> {
    return this.request((attempt) => this.clients.withPublicClient(attempt), work);
  }

  /** The account's deposit address for `code` (on `network`, the exchange's id), with its keys. */
  fetchDepositAddress(
    credentials: ExchangeCredentials,
    code: string,
    network?: string,
  ): Promise<DepositAddress> {
    return this.keyed(credentials, async (client) => {
      // An address names its network only against the currencies' networks: a private read.
      const currencies = await client.fetchCurrencies();
      if (currencies && Object.keys(currencies).length > 0) {
        client.setMarkets(client.markets, currencies as never);
      }
      if (network === undefined) return client.fetchDepositAddress(code);
      // Callers name the exchange's own network id; ccxt takes its unified code.
      const networks = Object.values(currencies?.[code]?.networks ?? {});
      const unified = networks.find((entry) => entry.id === network)?.network;
      if (!unified) {
        throw new SourceError('error', `${client.id}: no network ${network} for ${code}`);
      }
      return client.fetchDepositAddress(code, { network: unified });
    });
  }

  /** Every currency with its networks, as the account's keys see them (a private call). */
  fetchCurrencies(credentials: ExchangeCredentials): Promise<Currencies> {
    return this.keyed(credentials, async (client) => (await client.fetchCurrencies()) ?? {});
  }

  private keyed<T>(
    credentials: ExchangeCredentials,
    work: (client: Exchange) => Promise<T>,
  ): Promise<T> {
    return this.request((attempt) => this.clients.withCredentials(credentials, attempt), work);
  }

  /**
   * One request on a client `lend` provides: its failure classified (pushback paused for every
   * caller), retried by the policy, and a short wait asked for held by the whole exchange.
   */
  private request<T>(
    lend: (attempt: (client: Exchange) => Promise<T>) => Promise<T>,
    work: (client: Exchange) => Promise<T>,
  ): Promise<T> {
    return withRetry(
      () =>
        lend(async (client) => {
          try {
            return await work(client);
          } catch (error) {
            throw await this.classify(error, client);
          }
        }),
      (error) => classifyCcxtError(error),
      this.retry,
      (delay) => void this.clients.pause(Date.now() + delay, 'rate limited'),
    );
  }

  /**
   * What went wrong, from the error and the answer it came with. Pushback with a time to wait
   * pauses the whole exchange for this IP before the error goes on: a ban or a long wait is
   * stored by then, so no other account (or process) sends a request meanwhile.
   */
  private async classify(error: unknown, client: Exchange): Promise<SourceError> {
    const headers = (client.last_response_headers ?? {}) as Record<string, unknown>;
    const status = this.clients.statusOf(client);
    const failure = classifyCcxtError(error, parseRetryAfter(headers['Retry-After']), status);
    // A request held back by a pause already known does not store it again.
    const pushback = !(failure instanceof ExchangePaused);
    if (pushback && failure.kind === 'rate_limited' && failure.retryAfterMs !== undefined) {
      await this.clients.pause(Date.now() + failure.retryAfterMs, failure.message, failure.banned);
    }
    return failure;
  }
}

/** Each asset's amount over every wallet, in decimal. */
function sumWallets(wallets: Iterable<Holdings>): Holdings {
  const sums = new Map<string, Dec>();
  for (const holdings of wallets) {
    for (const [asset, amount] of holdings) {
      sums.set(asset, (sums.get(asset) ?? new Dec(0)).plus(amount));
    }
  }
  return new Map([...sums].map(([asset, sum]) => [asset, sum.toFixed()]));
}

/**
 * Holdings under the assets their codes stand for (Kraken's staked `DOT.S` is DOT), summed in
 * decimal where several codes are one asset.
 */
function underAliases(holdings: Holdings, aliases: readonly AssetAlias[]): Holdings {
  if (aliases.length === 0) return holdings;
  const asset = (code: string) =>
    aliases.reduce((current, alias) => current.replace(alias.pattern, alias.asset), code);
  return sumWallets([...holdings].map(([code, amount]) => new Map([[asset(code), amount]])));
}

/** Beyond this many pairs, reading every ticker is cheaper for the exchange than naming them. */
const MAX_NAMED_SYMBOLS = 100;

/** The spot symbols that price `assets`; undefined (read all) when there are too many to name. */
function pricingSymbols(
  markets: Record<string, { symbol: string; base: string; quote: string; spot?: boolean }>,
  assets: ReadonlySet<string>,
): string[] | undefined {
  const symbols = Object.values(markets)
    .filter((market) => market.spot !== false && pricingPair(assets, market.base, market.quote))
    .map((market) => market.symbol);
  return symbols.length > MAX_NAMED_SYMBOLS ? undefined : symbols;
}

function toTransfers(
  kind: 'deposit' | 'withdrawal',
  rows: Transaction[],
  readAt: number,
): { transfers: SourceTransfer[]; next: Date } {
  const transfers: SourceTransfer[] = [];
  let oldestPending: number | null = null;
  for (const row of rows) {
    const id = row.id ?? row.txid;
    const amount = toDecimal(row.amount);
    const at = row.timestamp;
    if (!id || amount === null || amount === '0' || typeof at !== 'number' || !row.currency) {
      continue;
    }
    if (row.status === 'pending') {
      oldestPending = Math.min(oldestPending ?? at, at);
      continue;
    }
    if (row.status !== 'ok') continue;
    transfers.push({ id: `${kind}:${id}`, kind, asset: row.currency, amount, at: new Date(at) });
  }
  // Resume from this read (exchanges serve history in bounded windows from `since`, e.g. 90
  // days on Binance, so an old cursor would miss what came later), but never past a transfer
  // still pending: it may complete under its old timestamp.
  return { transfers, next: new Date(Math.min(oldestPending ?? readAt, readAt)) };
}

/**
 * A ccxt value as a decimal string: a double becomes the shortest decimal it was parsed from;
 * null when absent, not a number, infinite or negative. Never computed with as a number.
 */
export function toDecimal(value: number | string | undefined | null): string | null {
  if (value === undefined || value === null) return null;
  let decimal: Dec;
  try {
    decimal = new Dec(value);
  } catch {
    return null; // not a number at all
  }
  if (!decimal.isFinite() || decimal.isNegative()) return null;
  return decimal.toFixed();
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Dec } from '../../../src/valuation/index.ts';

// What every local exchange stand-in shares: the exchange's state (markets, prices, accounts by
// API key), per-key rate limiting, fault injection and request counting. Each protocol file
// (binance-server.ts, okx-server.ts) speaks its exchange's real REST dialect over this.
//
// Everything a request touches is a map lookup or a fixed-size ring: a benchmark drives ~10,000
// keys through one server, so nothing here scans all accounts.

export interface Balance {
  free: string;
  locked: string;
}

export interface Transfer {
  id: string;
  asset: string;
  amount: string;
  fee?: string;
  /** ms since the epoch */
  timestamp: number;
  status: 'ok' | 'pending';
}

/** The wallet `balances`, `setBalance` and `addAccount` mean when none is named. */
export const MAIN_WALLET = 'spot';

export interface FakeAccount {
  secret: string;
  passphrase?: string | undefined;
  /** The main wallet's ledger (the same map as `wallets.get(MAIN_WALLET)`). */
  balances: Map<string, Balance>;
  /**
   * Every wallet of the account by the stand-in's own name for it ('spot', 'funding', 'earn',
   * 'trading', 'main', 'trade', …): each protocol file serves the ones its exchange has.
   */
  wallets: Map<string, Map<string, Balance>>;
  deposits: Transfer[];
  withdrawals: Transfer[];
  revoked: boolean;
}

export interface NewAccount {
  secret: string;
  /** OKX (and other exchanges') passphrase. */
  passphrase?: string;
  /** The main wallet's balances; `locked` defaults to '0'. */
  balances?: Record<string, { free: string; locked?: string }>;
  /** Other wallets' balances, by wallet name. */
  wallets?: Record<string, Record<string, { free: string; locked?: string }>>;
}

export type FaultKind =
  | 'timeout'
  | 'status500'
  | 'status502'
  | 'rateLimit429'
  | 'ban418'
  | 'malformedJson'
  /** The usual answer, `delayMs` late (a slow exchange, a request still in flight). */
  | 'slow'
  /** The exchange's own refusal: `status` with `body` (an IP whitelist, a ban code…). */
  | 'answer';

export interface FaultRule {
  kind: FaultKind;
  /** Only requests whose path starts with this. */
  path?: string;
  /** Only requests carrying this API key. */
  apiKey?: string;
  /** How many requests it hits (default 1; Infinity: until replaced; 0: removes it). */
  times?: number;
  /** Sent as `Retry-After` with a 429 or 418. */
  retryAfterSeconds?: number;
  /** How late a `slow` answer comes (default 1000 ms). */
  delayMs?: number;
  /** The HTTP status and JSON body of an `answer`. */
  status?: number;
  body?: unknown;
}

export interface Stats {
  /** Every request that arrived, answered or not. */
  total: number;
  byPath: Record<string, number>;
  /** Requests carrying an API key (signed endpoints), by key. */
  byKey: Record<string, number>;
  /** Answers with HTTP 429: per-key limit and injected `rateLimit429`. */
  rateLimited: number;
  /** Requests that arrived while their key was over its per-key limit (each answered 429). */
  violations: number;
  /** Answers with HTTP 418 (injected `ban418`). */
  banned: number;
  /** Arrival of each request (the first 10,000 since the last reset): when, where, which key. */
  arrivals: Array<{ at: number; path: string; apiKey: string | undefined }>;
}

export interface ExchangeOptions {
  /** Each key may send this many requests in any one-second window; 429 past it. */
  perKeyRequestsPerSecond?: number;
  /** Delay before every answer. */
  latencyMs?: number;
  /** Spot markets listed from the start, with their last prices: `{ 'ETH/USDT': '3000.5' }`. */
  markets?: Record<string, string>;
  /**
   * The most rows one deposit or withdrawal history page holds, below the exchange's own maximum
   * (Binance 1000, OKX 100): paging is tested with a few transfers instead of a thousand.
   */
  historyPageCap?: number;
  /**
   * Candles shorter than an hour exist only from this time (ms), as exchanges keep minute
   * candles for a limited time: an older moment has only hourly and daily ones.
   */
  minuteCandlesFrom?: number;
}

/** A spread of spot markets quoted in USDT, USDC and BTC, for tests that need "some markets". */
export const SAMPLE_MARKETS: Readonly<Record<string, string>> = {
  'BTC/USDT': '60000',
  'ETH/USDT': '3000',
  'SOL/USDT': '150',
  'BTC/USDC': '60010',
  'ETH/USDC': '3001',
  'ETH/BTC': '0.05',
  'SOL/BTC': '0.0025',
};

export interface Market {
  base: string;
  quote: string;
}

/** The last `size` arrival times of one key, oldest overwritten first. */
interface ArrivalRing {
  times: number[];
  next: number;
}

const ARRIVALS_KEPT = 10_000;

/** The state behind a stand-in, and the handle tests drive it with. */
export class ExchangeState {
  readonly accounts = new Map<string, FakeAccount>();
  readonly prices = new Map<string, string>();
  /** Every price each symbol has had, oldest first: what candles are cut from. */
  readonly priceHistory = new Map<string, Array<{ at: number; last: string }>>();
  readonly markets = new Map<string, Market>();
  /** Best bid and ask per symbol, where a test set them; otherwise both are the last price. */
  readonly bookTops = new Map<string, { bid: string; ask: string }>();
  stats: Stats = emptyStats();
  private rules: Array<FaultRule & { left: number }> = [];
  private readonly rings = new Map<string, ArrivalRing>();
  /** The per-key limit as "at most `windowCount` requests in any `windowMs`". */
  private readonly windowCount: number;
  private readonly windowMs: number;

  constructor(readonly options: ExchangeOptions) {
    const perSecond = options.perKeyRequestsPerSecond;
    if (perSecond !== undefined && !(perSecond > 0)) {
      throw new Error(`perKeyRequestsPerSecond must be positive, got ${perSecond}`);
    }
    // 5/s: any 5 in 1000 ms; 0.5/s: any 1 in 2000 ms.
    this.windowCount = perSecond === undefined ? 0 : Math.max(1, Math.floor(perSecond));
    this.windowMs = perSecond === undefined ? 0 : (1000 * this.windowCount) / perSecond;
    for (const [symbol, last] of Object.entries(options.markets ?? {})) this.setPrice(symbol, last);
  }

  addAccount(apiKey: string, account: NewAccount): void {
    const ledger = (entries: Record<string, { free: string; locked?: string }> = {}) =>
      new Map<string, Balance>(
        Object.entries(entries).map(([asset, b]) => [
          asset,
          { free: b.free, locked: b.locked ?? '0' },
        ]),
      );
    const balances = ledger(account.balances);
    const wallets = new Map<string, Map<string, Balance>>([[MAIN_WALLET, balances]]);
    for (const [name, entries] of Object.entries(account.wallets ?? {})) {
      if (name !== MAIN_WALLET) wallets.set(name, ledger(entries));
    }
    this.accounts.set(apiKey, {
      secret: account.secret,
      passphrase: account.passphrase,
      balances,
      wallets,
      deposits: [],
      withdrawals: [],
      revoked: false,
    });
  }

  setBalance(
    apiKey: string,
    asset: string,
    free: string,
    locked = '0',
    wallet = MAIN_WALLET,
  ): void {
    this.wallet(apiKey, wallet).set(asset, { free, locked });
  }

  /** A wallet's ledger, created empty on first use. */
  wallet(apiKey: string, name: string): Map<string, Balance> {
    const { wallets } = this.account(apiKey);
    let ledger = wallets.get(name);
    if (!ledger) {
      ledger = new Map();
      wallets.set(name, ledger);
    }
    return ledger;
  }

  /** An internal transfer: `amount` of `asset` leaves one wallet's free balance for another's. */
  moveBetweenWallets(
    apiKey: string,
    asset: string,
    amount: string,
    from: string,
    to: string,
  ): void {
    const take = this.wallet(apiKey, from);
    const give = this.wallet(apiKey, to);
    const source = take.get(asset) ?? { free: '0', locked: '0' };
    const left = new Dec(source.free).minus(amount);
    if (left.isNegative()) throw new Error(`${from} holds only ${source.free} ${asset}`);
    take.set(asset, { ...source, free: left.toFixed() });
    const target = give.get(asset) ?? { free: '0', locked: '0' };
    give.set(asset, { ...target, free: new Dec(target.free).plus(amount).toFixed() });
  }

  addDeposit(apiKey: string, transfer: Transfer): void {
    this.account(apiKey).deposits.push(transfer);
  }

  addWithdrawal(apiKey: string, transfer: Transfer): void {
    this.account(apiKey).withdrawals.push(transfer);
  }

  revoke(apiKey: string): void {
    this.account(apiKey).revoked = true;
  }

  /** The best bid and ask of a listed market, e.g. `setBookTop('ETH/USDT', '2999.9', '3000.1')`. */
  setBookTop(symbol: string, bid: string, ask: string): void {
    if (!this.markets.has(symbol)) throw new Error(`not a listed market: ${symbol}`);
    this.bookTops.set(symbol, { bid, ask });
  }

  /**
   * Lists a spot market (if new) and sets its last price, e.g. `setPrice('ETH/USDT', '3000.5')`;
   * `at` (ms) back-dates it, for history (candles) before now.
   */
  setPrice(symbol: string, last: string, at = Date.now()): void {
    const [base, quote, extra] = symbol.split('/');
    if (!base || !quote || extra !== undefined) {
      throw new Error(`not a BASE/QUOTE symbol: ${symbol}`);
    }
    if (!/^\d+(\.\d+)?$/.test(last)) throw new Error(`not a decimal price: ${last}`);
    this.markets.set(symbol, { base, quote });
    const history = this.priceHistory.get(symbol) ?? [];
    history.push({ at, last });
    history.sort((a, b) => a.at - b.at);
    this.priceHistory.set(symbol, history);
    // The last price is the latest in time, whatever order prices were set in.
    this.prices.set(symbol, history[history.length - 1]?.last ?? last);
  }

  /**
   * The candles of `symbol` from `since` (ms), `intervalMs` each, at most `limit`, oldest first:
   * open, high, low, close of the prices set during each interval (the price in force at its start
   * when none was set). Intervals before the symbol's first price have no candle.
   */
  candles(
    symbol: string,
    since: number,
    intervalMs: number,
    limit: number,
  ): Array<{ openTime: number; open: string; high: string; low: string; close: string }> {
    const history = this.priceHistory.get(symbol) ?? [];
    const first = history[0];
    if (!first) return [];
    const start = Math.max(since - (since % intervalMs), first.at - (first.at % intervalMs));
    const result = [];
    for (let open = start; open <= Date.now() && result.length < limit; open += intervalMs) {
      if (intervalMs < 3_600_000 && open < (this.options.minuteCandlesFrom ?? -Infinity)) continue;
      const before = history.filter((p) => p.at <= open).at(-1);
      const during = history.filter((p) => p.at > open && p.at < open + intervalMs);
      const series = [...(before ? [before.last] : []), ...during.map((p) => p.last)];
      if (series.length === 0) continue;
      const sorted = [...series].sort((a, b) => new Dec(a).comparedTo(b));
      result.push({
        openTime: open,
        open: series[0]!,
        high: sorted.at(-1)!,
        low: sorted[0]!,
        close: series.at(-1)!,
      });
    }
    return result;
  }

  /** Adds a fault rule; `times: 0` removes the rules matching the same kind, path and key. */
  fail(rule: FaultRule): void {
    this.rules = this.rules.filter(
      (r) => !(r.kind === rule.kind && r.path === rule.path && r.apiKey === rule.apiKey),
    );
    const left = rule.times ?? 1;
    if (left > 0) this.rules.push({ ...rule, left });
  }

  resetStats(): void {
    this.stats = emptyStats();
  }

  account(apiKey: string): FakeAccount {
    const account = this.accounts.get(apiKey);
    if (!account) throw new Error(`no fake account with key ${apiKey}`);
    return account;
  }

  /** Counts the request and returns the fault to act out, if a rule matches. */
  admit(path: string, apiKey: string | undefined): FaultRule | undefined {
    const stats = this.stats;
    stats.total += 1;
    if (stats.arrivals.length < ARRIVALS_KEPT)
      stats.arrivals.push({ at: Date.now(), path, apiKey });
    stats.byPath[path] = (stats.byPath[path] ?? 0) + 1;
    if (apiKey) stats.byKey[apiKey] = (stats.byKey[apiKey] ?? 0) + 1;
    if (this.rules.length === 0) return undefined;
    const index = this.rules.findIndex(
      (r) =>
        (r.path === undefined || path.startsWith(r.path)) &&
        (r.apiKey === undefined || r.apiKey === apiKey),
    );
    const rule = this.rules[index];
    if (!rule) return undefined;
    rule.left -= 1;
    if (rule.left <= 0) this.rules.splice(index, 1);
    if (rule.kind === 'rateLimit429') stats.rateLimited += 1;
    if (rule.kind === 'ban418') stats.banned += 1;
    return rule;
  }

  /**
   * Whether this request puts its key past the per-key limit: a sliding window over the key's
   * last arrivals (refused ones included, as exchanges count them too). O(1) per request.
   */
  overLimit(apiKey: string): boolean {
    if (this.windowCount === 0) return false;
    const now = Date.now();
    let ring = this.rings.get(apiKey);
    if (!ring) {
      ring = { times: new Array<number>(this.windowCount).fill(-Infinity), next: 0 };
      this.rings.set(apiKey, ring);
    }
    // The arrival `windowCount` requests ago: still in the window means this one is one too many.
    const oldest = ring.times[ring.next] ?? -Infinity;
    ring.times[ring.next] = now;
    ring.next = (ring.next + 1) % this.windowCount;
    if (now - oldest >= this.windowMs) return false;
    this.stats.rateLimited += 1;
    this.stats.violations += 1;
    return true;
  }
}

const emptyStats = (): Stats => ({
  total: 0,
  byPath: {},
  byKey: {},
  rateLimited: 0,
  violations: 0,
  banned: 0,
  arrivals: [],
});

export type Handler = (request: IncomingMessage, url: URL, body: string) => Promise<Reply> | Reply;

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Send this text as is (a malformed or non-JSON answer). */
  raw?: string;
  /** Never answer. */
  hang?: boolean;
  /** Answer this late instead of after the server's usual latency. */
  delayMs?: number;
}

export interface RunningStandIn {
  url: string;
  close(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1 (a free port); close() also drops connections left hanging. */
export async function serve(handler: Handler, latencyMs = 0): Promise<RunningStandIn> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      void Promise.resolve()
        .then(() => handler(request, url, body))
        .then(
          (reply) => respond(response, reply, latencyMs),
          (error: unknown) => respond(response, { status: 500, body: { msg: String(error) } }, 0),
        );
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      (closing ??= new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      })),
  };
}

function respond(response: ServerResponse, reply: Reply, usualLatencyMs: number): void {
  if (reply.hang) return;
  const latencyMs = reply.delayMs ?? usualLatencyMs;
  const send = () => {
    if (response.destroyed) return;
    const text = reply.raw ?? JSON.stringify(reply.body);
    response.writeHead(reply.status, {
      'content-type': 'application/json;charset=UTF-8',
      ...reply.headers,
    });
    response.end(text);
  };
  if (latencyMs > 0) setTimeout(send, latencyMs);
  else send();
}

/** The answer a fault rule calls for; 429 and 418 carry the given (JSON) bodies. */
export function faultReply(rule: FaultRule, rateLimitBody: unknown, banBody: unknown): Reply {
  switch (rule.kind) {
    case 'timeout':
      return { status: 0, body: null, hang: true };
    case 'status500':
      return {
        status: 500,
        body: null,
        raw: 'Internal Server Error',
        headers: { 'content-type': 'text/plain' },
      };
    case 'status502':
      return {
        status: 502,
        body: null,
        raw: '<html>502 Bad Gateway</html>',
        headers: { 'content-type': 'text/html' },
      };
    case 'rateLimit429':
      return { status: 429, body: rateLimitBody, headers: retryAfter(rule) };
    case 'ban418':
      return { status: 418, body: banBody, headers: retryAfter(rule) };
    case 'malformedJson':
      return { status: 200, body: null, raw: '{"balances": [{"asset": "BTC", "free": ' };
    case 'slow': // answered by the route, late: see startStandIn
      return { status: 0, body: null, hang: true };
    case 'answer':
      return { status: rule.status ?? 400, body: rule.body ?? null, headers: retryAfter(rule) };
  }
}

const retryAfter = (rule: FaultRule): Record<string, string> =>
  rule.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(rule.retryAfterSeconds) };

/** What a test holds of a running stand-in: its URL, its knobs and its counters. */
export function standInHandle(state: ExchangeState, running: RunningStandIn) {
  return {
    url: running.url,
    close: running.close,
    get stats(): Stats {
      return state.stats;
    },
    resetStats: () => state.resetStats(),
    addAccount: (apiKey: string, account: NewAccount) => state.addAccount(apiKey, account),
    setBalance: (apiKey: string, asset: string, free: string, locked?: string, wallet?: string) =>
      state.setBalance(apiKey, asset, free, locked, wallet),
    moveBetweenWallets: (apiKey: string, asset: string, amount: string, from: string, to: string) =>
      state.moveBetweenWallets(apiKey, asset, amount, from, to),
    addDeposit: (apiKey: string, transfer: Transfer) => state.addDeposit(apiKey, transfer),
    addWithdrawal: (apiKey: string, transfer: Transfer) => state.addWithdrawal(apiKey, transfer),
    revoke: (apiKey: string) => state.revoke(apiKey),
    setPrice: (symbol: string, last: string, at?: number) => state.setPrice(symbol, last, at),
    setBookTop: (symbol: string, bid: string, ask: string) => state.setBookTop(symbol, bid, ask),
    fail: (rule: FaultRule) => state.fail(rule),
  };
}

export type StandInHandle = ReturnType<typeof standInHandle>;

/** `body` is the request's raw body (form or JSON), for exchanges whose private calls are POSTs. */
export type Route = (url: URL, apiKey: string | undefined, body: string) => Reply;

/** How one exchange's protocol differs; everything else about serving it is shared. */
export interface Protocol {
  /** The header carrying the API key (lower case). */
  apiKeyHeader: string;
  /** By path for GET; by `'POST /path'` (any method, a space, the path) for other methods. */
  routes: Record<string, Route>;
  /** Paths that need a signature. */
  signed: ReadonlySet<string>;
  /** The exchange's own refusal of a request's credentials, or undefined when they hold. */
  authenticate(
    request: IncomingMessage,
    url: URL,
    body: string,
    apiKey: string | undefined,
  ): Reply | undefined;
  notFound: Reply;
  /** The exchange's answer past a rate limit (status 429 and its own body). */
  rateLimited: Reply;
  /** The exchange's answer to a banned client (status 418). */
  banned: Reply;
  /** Headers for every answer to `path` (e.g. Binance's used weight); called once a request. */
  headers?: (path: string) => Record<string, string>;
  /**
   * The API key of a request, where no header carries it as is (Coinbase: the `sub` of the
   * JWT in `Authorization`); by default the `apiKeyHeader` value.
   */
  apiKeyOf?: (request: IncomingMessage) => string | undefined;
  /**
   * The route key of a path with ids in it (`/v2/accounts/abc/transactions` →
   * `/v2/accounts/{id}/transactions`), for `routes` and `signed`; by default the path itself.
   */
  routeOf?: (path: string) => string;
}

/**
 * Starts a stand-in. A request is counted, then meets the fault rules, the routes, the
 * signature checks (signed paths only) and the per-key limit, in that order.
 */
export async function startStandIn(state: ExchangeState, protocol: Protocol) {
  const reply = (request: IncomingMessage, url: URL, body: string, apiKey?: string): Reply => {
    const fault = state.admit(url.pathname, apiKey);
    if (fault?.kind === 'slow') {
      return { ...answer(request, url, body, apiKey), delayMs: fault.delayMs ?? 1000 };
    }
    if (fault) return exchangeFault(fault, protocol);
    return answer(request, url, body, apiKey);
  };
  const answer = (request: IncomingMessage, url: URL, body: string, apiKey?: string): Reply => {
    const method = request.method ?? 'GET';
    const path = protocol.routeOf?.(url.pathname) ?? url.pathname;
    const route = protocol.routes[method === 'GET' ? path : `${method} ${path}`];
    if (!route) return protocol.notFound;
    if (protocol.signed.has(path)) {
      const refused = protocol.authenticate(request, url, body, apiKey);
      if (refused) return refused;
      if (apiKey && state.overLimit(apiKey)) {
        return {
          ...protocol.rateLimited,
          headers: { ...protocol.rateLimited.headers, 'Retry-After': '1' },
        };
      }
    }
    return route(url, apiKey, body);
  };
  const running = await serve((request, url, body) => {
    const apiKey = protocol.apiKeyOf?.(request) ?? headerValue(request, protocol.apiKeyHeader);
    const answer = reply(request, url, body, apiKey);
    if (!protocol.headers || answer.hang) return answer;
    return { ...answer, headers: { ...protocol.headers(url.pathname), ...answer.headers } };
  }, state.options.latencyMs);
  return standInHandle(state, running);
}

/** A fault in the exchange's own words: its 429 and 418 answers, Retry-After when the rule has one. */
function exchangeFault(rule: FaultRule, protocol: Protocol): Reply {
  const own =
    rule.kind === 'rateLimit429'
      ? protocol.rateLimited
      : rule.kind === 'ban418'
        ? protocol.banned
        : undefined;
  if (!own) return faultReply(rule, null, null);
  return { ...own, headers: { ...own.headers, ...retryAfter(rule) } };
}

export function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Transfers between `from` and `to` (inclusive, ms), newest first, at most `limit`. */
export function transfersBetween(
  transfers: readonly Transfer[],
  options: { from?: number; to?: number; asset?: string | null; limit?: number },
): Transfer[] {
  const from = options.from ?? -Infinity;
  const to = options.to ?? Infinity;
  return transfers
    .filter(
      (t) =>
        t.timestamp >= from && t.timestamp <= to && (!options.asset || t.asset === options.asset),
    )
    .sort((a, b) => b.timestamp - a.timestamp)
    .slice(0, options.limit ?? Infinity);
}

/** A history page's size: what was asked, at most the exchange's maximum and the test's cap. */
export function historyPageSize(
  state: ExchangeState,
  asked: number | undefined,
  exchangeMax: number,
): number {
  return Math.min(asked ?? exchangeMax, exchangeMax, state.options.historyPageCap ?? Infinity);
}

/** A query parameter as a finite number, or undefined when absent or not a number. */
export function numberParam(url: URL, name: string): number | undefined {
  const text = url.searchParams.get(name);
  if (text === null || text === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

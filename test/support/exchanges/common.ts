import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

// What every local exchange stand-in shares: the exchange's state (markets, prices, accounts by
// API key), per-key rate limiting, fault injection and request counting. Each protocol file
// (binance-server.ts, okx-server.ts) speaks its exchange's real REST dialect over this.

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

export interface FakeAccount {
  secret: string;
  passphrase?: string | undefined;
  balances: Map<string, Balance>;
  deposits: Transfer[];
  withdrawals: Transfer[];
  revoked: boolean;
}

export type FaultKind =
  'timeout' | 'status500' | 'status502' | 'rateLimit429' | 'ban418' | 'malformedJson';

export interface FaultRule {
  kind: FaultKind;
  /** Only requests whose path starts with this. */
  path?: string;
  /** Only requests signed with this API key. */
  apiKey?: string;
  /** How many requests it hits (default 1; Infinity: until replaced; 0: removes it). */
  times?: number;
  retryAfterSeconds?: number;
}

export interface Stats {
  total: number;
  byPath: Record<string, number>;
  byKey: Record<string, number>;
  /** Requests answered 429 because their key was over its limit (or by a 429/418 rule). */
  rateLimited: number;
  /** Arrival of each request (the last 10,000): when, where, with which key. */
  arrivals: Array<{ at: number; path: string; apiKey: string | undefined }>;
}

export interface ExchangeOptions {
  /** Each key may send this many requests in any one-second window; 429 past it. */
  perKeyRequestsPerSecond?: number;
  /** Delay before every answer. */
  latencyMs?: number;
}

export interface Market {
  base: string;
  quote: string;
}

/** The state behind a stand-in, and the handle tests drive it with. */
export class ExchangeState {
  readonly accounts = new Map<string, FakeAccount>();
  readonly prices = new Map<string, string>();
  readonly markets = new Map<string, Market>();
  stats: Stats = emptyStats();
  private rules: Array<FaultRule & { left: number }> = [];
  private readonly windows = new Map<string, number[]>();

  constructor(readonly options: ExchangeOptions) {}

  addAccount(
    apiKey: string,
    account: {
      secret: string;
      passphrase?: string;
      balances?: Record<string, Partial<Balance> & { free: string }>;
    },
  ): void {
    const balances = new Map<string, Balance>();
    for (const [asset, balance] of Object.entries(account.balances ?? {})) {
      balances.set(asset, { free: balance.free, locked: balance.locked ?? '0' });
    }
    this.accounts.set(apiKey, {
      secret: account.secret,
      passphrase: account.passphrase,
      balances,
      deposits: [],
      withdrawals: [],
      revoked: false,
    });
  }

  setBalance(apiKey: string, asset: string, free: string, locked = '0'): void {
    this.account(apiKey).balances.set(asset, { free, locked });
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

  /** A spot market and its last price, e.g. `setPrice('ETH/USDT', '3000.5')`. */
  setPrice(symbol: string, last: string): void {
    const [base, quote] = symbol.split('/');
    if (!base || !quote) throw new Error(`not a BASE/QUOTE symbol: ${symbol}`);
    this.markets.set(symbol, { base, quote });
    this.prices.set(symbol, last);
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
    this.stats.total += 1;
    if (this.stats.arrivals.length < 10_000) {
      this.stats.arrivals.push({ at: Date.now(), path, apiKey });
    }
    this.stats.byPath[path] = (this.stats.byPath[path] ?? 0) + 1;
    if (apiKey) this.stats.byKey[apiKey] = (this.stats.byKey[apiKey] ?? 0) + 1;
    const rule = this.rules.find(
      (r) =>
        r.left > 0 &&
        (r.path === undefined || path.startsWith(r.path)) &&
        (r.apiKey === undefined || r.apiKey === apiKey),
    );
    if (!rule) return undefined;
    rule.left -= 1;
    if (rule.kind === 'rateLimit429' || rule.kind === 'ban418') this.stats.rateLimited += 1;
    return rule;
  }

  /** Whether this key is past its per-second budget (sliding one-second window). */
  overLimit(apiKey: string): boolean {
    const limit = this.options.perKeyRequestsPerSecond;
    if (limit === undefined) return false;
    const now = Date.now();
    const recent = (this.windows.get(apiKey) ?? []).filter((t) => now - t < 1000);
    recent.push(now);
    this.windows.set(apiKey, recent);
    if (recent.length <= limit) return false;
    this.stats.rateLimited += 1;
    return true;
  }
}

const emptyStats = (): Stats => ({
  total: 0,
  byPath: {},
  byKey: {},
  rateLimited: 0,
  arrivals: [],
});

export type Handler = (request: IncomingMessage, url: URL, body: string) => Promise<Reply> | Reply;

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Send this text as is (a malformed answer). */
  raw?: string;
  /** Never answer. */
  hang?: boolean;
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
      void Promise.resolve(handler(request, url, body)).then(
        (reply) => respond(response, reply, latencyMs),
        (error: unknown) => respond(response, { status: 500, body: { msg: String(error) } }, 0),
      );
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function respond(response: ServerResponse, reply: Reply, latencyMs: number): void {
  if (reply.hang) return;
  const send = () => {
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

/** The answer a fault rule calls for, in the exchange's own error body. */
export function faultReply(rule: FaultRule, rateLimitBody: unknown, banBody: unknown): Reply {
  const retryAfter: Record<string, string> =
    rule.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(rule.retryAfterSeconds) };
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
      return { status: 429, body: rateLimitBody, headers: retryAfter };
    case 'ban418':
      return { status: 418, body: banBody, headers: retryAfter };
    case 'malformedJson':
      return { status: 200, body: null, raw: '{"balances": [{"asset": "BTC", "free": ' };
  }
}

/** What a test holds of a running stand-in: its URL, its knobs and its counters. */
export function standInHandle(state: ExchangeState, running: RunningStandIn) {
  return {
    url: running.url,
    close: running.close,
    get stats() {
      return state.stats;
    },
    resetStats: () => state.resetStats(),
    addAccount: state.addAccount.bind(state),
    setBalance: state.setBalance.bind(state),
    addDeposit: state.addDeposit.bind(state),
    addWithdrawal: state.addWithdrawal.bind(state),
    revoke: state.revoke.bind(state),
    setPrice: state.setPrice.bind(state),
    fail: state.fail.bind(state),
  };
}

/** How one exchange's protocol differs; everything else about serving it is shared. */
export interface Protocol {
  /** The header carrying the API key (lower case). */
  apiKeyHeader: string;
  routes: Record<string, (url: URL, apiKey?: string) => Reply>;
  /** Paths that need a signature. */
  signed: ReadonlySet<string>;
  /** The exchange's own refusal of a request's credentials, or undefined when they hold. */
  authenticate(
    request: IncomingMessage,
    url: URL,
    body: string,
    apiKey?: string,
  ): Reply | undefined;
  notFound: Reply;
  rateLimitBody: unknown;
  banBody: unknown;
  /** Headers every answer carries (e.g. Binance's used weight). */
  headers?: Record<string, string>;
}

/** Starts a stand-in: faults first, then routing, signatures and the per-key limit. */
export async function startStandIn(state: ExchangeState, protocol: Protocol) {
  const running = await serve((request, url, body) => {
    const apiKey = headerValue(request, protocol.apiKeyHeader);
    const fault = state.admit(url.pathname, apiKey);
    if (fault) return faultReply(fault, protocol.rateLimitBody, protocol.banBody);
    const route = protocol.routes[url.pathname];
    if (!route || request.method !== 'GET') return protocol.notFound;
    if (protocol.signed.has(url.pathname)) {
      const refused = protocol.authenticate(request, url, body, apiKey);
      if (refused) return refused;
    }
    if (apiKey && state.overLimit(apiKey)) {
      return { status: 429, body: protocol.rateLimitBody, headers: { 'Retry-After': '1' } };
    }
    const reply = route(url, apiKey);
    return { ...reply, headers: { ...protocol.headers, ...reply.headers } };
  }, state.options.latencyMs);
  return standInHandle(state, running);
}

export function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

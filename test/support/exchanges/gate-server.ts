import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  ExchangeState,
  headerValue,
  numberParam,
  startStandIn,
  transfersBetween,
  type ExchangeOptions,
  type Reply,
  type Route,
  type Transfer,
} from './common.ts';
import { Dec } from '../../../src/valuation/index.ts';

// A local server speaking Gate's API v4, as ccxt's `gate` uses it for a spot account: server
// time, currencies, spot and margin currency pairs, spot tickers and candlesticks; SIGNED
// account detail (ccxt asks whether the account is unified), spot accounts, deposit and
// withdrawal records. Gate signs HMAC-SHA512 hex of METHOD \n /api/v4/path \n query \n
// SHA512(body) \n timestamp (seconds), with KEY, Timestamp and SIGN headers; refusals are
// {label, message} with the HTTP status Gate documents.

const error = (status: number, label: string, message: string): Reply => ({
  status,
  body: { label, message },
});
const RATE_LIMITED = error(429, 'TOO_MANY_REQUESTS', 'Request Rate limit Exceeded');
/** Gate has no ban answer of its own: its edge keeps answering 429 past the limit. */
const BANNED = RATE_LIMITED;
const MISSING_HEADER = (name: string) =>
  error(401, 'MISSING_REQUIRED_HEADER', `Missing required header: ${name}`);
const INVALID_KEY = error(401, 'INVALID_KEY', 'Invalid key provided');
const BAD_SIGNATURE = error(401, 'INVALID_SIGNATURE', 'Signature mismatch');
const EXPIRED = error(
  401,
  'REQUEST_EXPIRED',
  'gap between request Timestamp and server time exceeds 60',
);
/** The refusal of a key whose IP whitelist leaves this server out: our `ip_refused`. */
export const IP_FORBIDDEN = {
  label: 'IP_FORBIDDEN',
  message: 'Request IP not in whitelist: 127.0.0.1',
};

/** Gate refuses a timestamp more than 60 s away from its clock. */
const MAX_SKEW_S = 60;
const DAY_S = 24 * 60 * 60;
/** Records without `from` cover the last 7 days; a window may span 30 days at most. */
const DEFAULT_HISTORY_S = 7 * DAY_S;
const MAX_HISTORY_S = 30 * DAY_S;

/** Gate's candlestick intervals in seconds. */
const INTERVALS: Record<string, number> = {
  '10s': 10,
  '1m': 60,
  '5m': 300,
  '15m': 900,
  '30m': 1800,
  '1h': 3600,
  '4h': 14_400,
  '8h': 28_800,
  '1d': DAY_S,
  '7d': 7 * DAY_S,
  '30d': 30 * DAY_S,
};

export type FakeGate = Awaited<ReturnType<typeof startFakeGate>>;

export async function startFakeGate(options: ExchangeOptions = {}) {
  const state = new ExchangeState(options);

  const routes: Record<string, Route> = {
    '/api/v4/spot/time': () => ok({ server_time: Date.now() }),
    '/api/v4/spot/currencies': () => ok(currencies(state)),
    '/api/v4/spot/currency_pairs': () => ok(currencyPairs(state)),
    // Margin pairs are merged into the spot ones by ccxt; none here are margin-tradable.
    '/api/v4/margin/currency_pairs': () => ok([]),
    '/api/v4/spot/tickers': (url) => tickers(state, url),
    '/api/v4/spot/candlesticks': (url) => candlesticks(state, url),
    '/api/v4/account/detail': () => ok(accountDetail()),
    '/api/v4/spot/accounts': (url, apiKey) => ok(spotAccounts(state, apiKey ?? '', url)),
    '/api/v4/wallet/deposits': (url, apiKey) =>
      history(state.account(apiKey ?? '').deposits, url, depositRecord),
    '/api/v4/wallet/withdrawals': (url, apiKey) =>
      history(state.account(apiKey ?? '').withdrawals, url, withdrawalRecord),
  };
  return startStandIn(state, {
    apiKeyHeader: 'key',
    routes,
    signed: new Set([
      '/api/v4/account/detail',
      '/api/v4/spot/accounts',
      '/api/v4/wallet/deposits',
      '/api/v4/wallet/withdrawals',
    ]),
    authenticate: (request, url, body, apiKey) => authenticate(state, request, url, body, apiKey),
    notFound: error(404, 'NOT_FOUND', 'Not found'),
    rateLimited: RATE_LIMITED,
    banned: BANNED,
  });
}

const ok = (body: unknown): Reply => ({ status: 200, body });

/** Gate's checks: headers present, key known, timestamp within 60 s, signature. */
function authenticate(
  state: ExchangeState,
  request: IncomingMessage,
  url: URL,
  body: string,
  apiKey: string | undefined,
): Reply | undefined {
  if (!apiKey) return MISSING_HEADER('KEY');
  const timestamp = headerValue(request, 'timestamp');
  if (!timestamp) return MISSING_HEADER('Timestamp');
  const given = headerValue(request, 'sign');
  if (!given) return MISSING_HEADER('SIGN');
  const account = state.accounts.get(apiKey);
  if (!account || account.revoked) return INVALID_KEY;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > MAX_SKEW_S || !/^\d+$/.test(timestamp)) {
    return EXPIRED;
  }
  // The query string is signed as it reads before URL encoding.
  const query = decodeURIComponent((request.url ?? '').split('?')[1] ?? '');
  const payload = [
    request.method ?? 'GET',
    url.pathname,
    query,
    createHash('sha512').update(body).digest('hex'),
    timestamp,
  ].join('\n');
  const expected = createHmac('sha512', account.secret).update(payload).digest('hex');
  if (
    given.length !== expected.length ||
    !timingSafeEqual(Buffer.from(given), Buffer.from(expected))
  ) {
    return BAD_SIGNATURE;
  }
  return undefined;
}

const pairId = (base: string, quote: string) => `${base}_${quote}`;

function currencies(state: ExchangeState) {
  const assets = new Set<string>();
  for (const m of state.markets.values()) assets.add(m.base).add(m.quote);
  return [...assets].map((currency) => ({
    currency,
    name: currency,
    delisted: false,
    withdraw_disabled: false,
    withdraw_delayed: false,
    deposit_disabled: false,
    trade_disabled: false,
    fixed_rate: '',
    chain: chainOf(currency),
    chains: [
      {
        name: chainOf(currency),
        addr: '',
        withdraw_disabled: false,
        withdraw_delayed: false,
        deposit_disabled: false,
      },
    ],
  }));
}

function currencyPairs(state: ExchangeState) {
  return [...state.markets.values()].map((m) => ({
    id: pairId(m.base, m.quote),
    base: m.base,
    base_name: m.base,
    quote: m.quote,
    quote_name: m.quote,
    fee: '0.2',
    min_base_amount: '0.0001',
    min_quote_amount: '1',
    max_base_amount: '',
    max_quote_amount: '5000000',
    amount_precision: 4,
    precision: 2,
    trade_status: 'tradable',
    sell_start: 1_516_378_650,
    buy_start: 1_516_378_650,
    delisting_time: 0,
    type: 'normal',
    trade_url: '',
    st_tag: false,
  }));
}

/** Every spot ticker, or the one `currency_pair` names. */
function tickers(state: ExchangeState, url: URL): Reply {
  const wanted = url.searchParams.get('currency_pair');
  const rows = [];
  for (const [symbol, m] of state.markets) {
    const id = pairId(m.base, m.quote);
    if (wanted && wanted !== id) continue;
    const last = state.prices.get(symbol) ?? '0';
    rows.push({
      currency_pair: id,
      last,
      lowest_ask: last,
      lowest_size: '1',
      highest_bid: last,
      highest_size: '1',
      change_percentage: '0',
      base_volume: '100',
      quote_volume: '100',
      high_24h: last,
      low_24h: last,
    });
  }
  if (wanted && rows.length === 0) {
    return error(400, 'INVALID_CURRENCY_PAIR', `Invalid currency pair: ${wanted}`);
  }
  return ok(rows);
}

/**
 * Candlesticks, oldest first: `from`..`to` (seconds), or the last `limit` (default 100, at most
 * 1000); `limit` with `from` or `to` is refused, as Gate does. Rows are [t (s), quote volume,
 * close, high, low, open, base volume, closed].
 */
function candlesticks(state: ExchangeState, url: URL): Reply {
  const id = url.searchParams.get('currency_pair') ?? '';
  const intervalS = INTERVALS[url.searchParams.get('interval') ?? '30m'];
  if (intervalS === undefined) return error(400, 'INVALID_PARAM_VALUE', 'Invalid interval');
  const symbol = [...state.markets].find(([, m]) => pairId(m.base, m.quote) === id)?.[0];
  if (!symbol) return error(400, 'INVALID_CURRENCY_PAIR', `Invalid currency pair: ${id}`);
  const from = numberParam(url, 'from');
  const to = numberParam(url, 'to');
  const limit = numberParam(url, 'limit');
  if (limit !== undefined && (from !== undefined || to !== undefined)) {
    return error(400, 'INVALID_PARAM_VALUE', 'limit can not be used with from or to');
  }
  const nowS = Date.now() / 1000;
  const count = Math.min(limit ?? 100, 1000);
  const fromS = from ?? (to ?? nowS) - count * intervalS;
  const toS = to ?? nowS;
  const rows = state
    .candles(symbol, fromS * 1000, intervalS * 1000, 1000)
    .filter((c) => c.openTime / 1000 <= toS)
    .slice(-count)
    .map((c) => [String(c.openTime / 1000), '0', c.close, c.high, c.low, c.open, '0', 'true']);
  return ok(rows);
}

/** A classic (not unified) account: key mode 1. */
function accountDetail() {
  return {
    user_id: 1_667_201_533,
    ip_whitelist: [],
    currency_pairs: [],
    key: { mode: 1 },
    tier: 0,
    copy_trading_role: 0,
  };
}

function spotAccounts(state: ExchangeState, apiKey: string, url: URL) {
  const wanted = url.searchParams.get('currency');
  return [...state.account(apiKey).balances]
    .filter(([currency]) => !wanted || wanted === currency)
    .map(([currency, b], index) => ({
      currency,
      available: b.free,
      locked: b.locked,
      update_id: index + 1,
    }));
}

/**
 * Gate's record window: `from`..`to` (seconds) at most 30 days apart, the last 7 days without
 * `from`; `currency` filters; newest first, `limit` (default 100, at most 500) from `offset`.
 */
function history(
  transfers: Transfer[],
  url: URL,
  record: (t: Transfer) => Record<string, unknown>,
): Reply {
  const nowS = Math.floor(Date.now() / 1000);
  const to = numberParam(url, 'to') ?? nowS;
  const from = numberParam(url, 'from') ?? to - DEFAULT_HISTORY_S;
  if (to - from > MAX_HISTORY_S) {
    return error(400, 'INVALID_PARAM_VALUE', 'Time range cannot exceed 30 days');
  }
  const limit = numberParam(url, 'limit') ?? 100;
  if (limit < 1 || limit > 500) return error(400, 'INVALID_PARAM_VALUE', 'Invalid limit');
  const offset = numberParam(url, 'offset') ?? 0;
  const rows = transfersBetween(transfers, {
    from: from * 1000,
    to: to * 1000 + 999,
    asset: url.searchParams.get('currency'),
  }).slice(offset, offset + limit);
  return ok(rows.map(record));
}

const CHAINS: Record<string, string> = { BTC: 'BTC', ETH: 'ETH', USDT: 'ETH', USDC: 'ETH' };
const chainOf = (currency: string) => CHAINS[currency] ?? currency;
const seconds = (ms: number) => String(Math.floor(ms / 1000));

// Gate's record ids start with their kind: d for a deposit, w for a withdrawal.
const depositRecord = (t: Transfer) => ({
  id: `d${t.id}`,
  txid: `0x${t.id}`,
  withdraw_order_id: '',
  timestamp: seconds(t.timestamp),
  amount: t.amount,
  currency: t.asset,
  address: '0x0000000000000000000000000000000000000001',
  memo: '',
  status: t.status === 'ok' ? 'DONE' : 'PEND',
  chain: chainOf(t.asset),
});

/** A withdrawal's `amount` includes its fee, as Gate reports it (ccxt subtracts the fee). */
const withdrawalRecord = (t: Transfer) => ({
  id: `w${t.id}`,
  txid: `0x${t.id}`,
  block_number: '0',
  withdraw_order_id: '',
  timestamp: seconds(t.timestamp),
  amount: new Dec(t.amount).plus(t.fee ?? '0').toFixed(),
  fee: t.fee ?? '0',
  currency: t.asset,
  address: '0x0000000000000000000000000000000000000002',
  memo: '',
  status: t.status === 'ok' ? 'DONE' : 'PROCES',
  chain: chainOf(t.asset),
});

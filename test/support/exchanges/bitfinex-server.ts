import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Dec } from '../../../src/valuation/index.ts';
import {
  ExchangeState,
  MAIN_WALLET,
  headerValue,
  numberParam,
  startStandIn,
  transfersBetween,
  type ExchangeOptions,
  type Reply,
  type Route,
  type Transfer,
} from './common.ts';

// A local server speaking Bitfinex's v2 REST protocol, as ccxt's `bitfinex` uses it: public
// configuration lists (pairs, currencies), tickers and candles on api-pub; AUTHENTICATED POSTs
// for wallets and movements, signed with `bfx-signature` = HMAC-SHA384 hex of
// '/api/' + path + nonce + body, with `bfx-apikey` and a `bfx-nonce` that must keep growing.
// Answers are bare arrays of numbers; errors are ["error", code, text] with HTTP 500.

const error = (code: number, text: string, status = 500): Reply => ({
  status,
  body: ['error', code, text],
});
const INVALID_KEY = error(10100, 'apikey: invalid');
const BAD_DIGEST = error(10100, 'apikey: digest invalid');
const NONCE_SMALL = error(10114, 'nonce: small');
/** Bitfinex blocks an IP past its limit for 60 s, answering this (not its usual array). */
const RATE_LIMITED: Reply = { status: 429, body: { error: 'ERR_RATE_LIMIT' } };
// Bitfinex has no 418 of its own: a ban comes from its edge (Cloudflare), as a bare page.
const BANNED: Reply = {
  status: 418,
  body: null,
  raw: 'error code: 1015',
  headers: { 'content-type': 'text/plain' },
};

/** Bitfinex's own currency ids where they differ from the usual code (ccxt maps them back). */
const CURRENCY_IDS: Readonly<Record<string, string>> = { USDT: 'UST', DASH: 'DSH', IOTA: 'IOT' };
const currencyId = (asset: string) => CURRENCY_IDS[asset] ?? asset;

/** Our wallet names as Bitfinex calls them: the main wallet is its 'exchange' wallet. */
const walletType = (name: string) => (name === MAIN_WALLET ? 'exchange' : name);

/** A pair's id: 'BTCUSD', or 'AVAX:USD' where either side is longer than three letters. */
const pairId = (base: string, quote: string) => {
  const b = currencyId(base);
  const q = currencyId(quote);
  return b.length === 3 && q.length === 3 ? `${b}${q}` : `${b}:${q}`;
};

const MARKETS_CONFIG =
  '/v2/conf/pub:info:pair,pub:info:pair:futures,pub:list:pair:securities,pub:list:pair:margin';
const CURRENCIES_CONFIG =
  '/v2/conf/pub:list:currency,pub:map:currency:sym,pub:map:currency:label,pub:map:currency:unit,' +
  'pub:map:currency:undl,pub:map:currency:pool,pub:map:currency:explorer,' +
  'pub:map:currency:tx:fee,pub:map:tx:method,pub:info:tx:status,pub:list:currency:margin';
const CANDLES = '/v2/candles/{key}/hist';
const CURRENCY_MOVEMENTS = '/v2/auth/r/movements/{currency}/hist';

/** Candle timeframes Bitfinex offers, by its own name. */
const TIMEFRAMES_MS: Readonly<Record<string, number>> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '3h': 10_800_000,
  '6h': 21_600_000,
  '12h': 43_200_000,
  '1D': 86_400_000,
};

export type FakeBitfinex = Awaited<ReturnType<typeof startFakeBitfinex>>;

export async function startFakeBitfinex(options: ExchangeOptions = {}) {
  const state = new ExchangeState(options);
  /** The last nonce each key sent: Bitfinex refuses one that does not exceed it. */
  const nonces = new Map<string, number>();

  const routes: Record<string, Route> = {
    [MARKETS_CONFIG]: () => ok(marketsConfig(state)),
    [CURRENCIES_CONFIG]: () => ok(currenciesConfig(state)),
    '/v2/tickers': (url) => ok(tickers(state, url)),
    [CANDLES]: (url) => candles(state, url),
    'POST /v2/auth/r/wallets': (_url, apiKey) => ok(wallets(state, apiKey ?? '')),
    'POST /v2/auth/r/movements/hist': (_url, apiKey, body) =>
      ok(movements(state, apiKey ?? '', body, undefined)),
    [`POST ${CURRENCY_MOVEMENTS}`]: (url, apiKey, body) =>
      ok(movements(state, apiKey ?? '', body, url.pathname.split('/')[5])),
  };
  const handle = await startStandIn(state, {
    apiKeyHeader: 'bfx-apikey',
    routes,
    signed: new Set(['/v2/auth/r/wallets', '/v2/auth/r/movements/hist', CURRENCY_MOVEMENTS]),
    routeOf: (path) => {
      if (/^\/v2\/candles\/[^/]+\/hist$/.test(path)) return CANDLES;
      if (/^\/v2\/auth\/r\/movements\/[^/]+\/hist$/.test(path)) return CURRENCY_MOVEMENTS;
      return path;
    },
    authenticate: (request, url, body, apiKey) =>
      authenticate(state, nonces, request, url, body, apiKey),
    notFound: { status: 404, body: ['error', 10020, 'request: invalid'] },
    rateLimited: RATE_LIMITED,
    banned: BANNED,
  });
  // Object.assign keeps the handle's `stats` getter live (a spread would copy today's value).
  return Object.assign(handle, {
    /** Bitfinex's own id of a currency ('UST' for USDT). */
    currencyId,
  });
}

const ok = (body: unknown): Reply => ({ status: 200, body });

/** Bitfinex's checks: key known, nonce growing, signature over '/api/' + path + nonce + body. */
function authenticate(
  state: ExchangeState,
  nonces: Map<string, number>,
  request: IncomingMessage,
  url: URL,
  body: string,
  apiKey: string | undefined,
): Reply | undefined {
  const account = apiKey ? state.accounts.get(apiKey) : undefined;
  if (!apiKey || !account || account.revoked) return INVALID_KEY;
  const nonceText = headerValue(request, 'bfx-nonce') ?? '';
  const given = headerValue(request, 'bfx-signature') ?? '';
  const payload = `/api${url.pathname}${nonceText}${body}`;
  const expected = createHmac('sha384', account.secret).update(payload).digest('hex');
  if (
    given.length !== expected.length ||
    !timingSafeEqual(Buffer.from(given), Buffer.from(expected))
  ) {
    return BAD_DIGEST;
  }
  const nonce = Number(nonceText);
  const last = nonces.get(apiKey) ?? 0;
  if (!/^\d+$/.test(nonceText) || nonce <= last) return NONCE_SMALL;
  nonces.set(apiKey, nonce);
  return undefined;
}

/** pub:info:pair ([id, [_, _, _, min, max, _, _, _, initial margin, min margin]]), then lists. */
function marketsConfig(state: ExchangeState) {
  const pairs = [...state.markets.values()].map((m) => [
    pairId(m.base, m.quote),
    [null, null, null, '0.00006', '2000.0', null, null, null, 0.2, 0.1],
  ]);
  return [pairs, [], [], pairs.map(([id]) => id)];
}

/** Every asset of the listed markets, with the maps ccxt reads next to the list. */
function currenciesConfig(state: ExchangeState) {
  const ids = new Set<string>();
  for (const m of state.markets.values()) ids.add(currencyId(m.base)).add(currencyId(m.quote));
  const list = [...ids];
  const crypto = list.filter((id) => id !== 'USD' && id !== 'EUR');
  const method = (id: string) => (id === 'UST' ? 'TETHERUSE' : `${id}NET`);
  return [
    list,
    [],
    list.map((id) => [id, id]),
    [],
    [],
    crypto.map((id) => [id, 'ETH']),
    crypto.map((id) => [id, [`https://explorer.example/${id}`]]),
    crypto.map((id) => [id, [0, 0.0004]]),
    crypto.map((id) => [method(id), [id]]),
    crypto.map((id) => [method(id), 1, 1, null, null, null, null, 0, 0, null, null, 3]),
    list,
  ];
}

/**
 * Trading tickers: [SYMBOL, BID, BID_SIZE, ASK, ASK_SIZE, DAILY_CHANGE, DAILY_CHANGE_RELATIVE,
 * LAST_PRICE, VOLUME, HIGH, LOW], numbers; `symbols=ALL` adds the funding tickers too.
 */
function tickers(state: ExchangeState, url: URL) {
  const wanted = url.searchParams.get('symbols') ?? 'ALL';
  const only = wanted === 'ALL' ? undefined : new Set(wanted.split(','));
  const rows: unknown[][] = [];
  for (const [symbol, m] of state.markets) {
    const id = `t${pairId(m.base, m.quote)}`;
    if (only && !only.has(id)) continue;
    const last = Number(state.prices.get(symbol) ?? '0');
    rows.push([id, last, 10, last, 10, 0, 0, last, 100, last, last]);
  }
  // A funding ticker, as ALL lists them: FRR, BID, BID_PERIOD, BID_SIZE, ASK, … (16 values).
  if (!only)
    rows.push([
      'fUSD',
      0.0002,
      0.0002,
      30,
      1000,
      0.0002,
      2,
      1000,
      0,
      0,
      0.0002,
      1e6,
      0.0003,
      0.0001,
      null,
      null,
      1e6,
    ]);
  return rows;
}

/**
 * `/v2/candles/trade:1m:tBTCUSD/hist`: [MTS, OPEN, CLOSE, HIGH, LOW, VOLUME], newest first unless
 * `sort=1`; `start`/`end` (ms) and `limit` (default 100, at most 10000).
 */
function candles(state: ExchangeState, url: URL): Reply {
  const [, timeframe = '', id = ''] = (url.pathname.split('/')[3] ?? '').split(':');
  const intervalMs = TIMEFRAMES_MS[timeframe];
  const symbol = [...state.markets].find(([, m]) => `t${pairId(m.base, m.quote)}` === id)?.[0];
  if (!intervalMs || !symbol) return error(10020, 'symbol: invalid');
  const limit = Math.min(numberParam(url, 'limit') ?? 100, 10_000);
  const start = numberParam(url, 'start') ?? 0;
  const end = numberParam(url, 'end') ?? Infinity;
  const rows = state
    .candles(symbol, start, intervalMs, Number.MAX_SAFE_INTEGER)
    .filter((c) => c.openTime <= end)
    .map((c) => [c.openTime, Number(c.open), Number(c.close), Number(c.high), Number(c.low), 1]);
  const ordered = url.searchParams.get('sort') === '1' ? rows : rows.reverse();
  return ok(ordered.slice(0, limit));
}

/**
 * Every wallet of the account in one answer: [WALLET_TYPE, CURRENCY, BALANCE,
 * UNSETTLED_INTEREST, AVAILABLE_BALANCE, LAST_CHANGE, TRADE_DETAILS].
 */
function wallets(state: ExchangeState, apiKey: string) {
  const rows: unknown[][] = [];
  for (const [name, ledger] of state.account(apiKey).wallets) {
    for (const [asset, b] of ledger) {
      const total = Number(new Dec(b.free).plus(b.locked).toFixed()); // a JSON number on the wire
      rows.push([walletType(name), currencyId(asset), total, 0, Number(b.free), null, null]);
    }
  }
  return rows;
}

/**
 * Deposits and withdrawals in one history (amount negative for a withdrawal), newest first:
 * `start`/`end` (ms, inclusive) and `limit` (default 25, at most 1000) from the JSON body.
 */
function movements(
  state: ExchangeState,
  apiKey: string,
  body: string,
  currency: string | undefined,
) {
  const query = (body ? JSON.parse(body) : {}) as Record<string, unknown>;
  const number = (name: string) =>
    typeof query[name] === 'number' || typeof query[name] === 'string'
      ? Number(query[name])
      : undefined;
  const account = state.account(apiKey);
  const rows = [
    ...account.deposits.map((t) => ({ t, sign: '' })),
    ...account.withdrawals.map((t) => ({ t, sign: '-' })),
  ];
  const signOf = new Map(rows.map(({ t, sign }) => [t, sign]));
  const asset = currency
    ? (Object.keys(CURRENCY_IDS).find((a) => CURRENCY_IDS[a] === currency) ?? currency)
    : undefined;
  return transfersBetween(
    rows.map(({ t }) => t),
    {
      from: number('start'),
      to: number('end'),
      asset,
      limit: Math.min(number('limit') ?? 25, 1000),
    },
  ).map((t) => movement(t, signOf.get(t) ?? ''));
}

/** One movement row: 22 fields, ccxt reads the id, currency, times, status, amount and fees. */
function movement(t: Transfer, sign: string) {
  const id = currencyId(t.asset);
  const fee = t.fee && t.fee !== '0' ? -Number(t.fee) : 0;
  return [
    /^\d+$/.test(t.id) ? Number(t.id) : t.id, // Bitfinex's ids are numbers
    id,
    id === 'UST' ? 'TETHERUSE' : `${id}NET`,
    null,
    null,
    t.timestamp,
    t.timestamp,
    null,
    null,
    t.status === 'ok' ? 'COMPLETED' : 'PENDING',
    null,
    null,
    Number(`${sign}${t.amount}`),
    fee,
    null,
    null,
    sign
      ? '0x0000000000000000000000000000000000000002'
      : '0x0000000000000000000000000000000000000001',
    null,
    null,
    null,
    `0x${t.id}`,
    null,
  ];
}

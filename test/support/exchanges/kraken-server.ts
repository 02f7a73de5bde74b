import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Dec } from '../../../src/valuation/index.ts';
import {
  ExchangeState,
  headerValue,
  historyPageSize,
  startStandIn,
  transfersBetween,
  type ExchangeOptions,
  type Market,
  type Reply,
  type Route,
  type Transfer,
} from './common.ts';

// A local server speaking Kraken's spot REST protocol, as ccxt's `kraken` uses it: server time
// and status, Assets, AssetPairs, Ticker and OHLC; PRIVATE POSTs BalanceEx, DepositStatus and
// WithdrawStatus (form bodies with an increasing `nonce`, API-Key, and API-Sign = Base64
// HMAC-SHA512 over path + SHA256(nonce + body) keyed with the Base64-decoded secret). Kraken
// names assets its own way (XXBT, XETH, ZUSD; staked balances `DOT.S`, `XBT.M`…): the state keeps
// unified codes (BTC, ETH, USD, `BTC.M`) and this file translates. Answers are
// {error: [], result}; refusals {error: ["EAPI:Invalid key"]}, HTTP 200 as Kraken sends them.

const refusal = (message: string, status = 200): Reply => ({
  status,
  body: { error: [message] },
});
const RATE_LIMITED = refusal('EAPI:Rate limit exceeded');
// Kraken has no 418 of its own: a ban comes from its edge, as a bare page rather than JSON.
const BANNED: Reply = {
  status: 418,
  body: null,
  raw: 'Access denied: too many requests',
  headers: { 'content-type': 'text/plain' },
};
const INVALID_KEY = refusal('EAPI:Invalid key');
const INVALID_SIGNATURE = refusal('EAPI:Invalid signature');
const INVALID_NONCE = refusal('EAPI:Invalid nonce');
const PERMISSION_DENIED = refusal('EGeneral:Permission denied');
const UNKNOWN_PAIR = refusal('EQuery:Unknown asset pair');
const UNKNOWN_ASSET = refusal('EQuery:Unknown asset');

/** Kraken's legacy ids (X for crypto, Z for fiat) and altnames of the assets that have them. */
const LEGACY: Record<string, { id: string; altname: string }> = {
  BTC: { id: 'XXBT', altname: 'XBT' },
  ETH: { id: 'XETH', altname: 'ETH' },
  LTC: { id: 'XLTC', altname: 'LTC' },
  XRP: { id: 'XXRP', altname: 'XRP' },
  DOGE: { id: 'XXDG', altname: 'XDG' },
  XLM: { id: 'XXLM', altname: 'XLM' },
  USD: { id: 'ZUSD', altname: 'USD' },
  EUR: { id: 'ZEUR', altname: 'EUR' },
  GBP: { id: 'ZGBP', altname: 'GBP' },
};
const FIAT = new Set(['USD', 'EUR', 'GBP']);

/** Kraken's id of a unified code; a suffixed one (`BTC.M`) is the base's altname + suffix. */
export function krakenAsset(code: string): string {
  const dot = code.indexOf('.');
  if (dot > 0) return `${altname(code.slice(0, dot))}${code.slice(dot)}`;
  return LEGACY[code]?.id ?? code;
}
const altname = (code: string) => LEGACY[code]?.altname ?? code;

/** The pair's key in AssetPairs: legacy ids joined where both have them (XXBTZUSD), else altnames. */
const pairKey = (m: Market) =>
  LEGACY[m.base] && LEGACY[m.quote]
    ? `${krakenAsset(m.base)}${krakenAsset(m.quote)}`
    : `${altname(m.base)}${altname(m.quote)}`;

const PRIVATE = '/0/private/';
const BALANCE = `${PRIVATE}Balance`;
const BALANCE_EX = `${PRIVATE}BalanceEx`;
const DEPOSIT_STATUS = `${PRIVATE}DepositStatus`;
const WITHDRAW_STATUS = `${PRIVATE}WithdrawStatus`;
const SIGNED = new Set([BALANCE, BALANCE_EX, DEPOSIT_STATUS, WITHDRAW_STATUS]);

/** OHLC intervals (minutes) Kraken serves; at most 720 candles an answer. */
const INTERVALS = new Set([1, 5, 15, 30, 60, 240, 1440, 10080, 21600]);
const MAX_CANDLES = 720;
/** A cursor page's default size (Kraken documents no maximum). */
const DEFAULT_PAGE = 25;

export type FakeKraken = Awaited<ReturnType<typeof startFakeKraken>>;

export async function startFakeKraken(options: ExchangeOptions = {}) {
  const state = new ExchangeState(options);
  /** Each key's last accepted nonce: a nonce must grow, request after request. */
  const nonces = new Map<string, bigint>();
  /** Endpoints each key is refused (a key without "Funds permissions - Query", say). */
  const denied = new Map<string, Set<string>>();

  const routes: Record<string, Route> = {
    '/0/public/Time': () => {
      const now = Date.now();
      return ok({ unixtime: Math.floor(now / 1000), rfc1123: new Date(now).toUTCString() });
    },
    '/0/public/SystemStatus': () =>
      ok({ status: 'online', timestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }),
    '/0/public/Assets': () => ok(assets(state)),
    '/0/public/AssetPairs': (url) => assetPairs(state, url),
    '/0/public/Ticker': (url) => ticker(state, url),
    '/0/public/OHLC': (url) => ohlc(state, url),
    [`POST ${BALANCE}`]: (_url, apiKey) => ok(balances(state, apiKey ?? '', false)),
    [`POST ${BALANCE_EX}`]: (_url, apiKey) => ok(balances(state, apiKey ?? '', true)),
    [`POST ${DEPOSIT_STATUS}`]: (_url, apiKey, body) =>
      history(state, state.account(apiKey ?? '').deposits, body, 'deposit'),
    [`POST ${WITHDRAW_STATUS}`]: (_url, apiKey, body) =>
      history(state, state.account(apiKey ?? '').withdrawals, body, 'withdrawals'),
  };
  const handle = await startStandIn(state, {
    apiKeyHeader: 'api-key',
    routes,
    signed: SIGNED,
    authenticate: (request, url, body, apiKey) => {
      const refused = authenticate(state, nonces, request, url, body, apiKey);
      if (refused) return refused;
      return denied.get(apiKey ?? '')?.has(url.pathname) ? PERMISSION_DENIED : undefined;
    },
    notFound: refusal('EGeneral:Unknown method', 404),
    rateLimited: RATE_LIMITED,
    banned: BANNED,
  });
  // Assigned, not spread: the handle's `stats` is a getter.
  return Object.assign(handle, {
    /** From now on `apiKey` is refused `path` (EGeneral:Permission denied). */
    deny(apiKey: string, path: string): void {
      const paths = denied.get(apiKey) ?? new Set<string>();
      denied.set(apiKey, paths.add(path));
    },
  });
}

const ok = (result: unknown): Reply => ({ status: 200, body: { error: [], result } });

/** Kraken's checks: key known, signature over path + SHA256(nonce + body), nonce increasing. */
function authenticate(
  state: ExchangeState,
  nonces: Map<string, bigint>,
  request: IncomingMessage,
  url: URL,
  body: string,
  apiKey: string | undefined,
): Reply | undefined {
  if (request.method !== 'POST') return refusal('EGeneral:Invalid arguments');
  const account = apiKey ? state.accounts.get(apiKey) : undefined;
  if (!apiKey || !account || account.revoked) return INVALID_KEY;
  const given = headerValue(request, 'api-sign') ?? '';
  const nonceText = new URLSearchParams(body).get('nonce') ?? '';
  const digest = createHash('sha256').update(`${nonceText}${body}`).digest();
  const expected = createHmac('sha512', Buffer.from(account.secret, 'base64'))
    .update(Buffer.concat([Buffer.from(url.pathname), digest]))
    .digest('base64');
  if (
    given.length !== expected.length ||
    !timingSafeEqual(Buffer.from(given), Buffer.from(expected))
  ) {
    return INVALID_SIGNATURE;
  }
  if (!/^\d+$/.test(nonceText)) return INVALID_NONCE;
  const nonce = BigInt(nonceText);
  if (nonce <= (nonces.get(apiKey) ?? 0n)) return INVALID_NONCE;
  nonces.set(apiKey, nonce);
  return undefined;
}

/** Every asset of the listed markets, under Kraken's ids. */
function assets(state: ExchangeState) {
  const codes = new Set<string>();
  for (const m of state.markets.values()) codes.add(m.base).add(m.quote);
  return Object.fromEntries(
    [...codes].map((code) => [
      krakenAsset(code),
      {
        aclass: 'currency',
        altname: altname(code),
        decimals: FIAT.has(code) ? 4 : 10,
        display_decimals: FIAT.has(code) ? 2 : 5,
        collateral_value: 1,
        status: 'enabled',
      },
    ]),
  );
}

function pairInfo(m: Market) {
  return {
    altname: `${altname(m.base)}${altname(m.quote)}`,
    wsname: `${altname(m.base)}/${altname(m.quote)}`,
    aclass_base: 'currency',
    base: krakenAsset(m.base),
    aclass_quote: 'currency',
    quote: krakenAsset(m.quote),
    lot: 'unit',
    cost_decimals: 5,
    pair_decimals: 2,
    lot_decimals: 8,
    lot_multiplier: 1,
    leverage_buy: [],
    leverage_sell: [],
    fees: [
      [0, 0.4],
      [10000, 0.35],
    ],
    fees_maker: [
      [0, 0.25],
      [10000, 0.2],
    ],
    fee_volume_currency: 'ZUSD',
    margin_call: 80,
    margin_stop: 40,
    ordermin: '0.0001',
    costmin: '0.5',
    tick_size: '0.01',
    status: 'online',
  };
}

/** The markets named by `pair` (keys or altnames, comma-separated), or all of them. */
function pickPairs(state: ExchangeState, url: URL): Array<[string, Market]> | undefined {
  const all = [...state.markets.entries()];
  const wanted = url.searchParams.get('pair');
  if (!wanted) return all;
  const picked = wanted
    .split(',')
    .map((name) => all.find(([, m]) => pairKey(m) === name || pairInfo(m).altname === name));
  return picked.every(Boolean) ? (picked as Array<[string, Market]>) : undefined;
}

function assetPairs(state: ExchangeState, url: URL): Reply {
  const pairs = pickPairs(state, url);
  if (!pairs) return UNKNOWN_PAIR;
  return ok(Object.fromEntries(pairs.map(([, m]) => [pairKey(m), pairInfo(m)])));
}

function ticker(state: ExchangeState, url: URL): Reply {
  const pairs = pickPairs(state, url);
  if (!pairs) return UNKNOWN_PAIR;
  return ok(
    Object.fromEntries(
      pairs.map(([symbol, m]) => {
        const last = state.prices.get(symbol) ?? '0';
        return [
          pairKey(m),
          {
            a: [last, '1', '1.000'],
            b: [last, '1', '1.000'],
            c: [last, '0.10000000'],
            v: ['50.00000000', '100.00000000'],
            p: [last, last],
            t: [100, 200],
            l: [last, last],
            h: [last, last],
            o: last,
          },
        ];
      }),
    ),
  );
}

/**
 * `OHLC?pair=XXBTZUSD&interval=60&since=…` (seconds): the last 720 candles from `since`, oldest
 * first, each [time (s), open, high, low, close, vwap, volume, count], and `last`.
 */
function ohlc(state: ExchangeState, url: URL): Reply {
  const pairs = pickPairs(state, url);
  const [entry] = pairs ?? [];
  if (!pairs || pairs.length !== 1 || !entry) return UNKNOWN_PAIR;
  const interval = Number(url.searchParams.get('interval') ?? '1');
  if (!INTERVALS.has(interval)) return refusal('EGeneral:Invalid arguments');
  const [symbol, market] = entry;
  const since = Number(url.searchParams.get('since') ?? '0') * 1000;
  const rows = state
    .candles(symbol, since, interval * 60_000, Number.MAX_SAFE_INTEGER)
    .slice(-MAX_CANDLES);
  const candles = rows.map((c) => [
    c.openTime / 1000,
    c.open,
    c.high,
    c.low,
    c.close,
    c.close,
    '1.00000000',
    1,
  ]);
  return ok({ [pairKey(market)]: candles, last: (rows.at(-1)?.openTime ?? 0) / 1000 });
}

/**
 * Every wallet the stand-in holds for the key, under Kraken's asset ids (Kraken has one balance:
 * staked and earning amounts are separate assets in it, `DOT.S`, `XBT.M`). BalanceEx adds what
 * is held by open orders.
 */
function balances(state: ExchangeState, apiKey: string, extended: boolean) {
  const result: Record<string, unknown> = {};
  for (const [asset, b] of state.account(apiKey).balances) {
    const total = new Dec(b.free).plus(b.locked).toFixed(10);
    result[krakenAsset(asset)] = extended
      ? {
          balance: total,
          credit: '0.0000000000',
          credit_used: '0.0000000000',
          hold_trade: new Dec(b.locked).toFixed(10),
        }
      : total;
  }
  return result;
}

/**
 * DepositStatus / WithdrawStatus: `asset` (id or altname), `start`/`end` (seconds, inclusive),
 * newest first. With `cursor` (true, or the last answer's `next_cursor`), one page of `limit`
 * (default 25, or the test's `historyPageCap`) as `{ <list>, next_cursor }`; without it, every row as a bare list.
 */
function history(
  state: ExchangeState,
  transfers: Transfer[],
  body: string,
  list: 'deposit' | 'withdrawals',
): Reply {
  const params = new URLSearchParams(body);
  const asset = params.get('asset');
  const code = asset ? unified(asset) : undefined;
  if (asset && !code) return UNKNOWN_ASSET;
  const seconds = (name: string) => {
    const text = params.get(name);
    return text ? Number(text) * 1000 : undefined;
  };
  // Kraken times its rows in whole seconds, and compares them so.
  const inSeconds = transfers.map((t) => ({ ...t, timestamp: t.timestamp - (t.timestamp % 1000) }));
  const rows = transfersBetween(inSeconds, {
    from: seconds('start'),
    to: seconds('end'),
    asset: code,
  }).map((t) => record(t, list));
  const cursor = params.get('cursor');
  if (!cursor || cursor === 'false') return ok(rows);
  const offset = cursor === 'true' ? 0 : Number(cursor);
  const asked = params.get('limit');
  const limit = historyPageSize(state, asked ? Number(asked) : DEFAULT_PAGE, Infinity);
  const page = rows.slice(offset, offset + limit);
  const next = offset + limit < rows.length ? String(offset + limit) : undefined;
  return ok({ [list]: page, ...(next === undefined ? {} : { next_cursor: next }) });
}

/** The unified code of a Kraken id or altname, or undefined for one Kraken does not know. */
function unified(krakenCode: string): string | undefined {
  const legacy = Object.entries(LEGACY).find(
    ([, names]) => names.id === krakenCode || names.altname === krakenCode,
  );
  if (legacy) return legacy[0];
  return /^[A-Z0-9]{2,10}$/.test(krakenCode) ? krakenCode : undefined;
}

function record(t: Transfer, list: 'deposit' | 'withdrawals') {
  const time = Math.floor(t.timestamp / 1000);
  const common = {
    method: t.asset,
    aclass: 'currency',
    asset: krakenAsset(t.asset),
    refid: t.id,
    txid: `0x${t.id}`,
    amount: new Dec(t.amount).toFixed(10),
    fee: new Dec(t.fee ?? '0').toFixed(10),
    time,
  };
  if (list === 'deposit') {
    // Settled: received, still confirming; Success: credited.
    return {
      ...common,
      info: '0x0000000000000000000000000000000000000001',
      status: t.status === 'ok' ? 'Success' : 'Settled',
    };
  }
  return {
    ...common,
    info: '0x0000000000000000000000000000000000000002',
    key: 'my wallet',
    network: t.asset,
    status: t.status === 'ok' ? 'Success' : 'Pending',
  };
}

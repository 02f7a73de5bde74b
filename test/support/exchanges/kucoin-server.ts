import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Dec } from '../../../src/valuation/index.ts';
import {
  ExchangeState,
  MAIN_WALLET,
  headerValue,
  historyPageSize,
  numberParam,
  startStandIn,
  transfersBetween,
  type Balance,
  type ExchangeOptions,
  type Reply,
  type Route,
  type Transfer,
} from './common.ts';

// A local server speaking KuCoin's spot REST protocol, as ccxt's `kucoin` uses it (classic
// account, not UTA): server time and status, currencies, symbols, all tickers and candles;
// SIGNED accounts (main, trade and trade_hf wallets), deposit and withdrawal history. KuCoin
// signs Base64(HMAC-SHA256(timestamp + METHOD + path?query + body)) in KC-API-SIGN with the
// secret; a version-2 key's passphrase travels HMAC'd with the secret too. Answers are
// {code: "200000", data}; refusals {code, msg} with KuCoin's own codes.

const error = (status: number, code: string, msg: string): Reply => ({
  status,
  body: { code, msg },
});
const RATE_LIMITED = error(429, '429000', 'Too Many Requests');
// KuCoin has no 418 of its own: a ban comes from its edge, as a bare page rather than JSON.
const BANNED: Reply = {
  status: 418,
  body: null,
  raw: 'Access denied: too many requests',
  headers: { 'content-type': 'text/plain' },
};
const MISSING_HEADER = error(
  401,
  '400001',
  'Please check the header of your request for KC-API-KEY, KC-API-SIGN, KC-API-TIMESTAMP, KC-API-PASSPHRASE',
);
const BAD_TIMESTAMP = error(401, '400002', 'Invalid KC-API-TIMESTAMP');
const NO_SUCH_KEY = error(401, '400003', 'KC-API-KEY not exists');
const BAD_PASSPHRASE = error(401, '400004', 'Invalid KC-API-PASSPHRASE');
const BAD_SIGN = error(401, '400005', 'Invalid KC-API-SIGN');
/** What KuCoin answers a key refused an endpoint's permission (General, for instance). */
const ACCESS_DENIED = error(403, '400007', 'Access Denied, require more permission');
const PAGE_SIZE_TOO_BIG = error(400, '400100', 'pageSize should not greater than 500');

/** KuCoin refuses a timestamp more than 5 s away from its clock. */
const MAX_SKEW_MS = 5_000;

/**
 * KuCoin's account types and the stand-in wallet each is served from: `trade` (spot trading)
 * is the stand-in's main wallet, so `setBalance` without a wallet funds it.
 */
export const KUCOIN_WALLETS: Readonly<Record<string, string>> = {
  main: 'main',
  trade: MAIN_WALLET,
  trade_hf: 'trade_hf',
};

const ACCOUNTS = '/api/v1/accounts';
const DEPOSITS = '/api/v1/deposits';
const WITHDRAWALS = '/api/v1/withdrawals';
const HF_OPENED = '/api/v3/hf/accounts/opened';
const SIGNED = new Set([ACCOUNTS, DEPOSITS, WITHDRAWALS, HF_OPENED]);

/** Candle types (KuCoin's `type`) in ms. */
const CANDLE_TYPES: Record<string, number> = {
  '1min': 60_000,
  '3min': 180_000,
  '5min': 300_000,
  '15min': 900_000,
  '30min': 1_800_000,
  '1hour': 3_600_000,
  '2hour': 7_200_000,
  '4hour': 14_400_000,
  '6hour': 21_600_000,
  '8hour': 28_800_000,
  '12hour': 43_200_000,
  '1day': 86_400_000,
  '1week': 604_800_000,
};
const MAX_CANDLES = 1500;

export type FakeKucoin = Awaited<ReturnType<typeof startFakeKucoin>>;

export async function startFakeKucoin(options: ExchangeOptions = {}) {
  const state = new ExchangeState(options);
  /** Endpoints each key is refused (a key without the General permission, say). */
  const denied = new Map<string, Set<string>>();

  const routes: Record<string, Route> = {
    '/api/v1/timestamp': () => ok(Date.now()),
    '/api/v1/status': () => ok({ status: 'open', msg: '' }),
    '/api/v3/currencies': () => ok(currencies(state)),
    '/api/v2/symbols': () => ok(symbols(state)),
    '/api/v1/market/allTickers': () => ok({ time: Date.now(), ticker: tickers(state) }),
    '/api/v1/market/candles': (url) => candles(state, url),
    [HF_OPENED]: (_url, apiKey) => ok(state.account(apiKey ?? '').wallets.has('trade_hf')),
    [ACCOUNTS]: (url, apiKey) => ok(accounts(state, apiKey ?? '', url)),
    [DEPOSITS]: (url, apiKey) =>
      history(state, state.account(apiKey ?? '').deposits, url, depositRecord),
    [WITHDRAWALS]: (url, apiKey) =>
      history(state, state.account(apiKey ?? '').withdrawals, url, withdrawalRecord),
  };
  const handle = await startStandIn(state, {
    apiKeyHeader: 'kc-api-key',
    routes,
    signed: SIGNED,
    authenticate: (request, url, body, apiKey) => {
      const refused = authenticate(state, request, body, apiKey);
      if (refused) return refused;
      return denied.get(apiKey ?? '')?.has(url.pathname) ? ACCESS_DENIED : undefined;
    },
    notFound: error(404, '404000', 'Url Not Found'),
    rateLimited: RATE_LIMITED,
    banned: BANNED,
  });
  // Assigned, not spread: the handle's `stats` is a getter.
  return Object.assign(handle, {
    /** From now on `apiKey` is refused `path` (400007), as a key lacking that permission. */
    deny(apiKey: string, path: string): void {
      const paths = denied.get(apiKey) ?? new Set<string>();
      denied.set(apiKey, paths.add(path));
    },
  });
}

const ok = (data: unknown): Reply => ({ status: 200, body: { code: '200000', data } });

/** KuCoin's checks: headers present, key known, timestamp fresh, passphrase, signature. */
function authenticate(
  state: ExchangeState,
  request: IncomingMessage,
  body: string,
  apiKey: string | undefined,
): Reply | undefined {
  const given = headerValue(request, 'kc-api-sign');
  const timestamp = headerValue(request, 'kc-api-timestamp');
  const passphrase = headerValue(request, 'kc-api-passphrase');
  if (!apiKey || !given || !timestamp || !passphrase) return MISSING_HEADER;
  const account = state.accounts.get(apiKey);
  if (!account || account.revoked) return NO_SUCH_KEY;
  const at = Number(timestamp);
  if (!Number.isInteger(at) || Math.abs(Date.now() - at) > MAX_SKEW_MS) return BAD_TIMESTAMP;
  // A version-2 key's passphrase is sent HMAC'd with the secret; version 1 sent it as is.
  const version = headerValue(request, 'kc-api-key-version') ?? '1';
  const expectedPassphrase =
    version === '2' ? sign(account.secret, account.passphrase ?? '') : (account.passphrase ?? '');
  if (!same(passphrase, expectedPassphrase)) return BAD_PASSPHRASE;
  // The endpoint is the path with its query string, exactly as sent.
  const payload = `${timestamp}${request.method ?? 'GET'}${request.url ?? ''}${body}`;
  if (!same(given, sign(account.secret, payload))) return BAD_SIGN;
  return undefined;
}

const sign = (secret: string, text: string) =>
  createHmac('sha256', secret).update(text).digest('base64');

const same = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** Every asset of the listed markets. */
function assets(state: ExchangeState): string[] {
  const all = new Set<string>();
  for (const m of state.markets.values()) all.add(m.base).add(m.quote);
  return [...all];
}

function currencies(state: ExchangeState) {
  return assets(state).map((currency) => ({
    currency,
    name: currency,
    fullName: currency,
    precision: 8,
    confirms: null,
    contractAddress: null,
    isMarginEnabled: true,
    isDebitEnabled: true,
    chains: [
      {
        chainName: currency,
        withdrawalMinSize: '0.001',
        depositMinSize: '0.0001',
        withdrawFeeRate: '0',
        withdrawalMinFee: '0.0005',
        isWithdrawEnabled: true,
        isDepositEnabled: true,
        confirms: 3,
        preConfirms: 1,
        contractAddress: '',
        withdrawPrecision: 8,
        maxWithdraw: null,
        maxDeposit: null,
        needTag: false,
        chainId: currency.toLowerCase(),
      },
    ],
  }));
}

function symbols(state: ExchangeState) {
  return [...state.markets.values()].map((m) => ({
    symbol: `${m.base}-${m.quote}`,
    name: `${m.base}-${m.quote}`,
    baseCurrency: m.base,
    quoteCurrency: m.quote,
    feeCurrency: m.quote,
    market: m.quote === 'USDT' ? 'USDS' : m.quote,
    baseMinSize: '0.00001',
    quoteMinSize: '0.1',
    baseMaxSize: '10000000000',
    quoteMaxSize: '99999999',
    baseIncrement: '0.00000001',
    quoteIncrement: '0.000001',
    priceIncrement: '0.00000001',
    priceLimitRate: '0.1',
    minFunds: '0.1',
    isMarginEnabled: true,
    enableTrading: true,
    feeCategory: 1,
    makerFeeCoefficient: '1.00',
    takerFeeCoefficient: '1.00',
    st: false,
    callauctionIsEnabled: false,
    callauctionPriceFloor: null,
    callauctionPriceCeiling: null,
    callauctionFirstStageStartTime: null,
    callauctionSecondStageStartTime: null,
    callauctionThirdStageStartTime: null,
    tradingStartTime: null,
  }));
}

function tickers(state: ExchangeState) {
  return [...state.markets].map(([symbol, m]) => {
    const last = state.prices.get(symbol) ?? '0';
    return {
      symbol: `${m.base}-${m.quote}`,
      symbolName: `${m.base}-${m.quote}`,
      buy: last,
      bestBidSize: '1',
      sell: last,
      bestAskSize: '1',
      changeRate: '0',
      changePrice: '0',
      high: last,
      low: last,
      vol: '100',
      volValue: new Dec(last).times(100).toFixed(),
      last,
      averagePrice: last,
      takerFeeRate: '0.001',
      makerFeeRate: '0.001',
      takerCoefficient: '1',
      makerCoefficient: '1',
    };
  });
}

/**
 * `/api/v1/market/candles?symbol=BTC-USDT&type=1hour&startAt=…&endAt=…` (seconds): at most 1500,
 * newest first, each [time (s), open, close, high, low, volume, turnover].
 */
function candles(state: ExchangeState, url: URL): Reply {
  const [base, quote] = (url.searchParams.get('symbol') ?? '').split('-');
  const symbol = `${base}/${quote}`;
  const intervalMs = CANDLE_TYPES[url.searchParams.get('type') ?? ''];
  if (!state.markets.has(symbol)) return error(400, '400100', 'Unsupported trading pair.');
  if (!intervalMs) return error(400, '400100', 'type invalid');
  const startMs = (numberParam(url, 'startAt') ?? 0) * 1000;
  const endMs = (numberParam(url, 'endAt') ?? Date.now() / 1000) * 1000;
  const rows = state
    .candles(symbol, startMs, intervalMs, Number.MAX_SAFE_INTEGER)
    .filter((c) => c.openTime <= endMs)
    .slice(-MAX_CANDLES)
    .reverse();
  return ok(
    rows.map((c) => [String(c.openTime / 1000), c.open, c.close, c.high, c.low, '1', c.close]),
  );
}

/** `type` (main, trade, trade_hf…) and `currency` filter; no `type`: every account. */
function accounts(state: ExchangeState, apiKey: string, url: URL) {
  const type = url.searchParams.get('type');
  const currency = url.searchParams.get('currency');
  const rows = [];
  for (const [kucoinType, wallet] of Object.entries(KUCOIN_WALLETS)) {
    if (type && type !== kucoinType) continue;
    const ledger = state.account(apiKey).wallets.get(wallet) ?? new Map<string, Balance>();
    for (const [asset, b] of ledger) {
      if (currency && currency !== asset) continue;
      rows.push({
        id: `${kucoinType}-${asset}`,
        currency: asset,
        type: kucoinType,
        balance: new Dec(b.free).plus(b.locked).toFixed(),
        available: b.free,
        holds: b.locked,
      });
    }
  }
  return rows;
}

/**
 * KuCoin's history: `startAt`/`endAt` (ms, both inclusive), `currency`, newest first, paged by
 * `currentPage` (from 1) and `pageSize` (default 50, 10 to 500, or the test's `historyPageCap`),
 * with the page's totals.
 */
function history(
  state: ExchangeState,
  transfers: Transfer[],
  url: URL,
  record: (t: Transfer) => Record<string, unknown>,
): Reply {
  const asked = numberParam(url, 'pageSize') ?? 50;
  if (asked > 500) return PAGE_SIZE_TOO_BIG;
  // At least 10 rows a page, as KuCoin serves; fewer only under the test's cap.
  const pageSize = historyPageSize(state, Math.max(10, asked), 500);
  const currentPage = Math.max(1, numberParam(url, 'currentPage') ?? 1);
  const status = url.searchParams.get('status');
  const all = transfersBetween(transfers, {
    from: numberParam(url, 'startAt'),
    to: numberParam(url, 'endAt'),
    asset: url.searchParams.get('currency'),
  }).filter((t) => !status || status === statusOf(t));
  const items = all.slice((currentPage - 1) * pageSize, currentPage * pageSize).map(record);
  return ok({
    currentPage,
    pageSize,
    totalNum: all.length,
    totalPage: Math.ceil(all.length / pageSize),
    items,
  });
}

const statusOf = (t: Transfer) => (t.status === 'ok' ? 'SUCCESS' : 'PROCESSING');

/** A deposit has no id of its own at KuCoin: its walletTxId (hash@address@index) names it. */
const depositRecord = (t: Transfer) => ({
  address: '0x0000000000000000000000000000000000000001',
  memo: '',
  amount: t.amount,
  fee: t.fee ?? '0',
  currency: t.asset,
  chain: t.asset.toLowerCase(),
  isInner: false,
  walletTxId: `0x${t.id}@0x0000000000000000000000000000000000000001@0`,
  status: statusOf(t),
  remark: '',
  arrears: false,
  createdAt: t.timestamp,
  updatedAt: t.timestamp,
});

const withdrawalRecord = (t: Transfer) => ({
  id: t.id,
  address: '0x0000000000000000000000000000000000000002',
  memo: '',
  currency: t.asset,
  chain: t.asset.toLowerCase(),
  amount: t.amount,
  fee: t.fee ?? '0',
  walletTxId: t.status === 'ok' ? `0x${t.id}` : null,
  isInner: false,
  status: statusOf(t),
  remark: '',
  createdAt: t.timestamp,
  updatedAt: t.timestamp,
});

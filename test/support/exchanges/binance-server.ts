import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  ExchangeState,
  startStandIn,
  type ExchangeOptions,
  type Reply,
  type Transfer,
} from './common.ts';

// A local server speaking Binance's spot REST protocol, as ccxt's `binance` uses it: public
// exchange info and 24h tickers; SIGNED account, deposit and withdrawal history (HMAC-SHA256
// hex of the query string, `X-MBX-APIKEY`, `timestamp` within `recvWindow`); Binance's error
// codes and HTTP statuses for bad keys, bad signatures, stale timestamps and rate limits.

const RATE_LIMITED = { code: -1003, msg: 'Too many requests; current limit is exceeded.' };
const BANNED = { code: -1003, msg: 'Way too many requests; IP banned.' };
const INVALID_KEY = { code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' };
const KEY_FORMAT = { code: -2014, msg: 'API-key format invalid.' };
const BAD_SIGNATURE = { code: -1022, msg: 'Signature for this request is not valid.' };
const STALE = {
  code: -1021,
  msg: 'Timestamp for this request is outside of the recvWindow.',
};

export type FakeBinance = Awaited<ReturnType<typeof startFakeBinance>>;

export async function startFakeBinance(options: ExchangeOptions = {}) {
  const state = new ExchangeState(options);

  const routes: Record<string, (url: URL, apiKey?: string) => Reply> = {
    '/api/v3/ping': () => ok({}),
    '/api/v3/time': () => ok({ serverTime: Date.now() }),
    '/api/v3/exchangeInfo': () => ok(exchangeInfo(state)),
    '/api/v3/ticker/24hr': () => ok(tickers(state)),
    '/api/v3/account': (_url, apiKey) => ok(account(state, apiKey ?? '')),
    '/sapi/v1/capital/deposit/hisrec': (url, apiKey) =>
      ok(history(state.account(apiKey ?? '').deposits, url).map(depositRecord)),
    '/sapi/v1/capital/withdraw/history': (url, apiKey) =>
      ok(history(state.account(apiKey ?? '').withdrawals, url).map(withdrawalRecord)),
  };
  return startStandIn(state, {
    apiKeyHeader: 'x-mbx-apikey',
    routes,
    signed: new Set([
      '/api/v3/account',
      '/sapi/v1/capital/deposit/hisrec',
      '/sapi/v1/capital/withdraw/history',
    ]),
    authenticate: (request, url, body, apiKey) => authenticate(state, request, url, body, apiKey),
    notFound: { status: 404, body: { code: -1100, msg: 'Unknown endpoint.' } },
    rateLimitBody: RATE_LIMITED,
    banBody: BANNED,
    headers: { 'X-MBX-USED-WEIGHT-1M': '1' },
  });
}

const ok = (body: unknown): Reply => ({ status: 200, body });

/** Binance's SIGNED checks, in its order: key present and well-formed, known, signature, time. */
function authenticate(
  state: ExchangeState,
  request: IncomingMessage,
  url: URL,
  body: string,
  apiKey: string | undefined,
): Reply | undefined {
  if (!apiKey || !/^[A-Za-z0-9_-]{1,128}$/.test(apiKey)) return { status: 401, body: KEY_FORMAT };
  const account = state.accounts.get(apiKey);
  if (!account || account.revoked) return { status: 401, body: INVALID_KEY };
  const query = (request.url ?? '').split('?')[1] ?? '';
  const signature = url.searchParams.get('signature') ?? '';
  const payload = query.replace(/&?signature=[^&]*/, '') + body;
  const expected = createHmac('sha256', account.secret).update(payload).digest('hex');
  if (
    signature.length !== expected.length ||
    !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
  ) {
    return { status: 400, body: BAD_SIGNATURE };
  }
  const timestamp = Number(url.searchParams.get('timestamp'));
  const recvWindow = Number(url.searchParams.get('recvWindow') ?? 5000);
  if (!Number.isFinite(timestamp) || Math.abs(Date.now() - timestamp) > recvWindow) {
    return { status: 400, body: STALE };
  }
  return undefined;
}

function exchangeInfo(state: ExchangeState) {
  return {
    timezone: 'UTC',
    serverTime: Date.now(),
    rateLimits: [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 },
    ],
    exchangeFilters: [],
    symbols: [...state.markets].map(([, market]) => ({
      symbol: `${market.base}${market.quote}`,
      status: 'TRADING',
      baseAsset: market.base,
      baseAssetPrecision: 8,
      quoteAsset: market.quote,
      quotePrecision: 8,
      quoteAssetPrecision: 8,
      baseCommissionPrecision: 8,
      quoteCommissionPrecision: 8,
      orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
      icebergAllowed: true,
      ocoAllowed: true,
      quoteOrderQtyMarketAllowed: true,
      allowTrailingStop: true,
      cancelReplaceAllowed: true,
      isSpotTradingAllowed: true,
      isMarginTradingAllowed: false,
      filters: [
        {
          filterType: 'PRICE_FILTER',
          minPrice: '0.00000001',
          maxPrice: '1000000.00000000',
          tickSize: '0.00000001',
        },
        {
          filterType: 'LOT_SIZE',
          minQty: '0.00001000',
          maxQty: '9000.00000000',
          stepSize: '0.00001000',
        },
        {
          filterType: 'NOTIONAL',
          minNotional: '5.00000000',
          applyMinToMarket: true,
          maxNotional: '9000000.00000000',
          applyMaxToMarket: false,
          avgPriceMins: 5,
        },
      ],
      permissions: [],
      permissionSets: [['SPOT']],
      defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
      allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
    })),
  };
}

function tickers(state: ExchangeState) {
  const now = Date.now();
  return [...state.markets].map(([symbol, market]) => {
    const last = state.prices.get(symbol) ?? '0';
    return {
      symbol: `${market.base}${market.quote}`,
      priceChange: '0.00000000',
      priceChangePercent: '0.000',
      weightedAvgPrice: last,
      prevClosePrice: last,
      lastPrice: last,
      lastQty: '1.00000000',
      bidPrice: last,
      bidQty: '1.00000000',
      askPrice: last,
      askQty: '1.00000000',
      openPrice: last,
      highPrice: last,
      lowPrice: last,
      volume: '100.00000000',
      quoteVolume: '100.00000000',
      openTime: now - 86_400_000,
      closeTime: now,
      firstId: 1,
      lastId: 100,
      count: 100,
    };
  });
}

function account(state: ExchangeState, apiKey: string) {
  const { balances } = state.account(apiKey);
  return {
    makerCommission: 10,
    takerCommission: 10,
    buyerCommission: 0,
    sellerCommission: 0,
    commissionRates: { maker: '0.00100000', taker: '0.00100000', buyer: '0', seller: '0' },
    canTrade: true,
    canWithdraw: true,
    canDeposit: true,
    brokered: false,
    requireSelfTradePrevention: false,
    preventSor: false,
    updateTime: Date.now(),
    accountType: 'SPOT',
    balances: [...balances].map(([asset, b]) => ({ asset, free: b.free, locked: b.locked })),
    permissions: ['SPOT'],
    uid: 354937868,
  };
}

/** Binance filters history by `startTime` / `endTime` (ms) on the record's time. */
function history(transfers: Transfer[], url: URL): Transfer[] {
  const start = Number(url.searchParams.get('startTime') ?? 0);
  const end = Number(url.searchParams.get('endTime') ?? Number.MAX_SAFE_INTEGER);
  return transfers.filter((t) => t.timestamp >= start && t.timestamp <= end);
}

const depositRecord = (t: Transfer) => ({
  id: t.id,
  amount: t.amount,
  coin: t.asset,
  network: t.asset,
  status: t.status === 'ok' ? 1 : 0, // 0 pending, 6 credited but cannot withdraw, 1 success
  address: '0x0000000000000000000000000000000000000001',
  addressTag: '',
  txId: `0x${t.id}`,
  insertTime: t.timestamp,
  completeTime: t.timestamp,
  transferType: 0,
  confirmTimes: '12/12',
  unlockConfirm: 0,
  walletType: 0,
});

/** Withdrawals carry `applyTime` as "YYYY-MM-DD HH:mm:ss" in UTC, as Binance sends it. */
const withdrawalRecord = (t: Transfer) => ({
  id: t.id,
  amount: t.amount,
  transactionFee: t.fee ?? '0',
  coin: t.asset,
  status: t.status === 'ok' ? 6 : 4, // 4 processing, 6 completed
  address: '0x0000000000000000000000000000000000000002',
  txId: `0x${t.id}`,
  applyTime: new Date(t.timestamp).toISOString().replace('T', ' ').slice(0, 19),
  network: t.asset,
  transferType: 0,
  walletType: 0,
  confirmNo: 12,
  info: '',
  txKey: '',
  completeTime: new Date(t.timestamp).toISOString().replace('T', ' ').slice(0, 19),
});

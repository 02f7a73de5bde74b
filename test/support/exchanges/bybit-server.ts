import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Dec } from '../../../src/valuation/index.ts';
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

// A local server speaking Bybit's v5 REST protocol, as ccxt's `bybit` uses it for a spot
// account: server time, spot instruments, tickers and klines; SIGNED API-key info and account
// info (ccxt asks whether the account is unified before reading a balance), the unified
// trading account's wallet balance, the funding wallet's coin balances, and deposit and
// withdrawal records. Bybit signs HMAC-SHA256 hex of timestamp + key + recvWindow + query
// string, the key, timestamp and window in X-BAPI-* headers; answers are {retCode, retMsg,
// result, retExtInfo, time}, refusals mostly with HTTP 200 and a retCode of their own.
//
// Wallets: the account's main ledger ('spot' in common.ts) is the unified trading account,
// 'funding' the funding wallet.

export const FUNDING_WALLET = 'funding';

const answer = (status: number, retCode: number, retMsg: string, result: unknown = {}): Reply => ({
  status,
  body: { retCode, retMsg, result, retExtInfo: {}, time: Date.now() },
});
const refusal = (retCode: number, retMsg: string) => answer(200, retCode, retMsg);

/** Bybit's answer past a key's request limit (its "system level frequency protection"). */
const RATE_LIMITED = answer(429, 10006, 'Too many visits!');
/** Bybit's IP ban: 403 from its edge, plain text, for 10 minutes at least. */
const BANNED: Reply = {
  status: 403,
  body: null,
  raw: 'access too frequent',
  headers: { 'content-type': 'text/plain' },
};
const INVALID_KEY = refusal(10003, 'API key is invalid.');
const EXPIRED_KEY = refusal(33004, 'Your api key has expired.');
const NO_PERMISSION = refusal(10005, 'Permission denied, please check your API key permissions.');
/** The refusal of a key bound to other IPs: ccxt's PermissionDenied, our `ip_refused`. */
export const IP_MISMATCH = {
  retCode: 10010,
  retMsg: "Unmatched IP, please check your API key's bound IP addresses.",
  result: {},
  retExtInfo: {},
  time: 0,
};

/** History without a window covers the last 30 days; a window may span 30 days at most. */
const HISTORY_SPAN_MS = 30 * 24 * 60 * 60 * 1000;
const PAGE_LIMIT = 50;

/** Bybit's kline `interval` in ms: minutes as numbers, D, W and M. */
const INTERVALS: Record<string, number> = {
  '1': 60_000,
  '3': 180_000,
  '5': 300_000,
  '15': 900_000,
  '30': 1_800_000,
  '60': 3_600_000,
  '120': 7_200_000,
  '240': 14_400_000,
  '360': 21_600_000,
  '720': 43_200_000,
  D: 86_400_000,
  W: 604_800_000,
};

export type FakeBybit = Awaited<ReturnType<typeof startFakeBybit>>;

export async function startFakeBybit(options: ExchangeOptions = {}) {
  const state = new ExchangeState(options);
  /** Keys created without the "Wallet: Account Transfer" permission the funding read needs. */
  const withoutTransferPermission = new Set<string>();
  /** Keys past their expiry date (33004), as opposed to deleted ones (10003). */
  const expired = new Set<string>();

  const routes: Record<string, Route> = {
    '/v5/market/time': () => ok(serverTime()),
    '/v5/market/instruments-info': (url) =>
      spotOnly(url) ?? ok({ category: 'spot', list: instruments(state, url), nextPageCursor: '' }),
    '/v5/market/tickers': (url) =>
      spotOnly(url) ?? ok({ category: 'spot', list: tickers(state, url) }),
    '/v5/market/kline': (url) => spotOnly(url) ?? klines(state, url),
    '/v5/user/query-api': (_url, apiKey) => ok(apiKeyInfo(apiKey ?? '')),
    '/v5/account/info': () => ok(accountInfo()),
    '/v5/asset/coin/query-info': (url) => ok({ rows: coinInfo(state, url) }),
    '/v5/account/wallet-balance': (url, apiKey) => walletBalance(state, apiKey ?? '', url),
    '/v5/asset/transfer/query-account-coins-balance': (url, apiKey) =>
      withoutTransferPermission.has(apiKey ?? '')
        ? NO_PERMISSION
        : fundBalance(state, apiKey ?? '', url),
    '/v5/asset/deposit/query-record': (url, apiKey) =>
      history(state.account(apiKey ?? '').deposits, url, depositRecord),
    '/v5/asset/withdraw/query-record': (url, apiKey) =>
      history(state.account(apiKey ?? '').withdrawals, url, withdrawalRecord),
  };
  const standIn = await startStandIn(state, {
    apiKeyHeader: 'x-bapi-api-key',
    routes,
    signed: new Set(Object.keys(routes).filter((path) => !path.startsWith('/v5/market/'))),
    authenticate: (request, _url, body, apiKey) => {
      if (apiKey && expired.has(apiKey)) return EXPIRED_KEY;
      return authenticate(state, request, body, apiKey);
    },
    notFound: { status: 404, body: null, raw: '', headers: { 'content-type': 'text/plain' } },
    rateLimited: RATE_LIMITED,
    banned: BANNED,
  });
  // Assigned, not spread: the handle's `stats` is a getter.
  return Object.assign(standIn, {
    /** The key may read the unified account but not the funding wallet (retCode 10005). */
    denyFundingRead: (apiKey: string) => withoutTransferPermission.add(apiKey),
    /** The key passed its expiry date (retCode 33004). */
    expire: (apiKey: string) => expired.add(apiKey),
  });
}

const ok = (result: unknown): Reply => answer(200, 0, 'OK', result);

/** Bybit answers a category it has but we do not serve as an empty list; spot only here. */
const spotOnly = (url: URL): Reply | undefined =>
  url.searchParams.get('category') === 'spot'
    ? undefined
    : refusal(10001, 'params error: category only support spot here');

function serverTime() {
  const now = Date.now();
  return { timeSecond: String(Math.floor(now / 1000)), timeNano: `${now}000000` };
}

/** Bybit's checks: key present and known, timestamp within recvWindow, signature. */
function authenticate(
  state: ExchangeState,
  request: IncomingMessage,
  body: string,
  apiKey: string | undefined,
): Reply | undefined {
  if (!apiKey) return INVALID_KEY;
  const account = state.accounts.get(apiKey);
  if (!account || account.revoked) return INVALID_KEY;
  const timestamp = headerValue(request, 'x-bapi-timestamp') ?? '';
  const recvWindow = headerValue(request, 'x-bapi-recv-window') ?? '5000';
  const at = Number(timestamp);
  const window = Number(recvWindow);
  const now = Date.now();
  // Bybit's rule: server_time - recv_window <= timestamp < server_time + 1000.
  if (!timestamp || !Number.isFinite(at) || at < now - window || at >= now + 1000) {
    return refusal(
      10002,
      `invalid request, please check your server timestamp or recv_window param. req_timestamp[${timestamp}],server_timestamp[${now}],recv_window[${recvWindow}]`,
    );
  }
  // GET signs the query string as sent; POST the JSON body.
  const query = (request.url ?? '').split('?')[1] ?? '';
  const payload = `${timestamp}${apiKey}${recvWindow}${request.method === 'GET' ? query : body}`;
  const expected = createHmac('sha256', account.secret).update(payload).digest('hex');
  const given = headerValue(request, 'x-bapi-sign') ?? '';
  if (
    given.length !== expected.length ||
    !timingSafeEqual(Buffer.from(given), Buffer.from(expected))
  ) {
    return refusal(10004, `error sign! origin_string[${payload}]`);
  }
  return undefined;
}

function instruments(state: ExchangeState, url: URL) {
  const wanted = url.searchParams.get('symbol');
  const rows = [];
  for (const m of state.markets.values()) {
    const symbol = `${m.base}${m.quote}`;
    if (wanted && wanted !== symbol) continue;
    rows.push({
      symbol,
      baseCoin: m.base,
      quoteCoin: m.quote,
      innovation: '0',
      status: 'Trading',
      marginTrading: 'utaOnly',
      stTag: '0',
      lotSizeFilter: {
        basePrecision: '0.000001',
        quotePrecision: '0.00000001',
        minOrderQty: '0.000048',
        maxOrderQty: '71.73956243',
        minOrderAmt: '1',
        maxOrderAmt: '2000000',
      },
      priceFilter: { tickSize: '0.01' },
      riskParameters: { priceLimitRatioX: '0.05', priceLimitRatioY: '0.05' },
    });
  }
  return rows;
}

function tickers(state: ExchangeState, url: URL) {
  const wanted = url.searchParams.get('symbol');
  const rows = [];
  for (const [pair, m] of state.markets) {
    const symbol = `${m.base}${m.quote}`;
    if (wanted && wanted !== symbol) continue;
    const last = state.prices.get(pair) ?? '0';
    rows.push({
      symbol,
      bid1Price: last,
      bid1Size: '1',
      ask1Price: last,
      ask1Size: '1',
      lastPrice: last,
      prevPrice24h: last,
      price24hPcnt: '0',
      highPrice24h: last,
      lowPrice24h: last,
      turnover24h: '100',
      volume24h: '100',
      usdIndexPrice: '',
    });
  }
  return rows;
}

/** Klines from `start`, newest first as Bybit lists them, at most `limit` (default 200, max 1000). */
function klines(state: ExchangeState, url: URL): Reply {
  const symbolId = url.searchParams.get('symbol') ?? '';
  const interval = INTERVALS[url.searchParams.get('interval') ?? ''];
  if (interval === undefined) return refusal(10001, 'Invalid period!');
  const pair = [...state.markets].find(([, m]) => `${m.base}${m.quote}` === symbolId)?.[0];
  if (!pair) return refusal(10001, 'Not supported symbols');
  const limit = Math.min(numberParam(url, 'limit') ?? 200, 1000);
  const end = numberParam(url, 'end') ?? Infinity;
  const start = numberParam(url, 'start') ?? Date.now() - limit * interval;
  const list = state
    .candles(pair, start, interval, limit)
    .filter((c) => c.openTime <= end)
    .map((c) => [String(c.openTime), c.open, c.high, c.low, c.close, '1', c.close])
    .reverse();
  return ok({ category: 'spot', symbol: symbolId, list });
}

/** A read-only key on a unified trading account (uta 1), as `user/query-api` describes it. */
function apiKeyInfo(apiKey: string) {
  return {
    id: '13770661',
    note: 'opencommas',
    apiKey,
    readOnly: 1,
    secret: '',
    permissions: {
      ContractTrade: [],
      Spot: [],
      Wallet: ['AccountTransfer'],
      Options: [],
      Derivatives: [],
      CopyTrading: [],
      BlockTrade: [],
      Exchange: [],
      NFT: [],
      Affiliate: [],
    },
    ips: ['*'],
    type: 1,
    deadlineDay: 83,
    expiredAt: '2027-05-15T03:21:05Z',
    createdAt: '2026-01-16T02:24:40Z',
    unified: 0,
    uta: 1,
    userID: 24600000,
    inviterID: 0,
    vipLevel: 'No VIP',
    mktMakerLevel: '0',
    affiliateID: 0,
    rsaPublicKey: '',
    isMaster: true,
    parentUid: '0',
    kycLevel: 'LEVEL_1',
    kycRegion: '',
  };
}

function accountInfo() {
  return {
    marginMode: 'REGULAR_MARGIN',
    updatedTime: '1697078946000',
    unifiedMarginStatus: 6,
    dcpStatus: 'OFF',
    timeWindow: 10,
    smpGroup: 0,
    isMasterTrader: false,
    spotHedgingStatus: 'OFF',
  };
}

/** Every asset of the listed markets, on its one chain (ccxt reads it with keys, as currencies). */
function coinInfo(state: ExchangeState, url: URL) {
  const wanted = url.searchParams.get('coin');
  const coins = new Set<string>();
  for (const m of state.markets.values()) coins.add(m.base).add(m.quote);
  return [...coins]
    .filter((coin) => !wanted || wanted === coin)
    .map((coin) => ({
      name: coin,
      coin,
      remainAmount: '150',
      chains: [
        {
          chainType: chainOf(coin),
          confirmation: '12',
          withdrawFee: '0.0005',
          depositMin: '0.0005',
          withdrawMin: '0.001',
          chain: chainOf(coin),
          chainDeposit: '1',
          chainWithdraw: '1',
          minAccuracy: '8',
          withdrawPercentageFee: '0',
          contractAddress: '',
        },
      ],
    }));
}

/** `coin=BTC,ETH` as a set, or undefined for "all". */
function coinFilter(url: URL): Set<string> | undefined {
  const coin = url.searchParams.get('coin');
  return coin ? new Set(coin.split(',')) : undefined;
}

/** The unified trading account; a UTA has no SPOT or CONTRACT account any more. */
function walletBalance(state: ExchangeState, apiKey: string, url: URL): Reply {
  const accountType = url.searchParams.get('accountType');
  if (accountType !== 'UNIFIED') {
    return refusal(10001, 'accountType only support UNIFIED.');
  }
  const wanted = coinFilter(url);
  const coin = [];
  for (const [asset, b] of state.account(apiKey).balances) {
    if (wanted && !wanted.has(asset)) continue;
    const total = new Dec(b.free).plus(b.locked).toFixed();
    coin.push({
      availableToBorrow: '',
      bonus: '0',
      accruedInterest: '0',
      availableToWithdraw: b.free,
      totalOrderIM: '0',
      equity: total,
      totalPositionMM: '0',
      usdValue: '',
      unrealisedPnl: '0',
      collateralSwitch: true,
      spotHedgingQty: '0',
      borrowAmount: '0',
      totalPositionIM: '0',
      walletBalance: total,
      cumRealisedPnl: '0',
      locked: b.locked,
      marginCollateral: true,
      coin: asset,
    });
  }
  return ok({
    list: [
      {
        totalEquity: '',
        accountIMRate: '0',
        totalMarginBalance: '',
        totalInitialMargin: '0',
        accountType: 'UNIFIED',
        totalAvailableBalance: '',
        accountMMRate: '0',
        totalPerpUPL: '0',
        totalWalletBalance: '',
        accountLTV: '0',
        totalMaintenanceMargin: '0',
        coin,
      },
    ],
  });
}

/** The funding wallet's coins (`accountType=FUND`; every coin when `coin` is absent). */
function fundBalance(state: ExchangeState, apiKey: string, url: URL): Reply {
  if (url.searchParams.get('accountType') !== 'FUND') {
    return refusal(10001, 'accountType only support FUND here.');
  }
  const wanted = coinFilter(url);
  const balance = [];
  for (const [asset, b] of state.wallet(apiKey, FUNDING_WALLET)) {
    if (wanted && !wanted.has(asset)) continue;
    balance.push({
      coin: asset,
      transferBalance: b.free,
      walletBalance: new Dec(b.free).plus(b.locked).toFixed(),
      bonus: '',
      transferSafeAmount: '',
      ltvTransferSafeAmount: '',
    });
  }
  return ok({ memberId: '24600000', accountType: 'FUND', balance });
}

/**
 * Bybit's record window: `startTime`..`endTime` (ms) at most 30 days apart; only `startTime`
 * reads 30 days from it, only `endTime` 30 days up to it, neither the last 30 days. `coin`
 * filters; newest first, `limit` (1..50, default 50) a page, `cursor` the next page.
 */
function history(
  transfers: Transfer[],
  url: URL,
  record: (t: Transfer) => Record<string, unknown>,
): Reply {
  const start = numberParam(url, 'startTime');
  const end = numberParam(url, 'endTime');
  if (start !== undefined && end !== undefined && end - start > HISTORY_SPAN_MS) {
    return refusal(10001, 'The time range between startTime and endTime cannot exceed 30 days.');
  }
  const to = end ?? (start === undefined ? Date.now() : start + HISTORY_SPAN_MS);
  const from = start ?? to - HISTORY_SPAN_MS;
  const limit = numberParam(url, 'limit') ?? PAGE_LIMIT;
  if (limit < 1 || limit > PAGE_LIMIT) return refusal(10001, 'params error: limit');
  const offset = decodeCursor(url.searchParams.get('cursor'));
  const all = transfersBetween(transfers, { from, to, asset: url.searchParams.get('coin') });
  const page = all.slice(offset, offset + limit);
  const more = offset + limit < all.length;
  return ok({ rows: page.map(record), nextPageCursor: more ? encodeCursor(offset + limit) : '' });
}

const encodeCursor = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64');
function decodeCursor(cursor: string | null): number {
  if (!cursor) return 0;
  const match = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString());
  return match ? Number(match[1]) : 0;
}

const CHAINS: Record<string, string> = { BTC: 'BTC', ETH: 'ETH', USDT: 'ETH', USDC: 'ETH' };
const chainOf = (coin: string) => CHAINS[coin] ?? coin;

// Deposit status: 0 unknown, 1 toBeConfirmed, 2 processing, 3 success, 4 failed.
const depositRecord = (t: Transfer) => ({
  id: t.id,
  coin: t.asset,
  chain: chainOf(t.asset),
  amount: t.amount,
  txID: `0x${t.id}`,
  status: t.status === 'ok' ? 3 : 1,
  toAddress: '0x0000000000000000000000000000000000000001',
  tag: '',
  depositFee: '',
  successAt: String(t.timestamp),
  confirmations: '12',
  txIndex: '0',
  blockHash: '',
  batchReleaseLimit: '-1',
  depositType: '0',
  fromAddress: '',
});

const withdrawalRecord = (t: Transfer) => ({
  withdrawId: t.id,
  coin: t.asset,
  chain: chainOf(t.asset),
  amount: t.amount,
  txID: `0x${t.id}`,
  status: t.status === 'ok' ? 'success' : 'Pending',
  toAddress: '0x0000000000000000000000000000000000000002',
  tag: '',
  withdrawFee: t.fee ?? '0',
  createTime: String(t.timestamp),
  updateTime: String(t.timestamp),
  withdrawType: 0,
});

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Dec } from '../../../src/valuation/index.ts';
import {
  ExchangeState,
  historyPageSize,
  MAIN_WALLET,
  numberParam,
  startStandIn,
  transfersBetween,
  type ExchangeOptions,
  type Reply,
  type Route,
  type Transfer,
  type Balance,
} from './common.ts';

// A local server speaking Binance's spot REST protocol, as ccxt's `binance` uses it: public
// exchange info and 24h tickers; SIGNED account, deposit and withdrawal history (HMAC-SHA256
// hex of the query string, `X-MBX-APIKEY`, `timestamp` within `recvWindow`); Binance's error
// codes and HTTP statuses for bad keys, bad signatures, stale timestamps and rate limits.

const error = (status: number, code: number, msg: string): Reply => ({
  status,
  body: { code, msg },
});
const RATE_LIMITED = error(
  429,
  -1003,
  'Too many requests; current limit of API key is exceeded. Please use the websocket for live updates to avoid polling the API.',
);
const BANNED = error(
  418,
  -1003,
  'Way too much request weight used; IP banned. Please use WebSocket Streams for live updates to avoid bans.',
);
const INVALID_KEY = error(401, -2015, 'Invalid API-key, IP, or permissions for action.');
const KEY_FORMAT = error(401, -2014, 'API-key format invalid.');
const BAD_SIGNATURE = error(400, -1022, 'Signature for this request is not valid.');
const missing = (name: string) =>
  error(400, -1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);
const OUTSIDE_WINDOW = error(
  400,
  -1021,
  'Timestamp for this request is outside of the recvWindow.',
);
const AHEAD = error(
  400,
  -1021,
  "Timestamp for this request was 1000ms ahead of the server's time.",
);
const BAD_RECV_WINDOW = error(400, -1131, 'recvWindow must be less than 60000');
const INTERVAL_TOO_BIG = error(400, -1127, 'Lookup interval is too big.');
/** What Binance answers a key that may not use an endpoint (a sub-account's, a region's). */
const NOT_AUTHORIZED = error(401, -1002, 'You are not authorized to execute this request.');

/** History without `startTime`/`endTime` covers the last 90 days, as Binance's does. */
const DEFAULT_HISTORY_MS = 90 * 24 * 60 * 60 * 1000;

/** Request weight of each endpoint (IP weight), as Binance documents it. */
const WEIGHTS: Record<string, number> = {
  '/api/v3/ping': 1,
  '/api/v3/time': 1,
  '/api/v3/exchangeInfo': 20,
  '/api/v3/ticker/24hr': 80,
  '/api/v3/account': 20,
  '/sapi/v1/capital/deposit/hisrec': 1,
  '/sapi/v1/capital/withdraw/history': 10,
  '/sapi/v1/asset/get-funding-asset': 1,
  '/sapi/v1/simple-earn/flexible/position': 150,
  '/sapi/v1/simple-earn/locked/position': 150,
};

/** The stand-in's wallet names for an account's wallets besides spot (`MAIN_WALLET`). */
export const BINANCE_WALLETS = {
  funding: 'funding',
  earnFlexible: 'earn-flexible',
  earnLocked: 'earn-locked',
} as const;

const FUNDING_PATH = '/sapi/v1/asset/get-funding-asset';
const EARN_FLEXIBLE_PATH = '/sapi/v1/simple-earn/flexible/position';
const EARN_LOCKED_PATH = '/sapi/v1/simple-earn/locked/position';
const CONFIG_PATH = '/sapi/v1/capital/config/getall';
const DEPOSIT_ADDRESS_PATH = '/sapi/v1/capital/deposit/address';

export type FakeBinance = Awaited<ReturnType<typeof startFakeBinance>>;

export async function startFakeBinance(options: ExchangeOptions = {}) {
  const state = new ExchangeState(options);
  /** `coin network` pairs whose deposits a test closed: Binance's -9000 for their address. */
  const closedDeposits = new Set<string>();
  /** `key wallet` pairs the key may not read: answered Binance's -1002. */
  const denied = new Set<string>();
  const walletRoute =
    (wallet: string, answer: (ledger: Map<string, Balance>, params: URLSearchParams) => Reply) =>
    (url: URL, apiKey: string | undefined, body: string): Reply => {
      if (denied.has(`${apiKey} ${wallet}`)) return NOT_AUTHORIZED;
      // A POST carries its parameters in the form body, a GET in the query string.
      const params = body ? new URLSearchParams(body) : url.searchParams;
      return answer(state.wallet(apiKey ?? '', wallet), params);
    };

  const routes: Record<string, Route> = {
    '/api/v3/ping': () => ok({}),
    '/api/v3/time': () => ok({ serverTime: Date.now() }),
    '/api/v3/exchangeInfo': () => ok(exchangeInfo(state)),
    '/api/v3/ticker/24hr': (url) => tickers(state, url),
    '/api/v3/account': (_url, apiKey) => ok(account(state, apiKey ?? '')),
    '/sapi/v1/capital/deposit/hisrec': (url, apiKey) =>
      history(state, state.account(apiKey ?? '').deposits, url, depositRecord),
    '/sapi/v1/capital/withdraw/history': (url, apiKey) =>
      history(state, state.account(apiKey ?? '').withdrawals, url, withdrawalRecord),
    '/api/v3/klines': (url) => klines(state, url),
    [CONFIG_PATH]: (_url, apiKey) => ok(coinConfigs(state, apiKey ?? '', closedDeposits)),
    // ccxt reads it with the coins (options.fetchMargins): which pairs may be borrowed on.
    '/sapi/v1/margin/allPairs': () => ok(marginPairs(state)),
    [DEPOSIT_ADDRESS_PATH]: (url, apiKey) =>
      depositAddress(state, apiKey ?? '', url, closedDeposits),
    [`POST ${FUNDING_PATH}`]: walletRoute(BINANCE_WALLETS.funding, (ledger, params) =>
      ok(fundingAssets(ledger, params)),
    ),
    [EARN_FLEXIBLE_PATH]: walletRoute(BINANCE_WALLETS.earnFlexible, (ledger, params) =>
      earnPage(ledger, params, flexiblePosition),
    ),
    [EARN_LOCKED_PATH]: walletRoute(BINANCE_WALLETS.earnLocked, (ledger, params) =>
      earnPage(ledger, params, lockedPosition),
    ),
  };

  // Used weight of the current minute, for the whole server (Binance counts it per IP).
  let minute = 0;
  let used = { api: 0, sapi: 0 };
  const headers = (path: string): Record<string, string> => {
    const now = Math.floor(Date.now() / 60_000);
    if (now !== minute) {
      minute = now;
      used = { api: 0, sapi: 0 };
    }
    const weight = WEIGHTS[path] ?? 1;
    if (path.startsWith('/sapi/')) {
      used.sapi += weight;
      return { 'X-SAPI-USED-IP-WEIGHT-1M': String(used.sapi) };
    }
    used.api += weight;
    return { 'X-MBX-USED-WEIGHT-1M': String(used.api) };
  };

  const handle = await startStandIn(state, {
    apiKeyHeader: 'x-mbx-apikey',
    routes,
    signed: new Set([
      '/api/v3/account',
      '/sapi/v1/capital/deposit/hisrec',
      '/sapi/v1/capital/withdraw/history',
      FUNDING_PATH,
      EARN_FLEXIBLE_PATH,
      EARN_LOCKED_PATH,
      CONFIG_PATH,
      DEPOSIT_ADDRESS_PATH,
    ]),
    authenticate: (request, url, body, apiKey) => authenticate(state, request, url, body, apiKey),
    notFound: error(404, -1100, 'Unknown endpoint.'),
    rateLimited: RATE_LIMITED,
    banned: BANNED,
    headers,
  });
  // Assigned onto the handle, not spread: its `stats` is a getter.
  return Object.assign(handle, {
    /** The key may no longer read `wallet` (funding, earn-…): Binance's -1002 from then on. */
    denyWallet: (apiKey: string, wallet: string) => {
      if (wallet === MAIN_WALLET) throw new Error('a key refused spot is refused: use revoke');
      denied.add(`${apiKey} ${wallet}`);
    },
    /** Deposits of `coin` on `network` close: its address is refused, its networks say so. */
    closeDeposits: (coin: string, network: string) => closedDeposits.add(`${coin} ${network}`),
  });
}

const ok = (body: unknown): Reply => ({ status: 200, body });

/** Binance's SIGNED checks: key present and well-formed, known, parameters, signature, time. */
function authenticate(
  state: ExchangeState,
  request: IncomingMessage,
  url: URL,
  body: string,
  apiKey: string | undefined,
): Reply | undefined {
  if (!apiKey || !/^[A-Za-z0-9_-]{1,128}$/.test(apiKey)) return KEY_FORMAT;
  const account = state.accounts.get(apiKey);
  if (!account || account.revoked) return INVALID_KEY;
  // Parameters come in the query string (GET) or the form body (POST), or both.
  const params = new URLSearchParams([url.search.slice(1), body].filter(Boolean).join('&'));
  const timestamp = numberOf(params.get('timestamp'));
  if (timestamp === undefined) return missing('timestamp');
  const signature = params.get('signature');
  if (!signature) return missing('signature');
  // The signed payload: the query string as sent, then the body, each without the signature.
  const query = (request.url ?? '').split('?')[1] ?? '';
  const unsigned = (text: string) =>
    text
      .split('&')
      .filter((part) => !part.startsWith('signature='))
      .join('&');
  const payload = unsigned(query) + unsigned(body);
  const expected = createHmac('sha256', account.secret).update(payload).digest('hex');
  if (
    signature.length !== expected.length ||
    !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
  ) {
    return BAD_SIGNATURE;
  }
  const recvWindow = numberOf(params.get('recvWindow')) ?? 5000;
  if (recvWindow > 60_000) return BAD_RECV_WINDOW;
  const now = Date.now();
  if (timestamp > now + 1000) return AHEAD;
  if (now - timestamp > recvWindow) return OUTSIDE_WINDOW;
  return undefined;
}

/** A parameter as a finite number, or undefined when absent or not a number. */
function numberOf(text: string | null): number | undefined {
  if (text === null || text === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

const totalOf = (b: Balance) => new Dec(b.free).plus(b.locked).toFixed();

/** The funding wallet as `get-funding-asset` lists it: assets held, `asset` filters. */
function fundingAssets(ledger: Map<string, Balance>, params: URLSearchParams) {
  const wanted = params.get('asset');
  return [...ledger]
    .filter(([asset, b]) => (!wanted || asset === wanted) && !new Dec(totalOf(b)).isZero())
    .map(([asset, b]) => ({
      asset,
      free: b.free,
      locked: '0',
      freeze: b.locked,
      withdrawing: '0',
      btcValuation: '0',
    }));
}

type EarnRow = (asset: string, balance: Balance, index: number) => Record<string, unknown>;

/** A Simple Earn position list: `{rows, total}`, paged by `current` (from 1) and `size`. */
function earnPage(ledger: Map<string, Balance>, params: URLSearchParams, row: EarnRow): Reply {
  const wanted = params.get('asset');
  const size = numberOf(params.get('size')) ?? 10;
  const current = numberOf(params.get('current')) ?? 1;
  if (size < 1 || size > 100 || current < 1) {
    return error(
      400,
      -1102,
      "Mandatory parameter 'size' was not sent, was empty/null, or malformed.",
    );
  }
  const rows = [...ledger]
    .filter(([asset, b]) => (!wanted || asset === wanted) && !new Dec(totalOf(b)).isZero())
    .map(([asset, b], index) => row(asset, b, index));
  return ok({ rows: rows.slice((current - 1) * size, current * size), total: rows.length });
}

const flexiblePosition: EarnRow = (asset, b) => ({
  totalAmount: totalOf(b),
  tierAnnualPercentageRate: { '0-5BTC': 0.05, '5-10BTC': 0.03 },
  latestAnnualPercentageRate: '0.02599895',
  yesterdayAirdropPercentageRate: '0',
  asset,
  airDropAsset: asset,
  canRedeem: true,
  collateralAmount: '0',
  productId: `${asset}001`,
  yesterdayRealTimeRewards: '0',
  cumulativeBonusRewards: '0',
  cumulativeRealTimeRewards: '0',
  cumulativeTotalRewards: '0',
  autoSubscribe: true,
});

const lockedPosition: EarnRow = (asset, b, index) => ({
  positionId: 100_000 + index,
  parentPositionId: 0,
  projectId: `${asset}*90`,
  asset,
  amount: totalOf(b),
  purchaseTime: String(Date.now() - 86_400_000),
  duration: '90',
  accrualDays: '1',
  rewardAsset: asset,
  APY: '0.05',
  rewardAmt: '0',
  nextPay: '0',
  nextPayDate: String(Date.now() + 86_400_000),
  payPeriod: '1',
  redeemAmountEarly: totalOf(b),
  rewardsEndDate: String(Date.now() + 89 * 86_400_000),
  deliverDate: String(Date.now() + 90 * 86_400_000),
  redeemPeriod: '1',
  redeemingAmt: '0',
  redeemTo: 'SPOT',
  canRedeemEarly: true,
  canFastRedemption: false,
  autoSubscribe: true,
  type: 'NORMAL',
  status: 'HOLDING',
  canReStake: true,
});

function exchangeInfo(state: ExchangeState) {
  return {
    timezone: 'UTC',
    serverTime: Date.now(),
    rateLimits: [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
      { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 200000 },
      { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
    ],
    exchangeFilters: [],
    symbols: [...state.markets.values()].map((market) => ({
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
      otoAllowed: true,
      quoteOrderQtyMarketAllowed: true,
      allowTrailingStop: true,
      cancelReplaceAllowed: true,
      amendAllowed: false,
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
        { filterType: 'ICEBERG_PARTS', limit: 10 },
        {
          filterType: 'MARKET_LOT_SIZE',
          minQty: '0.00000000',
          maxQty: '100.00000000',
          stepSize: '0.00000000',
        },
        {
          filterType: 'NOTIONAL',
          minNotional: '5.00000000',
          applyMinToMarket: true,
          maxNotional: '9000000.00000000',
          applyMaxToMarket: false,
          avgPriceMins: 5,
        },
        { filterType: 'MAX_NUM_ORDERS', maxNumOrders: 200 },
        { filterType: 'MAX_NUM_ALGO_ORDERS', maxNumAlgoOrders: 5 },
      ],
      permissions: [],
      permissionSets: [['SPOT']],
      defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
      allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
    })),
  };
}

/** All markets' 24h tickers, or those named by `symbol` / `symbols` (a JSON array). */
function tickers(state: ExchangeState, url: URL): Reply {
  let wanted: Set<string> | undefined;
  const one = url.searchParams.get('symbol');
  const many = url.searchParams.get('symbols');
  if (one) wanted = new Set([one]);
  else if (many) {
    try {
      wanted = new Set(JSON.parse(many) as string[]);
    } catch {
      return error(400, -1100, "Illegal characters found in parameter 'symbols'.");
    }
  }
  const now = Date.now();
  const rows = [];
  for (const [symbol, market] of state.markets) {
    const id = `${market.base}${market.quote}`;
    if (wanted && !wanted.has(id)) continue;
    const last = state.prices.get(symbol) ?? '0';
    rows.push({
      symbol: id,
      priceChange: '0.00000000',
      priceChangePercent: '0.000',
      weightedAvgPrice: last,
      prevClosePrice: last,
      lastPrice: last,
      lastQty: '1.00000000',
      bidPrice: state.bookTops.get(symbol)?.bid ?? last,
      bidQty: '1.00000000',
      askPrice: state.bookTops.get(symbol)?.ask ?? last,
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
    });
  }
  if (one && rows.length === 0) return error(400, -1121, 'Invalid symbol.');
  return ok(one ? rows[0] : rows);
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

/**
 * Binance's history window: `startTime`..`endTime` (ms, inclusive) on the record's time, the
 * last 90 days when neither is given, never more than 90 days (-1127); `coin` filters; newest
 * first, at most `limit` (default and maximum 1000, or the test's `historyPageCap`).
 */
function history(
  state: ExchangeState,
  transfers: Transfer[],
  url: URL,
  record: (t: Transfer) => unknown,
): Reply {
  const start = numberParam(url, 'startTime');
  const end = numberParam(url, 'endTime');
  const to = end ?? Date.now();
  if (start !== undefined && to - start > DEFAULT_HISTORY_MS) return INTERVAL_TOO_BIG;
  const rows = transfersBetween(transfers, {
    from: start ?? (end === undefined ? to - DEFAULT_HISTORY_MS : undefined),
    to,
    asset: url.searchParams.get('coin'),
    limit: historyPageSize(state, numberParam(url, 'limit'), 1000),
  });
  return ok(rows.map(record));
}

/** Binance's kline intervals, in ms. */
const INTERVALS: Record<string, number> = {
  '1m': 60_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
};

/**
 * `GET /api/v3/klines`: the candles of `symbol` (Binance's id, e.g. ETHUSDT) from `startTime`,
 * oldest first, at most `limit` (default 500, maximum 1000), none past `endTime`.
 */
function klines(state: ExchangeState, url: URL): Reply {
  const id = url.searchParams.get('symbol') ?? '';
  const symbol = [...state.markets].find(([, m]) => `${m.base}${m.quote}` === id)?.[0];
  if (!symbol) return error(400, -1121, 'Invalid symbol.');
  const intervalMs = INTERVALS[url.searchParams.get('interval') ?? ''];
  if (intervalMs === undefined) return error(400, -1120, 'Invalid interval.');
  const limit = Math.min(numberParam(url, 'limit') ?? 500, 1000);
  const end = numberParam(url, 'endTime') ?? Infinity;
  const since = numberParam(url, 'startTime') ?? Date.now() - limit * intervalMs;
  const candles = state
    .candles(symbol, since, intervalMs, limit)
    .filter((candle) => candle.openTime >= since && candle.openTime <= end);
  return ok(
    candles.map((c) => [
      c.openTime,
      c.open,
      c.high,
      c.low,
      c.close,
      '1.00000000',
      c.openTime + intervalMs - 1,
      c.close,
      1,
      '0.50000000',
      c.close,
      '0',
    ]),
  );
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

/** "YYYY-MM-DD HH:mm:ss" in UTC, as Binance writes withdrawal times (whole seconds). */
const binanceTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

const withdrawalRecord = (t: Transfer) => ({
  id: t.id,
  amount: t.amount,
  transactionFee: t.fee ?? '0',
  coin: t.asset,
  status: t.status === 'ok' ? 6 : 4, // 4 processing, 6 completed
  address: '0x0000000000000000000000000000000000000002',
  txId: `0x${t.id}`,
  applyTime: binanceTime(t.timestamp),
  network: t.asset,
  transferType: 0,
  walletType: 0,
  confirmNo: 12,
  info: '',
  txKey: '',
  completeTime: binanceTime(t.timestamp),
});

/** Binance's network ids per coin, the first the default. USDT on two, as on Binance. */
const COIN_NETWORKS: Record<string, string[]> = {
  BTC: ['BTC'],
  ETH: ['ETH'],
  USDT: ['ETH', 'TRX'],
  USDC: ['ETH'],
  SOL: ['SOL'],
  BNB: ['BSC'],
};
const NETWORK_NAMES: Record<string, string> = {
  BTC: 'Bitcoin',
  ETH: 'Ethereum (ERC20)',
  TRX: 'Tron (TRC20)',
  SOL: 'Solana',
  BSC: 'BNB Smart Chain (BEP20)',
};
const networksOf = (coin: string) => COIN_NETWORKS[coin] ?? [coin];

/** GET /sapi/v1/capital/config/getall: every coin of the listed markets, with its networks. */
function coinConfigs(state: ExchangeState, apiKey: string, closed: ReadonlySet<string>) {
  const coins = new Set<string>();
  for (const m of state.markets.values()) coins.add(m.base).add(m.quote);
  const { balances } = state.account(apiKey);
  return [...coins].sort().map((coin) => {
    const networkList = networksOf(coin).map((network, index) => ({
      network,
      coin,
      withdrawIntegerMultiple: '0.00000001',
      isDefault: index === 0,
      depositEnable: !closed.has(`${coin} ${network}`),
      withdrawEnable: true,
      depositDesc: closed.has(`${coin} ${network}`) ? 'Wallet Maintenance, Deposit Suspended' : '',
      withdrawDesc: '',
      specialTips: '',
      name: NETWORK_NAMES[network] ?? network,
      resetAddressStatus: false,
      addressRegex: network === 'ETH' ? '^(0x)[0-9A-Fa-f]{40}$' : '^[0-9A-Za-z]{20,64}$',
      memoRegex: '',
      withdrawFee: network === 'ETH' ? '0.0004' : '0.0002',
      withdrawMin: '0.001',
      withdrawMax: '9999999999.99999999',
      minConfirm: 1,
      unLockConfirm: 0,
      sameAddress: false,
      estimatedArrivalTime: 5,
      busy: false,
    }));
    const held = balances.get(coin);
    return {
      coin,
      depositAllEnable: networkList.some((n) => n.depositEnable),
      withdrawAllEnable: true,
      name: coin,
      free: held?.free ?? '0',
      locked: held?.locked ?? '0',
      freeze: '0',
      withdrawing: '0',
      ipoing: '0',
      ipoable: '0',
      storage: '0',
      isLegalMoney: false,
      trading: true,
      networkList,
    };
  });
}

/** GET /sapi/v1/capital/deposit/address: `coin` required, `network` the coin's default if absent. */
function depositAddress(
  state: ExchangeState,
  apiKey: string,
  url: URL,
  closed: ReadonlySet<string>,
): Reply {
  const coin = url.searchParams.get('coin');
  if (!coin) return missing('coin');
  const network = url.searchParams.get('network') ?? networksOf(coin)[0]!;
  if (!networksOf(coin).includes(network)) return error(400, -4003, 'Coin is not supported.');
  if (closed.has(`${coin} ${network}`)) {
    return error(400, -9000, 'Deposits for this network are currently closed');
  }
  state.account(apiKey);
  const digest = createHmac('sha256', 'address')
    .update(`${apiKey} ${coin} ${network}`)
    .digest('hex');
  const address = network === 'ETH' ? `0x${digest.slice(0, 40)}` : `bc1q${digest.slice(0, 38)}`;
  return ok({ coin, address, tag: '', url: `https://explorer.example/address/${address}` });
}

/** GET /sapi/v1/margin/allPairs: every listed pair, open for margin. */
function marginPairs(state: ExchangeState) {
  return [...state.markets.values()].map((market, index) => ({
    id: 1000 + index,
    symbol: `${market.base}${market.quote}`,
    base: market.base,
    quote: market.quote,
    isMarginTrade: true,
    isBuyAllowed: true,
    isSellAllowed: true,
  }));
}

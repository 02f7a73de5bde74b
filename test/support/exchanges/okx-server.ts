import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Dec } from '../../../src/valuation/index.ts';
import {
  ExchangeState,
  headerValue,
  historyPageSize,
  numberParam,
  startStandIn,
  transfersBetween,
  type ExchangeOptions,
  type Reply,
  type Route,
  type Transfer,
  type Balance,
} from './common.ts';

// A local server speaking OKX's v5 REST protocol, as ccxt's `okx` uses it for spot: instruments
// and tickers; SIGNED currencies, balance, deposit and withdrawal history. OKX signs differently
// from Binance: Base64(HMAC-SHA256(timestamp + METHOD + requestPath + body)) in OK-ACCESS-SIGN,
// with the key, an ISO timestamp and the passphrase in headers; answers are {code, msg, data}.

const error = (status: number, code: string, msg: string): Reply => ({
  status,
  body: { code, msg, data: [] },
});
const RATE_LIMITED = error(429, '50011', 'Too Many Requests');
// OKX has no 418 of its own: a ban comes from its edge, as a bare page rather than JSON.
const BANNED: Reply = {
  status: 418,
  body: null,
  raw: 'Access denied: too many requests',
  headers: { 'content-type': 'text/plain' },
};
const NO_KEY = error(401, '50103', 'Request header "OK-ACCESS-KEY" cannot be empty.');
const NO_PASSPHRASE = error(401, '50104', 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.');
const NO_SIGN = error(401, '50106', 'Request header "OK-ACCESS-SIGN" cannot be empty.');
const NO_TIMESTAMP = error(401, '50107', 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.');
const INVALID_KEY = error(401, '50111', 'Invalid OK-ACCESS-KEY');
const BAD_TIMESTAMP = error(401, '50112', 'Invalid OK-ACCESS-TIMESTAMP');
const BAD_SIGN = error(401, '50113', 'Invalid Sign');
const BAD_PASSPHRASE = error(401, '50105', 'Invalid OK-ACCESS-PASSPHRASE');
const EXPIRED = error(401, '50102', 'Timestamp request expired');

/** The stand-in's name for the funding account; the trading account is `MAIN_WALLET`. */
export const OKX_FUNDING = 'funding';

/** OKX refuses a timestamp more than 30 s away from its clock. */
const MAX_SKEW_MS = 30_000;

export type FakeOkx = Awaited<ReturnType<typeof startFakeOkx>>;

export async function startFakeOkx(options: ExchangeOptions = {}) {
  const state = new ExchangeState(options);

  const routes: Record<string, Route> = {
    '/api/v5/public/time': () => ok([{ ts: String(Date.now()) }]),
    '/api/v5/public/instruments': (url) =>
      ok(url.searchParams.get('instType') === 'SPOT' ? instruments(state, url) : []),
    '/api/v5/market/tickers': (url) =>
      ok(url.searchParams.get('instType') === 'SPOT' ? tickers(state) : []),
    '/api/v5/asset/currencies': (url) => ok(currencies(state, url)),
    '/api/v5/asset/deposit-address': (url, apiKey) => depositAddresses(apiKey ?? '', url),
    '/api/v5/account/balance': (url, apiKey) => ok(balance(state, apiKey ?? '', url)),
    '/api/v5/asset/balances': (url, apiKey) =>
      ok(fundingBalances(state.wallet(apiKey ?? '', OKX_FUNDING), url)),
    '/api/v5/asset/deposit-history': (url, apiKey) =>
      ok(history(state, state.account(apiKey ?? '').deposits, url).map(depositRecord)),
    '/api/v5/asset/withdrawal-history': (url, apiKey) =>
      ok(history(state, state.account(apiKey ?? '').withdrawals, url).map(withdrawalRecord)),
    '/api/v5/market/candles': (url) => candles(state, url, RECENT_CANDLES),
    '/api/v5/market/history-candles': (url) => candles(state, url, Infinity),
  };
  return startStandIn(state, {
    apiKeyHeader: 'ok-access-key',
    routes,
    signed: new Set([
      '/api/v5/asset/currencies',
      '/api/v5/asset/deposit-address',
      '/api/v5/account/balance',
      '/api/v5/asset/balances',
      '/api/v5/asset/deposit-history',
      '/api/v5/asset/withdrawal-history',
    ]),
    authenticate: (request, _url, body, apiKey) => authenticate(state, request, body, apiKey),
    notFound: error(404, '50000', 'Not Found'),
    rateLimited: RATE_LIMITED,
    banned: BANNED,
  });
}

const ok = (data: unknown[]): Reply => ({ status: 200, body: { code: '0', msg: '', data } });

/** OKX's checks: headers present, key known, timestamp fresh, signature, passphrase. */
function authenticate(
  state: ExchangeState,
  request: IncomingMessage,
  body: string,
  apiKey: string | undefined,
): Reply | undefined {
  if (!apiKey) return NO_KEY;
  const passphrase = headerValue(request, 'ok-access-passphrase');
  if (!passphrase) return NO_PASSPHRASE;
  const given = headerValue(request, 'ok-access-sign');
  if (!given) return NO_SIGN;
  const timestamp = headerValue(request, 'ok-access-timestamp');
  if (!timestamp) return NO_TIMESTAMP;
  const account = state.accounts.get(apiKey);
  if (!account || account.revoked) return INVALID_KEY;
  const at = Date.parse(timestamp);
  if (Number.isNaN(at)) return BAD_TIMESTAMP;
  if (Math.abs(Date.now() - at) > MAX_SKEW_MS) return EXPIRED;
  // requestPath is the path with its query string, exactly as sent.
  const payload = `${timestamp}${request.method ?? 'GET'}${request.url ?? ''}${body}`;
  const expected = createHmac('sha256', account.secret).update(payload).digest('base64');
  if (
    given.length !== expected.length ||
    !timingSafeEqual(Buffer.from(given), Buffer.from(expected))
  ) {
    return BAD_SIGN;
  }
  if (passphrase !== account.passphrase) return BAD_PASSPHRASE;
  return undefined;
}

/** `ccy=BTC,ETH` as a set, or undefined for "all". */
function currencyFilter(url: URL): Set<string> | undefined {
  const ccy = url.searchParams.get('ccy');
  return ccy ? new Set(ccy.split(',')) : undefined;
}

function instruments(state: ExchangeState, url: URL) {
  const instId = url.searchParams.get('instId');
  const rows = [];
  for (const m of state.markets.values()) {
    const id = `${m.base}-${m.quote}`;
    if (instId && instId !== id) continue;
    rows.push({
      instType: 'SPOT',
      instId: id,
      uly: '',
      instFamily: '',
      baseCcy: m.base,
      quoteCcy: m.quote,
      settleCcy: '',
      ctValCcy: '',
      optType: '',
      stk: '',
      listTime: '1606468572000',
      auctionEndTime: '',
      contTdSwTime: '',
      openType: '',
      expTime: '',
      lever: '10',
      tickSz: '0.00000001',
      lotSz: '0.00000001',
      minSz: '0.00001',
      ctVal: '',
      ctMult: '',
      ctType: '',
      alias: '',
      state: 'live',
      ruleType: 'normal',
      maxLmtSz: '9999999999',
      maxMktSz: '1000000',
      maxLmtAmt: '20000000',
      maxMktAmt: '1000000',
      maxTwapSz: '9999999999',
      maxIcebergSz: '9999999999',
      maxTriggerSz: '9999999999',
      maxStopSz: '1000000',
      futureSettlement: false,
      tradeQuoteCcyList: [m.quote],
      instIdCode: null,
    });
  }
  return rows;
}

function tickers(state: ExchangeState) {
  const ts = String(Date.now());
  return [...state.markets].map(([symbol, m]) => {
    const last = state.prices.get(symbol) ?? '0';
    return {
      instType: 'SPOT',
      instId: `${m.base}-${m.quote}`,
      last,
      lastSz: '1',
      askPx: state.bookTops.get(symbol)?.ask ?? last,
      askSz: '1',
      bidPx: state.bookTops.get(symbol)?.bid ?? last,
      bidSz: '1',
      open24h: last,
      high24h: last,
      low24h: last,
      volCcy24h: '100',
      vol24h: '100',
      ts,
      sodUtc0: last,
      sodUtc8: last,
    };
  });
}

/** OKX names a chain `CCY-Network`: BTC-Bitcoin, USDT-ERC20… One chain per asset here. */
const NETWORKS: Record<string, string> = {
  BTC: 'Bitcoin',
  ETH: 'ERC20',
  USDT: 'ERC20',
  USDC: 'ERC20',
  SOL: 'Solana',
};
const chainOf = (ccy: string) => `${ccy}-${NETWORKS[ccy] ?? ccy}`;

/** Every asset of the listed markets, on its one chain. */
function currencies(state: ExchangeState, url: URL) {
  const wanted = currencyFilter(url);
  const assets = new Set<string>();
  for (const m of state.markets.values()) assets.add(m.base).add(m.quote);
  return [...assets]
    .filter((ccy) => !wanted || wanted.has(ccy))
    .map((ccy) => ({
      ccy,
      name: ccy,
      logoLink: '',
      chain: chainOf(ccy),
      ctAddr: '',
      canDep: true,
      canWd: true,
      canInternal: true,
      depEstOpenTime: '',
      wdEstOpenTime: '',
      minDep: '0.00000001',
      minWd: '0.0001',
      maxWd: '1000000',
      wdTickSz: '8',
      wdQuota: '10000000',
      usedWdQuota: '0',
      fee: '0.0001',
      minFee: '0.0001',
      maxFee: '0.0001',
      minFeeForCtAddr: '',
      maxFeeForCtAddr: '',
      burningFeeRate: '',
      mainNet: true,
      needTag: false,
      minDepArrivalConfirm: '1',
      minWdUnlockConfirm: '1',
      depQuotaFixed: '',
      usedDepQuotaFixed: '',
      depQuoteDailyLayer2: '',
    }));
}

function balance(state: ExchangeState, apiKey: string, url: URL) {
  const wanted = currencyFilter(url);
  const uTime = String(Date.now());
  const details = [];
  for (const [ccy, b] of state.account(apiKey).balances) {
    if (wanted && !wanted.has(ccy)) continue;
    const total = new Dec(b.free).plus(b.locked).toFixed();
    details.push({
      ccy,
      eq: total,
      cashBal: total,
      availBal: b.free,
      availEq: b.free,
      frozenBal: b.locked,
      ordFrozen: b.locked,
      disEq: '',
      eqUsd: '',
      isoEq: '0',
      liab: '',
      upl: '',
      uTime,
    });
  }
  return [
    {
      adjEq: '',
      details,
      imr: '',
      isoEq: '0',
      mgnRatio: '',
      mmr: '',
      notionalUsd: '',
      ordFroz: '',
      totalEq: '0',
      uTime,
      upl: '',
    },
  ];
}

/** The funding account as `asset/balances` lists it: assets held, `ccy` filters. */
function fundingBalances(ledger: Map<string, Balance>, url: URL) {
  const wanted = currencyFilter(url);
  const rows = [];
  for (const [ccy, b] of ledger) {
    const bal = new Dec(b.free).plus(b.locked);
    if ((wanted && !wanted.has(ccy)) || bal.isZero()) continue;
    rows.push({ availBal: b.free, bal: bal.toFixed(), ccy, frozenBal: b.locked });
  }
  return rows;
}

/**
 * OKX pages history by `before` / `after` (ms): newer than `before`, older than `after`; `ccy`
 * filters; newest first, at most `limit` (default and maximum 100, or the test's cap).
 */
function history(state: ExchangeState, transfers: Transfer[], url: URL): Transfer[] {
  const before = numberParam(url, 'before');
  const after = numberParam(url, 'after');
  return transfersBetween(transfers, {
    from: before === undefined ? undefined : before + 1,
    to: after === undefined ? undefined : after - 1,
    asset: url.searchParams.get('ccy'),
    limit: historyPageSize(state, numberParam(url, 'limit'), 100),
  });
}

/** `market/candles` serves the latest 1440 bars; older ones are in `history-candles`. */
const RECENT_CANDLES = 1440;

const BAR_UNITS: Record<string, number> = { m: 60_000, H: 3_600_000, D: 86_400_000 };

/**
 * OKX candles of `instId` (ETH-USDT) in `bar`s ('1m', '1H', '1Dutc'): newer than `before`, older
 * than `after`, newest first, at most `limit` (maximum 300); each row is [ts, o, h, l, c, vol,
 * volCcy, volCcyQuote, confirm].
 */
function candles(state: ExchangeState, url: URL, keptBars: number): Reply {
  const instId = url.searchParams.get('instId') ?? '';
  const symbol = [...state.markets].find(([, m]) => `${m.base}-${m.quote}` === instId)?.[0];
  if (!symbol) return error(400, '51001', "Instrument ID doesn't exist.");
  const bar = /^(\d+)([mHD])(utc)?$/.exec(url.searchParams.get('bar') ?? '1m');
  const unit = bar ? BAR_UNITS[bar[2]!] : undefined;
  if (!bar || unit === undefined) return error(400, '51000', 'Parameter bar error');
  const intervalMs = Number(bar[1]) * unit;
  const limit = Math.min(numberParam(url, 'limit') ?? 100, 300);
  const oldestKept = keptBars === Infinity ? 0 : Date.now() - keptBars * intervalMs;
  const before = numberParam(url, 'before') ?? -1;
  const after = numberParam(url, 'after') ?? Infinity;
  const since = Math.max(
    before + 1,
    oldestKept,
    after === Infinity ? 0 : after - limit * intervalMs,
  );
  const rows = state
    .candles(symbol, since, intervalMs, Number.MAX_SAFE_INTEGER)
    .filter((c) => c.openTime > before && c.openTime < after && c.openTime >= oldestKept)
    .reverse()
    .slice(0, limit);
  return ok(
    rows.map((c) => [String(c.openTime), c.open, c.high, c.low, c.close, '1', '1', c.close, '1']),
  );
}

const depositRecord = (t: Transfer) => ({
  actualDepBlkConfirm: '12',
  amt: t.amount,
  areaCodeFrom: '',
  ccy: t.asset,
  chain: chainOf(t.asset),
  depId: t.id,
  from: '',
  fromWdId: '',
  state: t.status === 'ok' ? '2' : '0', // 0 waiting for confirmation, 1 credited, 2 successful
  to: '0x0000000000000000000000000000000000000001',
  ts: String(t.timestamp),
  txId: `0x${t.id}`,
});

const withdrawalRecord = (t: Transfer) => ({
  chain: chainOf(t.asset),
  fee: t.fee ?? '0',
  feeCcy: t.asset,
  ccy: t.asset,
  clientId: '',
  amt: t.amount,
  txId: `0x${t.id}`,
  from: '',
  areaCodeFrom: '',
  to: '0x0000000000000000000000000000000000000002',
  areaCodeTo: '',
  state: t.status === 'ok' ? '2' : '1', // 1 broadcasting, 2 success
  ts: String(t.timestamp),
  nonTradableAsset: false,
  wdId: t.id,
});

/** GET /api/v5/asset/deposit-address: `ccy` required; one address per chain of the currency. */
function depositAddresses(apiKey: string, url: URL): Reply {
  const ccy = url.searchParams.get('ccy');
  if (!ccy) return error(400, '50014', 'Parameter ccy can not be empty.');
  const chain = chainOf(ccy);
  const digest = createHmac('sha256', 'address').update(`${apiKey} ${chain}`).digest('hex');
  const addr = NETWORKS[ccy] === 'ERC20' ? `0x${digest.slice(0, 40)}` : `okx${digest.slice(0, 36)}`;
  return ok([{ chain, ctAddr: '', ccy, to: '6', addr, verifiedName: '', selected: true }]);
}

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Dec } from '../../../src/valuation/index.ts';
import {
  ExchangeState,
  headerValue,
  startStandIn,
  type ExchangeOptions,
  type Reply,
  type Transfer,
} from './common.ts';

// A local server speaking OKX's v5 REST protocol, as ccxt's `okx` uses it for spot: instruments
// and tickers; SIGNED balance, deposit and withdrawal history. OKX signs differently from
// Binance: Base64(HMAC-SHA256(timestamp + METHOD + requestPath + body)) in OK-ACCESS-SIGN, with
// the key, an ISO timestamp and the passphrase in headers; answers are {code, msg, data}.

const error = (status: number, code: string, msg: string): Reply => ({
  status,
  body: { code, msg, data: [] },
});
const RATE_LIMITED = { code: '50011', msg: 'Too Many Requests', data: [] };
const INVALID_KEY = () => error(401, '50111', 'Invalid OK-ACCESS-KEY');
const BAD_SIGN = () => error(401, '50113', 'Invalid Sign');
const BAD_PASSPHRASE = () => error(401, '50105', 'Invalid OK-ACCESS-PASSPHRASE');
const EXPIRED = () => error(401, '50102', 'Timestamp request expired');

export type FakeOkx = Awaited<ReturnType<typeof startFakeOkx>>;

export async function startFakeOkx(options: ExchangeOptions = {}) {
  const state = new ExchangeState(options);

  const routes: Record<string, (url: URL, apiKey?: string) => Reply> = {
    '/api/v5/public/time': () => ok([{ ts: String(Date.now()) }]),
    '/api/v5/public/instruments': (url) =>
      ok(url.searchParams.get('instType') === 'SPOT' ? instruments(state) : []),
    '/api/v5/market/tickers': (url) =>
      ok(url.searchParams.get('instType') === 'SPOT' ? tickers(state) : []),
    '/api/v5/account/balance': (_url, apiKey) => ok(balance(state, apiKey ?? '')),
    '/api/v5/asset/deposit-history': (url, apiKey) =>
      ok(history(state.account(apiKey ?? '').deposits, url).map(depositRecord)),
    '/api/v5/asset/withdrawal-history': (url, apiKey) =>
      ok(history(state.account(apiKey ?? '').withdrawals, url).map(withdrawalRecord)),
  };
  return startStandIn(state, {
    apiKeyHeader: 'ok-access-key',
    routes,
    signed: new Set([
      '/api/v5/account/balance',
      '/api/v5/asset/deposit-history',
      '/api/v5/asset/withdrawal-history',
    ]),
    authenticate: (request, _url, body, apiKey) => authenticate(state, request, body, apiKey),
    notFound: error(404, '50000', 'Not Found'),
    rateLimitBody: RATE_LIMITED,
    banBody: RATE_LIMITED,
  });
}

const ok = (data: unknown[]): Reply => ({ status: 200, body: { code: '0', msg: '', data } });

function authenticate(
  state: ExchangeState,
  request: IncomingMessage,
  body: string,
  apiKey: string | undefined,
): Reply | undefined {
  const account = apiKey ? state.accounts.get(apiKey) : undefined;
  if (!account || account.revoked) return INVALID_KEY();
  const timestamp = headerValue(request, 'ok-access-timestamp') ?? '';
  const at = Date.parse(timestamp);
  if (Number.isNaN(at) || Math.abs(Date.now() - at) > 30_000) return EXPIRED();
  const payload = `${timestamp}${request.method ?? 'GET'}${request.url ?? ''}${body}`;
  const expected = createHmac('sha256', account.secret).update(payload).digest('base64');
  const given = headerValue(request, 'ok-access-sign') ?? '';
  if (
    given.length !== expected.length ||
    !timingSafeEqual(Buffer.from(given), Buffer.from(expected))
  ) {
    return BAD_SIGN();
  }
  if (headerValue(request, 'ok-access-passphrase') !== account.passphrase) return BAD_PASSPHRASE();
  return undefined;
}

function instruments(state: ExchangeState) {
  return [...state.markets.values()].map((m) => ({
    instType: 'SPOT',
    instId: `${m.base}-${m.quote}`,
    uly: '',
    instFamily: '',
    baseCcy: m.base,
    quoteCcy: m.quote,
    settleCcy: '',
    ctValCcy: '',
    optType: '',
    stk: '',
    listTime: '1606468572000',
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
    maxLmtSz: '9999999999',
    maxMktSz: '1000000',
    maxTwapSz: '9999999999',
    maxIcebergSz: '9999999999',
    maxTriggerSz: '9999999999',
    maxStopSz: '1000000',
    ruleType: 'normal',
  }));
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
      askPx: last,
      askSz: '1',
      bidPx: last,
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

function balance(state: ExchangeState, apiKey: string) {
  const uTime = String(Date.now());
  const details = [...state.account(apiKey).balances].map(([ccy, b]) => {
    const total = new Dec(b.free).plus(b.locked).toFixed();
    return {
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
      uTime,
    };
  });
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
    },
  ];
}

/** OKX pages history by `before` / `after` (ms): newer than `before`, older than `after`. */
function history(transfers: Transfer[], url: URL): Transfer[] {
  const before = Number(url.searchParams.get('before') ?? -1);
  const after = Number(url.searchParams.get('after') ?? Number.MAX_SAFE_INTEGER);
  return transfers
    .filter((t) => t.timestamp > before && t.timestamp < after)
    .sort((a, b) => b.timestamp - a.timestamp);
}

const depositRecord = (t: Transfer) => ({
  actualDepBlkConfirm: '12',
  amt: t.amount,
  areaCodeFrom: '',
  ccy: t.asset,
  chain: `${t.asset}-Mainnet`,
  depId: t.id,
  from: '',
  fromWdId: '',
  state: t.status === 'ok' ? '2' : '0',
  to: '0x0000000000000000000000000000000000000001',
  ts: String(t.timestamp),
  txId: `0x${t.id}`,
});

const withdrawalRecord = (t: Transfer) => ({
  chain: `${t.asset}-Mainnet`,
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
  state: t.status === 'ok' ? '2' : '1',
  ts: String(t.timestamp),
  wdId: t.id,
});

import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Dec } from '../../../src/valuation/index.ts';
import {
  ExchangeState,
  MAIN_WALLET,
  headerValue,
  numberParam,
  startStandIn,
  type ExchangeOptions,
  type Reply,
  type Route,
  type Transfer,
} from './common.ts';

// A local server speaking Coinbase's REST APIs as ccxt's `coinbase` uses them for a spot account:
// Advanced Trade (v3) public products and candles and the SIGNED accounts list; the Coinbase App
// (v2) public currencies and exchange rates and the SIGNED per-account transactions, deposits and
// withdrawals. Every signed request carries `Authorization: Bearer <JWT>`: ES256 over the CDP
// key's EC private key, `sub` and `kid` the key's name (organizations/…/apiKeys/…), a `uri` claim
// naming the method, host and path, valid from `nbf` to `exp` (two minutes).

/** Advanced Trade refuses a bad or missing JWT with a bare text 401. */
const UNAUTHORIZED: Reply = {
  status: 401,
  body: null,
  raw: 'Unauthorized\n',
  headers: { 'content-type': 'text/plain; charset=utf-8' },
};
const v2Error = (status: number, id: string, message: string): Reply => ({
  status,
  body: { errors: [{ id, message }] },
});
/** The Coinbase App (v2) refuses in its JSON error shape. */
const V2_UNAUTHORIZED = v2Error(401, 'authentication_error', 'invalid signature');
const NOT_FOUND = v2Error(404, 'not_found', 'Not found');
const RATE_LIMITED = v2Error(429, 'rate_limit_exceeded', 'Too many requests');
// Coinbase has no 418 of its own: a ban comes from its edge (Cloudflare), as a bare page.
const BANNED: Reply = {
  status: 418,
  body: null,
  raw: 'error code: 1015',
  headers: { 'content-type': 'text/plain' },
};

/** Clocks may differ a little: a token is taken from 5 s before its `nbf`. */
const CLOCK_SKEW_S = 5;
const FIAT = new Set(['USD', 'EUR', 'GBP']);

const PRODUCTS = '/api/v3/brokerage/market/products';
const CANDLES = '/api/v3/brokerage/market/products/{product_id}/candles';
const ACCOUNTS = '/api/v3/brokerage/accounts';
const SUMMARY = '/api/v3/brokerage/transaction_summary';
const TRANSACTIONS = '/v2/accounts/{account_id}/transactions';
const DEPOSITS = '/v2/accounts/{account_id}/deposits';
const WITHDRAWALS = '/v2/accounts/{account_id}/withdrawals';

const FEE_SUMMARY = {
  total_volume: 0,
  total_fees: 0,
  fee_tier: {
    pricing_tier: 'Advanced 1',
    usd_from: '0',
    usd_to: '1000',
    taker_fee_rate: '0.012',
    maker_fee_rate: '0.006',
    aop_from: '',
    aop_to: '',
  },
  margin_rate: null,
  goods_and_services_tax: null,
  advanced_trade_only_volume: 0,
  advanced_trade_only_fees: 0,
  coinbase_pro_volume: 0,
  coinbase_pro_fees: 0,
};

/** Candle granularities by Coinbase's name. */
const GRANULARITY_S: Readonly<Record<string, number>> = {
  ONE_MINUTE: 60,
  FIVE_MINUTE: 300,
  FIFTEEN_MINUTE: 900,
  THIRTY_MINUTE: 1800,
  ONE_HOUR: 3600,
  TWO_HOUR: 7200,
  SIX_HOUR: 21600,
  ONE_DAY: 86400,
};

/**
 * A new CDP API key as Coinbase hands it out (the downloaded `cdp_api_key.json`): its name and
 * its EC (P-256) private key in SEC1 PEM, which the user pastes as the secret.
 */
export function newCoinbaseKey(id: string): { name: string; privateKey: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    name: `organizations/8d3b3e7c-0b8a-4c8e-9d6a-1f2e3d4c5b6a/apiKeys/${id}`,
    privateKey: privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
  };
}

/** A stable UUID of one of a key's accounts (Coinbase has one account per currency). */
export function coinbaseAccountId(apiKey: string, asset: string): string {
  const hex = createHash('sha256').update(`${apiKey}/${asset}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export type FakeCoinbase = Awaited<ReturnType<typeof startFakeCoinbase>>;

/** A trade fill, buy, sell or reward in an account's v2 history: never a transfer. */
export interface CoinbaseMovement {
  id: string;
  type: 'advanced_trade_fill' | 'buy' | 'sell' | 'staking_reward';
  asset: string;
  /** Signed: positive into the account. */
  amount: string;
  timestamp: number;
}

export async function startFakeCoinbase(options: ExchangeOptions = {}) {
  const state = new ExchangeState(options);
  const movements = new Map<string, CoinbaseMovement[]>();
  const routes: Record<string, Route> = {
    [PRODUCTS]: (url) => ok(products(state, url)),
    [CANDLES]: (url) => candles(state, url),
    '/v2/currencies': () => ok({ data: fiatCurrencies(state) }),
    '/v2/currencies/crypto': () => ok({ data: cryptoCurrencies(state) }),
    '/v2/exchange-rates': () => ok(exchangeRates(state)),
    [ACCOUNTS]: (url, apiKey) => ok(accounts(state, apiKey ?? '', url)),
    // What ccxt reads next to the products when markets are loaded with a key: the fee tier.
    [SUMMARY]: () => ok(FEE_SUMMARY),
    [TRANSACTIONS]: (url, apiKey) =>
      history(state, apiKey ?? '', url, 'transactions', movements.get(apiKey ?? '') ?? []),
    [DEPOSITS]: (url, apiKey) => history(state, apiKey ?? '', url, 'deposits', []),
    [WITHDRAWALS]: (url, apiKey) => history(state, apiKey ?? '', url, 'withdrawals', []),
  };
  const handle = await startStandIn(state, {
    apiKeyHeader: 'authorization',
    apiKeyOf: (request) => claimsOf(headerValue(request, 'authorization'))?.payload.sub,
    routes,
    signed: new Set([ACCOUNTS, SUMMARY, TRANSACTIONS, DEPOSITS, WITHDRAWALS]),
    routeOf: (path) => {
      const parts = path.split('/');
      if (/^\/api\/v3\/brokerage\/market\/products\/[^/]+\/candles$/.test(path)) return CANDLES;
      if (parts.length === 5 && parts[1] === 'v2' && parts[2] === 'accounts') {
        return `/v2/accounts/{account_id}/${parts[4]}`;
      }
      return path;
    },
    authenticate: (request, url) => authenticate(state, request, url),
    notFound: NOT_FOUND,
    rateLimited: RATE_LIMITED,
    banned: BANNED,
  });
  return Object.assign(handle, {
    /** Adds a fill, buy, sell or reward to the key's v2 transactions (balances unchanged). */
    addMovement: (apiKey: string, movement: CoinbaseMovement) => {
      movements.set(apiKey, [...(movements.get(apiKey) ?? []), movement]);
    },
  });
}

const ok = (body: unknown): Reply => ({ status: 200, body });

interface Claims {
  header: { alg?: string; kid?: string; typ?: string };
  payload: {
    sub?: string;
    iss?: string;
    aud?: string[];
    nbf?: number;
    exp?: number;
    uri?: string;
  };
  signed: string;
  signature: Buffer;
}

/** The parts of a `Bearer` JWT, unverified; undefined when it is not one. */
function claimsOf(authorization: string | undefined): Claims | undefined {
  const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
  const [header, payload, signature] = token?.split('.') ?? [];
  if (!header || !payload || !signature) return undefined;
  try {
    return {
      header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Claims['header'],
      payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Claims['payload'],
      signed: `${header}.${payload}`,
      signature: Buffer.from(signature, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

/**
 * Coinbase's checks of a CDP key's JWT: ES256 signed by the key named in `sub`, for this very
 * request (`uri`: method, host and path, no query), within its `nbf`..`exp`.
 */
function authenticate(state: ExchangeState, request: IncomingMessage, url: URL): Reply | undefined {
  const refused = url.pathname.startsWith('/v2/') ? V2_UNAUTHORIZED : UNAUTHORIZED;
  const claims = claimsOf(headerValue(request, 'authorization'));
  const account = claims?.payload.sub ? state.accounts.get(claims.payload.sub) : undefined;
  if (!claims || !account || account.revoked) return refused;
  const { header, payload } = claims;
  if (header.alg !== 'ES256' || header.kid !== payload.sub) return refused;
  let publicKey;
  try {
    publicKey = createPublicKey(account.secret);
  } catch {
    return refused;
  }
  const valid = verify(
    'sha256',
    Buffer.from(claims.signed),
    { key: publicKey, dsaEncoding: 'ieee-p1363' },
    claims.signature,
  );
  if (!valid) return refused;
  const now = Date.now() / 1000;
  if (payload.iss !== 'coinbase-cloud' || !payload.aud?.includes('retail_rest_api_proxy')) {
    return refused;
  }
  if (!(typeof payload.nbf === 'number' && payload.nbf <= now + CLOCK_SKEW_S)) return refused;
  if (!(typeof payload.exp === 'number' && payload.exp > now)) return refused;
  // ccxt strips only "https://" from the URL it names: on a plain-http origin (this stand-in)
  // the claim keeps "http://". Either way it must name this method, host and path.
  const uri = (payload.uri ?? '').replace(/^(\S+) http:\/\//, '$1 ');
  if (uri !== `${request.method ?? 'GET'} ${request.headers.host ?? ''}${url.pathname}`) {
    return refused;
  }
  return undefined;
}

const productId = (base: string, quote: string) => `${base}-${quote}`;

/** Spot products, all or `product_ids` (repeated); futures lists (`product_type=FUTURE`) are empty. */
function products(state: ExchangeState, url: URL) {
  if (url.searchParams.get('product_type') === 'FUTURE') return { products: [], num_products: 0 };
  const wanted = url.searchParams.getAll('product_ids');
  const rows = [];
  for (const [symbol, m] of state.markets) {
    const id = productId(m.base, m.quote);
    if (wanted.length > 0 && !wanted.includes(id)) continue;
    const price = state.prices.get(symbol) ?? '0';
    rows.push({
      product_id: id,
      price,
      price_percentage_change_24h: '0',
      volume_24h: '100',
      volume_percentage_change_24h: '0',
      base_increment: '0.00000001',
      quote_increment: '0.01',
      quote_min_size: '1',
      quote_max_size: '150000000',
      base_min_size: '0.00000001',
      base_max_size: '3400',
      base_name: m.base,
      quote_name: m.quote,
      watched: false,
      is_disabled: false,
      new: false,
      status: 'online',
      cancel_only: false,
      limit_only: false,
      post_only: false,
      trading_disabled: false,
      auction_mode: false,
      product_type: 'SPOT',
      quote_currency_id: m.quote,
      base_currency_id: m.base,
      fcm_trading_session_details: null,
      mid_market_price: '',
      alias: '',
      alias_to: [],
      base_display_symbol: m.base,
      quote_display_symbol: m.quote,
      view_only: false,
      price_increment: '0.01',
      display_name: id,
      product_venue: 'CBE',
    });
  }
  return { products: rows, num_products: rows.length };
}

/** Candles newest first, `start`..`end` (seconds), at most 350. */
function candles(state: ExchangeState, url: URL): Reply {
  const id = url.pathname.split('/')[6] ?? '';
  const symbol = [...state.markets].find(([, m]) => productId(m.base, m.quote) === id)?.[0];
  const granularity = GRANULARITY_S[url.searchParams.get('granularity') ?? ''];
  const start = numberParam(url, 'start');
  const end = numberParam(url, 'end');
  if (!symbol) return NOT_FOUND;
  if (!granularity || start === undefined || end === undefined) {
    return { status: 400, body: { error: 'INVALID_ARGUMENT', message: 'invalid request' } };
  }
  const rows = state
    .candles(symbol, start * 1000, granularity * 1000, 350)
    .filter((c) => c.openTime <= end * 1000)
    .map((c) => ({
      start: String(c.openTime / 1000),
      low: c.low,
      high: c.high,
      open: c.open,
      close: c.close,
      volume: '1',
    }));
  return ok({ candles: rows.reverse() });
}

/** Every asset of the listed markets. */
function assets(state: ExchangeState): string[] {
  const all = new Set<string>();
  for (const m of state.markets.values()) all.add(m.base).add(m.quote);
  return [...all];
}

function fiatCurrencies(state: ExchangeState) {
  return assets(state)
    .filter((a) => FIAT.has(a))
    .map((id) => ({ id, name: id, min_size: '0.01' }));
}

function cryptoCurrencies(state: ExchangeState) {
  return assets(state)
    .filter((a) => !FIAT.has(a))
    .map((code, index) => ({
      asset_id: coinbaseAccountId('asset', code),
      code,
      name: code,
      color: '#000000',
      sort_index: index,
      exponent: 8,
      type: 'crypto',
      address_regex: '^.+$',
    }));
}

/** How much of each asset one USD buys, from the USD (or USDT/USDC) markets. */
function exchangeRates(state: ExchangeState) {
  const rates: Record<string, string> = { USD: '1' };
  for (const [symbol, m] of state.markets) {
    const price = state.prices.get(symbol);
    if (price && ['USD', 'USDT', 'USDC'].includes(m.quote) && !rates[m.base]) {
      rates[m.base] = new Dec(1).div(price).toSignificantDigits(12).toFixed();
    }
  }
  return { data: { currency: 'USD', rates } };
}

/**
 * The key's accounts, one per currency it holds, `limit` a page (default 49, at most 250) after
 * `cursor`; `has_next` and the next `cursor` say whether more follow.
 */
function accounts(state: ExchangeState, apiKey: string, url: URL) {
  const ledger = state.account(apiKey).wallets.get(MAIN_WALLET) ?? new Map();
  const all = [...ledger].sort(([a], [b]) => (a < b ? -1 : 1));
  const from = Number(url.searchParams.get('cursor') ?? '0') || 0;
  const limit = Math.min(numberParam(url, 'limit') ?? 49, 250);
  const page = all.slice(from, from + limit);
  const hasNext = from + limit < all.length;
  return {
    accounts: page.map(([asset, b]) => ({
      uuid: coinbaseAccountId(apiKey, asset),
      name: `${asset} Wallet`,
      currency: asset,
      available_balance: { value: b.free, currency: asset },
      default: true,
      active: true,
      created_at: '2023-01-04T06:20:06.456Z',
      updated_at: '2023-01-04T06:20:07.181Z',
      deleted_at: null,
      type: FIAT.has(asset) ? 'ACCOUNT_TYPE_FIAT' : 'ACCOUNT_TYPE_CRYPTO',
      ready: true,
      hold: { value: b.locked, currency: asset },
    })),
    has_next: hasNext,
    cursor: hasNext ? String(from + limit) : '',
    size: page.length,
  };
}

type HistoryKind = 'transactions' | 'deposits' | 'withdrawals';

/**
 * One account's history, newest first, `limit` a page (default 25, at most 100) after the
 * `starting_after` id. `transactions` has crypto sends (signed amounts) and fiat deposits and
 * withdrawals; `deposits`/`withdrawals` have the fiat ones only, as Coinbase's do.
 */
function history(
  state: ExchangeState,
  apiKey: string,
  url: URL,
  kind: HistoryKind,
  movements: readonly CoinbaseMovement[],
): Reply {
  const accountId = url.pathname.split('/')[3] ?? '';
  const account = state.account(apiKey);
  const asset = [...(account.wallets.get(MAIN_WALLET)?.keys() ?? [])].find(
    (a) => coinbaseAccountId(apiKey, a) === accountId,
  );
  // Another key's account, or none: Coinbase says it does not exist.
  if (!asset) return NOT_FOUND;
  const fiat = FIAT.has(asset);
  const rows = [
    ...(kind !== 'withdrawals' ? account.deposits.map((t) => ({ t, out: false })) : []),
    ...(kind !== 'deposits' ? account.withdrawals.map((t) => ({ t, out: true })) : []),
    ...movements.map((m) => ({
      t: {
        id: m.id,
        asset: m.asset,
        amount: m.amount,
        timestamp: m.timestamp,
        status: 'ok' as const,
      },
      out: false,
      movement: m.type,
    })),
  ]
    .filter(({ t }) => t.asset === asset && (kind === 'transactions' || fiat))
    .sort((a, b) => b.t.timestamp - a.t.timestamp);
  const after = url.searchParams.get('starting_after');
  const from = after ? rows.findIndex(({ t }) => t.id === after) + 1 : 0;
  const limit = Math.min(numberParam(url, 'limit') ?? 25, 100, state.options.historyPageCap ?? 100);
  const page = rows.slice(from, from + limit);
  const next = from + limit < rows.length ? (page.at(-1)?.t.id ?? null) : null;
  const path = `/v2/accounts/${accountId}/${kind}`;
  return ok({
    pagination: {
      ending_before: null,
      starting_after: after,
      previous_ending_before: null,
      next_starting_after: next,
      limit,
      order: 'desc',
      previous_uri: null,
      next_uri: next ? `${path}?limit=${limit}&starting_after=${next}` : null,
    },
    data: page.map((row) =>
      'movement' in row
        ? movementRecord(accountId, row.t, row.movement)
        : kind === 'transactions'
          ? transaction(accountId, row.t, row.out, fiat)
          : fiatRecord(accountId, row.t, row.out),
    ),
  });
}

const status = (t: Transfer) => (t.status === 'ok' ? 'completed' : 'pending');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A fill, buy, sell or reward as the v2 history lists it: a signed amount, no network. */
function movementRecord(accountId: string, t: Transfer, type: CoinbaseMovement['type']) {
  return {
    id: t.id,
    type,
    status: 'completed',
    amount: { amount: t.amount, currency: t.asset },
    native_amount: { amount: t.amount, currency: 'USD' },
    description: null,
    created_at: iso(t.timestamp),
    updated_at: iso(t.timestamp),
    resource: 'transaction',
    resource_path: `/v2/accounts/${accountId}/transactions/${t.id}`,
    instant_exchange: false,
  };
}

/**
 * A v2 transaction: a crypto `send` or a `fiat_deposit` / `fiat_withdrawal`. An outgoing send's
 * `amount` is negative and includes the network fee, while `network.transaction_amount` is what
 * left, unsigned (as Coinbase answers it: ccxt reads that and so takes the send for a deposit).
 */
function transaction(accountId: string, t: Transfer, out: boolean, fiat: boolean) {
  const moved = out && !fiat ? new Dec(t.amount).plus(t.fee ?? '0').toFixed() : t.amount;
  const amount = `${out ? '-' : ''}${moved}`;
  return {
    id: t.id,
    type: fiat ? (out ? 'fiat_withdrawal' : 'fiat_deposit') : 'send',
    status: status(t),
    amount: { amount, currency: t.asset },
    native_amount: { amount, currency: 'USD' },
    description: null,
    created_at: iso(t.timestamp),
    updated_at: iso(t.timestamp),
    resource: 'transaction',
    resource_path: `/v2/accounts/${accountId}/transactions/${t.id}`,
    instant_exchange: false,
    ...(fiat
      ? {}
      : {
          network: {
            status: t.status === 'ok' ? 'confirmed' : 'pending',
            hash: `0x${t.id}`,
            network_name: 'ethereum',
            transaction_fee: { amount: t.fee ?? '0', currency: t.asset },
            ...(out ? { transaction_amount: { amount: t.amount, currency: t.asset } } : {}),
          },
          ...(out
            ? { to: { resource: 'address', address: '0x0000000000000000000000000000000000000002' } }
            : {}),
        }),
  };
}

/** A v2 fiat deposit or withdrawal record. */
function fiatRecord(accountId: string, t: Transfer, out: boolean) {
  const kind = out ? 'withdrawal' : 'deposit';
  return {
    id: t.id,
    status: status(t),
    payment_method: {
      id: 'pm-1',
      resource: 'payment_method',
      resource_path: '/v2/payment-methods/pm-1',
    },
    transaction: {
      id: t.id,
      resource: 'transaction',
      resource_path: `/v2/accounts/${accountId}/transactions/${t.id}`,
    },
    created_at: iso(t.timestamp),
    updated_at: iso(t.timestamp),
    resource: kind,
    resource_path: `/v2/accounts/${accountId}/${kind}s/${t.id}`,
    committed: t.status === 'ok',
    instant: false,
    fee: { amount: t.fee ?? '0.00', currency: t.asset },
    amount: { amount: t.amount, currency: t.asset },
    subtotal: { amount: t.amount, currency: t.asset },
  };
}

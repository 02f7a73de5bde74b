// The markets an account can be connected to: what 3Commas shows for each market code
// (names, icon, capability flags) and how we reach it (a ccxt exchange id or a blockchain).

export type MarketKind = 'exchange' | 'wallet';

/** The market-level booleans of the 3Commas Account entity. */
export interface MarketCapabilities {
  readonly smart_trading_supported: boolean;
  readonly smart_selling_supported: boolean;
  readonly stats_supported: boolean;
  readonly trading_supported: boolean;
  readonly market_buy_supported: boolean;
  readonly market_sell_supported: boolean;
  readonly conditional_buy_supported: boolean;
  readonly bots_allowed: boolean;
  readonly bots_ttp_allowed: boolean;
  readonly bots_tsl_allowed: boolean;
  readonly gordon_bots_available: boolean;
  readonly multi_bots_allowed: boolean;
  readonly grid_bots_allowed: boolean;
  readonly fast_convert_available: boolean;
  readonly hedge_mode_available: boolean;
  readonly deposit_enabled: boolean;
  readonly available_include_in_summary: boolean;
}

/**
 * One wallet of an exchange account, read with ccxt's `fetchBalance(params)` (the exchange's
 * documented way to name it: `{ type: 'funding' }` and so on). An account's value is the sum of
 * its wallets; moves between them are neither transfers nor profit.
 */
export interface WalletRead {
  /** Our name for it, kept with each holding (`account show`, the holdings data). */
  readonly name: string;
  readonly params: Readonly<Record<string, unknown>>;
  /**
   * Read where the key may: a refusal of this wallet alone (a key without that permission)
   * leaves it out instead of failing the account. The account's first wallet is never optional.
   */
  readonly optional?: boolean;
  /**
   * For a wallet ccxt's unified `fetchBalance` does not name (Binance Simple Earn): read with
   * this ccxt implicit-API method instead, called with `params`, signed like any private call.
   */
  readonly implicit?: ImplicitWalletRead;
}

/** How an implicit-API answer lists a wallet's holdings: rows of asset and amount, maybe paged. */
export interface ImplicitWalletRead {
  /** ccxt's implicit method, e.g. `sapiGetSimpleEarnFlexiblePosition`. */
  readonly method: string;
  /** The answer's list of rows (a field of the answer), each row's asset field and amount field. */
  readonly rows: string;
  readonly asset: string;
  readonly amount: string;
  /**
   * Paged by page number: `param` from `first`, `size` rows a page (sent as `sizeParam`), until
   * the answer's `total` rows are read or a page comes back short.
   */
  readonly pages?: {
    readonly param: string;
    readonly first: number;
    readonly sizeParam: string;
    readonly size: number;
    readonly total: string;
  };
}

/**
 * How an exchange's deposit and withdrawal history is read: data, implemented once for every
 * exchange by the connector (`ExchangeConnector.fetchTransfers`). Absent: ccxt's `fetchDeposits`
 * and `fetchWithdrawals`, one call each from the cursor, no currency, no paging.
 */
export interface TransferHistoryRead {
  /**
   * `'separate'` (the default): ccxt `fetchDeposits` and `fetchWithdrawals`, each with its own
   * cursor. `'combined'`: one ccxt `fetchDepositsWithdrawals` history (Bitfinex's movements),
   * split by each row's `type` ('deposit' | 'withdrawal'); read from the older of the two cursors.
   */
  readonly calls?: 'separate' | 'combined';
  /**
   * The exchange needs a currency code per call (Coinbase through its accounts): the history is
   * read once per asset the account holds now or held in its previous snapshot.
   */
  readonly byCurrency?: boolean;
  /** How one history is paged; absent: one call returns everything since the cursor. */
  readonly pages?: TransferPages;
  /** Extra params passed to every history call (ccxt's own or the exchange's), e.g. a type. */
  readonly params?: Readonly<Record<string, unknown>>;
  /** Which rows are transfers, where the history holds other movements too (Coinbase). */
  readonly rows?: TransferRows;
}

/**
 * A history that mixes transfers with other movements (trade fills, rewards), told apart by the
 * exchange's own fields in each row (ccxt's `info`), since ccxt labels every row of such a
 * history a deposit or a withdrawal.
 */
export interface TransferRows {
  /** The field naming what a row is (a dotted path in the exchange's row), e.g. `type`. */
  readonly typeField: string;
  /** Its values that are deposits or withdrawals; any other row is not a transfer. */
  readonly transferTypes: readonly string[];
  /**
   * The exchange's signed amount (dotted path): negative is a withdrawal. Decides the side when
   * ccxt's does not follow it (it reads an outgoing Coinbase `send` as a deposit).
   */
  readonly signField?: string;
}

/**
 * Paging of a history, read until the cursor is reached whatever the page size (a page is never
 * trusted to be the last because it is short: an exchange may cap lower than documented).
 * - `'until'`: each call returns the newest `size` rows in `[since, until]`; the next page ends at
 *   the oldest row of the previous one (Binance, OKX). `windowMs`: the longest span one call may
 *   cover (Binance 90 days): the read walks from the cursor to now window by window.
 *   `untilParam`: the exchange's own parameter for the end where ccxt's `params.until` does not
 *   reach it (Binance withdrawals: `endTime`); `untilInclusive`: whether that end is inclusive
 *   (Binance's `endTime` is; OKX's `after`, ccxt's `until` there, is not).
 * - `'since'`: each call returns the oldest `size` rows from `since`; the next page starts at the
 *   newest row of the previous one.
 * - `'cursor'`: newest first with no time filter (Coinbase v2): each next page starts after the
 *   previous page's last row (`param` = its id) until a page reaches back past the cursor.
 * - `'ccxt'`: ccxt's own `paginate: true` (`fetchPaginatedCall*`) is right for the exchange.
 */
export type TransferPages =
  | {
      readonly style: 'until';
      readonly size: number;
      readonly windowMs?: number;
      readonly untilParam?: string;
      readonly untilInclusive?: boolean;
    }
  | { readonly style: 'since'; readonly size: number }
  | {
      readonly style: 'cursor';
      readonly size: number;
      /** The exchange's parameter taking the last row's id for the next, older page. */
      readonly param: string;
    }
  | { readonly style: 'ccxt' };

/**
 * An exchange's code for a holding that is another asset for the account's value: Kraken lists
 * staked and earning amounts as assets of their own (`DOT.S`, `BTC.M`, as ccxt names them). The
 * code ccxt gives is matched with `pattern` and replaced by `asset` (`$1`…); rules apply in
 * order, each to the previous one's result, and the amounts are summed under the result.
 */
export interface AssetAlias {
  readonly pattern: RegExp;
  readonly asset: string;
}

export type MarketConnector =
  | {
      readonly type: 'ccxt';
      /** The ccxt exchange id: its class is `ccxt[exchangeId]`, loaded alone from ccxt's `src/<id>.js`. */
      readonly exchangeId: string;
      /** ccxt constructor `options`, e.g. which sub-market (spot) a unified exchange means. */
      readonly options?: Readonly<Record<string, unknown>>;
      /** Our request budget per API key (the exchange's own per-key limit, with margin). */
      readonly keyRequestsPerSecond?: number;
      /** The wallets an account's value is read from, in order; the first is the main one. */
      readonly wallets: readonly WalletRead[];
      /** How deposits and withdrawals are read; absent: ccxt's plain calls from the cursor. */
      readonly transfers?: TransferHistoryRead;
      /** Holdings under codes that are another asset (staked, earning); absent: none. */
      readonly assetAliases?: readonly AssetAlias[];
    }
  | { readonly type: 'chain'; readonly chain: 'ethereum' | 'bitcoin' };

/**
 * What the user hands us to connect: exchange API key + secret, the same plus a passphrase
 * (ccxt's `password`), or a public wallet address.
 */
export type MarketCredentials = 'api_key' | 'api_key_passphrase' | 'address';

export interface Market {
  readonly market_code: string;
  readonly exchange_name: string;
  readonly pretty_display_type: string;
  readonly market_icon: string;
  readonly supported_market_types: readonly string[];
  readonly kind: MarketKind;
  readonly connector: MarketConnector;
  readonly credentials: MarketCredentials;
  readonly capabilities: MarketCapabilities;
}

const ICON_BASE = 'https://3commas.io/img/exchanges/';

/** What a 3Commas spot exchange account allows (as both seed accounts show). */
const SPOT_EXCHANGE: MarketCapabilities = {
  smart_trading_supported: true,
  smart_selling_supported: true,
  stats_supported: true,
  trading_supported: true,
  market_buy_supported: true,
  market_sell_supported: true,
  conditional_buy_supported: true,
  bots_allowed: true,
  bots_ttp_allowed: true,
  bots_tsl_allowed: true,
  gordon_bots_available: true,
  multi_bots_allowed: true,
  grid_bots_allowed: true,
  fast_convert_available: true,
  hedge_mode_available: false, // hedge mode is a futures feature
  deposit_enabled: true,
  available_include_in_summary: true,
};

/** A wallet is only watched: no trading of any kind, but it counts in the totals. */
const WALLET: MarketCapabilities = {
  smart_trading_supported: false,
  smart_selling_supported: false,
  stats_supported: true,
  trading_supported: false,
  market_buy_supported: false,
  market_sell_supported: false,
  conditional_buy_supported: false,
  bots_allowed: false,
  bots_ttp_allowed: false,
  bots_tsl_allowed: false,
  gordon_bots_available: false,
  multi_bots_allowed: false,
  grid_bots_allowed: false,
  fast_convert_available: false,
  hedge_mode_available: false,
  deposit_enabled: false,
  available_include_in_summary: true,
};

const SPOT: readonly string[] = ['spot'];

/** Spot accounts need spot markets only: one markets request instead of one per market type. */
const SPOT_MARKETS_ONLY = { fetchMarkets: { types: ['spot'] } };
const NO_MARKET_TYPES: readonly string[] = [];

/** An exchange account read as one wallet: ccxt's default `fetchBalance()`. */
const ONE_WALLET: readonly WalletRead[] = [{ name: 'spot', params: {} }];

/**
 * Binance's deposit and withdrawal histories: at most 1000 rows a call, newest first, within a
 * `startTime`..`endTime` span of at most 90 days (ccxt drops `until` from a withdrawals call that
 * has a `since`, so the end is sent as Binance's own inclusive `endTime`).
 */
const BINANCE_TRANSFERS: TransferHistoryRead = {
  pages: {
    style: 'until',
    size: 1000,
    windowMs: 90 * 24 * 60 * 60 * 1000,
    untilParam: 'endTime',
    untilInclusive: true,
  },
};

/** OKX: at most 100 rows a call, newest first, `before`..`after` (ccxt's since and until). */
const OKX_TRANSFERS: TransferHistoryRead = { pages: { style: 'until', size: 100 } };

/**
 * A Bitfinex account: its exchange (spot), margin and funding wallets, all in one `auth/r/wallets`
 * answer that ccxt filters by `type`. Margin collateral and funding (lending) balances are the
 * user's as much as the exchange wallet's, and moves between the three must not look like
 * withdrawals; borrowed funds and open positions' profit are not read.
 */
const BITFINEX_WALLETS: readonly WalletRead[] = [
  { name: 'exchange', params: { type: 'exchange' } },
  { name: 'margin', params: { type: 'margin' } },
  { name: 'funding', params: { type: 'funding' } },
];

/**
 * Bitfinex: deposits and withdrawals are one `movements/hist` (ccxt `fetchDepositsWithdrawals`),
 * newest first, at most 1000 a call, within `start`..`end` (ms, inclusive).
 */
const BITFINEX_TRANSFERS: TransferHistoryRead = {
  calls: 'combined',
  pages: { style: 'until', size: 1000, untilParam: 'end', untilInclusive: true },
};

/**
 * Coinbase: each currency's account has its own v2 `transactions` (ccxt
 * `fetchDepositsWithdrawals(code)` finds the account), newest first, at most 100 a page, paged by
 * `starting_after`, with no time filter. They hold trade fills, buys, sells and rewards beside
 * the transfers: only crypto sends, fiat deposits and withdrawals and moves to or from Coinbase
 * Exchange are transfers, their side from the sign of `amount.amount`.
 */
const COINBASE_TRANSFERS: TransferHistoryRead = {
  calls: 'combined',
  byCurrency: true,
  pages: { style: 'cursor', size: 100, param: 'starting_after' },
  rows: {
    typeField: 'type',
    transferTypes: [
      'send',
      'fiat_deposit',
      'fiat_withdrawal',
      'exchange_deposit',
      'exchange_withdrawal',
    ],
    signField: 'amount.amount',
  },
};

/** Binance's Simple Earn positions are paged by `current` (from 1) and `size` (at most 100). */
const SIMPLE_EARN_PAGES = {
  param: 'current',
  first: 1,
  sizeParam: 'size',
  size: 100,
  total: 'total',
};

/**
 * A Binance account: spot, funding and Simple Earn (flexible and locked positions). Only spot is
 * required. Funding and Simple Earn are SAPI reads that some keys are refused (sub-account and
 * regional keys: -1002 "not authorized"), and such a key's spot value is still right, so they
 * are read where the key may. Simple Earn has no ccxt `fetchBalance` type (`savings` is the
 * retired lending API): its position lists are read directly.
 */
const BINANCE_WALLETS: readonly WalletRead[] = [
  { name: 'spot', params: { type: 'spot' } },
  { name: 'funding', params: { type: 'funding' }, optional: true },
  {
    name: 'earn-flexible',
    params: {},
    optional: true,
    implicit: {
      method: 'sapiGetSimpleEarnFlexiblePosition',
      rows: 'rows',
      asset: 'asset',
      amount: 'totalAmount',
      pages: SIMPLE_EARN_PAGES,
    },
  },
  {
    name: 'earn-locked',
    params: {},
    optional: true,
    implicit: {
      method: 'sapiGetSimpleEarnLockedPosition',
      rows: 'rows',
      asset: 'asset',
      amount: 'amount',
      pages: SIMPLE_EARN_PAGES,
    },
  },
];

/**
 * An OKX account: trading and funding. Neither is optional: both answer to the key's one Read
 * permission, so a key refused either is refused the account, and leaving funding out would
 * show its assets as withdrawn.
 */
const OKX_WALLETS: readonly WalletRead[] = [
  { name: 'trading', params: { type: 'trading' } },
  { name: 'funding', params: { type: 'funding' } },
];

/**
 * A Bybit account: the unified trading account (ccxt asks Bybit whether the account is unified
 * and reads `accountType=UNIFIED`, or a classic account's SPOT) and the funding wallet
 * (`accountType=FUND`). Funding is read where the key may: Bybit asks for a transfer permission
 * there (retCode 10005 without it), and such a key's trading account is still right.
 */
const BYBIT_WALLETS: readonly WalletRead[] = [
  { name: 'unified', params: { type: 'spot' } },
  { name: 'funding', params: { type: 'funding' }, optional: true },
];

/**
 * Bybit: at most 50 records a call, newest first, `startTime`..`endTime` (ccxt's since and
 * until, both inclusive) at most 30 days apart.
 */
const BYBIT_TRANSFERS: TransferHistoryRead = {
  pages: { style: 'until', size: 50, windowMs: 30 * 24 * 60 * 60 * 1000, untilInclusive: true },
};

/** A Gate account: its spot account (ccxt reads a unified account's instead, when it is one). */
const GATE_WALLETS: readonly WalletRead[] = [{ name: 'spot', params: { type: 'spot' } }];

/**
 * Gate: at most 500 records a call (100 by default), newest first, `from`..`to` (seconds, ccxt's
 * since and until, both inclusive) at most 30 days apart.
 */
const GATE_TRANSFERS: TransferHistoryRead = {
  pages: { style: 'until', size: 500, windowMs: 30 * 24 * 60 * 60 * 1000, untilInclusive: true },
};

/**
 * A KuCoin account: main (funding) and trade, and trade_hf, where an account moved to KuCoin's
 * high-frequency trading keeps its trading funds instead of trade (ccxt's `type: 'hf'`). One
 * General permission reads all three, so none is optional.
 */
const KUCOIN_WALLETS: readonly WalletRead[] = [
  { name: 'main', params: { type: 'main' } },
  { name: 'trade', params: { type: 'trade' } },
  { name: 'trade_hf', params: { type: 'hf' } },
];

/**
 * KuCoin's ccxt on the classic spot API: spot symbols only, without the all-tickers read ccxt
 * makes for fees, and without asking per call whether the account is a unified (UTA) one.
 */
const KUCOIN_OPTIONS = {
  fetchMarkets: { types: ['spot'], fetchTickersFees: false },
  uta: false,
};

/** KuCoin: `currentPage`/`pageSize` (at most 500) pages, newest first, `startAt`..`endAt` (ms). */
const KUCOIN_TRANSFERS: TransferHistoryRead = {
  pages: { style: 'until', size: 500, untilInclusive: true },
};

/**
 * Kraken's staked and earning balances, as ccxt names them: `DOT.S` (staked), `BTC.M` (opt-in
 * rewards), `.F` (flexible earn), `.B` (bonded), `.P` (parachain), and fiat on hold (`USD.HOLD`);
 * `ETH2` is Kraken's staked ether. Each is that much of the asset itself.
 */
const KRAKEN_ASSET_ALIASES: readonly AssetAlias[] = [
  { pattern: /^(.+)\.(S|M|F|B|P|HOLD)$/, asset: '$1' },
  { pattern: /^ETH2$/, asset: 'ETH' },
];

/** The catalog, one entry per market code, kept in market_code order. */
const MARKETS: readonly Market[] = [
  {
    market_code: 'binance',
    exchange_name: 'Binance Spot',
    pretty_display_type: 'Binance',
    market_icon: `${ICON_BASE}binance.png`,
    supported_market_types: SPOT,
    kind: 'exchange',
    connector: {
      type: 'ccxt',
      exchangeId: 'binance',
      options: SPOT_MARKETS_ONLY,
      wallets: BINANCE_WALLETS,
      transfers: BINANCE_TRANSFERS,
    },
    credentials: 'api_key',
    capabilities: SPOT_EXCHANGE,
  },
  {
    market_code: 'binance_us',
    exchange_name: 'Binance US Spot',
    pretty_display_type: 'BinanceUs',
    market_icon: `${ICON_BASE}binance.png`,
    supported_market_types: SPOT,
    kind: 'exchange',
    connector: {
      type: 'ccxt',
      exchangeId: 'binanceus',
      options: SPOT_MARKETS_ONLY,
      wallets: ONE_WALLET,
      transfers: BINANCE_TRANSFERS,
    },
    credentials: 'api_key',
    capabilities: SPOT_EXCHANGE,
  },
  {
    market_code: 'bitcoinwallet',
    exchange_name: 'Bitcoin Wallet',
    pretty_display_type: 'BitcoinWallet',
    market_icon: `${ICON_BASE}bitcoin.png`,
    supported_market_types: NO_MARKET_TYPES,
    kind: 'wallet',
    connector: { type: 'chain', chain: 'bitcoin' },
    credentials: 'address',
    capabilities: WALLET,
  },
  {
    market_code: 'bitfinex',
    exchange_name: 'Bitfinex Spot',
    pretty_display_type: 'Bitfinex',
    market_icon: `${ICON_BASE}bitfinex.png`,
    supported_market_types: SPOT,
    kind: 'exchange',
    connector: {
      type: 'ccxt',
      exchangeId: 'bitfinex',
      wallets: BITFINEX_WALLETS,
      transfers: BITFINEX_TRANSFERS,
    },
    credentials: 'api_key',
    capabilities: SPOT_EXCHANGE,
  },
  {
    market_code: 'bybit_spot',
    exchange_name: 'Bybit Spot',
    pretty_display_type: 'BybitSpot',
    market_icon: `${ICON_BASE}bybit.png`,
    supported_market_types: SPOT,
    kind: 'exchange',
    // ccxt's bybit is one unified exchange; pin it to the spot side and its spot markets.
    connector: {
      type: 'ccxt',
      exchangeId: 'bybit',
      options: { defaultType: 'spot', ...SPOT_MARKETS_ONLY },
      wallets: BYBIT_WALLETS,
      transfers: BYBIT_TRANSFERS,
    },
    credentials: 'api_key',
    capabilities: SPOT_EXCHANGE,
  },
  {
    market_code: 'coinbase', // formerly `gdax`
    exchange_name: 'Coinbase Spot',
    pretty_display_type: 'Coinbase',
    market_icon: `${ICON_BASE}coinbase.png`,
    supported_market_types: SPOT,
    kind: 'exchange',
    // ccxt's `coinbase` is Coinbase Advanced: a CDP key's name (organizations/…/apiKeys/…) and
    // its EC private key (PEM) as the secret, no passphrase (that was the retired Coinbase Pro
    // API, ccxt `coinbaseexchange`). ccxt signs each request with an ES256 JWT from them.
    connector: {
      type: 'ccxt',
      exchangeId: 'coinbase',
      // Balances from Advanced Trade's accounts list (available + hold per currency).
      options: { fetchBalance: 'v3PrivateGetBrokerageAccounts' },
      wallets: [{ name: 'accounts', params: {} }],
      transfers: COINBASE_TRANSFERS,
    },
    credentials: 'api_key',
    capabilities: SPOT_EXCHANGE,
  },
  {
    market_code: 'ethereumwallet',
    exchange_name: 'Ethereum Wallet',
    pretty_display_type: 'EthereumWallet',
    market_icon: `${ICON_BASE}ethereum.png`,
    supported_market_types: NO_MARKET_TYPES,
    kind: 'wallet',
    connector: { type: 'chain', chain: 'ethereum' },
    credentials: 'address',
    capabilities: WALLET,
  },
  {
    market_code: 'gate_io',
    exchange_name: 'Gate.io Spot',
    pretty_display_type: 'GateIo',
    market_icon: `${ICON_BASE}gate_io.png`,
    supported_market_types: SPOT,
    kind: 'exchange',
    connector: {
      type: 'ccxt',
      exchangeId: 'gate',
      options: { defaultType: 'spot', ...SPOT_MARKETS_ONLY },
      wallets: GATE_WALLETS,
      transfers: GATE_TRANSFERS,
    },
    credentials: 'api_key',
    capabilities: SPOT_EXCHANGE,
  },
  {
    market_code: 'kraken',
    exchange_name: 'Kraken Spot',
    pretty_display_type: 'Kraken',
    market_icon: `${ICON_BASE}kraken.png`,
    supported_market_types: SPOT,
    kind: 'exchange',
    // One balance: Kraken lists staked and earning amounts in it as assets of their own.
    connector: {
      type: 'ccxt',
      exchangeId: 'kraken',
      wallets: ONE_WALLET,
      assetAliases: KRAKEN_ASSET_ALIASES,
    },
    credentials: 'api_key',
    capabilities: SPOT_EXCHANGE,
  },
  {
    market_code: 'kucoin',
    exchange_name: 'KuCoin Spot',
    pretty_display_type: 'Kucoin',
    market_icon: `${ICON_BASE}kucoin.png`,
    supported_market_types: SPOT,
    kind: 'exchange',
    connector: {
      type: 'ccxt',
      exchangeId: 'kucoin',
      options: KUCOIN_OPTIONS,
      wallets: KUCOIN_WALLETS,
      transfers: KUCOIN_TRANSFERS,
    },
    credentials: 'api_key_passphrase',
    capabilities: SPOT_EXCHANGE,
  },
  {
    market_code: 'okex',
    exchange_name: 'OKX Spot',
    pretty_display_type: 'Okex',
    market_icon: `${ICON_BASE}okex.png`,
    supported_market_types: SPOT,
    kind: 'exchange',
    connector: {
      type: 'ccxt',
      exchangeId: 'okx',
      options: SPOT_MARKETS_ONLY,
      wallets: OKX_WALLETS,
      transfers: OKX_TRANSFERS,
    },
    credentials: 'api_key_passphrase',
    capabilities: SPOT_EXCHANGE,
  },
];

// Sorted once more so the order stays stable whatever order entries are added in above.
const SORTED: readonly Market[] = Object.freeze(
  [...MARKETS].sort((a, b) => (a.market_code < b.market_code ? -1 : 1)),
);
const BY_CODE: ReadonlyMap<string, Market> = new Map(SORTED.map((m) => [m.market_code, m]));

/** The market for a 3Commas market code, or undefined when we do not support it. */
export function findMarket(code: string): Market | undefined {
  return BY_CODE.get(code);
}

/** Every supported market, ordered by market_code. */
export function listMarkets(): readonly Market[] {
  return SORTED;
}

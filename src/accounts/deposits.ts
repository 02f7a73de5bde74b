import type { CurrencyInterface, DepositAddress } from 'ccxt';
import { Type, type Static } from 'typebox';
import { AppError } from '../errors.ts';
import { SourceError } from '../exchanges/failures.ts';
import type { SourceTarget } from '../sources/sources.ts';
import type { BalanceSources } from '../sources/sources.ts';
import { Dec, formatAmount } from '../valuation/index.ts';

/** Where 3Commas offers deposit addresses and network lists: Binance Spot, Binance US, OKX. */
const DEPOSIT_MARKETS: ReadonlySet<string> = new Set(['binance', 'binance_us', 'okex']);

/** GET /ver1/accounts/{id}/deposit_data: every value a string, as the docs' example. */
export const DepositData = Type.Object(
  {
    address: Type.String(),
    address_tag: Type.String(),
    available_balance: Type.String(),
    in_orders: Type.String(),
    total_balance: Type.String(),
  },
  { $id: 'DepositData' },
);
export type DepositData = Static<typeof DepositData>;

const NullableString = Type.Union([Type.String(), Type.Null()]);

export const NetworkInfo = Type.Object({
  network: Type.String(),
  default: Type.Boolean(),
  deposit_enable: Type.Boolean(),
  withdraw_enable: Type.Boolean(),
  deposit_tip: NullableString,
  withdraw_tip: NullableString,
  special_tip: NullableString,
  network_name: NullableString,
  network_url: NullableString,
  address_regexp: NullableString,
  withdraw_fee: NullableString,
  withdraw_min: NullableString,
  withdrawMax: NullableString,
  withdrawMultiple: NullableString,
  memo_regexp: NullableString,
  label: NullableString,
  require_address_tag: Type.Boolean(),
});
export type NetworkInfo = Static<typeof NetworkInfo>;

/** GET /ver1/accounts/{id}/networks_info: one item per currency (an array, as GitBook shows). */
export const CurrencyNetworks = Type.Object(
  {
    currency: Type.String(),
    name: Type.String(),
    deposit_enable: Type.Boolean(),
    withdraw_enable: Type.Boolean(),
    network_list: Type.Array(NetworkInfo),
  },
  { $id: 'CurrencyNetworks' },
);
export type CurrencyNetworks = Static<typeof CurrencyNetworks>;

export type NetworksPurpose = 'deposit' | 'withdraw';

/**
 * Deposit addresses and networks, read from the exchange through ccxt with the account's own
 * keys. Only where 3Commas offers them; elsewhere the account is refused with its 403.
 */
export class DepositInfo {
  constructor(private readonly sources: BalanceSources) {}

  async depositData(
    target: SourceTarget,
    holdings: ReadonlyMap<string, string>,
    currency: string,
    network: string,
  ): Promise<DepositData> {
    const credentials = exchangeKeys(target);
    const address: DepositAddress = await fromExchange(() =>
      this.sources
        .exchange(target.market.market_code)
        .fetchDepositAddress(credentials, currency, network),
    );
    // What we last read of it: this service reads totals (free and in orders together), so
    // what is on orders is not told apart from what is available.
    const total = formatAmount(new Dec(holdings.get(currency) ?? '0'));
    return {
      address: address.address ?? '',
      address_tag: address.tag ?? '',
      available_balance: total,
      in_orders: '0.0',
      total_balance: total,
    };
  }

  async networksInfo(target: SourceTarget, purpose?: NetworksPurpose): Promise<CurrencyNetworks[]> {
    const credentials = exchangeKeys(target);
    const currencies = await fromExchange(() =>
      this.sources.exchange(target.market.market_code).fetchCurrencies(credentials),
    );
    return Object.values(currencies)
      .filter((currency): currency is CurrencyInterface => currency !== undefined)
      .map(toCurrencyNetworks)
      .filter((item) => !purpose || item[`${purpose}_enable`])
      .sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0));
  }
}

function exchangeKeys(target: SourceTarget) {
  const keyless = target.kind !== 'exchange' || target.credentials.apiKey === '';
  if (keyless || !DEPOSIT_MARKETS.has(target.market.market_code)) {
    throw new AppError('unavailable_for_account', 'Unavailable for this account');
  }
  return (target as Extract<SourceTarget, { kind: 'exchange' }>).credentials;
}

/** The exchange's refusal in its own words (422), as 3Commas passes it through. */
async function fromExchange<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (thrown) {
    if (thrown instanceof AppError) throw thrown;
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    if (thrown instanceof SourceError && thrown.kind === 'unavailable') {
      throw new AppError('exchange_unavailable', `Could not reach the exchange: ${message}`);
    }
    throw new AppError('unknown_market_api_error', message);
  }
}

function toCurrencyNetworks(currency: CurrencyInterface): CurrencyNetworks {
  const networks = Object.values(currency.networks ?? {}).map((network) =>
    toNetworkInfo(network as unknown as CcxtNetwork),
  );
  return {
    currency: currency.code,
    name: currency.name ?? currency.code,
    deposit_enable: currency.deposit ?? networks.some((n) => n.deposit_enable),
    withdraw_enable: currency.withdraw ?? networks.some((n) => n.withdraw_enable),
    network_list: networks,
  };
}

interface CcxtNetwork {
  id?: string;
  network?: string;
  deposit?: boolean;
  withdraw?: boolean;
  fee?: number;
  precision?: number;
  limits?: { withdraw?: { min?: number; max?: number } };
  info?: Record<string, unknown>;
}

/**
 * One network in 3Commas' words. `network` is the exchange's own id (what deposit_data takes);
 * tips and patterns come from the exchange's answer where it has them (Binance names them,
 * OKX has none), else null — never invented.
 */
function toNetworkInfo(network: CcxtNetwork): NetworkInfo {
  const info = network.info ?? {};
  const text = (...keys: string[]) => {
    for (const key of keys) {
      const value = info[key];
      if (typeof value === 'string' && value !== '') return value;
    }
    return null;
  };
  const memo = text('memoRegex');
  return {
    network: network.id ?? network.network ?? '',
    default: info.isDefault === true,
    deposit_enable: network.deposit === true,
    withdraw_enable: network.withdraw === true,
    deposit_tip: text('depositDesc'),
    withdraw_tip: text('withdrawDesc'),
    special_tip: text('specialTips'),
    network_name: text('name', 'chain'),
    network_url: null,
    address_regexp: text('addressRegex'),
    withdraw_fee: decimal(network.fee),
    withdraw_min: decimal(network.limits?.withdraw?.min),
    withdrawMax: decimal(network.limits?.withdraw?.max),
    withdrawMultiple: decimal(network.precision),
    memo_regexp: memo,
    label: memo ? 'MEMO/Tag' : null,
    require_address_tag: memo !== null,
  };
}

/** A ccxt double as the shortest decimal it was parsed from; null when absent. */
function decimal(value: number | undefined): string | null {
  return value === undefined || value === null ? null : new Dec(value).toFixed();
}

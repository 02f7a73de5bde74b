import type { Market } from '../markets/index.ts';
import type { AccountRow } from '../storage/schema.ts';
import {
  formatAmount,
  formatPercent,
  formatRubyFloat,
  toDouble,
  type CurrencyFigures,
  type Valuation,
} from '../valuation/index.ts';
import type { AccountEntity } from './entity-schema.ts';

/** USD, BTC or a catalog currency (`src/prices/display-currencies.ts`). */
export type DisplayCurrency = string;

const EXPIRE_SOON_MS = 7 * 24 * 60 * 60 * 1000;

export interface EntityInput {
  account: AccountRow;
  market: Market;
  valuation: Valuation;
  displayCurrency: DisplayCurrency;
  now: Date;
}

/** Builds the 3Commas Account entity from what we store; every figure in its contract format. */
export function toAccountEntity({
  account,
  market,
  valuation,
  displayCurrency,
  now,
}: EntityInput): AccountEntity {
  const caps = { ...market.capabilities, ...account.capability_overrides };
  const { usd, btc } = valuation;
  const shown = inDisplayCurrency(valuation, displayCurrency);
  return {
    id: account.id,
    auto_balance_period: account.auto_balance_period,
    auto_balance_portfolio_id: null,
    auto_balance_currency_change_limit: null,
    autobalance_enabled: account.autobalance_enabled,
    hedge_mode_available: caps.hedge_mode_available,
    hedge_mode_enabled: account.hedge_mode_enabled,
    is_locked: account.is_locked,
    smart_trading_supported: caps.smart_trading_supported,
    smart_selling_supported: caps.smart_selling_supported,
    available_for_trading: {},
    stats_supported: caps.stats_supported,
    trading_supported: caps.trading_supported,
    market_buy_supported: caps.market_buy_supported,
    market_sell_supported: caps.market_sell_supported,
    conditional_buy_supported: caps.conditional_buy_supported,
    bots_allowed: caps.bots_allowed,
    bots_ttp_allowed: caps.bots_ttp_allowed,
    bots_tsl_allowed: caps.bots_tsl_allowed,
    gordon_bots_available: caps.gordon_bots_available,
    multi_bots_allowed: caps.multi_bots_allowed,
    created_at: account.created_at.toISOString(),
    updated_at: account.updated_at.toISOString(),
    last_auto_balance: null,
    fast_convert_available: caps.fast_convert_available,
    grid_bots_allowed: caps.grid_bots_allowed,
    api_key_invalid: account.api_key_invalid,
    market_icon: market.market_icon,
    // Deposits need working credentials (the seed's invalid-key account shows false).
    deposit_enabled: caps.deposit_enabled && !account.api_key_invalid,
    include_in_summary: account.include_in_summary,
    supported_market_types: [...market.supported_market_types],
    ...displayCurrencyFields(shown),
    available_include_in_summary: caps.available_include_in_summary,
    api_key: publicIdentifier(account),
    name: account.name,
    auto_balance_method: null,
    auto_balance_error: null,
    customer_id: account.customer_id,
    subaccount_name: account.subaccount_name,
    lock_reason: account.lock_reason,
    btc_amount: formatAmount(btc.amount),
    usd_amount: formatAmount(usd.amount),
    day_profit_btc: formatAmount(btc.day.profit),
    day_profit_usd: formatAmount(usd.day.profit),
    day_profit_btc_percentage: formatPercent(btc.day.percentage, 2),
    day_profit_usd_percentage: formatPercent(usd.day.percentage, 2),
    btc_profit: formatAmount(btc.period.profit),
    usd_profit: formatAmount(usd.period.profit),
    usd_profit_percentage: formatPercent(usd.period.percentage, 2),
    btc_profit_percentage: formatPercent(btc.period.percentage, 2),
    total_btc_profit: totalAsRubyFloat(btc),
    total_usd_profit: totalAsRubyFloat(usd),
    pretty_display_type: market.pretty_display_type,
    exchange_name: market.exchange_name,
    market_code: market.market_code,
    api_keys_state: apiKeysState(account.api_keys_expire_at, now),
  };
}

interface Shown<T> {
  currency: string;
  figures: T;
}

/**
 * The primary display figures. USD and BTC come from every snapshot's own prices. Another
 * currency needs its price in the rounds of a window's two snapshots and of its transfers; a
 * figure whose window lacks one is shown in USD, labelled "USD" — never converted at a price
 * from another time.
 */
export function inDisplayCurrency(valuation: Valuation, currency: DisplayCurrency) {
  if (currency === 'USD' || currency === 'BTC') {
    const figures = currency === 'BTC' ? valuation.btc : valuation.usd;
    const as = <T>(f: T): Shown<T> => ({ currency, figures: f });
    return {
      amount: as(figures.amount),
      day: as(figures.day),
      period: as(figures.period),
      total: as(figures.total),
    };
  }
  const { display, usd } = valuation;
  const either = <T>(f: T | null, fallback: T): Shown<T> =>
    f === null ? { currency: 'USD', figures: fallback } : { currency, figures: f };
  return {
    amount: either(display.amount, usd.amount),
    day: either(display.day, usd.day),
    period: either(display.period, usd.period),
    total: either(display.total, usd.total),
  };
}

const totalAsRubyFloat = (figures: CurrencyFigures) => formatRubyFloat(toDouble(figures.total));

/** Exchange accounts show their exchange API key; wallets their address; manual accounts "". */
export function publicIdentifier(account: AccountRow): string {
  return account.exchange_api_key ?? account.wallet_address ?? '';
}

export function apiKeysState(expiresAt: Date | null, now: Date): AccountEntity['api_keys_state'] {
  if (!expiresAt) return 'ok';
  const left = expiresAt.getTime() - now.getTime();
  if (left <= 0) return 'expired';
  return left <= EXPIRE_SOON_MS ? 'expire_soon' : 'ok';
}

/** The moments after `now` at which `apiKeysState` changes, for cache expiry. */
export function apiKeysStateBoundaries(expiresAt: Date | null): number[] {
  return expiresAt ? [expiresAt.getTime() - EXPIRE_SOON_MS, expiresAt.getTime()] : [];
}

/**
 * The six `*_primary_display_currency*` fields of the entity, from the figures shown in the
 * user's display currency (each with the currency it is in): the same for an account and for
 * the summary.
 */
export function displayCurrencyFields(shown: ReturnType<typeof inDisplayCurrency>) {
  return {
    primary_display_currency_profit_percentage: {
      currency: shown.period.currency,
      amount: formatPercent(shown.period.figures.percentage, 2),
    },
    primary_display_currency_profit: {
      currency: shown.period.currency,
      amount: formatAmount(shown.period.figures.profit),
    },
    day_profit_primary_display_currency_percentage: {
      currency: shown.day.currency,
      amount: formatPercent(shown.day.figures.percentage, 4),
    },
    day_profit_primary_display_currency: {
      currency: shown.day.currency,
      amount: formatAmount(shown.day.figures.profit),
    },
    primary_display_currency_amount: {
      currency: shown.amount.currency,
      amount: formatAmount(shown.amount.figures),
    },
    total_primary_display_currency_profit: {
      currency: shown.total.currency,
      amount: toDouble(shown.total.figures),
    },
  };
}

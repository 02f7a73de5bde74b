import { Type, type Static } from 'typebox';
import { loadHistories } from '../balances/history.ts';
import type { Storage } from '../storage/database.ts';
import type { AccountRow } from '../storage/schema.ts';
import {
  Dec,
  formatAmount,
  formatPercent,
  formatRubyFloat,
  toDouble,
  valueAccount,
  type CurrencyFigures,
  type DisplayFigures,
  type Valuation,
  type WindowFigures,
} from '../valuation/index.ts';
import { percentage } from '../valuation/profit.ts';
import { AccountEntity } from './entity-schema.ts';
import { emptyHistory } from './render.ts';
import { displayCurrencyFields, inDisplayCurrency, type DisplayCurrency } from './view.ts';

/**
 * The summary pseudo-account (`GET /ver1/accounts/summary`): the Account entity with the string
 * id `"summary"` (as 3Commas answers it), a schema of its own so the list's stays integer-only.
 */
export const SummaryEntity = Type.Object(
  { ...AccountEntity.properties, id: Type.Literal('summary') },
  {
    $id: 'SummaryAccountEntity',
    description: 'Every account of the user with include_in_summary, added up',
  },
);
export type SummaryEntity = Static<typeof SummaryEntity>;

/**
 * Adds up the user's accounts that have `include_in_summary`. Each account's windows are its own
 * (day: from its latest snapshot at or before now − 24 h, period: now − 30 days, total: its first
 * snapshot; a younger account's windows start at its first snapshot), valued exactly as in the
 * list. The summary sums the amounts, the profits and the windows' bases (start value plus money
 * moved in) and only then divides: its percentage is Σ profit / Σ base, never an average of
 * percentages.
 */
export async function renderSummary(
  storage: Storage,
  userId: number,
  displayCurrency: DisplayCurrency,
  now: Date,
): Promise<{ entity: SummaryEntity; validUntil: number | null }> {
  const rows = await storage.db
    .selectFrom('accounts')
    .selectAll()
    .where('user_id', '=', userId)
    .where('include_in_summary', '=', true)
    .orderBy('id')
    .execute();
  const histories = await loadHistories(
    storage,
    rows.map((row) => row.id),
    now,
    displayCurrency,
  );
  const valuations = rows.map((row) => valueAccount(histories.get(row.id)?.input ?? emptyHistory));
  // Valid until the first moment any account's figures would change by themselves.
  const boundaries = [...histories.values()]
    .map((history) => history.nextBoundary)
    .filter((time): time is number => time !== null && time > now.getTime());
  return {
    entity: toSummaryEntity(rows, addUp(valuations), displayCurrency, now),
    validUntil: boundaries.length > 0 ? Math.min(...boundaries) : null,
  };
}

/** The sum of several accounts' figures, percentages recomputed from the summed bases. */
export function addUp(valuations: Valuation[]): Valuation {
  const currency = (pick: (v: Valuation) => CurrencyFigures): CurrencyFigures => ({
    amount: sum(valuations.map((v) => pick(v).amount)),
    day: sumWindows(valuations.map((v) => pick(v).day)),
    period: sumWindows(valuations.map((v) => pick(v).period)),
    total: sum(valuations.map((v) => pick(v).total)),
  });
  return {
    usd: currency((v) => v.usd),
    btc: currency((v) => v.btc),
    display: addUpDisplay(valuations.map((v) => v.display)),
  };
}

/** A display figure is known only if every account knows it (else the entity shows USD). */
function addUpDisplay(figures: DisplayFigures[]): DisplayFigures {
  const all = <T>(values: Array<T | null>): T[] | null =>
    values.some((value) => value === null) ? null : (values as T[]);
  const amounts = all(figures.map((f) => f.amount));
  const days = all(figures.map((f) => f.day));
  const periods = all(figures.map((f) => f.period));
  const totals = all(figures.map((f) => f.total));
  return {
    amount: amounts && sum(amounts),
    day: days && sumWindows(days),
    period: periods && sumWindows(periods),
    total: totals && sum(totals),
  };
}

const sum = (values: Dec[]) => values.reduce((total, value) => total.plus(value), new Dec(0));

function sumWindows(windows: WindowFigures[]): WindowFigures {
  const profit = sum(windows.map((w) => w.profit));
  const base = sum(windows.map((w) => w.base));
  return { profit, base, percentage: percentage(profit, base) };
}

function toSummaryEntity(
  rows: AccountRow[],
  valuation: Valuation,
  displayCurrency: DisplayCurrency,
  now: Date,
): SummaryEntity {
  const { usd, btc } = valuation;
  const shown = inDisplayCurrency(valuation, displayCurrency);
  const earliest = rows.reduce<Date>(
    (min, row) => (row.created_at < min ? row.created_at : min),
    now,
  );
  const latest = rows.reduce<Date | null>(
    (max, row) => (max === null || row.updated_at > max ? row.updated_at : max),
    null,
  );
  return {
    id: 'summary',
    auto_balance_period: 12,
    auto_balance_portfolio_id: null,
    auto_balance_currency_change_limit: null,
    autobalance_enabled: false,
    hedge_mode_available: false,
    hedge_mode_enabled: false,
    is_locked: false,
    smart_trading_supported: false,
    smart_selling_supported: false,
    available_for_trading: {},
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
    created_at: earliest.toISOString(),
    updated_at: (latest ?? now).toISOString(),
    last_auto_balance: null,
    fast_convert_available: false,
    grid_bots_allowed: false,
    api_key_invalid: false,
    market_icon: '',
    deposit_enabled: false,
    include_in_summary: true,
    supported_market_types: [],
    ...displayCurrencyFields(shown),
    available_include_in_summary: true,
    api_key: '',
    name: 'Summary',
    auto_balance_method: null,
    auto_balance_error: null,
    customer_id: null,
    subaccount_name: null,
    lock_reason: null,
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
    total_btc_profit: formatRubyFloat(toDouble(btc.total)),
    total_usd_profit: formatRubyFloat(toDouble(usd.total)),
    pretty_display_type: 'Summary',
    exchange_name: 'Summary',
    market_code: 'summary',
    api_keys_state: 'ok',
  };
}

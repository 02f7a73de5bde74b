import { Type, type Static } from 'typebox';

/**
 * The 3Commas Account entity: the 61 fields of the seed example, in the seed's order, with the
 * seed's JSON types. This one schema drives serialization (fast-json-stringify keeps property
 * order), the TypeScript type and the OpenAPI document.
 */
const Money = Type.Object({ currency: Type.String(), amount: Type.String() });
const MoneyNumber = Type.Object({ currency: Type.String(), amount: Type.Number() });
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const AccountEntity = Type.Object(
  {
    id: Type.Integer(),
    auto_balance_period: Type.Integer(),
    auto_balance_portfolio_id: Type.Union([Type.Integer(), Type.Null()]),
    auto_balance_currency_change_limit: Type.Union([Type.Number(), Type.Null()]),
    autobalance_enabled: Type.Boolean(),
    hedge_mode_available: Type.Boolean(),
    hedge_mode_enabled: Type.Boolean(),
    is_locked: Type.Boolean(),
    smart_trading_supported: Type.Boolean(),
    smart_selling_supported: Type.Boolean(),
    available_for_trading: Type.Object({}),
    stats_supported: Type.Boolean(),
    trading_supported: Type.Boolean(),
    market_buy_supported: Type.Boolean(),
    market_sell_supported: Type.Boolean(),
    conditional_buy_supported: Type.Boolean(),
    bots_allowed: Type.Boolean(),
    bots_ttp_allowed: Type.Boolean(),
    bots_tsl_allowed: Type.Boolean(),
    gordon_bots_available: Type.Boolean(),
    multi_bots_allowed: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    last_auto_balance: NullableString,
    fast_convert_available: Type.Boolean(),
    grid_bots_allowed: Type.Boolean(),
    api_key_invalid: Type.Boolean(),
    market_icon: Type.String(),
    deposit_enabled: Type.Boolean(),
    include_in_summary: Type.Boolean(),
    supported_market_types: Type.Array(Type.String()),
    primary_display_currency_profit_percentage: Money,
    primary_display_currency_profit: Money,
    day_profit_primary_display_currency_percentage: Money,
    day_profit_primary_display_currency: Money,
    primary_display_currency_amount: Money,
    total_primary_display_currency_profit: MoneyNumber,
    available_include_in_summary: Type.Boolean(),
    api_key: Type.String(),
    name: Type.String(),
    auto_balance_method: NullableString,
    auto_balance_error: NullableString,
    customer_id: NullableString,
    subaccount_name: NullableString,
    lock_reason: NullableString,
    btc_amount: Type.String(),
    usd_amount: Type.String(),
    day_profit_btc: Type.String(),
    day_profit_usd: Type.String(),
    day_profit_btc_percentage: Type.String(),
    day_profit_usd_percentage: Type.String(),
    btc_profit: Type.String(),
    usd_profit: Type.String(),
    usd_profit_percentage: Type.String(),
    btc_profit_percentage: Type.String(),
    total_btc_profit: Type.String(),
    total_usd_profit: Type.String(),
    pretty_display_type: Type.String(),
    exchange_name: Type.String(),
    market_code: Type.String(),
    api_keys_state: Type.Union([
      Type.Literal('ok'),
      Type.Literal('expire_soon'),
      Type.Literal('expired'),
    ]),
  },
  { $id: 'AccountEntity', description: 'An exchange account or wallet connected by the user' },
);

export type AccountEntity = Static<typeof AccountEntity>;

export const AccountList = Type.Array(AccountEntity);

import { Type, type Static } from 'typebox';

/**
 * The three chart shapes, with the JSON types of the specification (§1.2, §5.5–5.7): the pie's
 * values as the real capture sends them, the table and the balance chart as JSON numbers. Each
 * schema drives serialization (fast-json-stringify keeps field order), types and OpenAPI.
 */
const DisplayMoney = Type.Object({ currency: Type.String(), amount: Type.String() });
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

export const PieChartItem = Type.Object(
  {
    code: Type.String(),
    /** We do not know CoinMarketCap ids: always null, as 3Commas sends for fiat and unknowns. */
    coinmarketcapid: Type.Union([Type.String(), Type.Null()]),
    name: Type.String(),
    y: Type.Number(),
    percentage: Type.Number({ description: 'share of the value, 2 decimals' }),
    amount: Type.Number(),
    btc_value: Type.String({ description: '8 decimals' }),
    usd_value: Type.String({ description: '2 decimals' }),
    primary_display_currency: DisplayMoney,
    account_id: Type.Integer(),
  },
  { $id: 'PieChartItem' },
);
export type PieChartItem = Static<typeof PieChartItem>;
export const PieChart = Type.Array(PieChartItem);

export const TableRow = Type.Object(
  {
    currency_code: Type.String(),
    currency_name: Type.String(),
    percentage: NullableNumber,
    position: Type.Number(),
    position_available: Type.Number(),
    position_type: Type.Number(),
    borrowed: Type.Number(),
    on_orders: Type.Number(),
    on_orders_with_leverage: Type.Number(),
    on_orders_long: Type.Number(),
    on_orders_short: Type.Number(),
    equity: Type.Number(),
    current_price: NullableNumber,
    current_price_usd: NullableNumber,
    day_change_percent: NullableNumber,
    day_change_percent_btc: NullableNumber,
    day_change_percent_usd: NullableNumber,
    btc_value: NullableNumber,
    usd_value: NullableNumber,
    available_long: Type.Number(),
    available_short: Type.Number(),
    available_with_leverage_long: Type.Number(),
    available_with_leverage_short: Type.Number(),
    account_id: Type.Integer(),
    is_wallet: Type.Boolean(),
  },
  { $id: 'AccountTableRow' },
);
export type TableRow = Static<typeof TableRow>;
export const Table = Type.Array(TableRow);

export const BalancePoint = Type.Object(
  {
    date: Type.Integer({ description: 'unix seconds' }),
    usd: Type.Number({ description: '2 decimals' }),
    btc: Type.Number({ description: '6 decimals' }),
    btc_deposit_amount: Type.Number(),
    usd_deposit_amount: Type.Number(),
  },
  { $id: 'BalancePoint' },
);
export type BalancePoint = Static<typeof BalancePoint>;
export const BalanceChart = Type.Array(BalancePoint);

export const BalanceChartQuery = Type.Object({
  date_from: Type.String({
    description:
      'ISO 8601 (2024-09-18T18:58:55.469Z) or YYYY-MM-DD; the first point is its 00:00 UTC',
  }),
  date_to: Type.Optional(
    Type.String({ description: 'ISO 8601, YYYY-MM-DD or unix seconds; now when absent' }),
  ),
});
export type BalanceChartQuery = Static<typeof BalanceChartQuery>;

import { Type, type Static } from 'typebox';

// The shapes of 3Commas' market-data answers (account-family spec §3, §4.1): one schema each,
// for validation, serialization, the TypeScript types and the OpenAPI document. Fields 3Commas
// sends that this service cannot know are optional here and never sent by us, so that a client
// typed from this document reads 3Commas' own answers too.

/** A credential a connect form asks for: `api_key`, `secret`, `passphrase`, `address`. */
export const FormField = Type.Object({
  field: Type.String({ description: 'the parameter of POST /ver1/accounts/new' }),
  localized_name: Type.String({ description: 'the form label, e.g. "API Key:"' }),
});
export type FormField = Static<typeof FormField>;

const NOT_SENT = 'Not sent by this service (3Commas only)';

export const MarketListItem = Type.Object(
  {
    market_name: Type.String({ description: 'e.g. "OKX Spot"' }),
    market_url: Type.Optional(
      Type.String({ description: `3Commas' referral link to the exchange. ${NOT_SENT}.` }),
    ),
    market_icon: Type.String({ description: 'URL of the exchange icon' }),
    help_link: Type.Optional(
      Type.String({ description: `3Commas' help article on connecting it. ${NOT_SENT}.` }),
    ),
    market_code: Type.String({
      description: '`type` of /new and types_to_connect, `market_code` elsewhere',
    }),
    form_fields: Type.Object({
      required: Type.Array(FormField),
      optional: Type.Array(FormField),
    }),
    available_connection_flows: Type.Array(Type.String(), {
      description: '"form" (keys typed in); 3Commas also has "fast_connect" (OAuth)',
    }),
    third_party_allowed: Type.Optional(Type.Boolean({ description: NOT_SENT })),
    trusted_ips: Type.Optional(
      Type.Array(Type.String(), {
        description: `3Commas' servers' addresses for the key's IP whitelist. ${NOT_SENT}.`,
      }),
    ),
    trusted_ips_input_type: Type.Optional(Type.String({ description: NOT_SENT })),
    fast_connect_action_name: Type.Optional(Type.String({ description: NOT_SENT })),
  },
  { $id: 'MarketListItem' },
);
export type MarketListItem = Static<typeof MarketListItem>;

const decimal = (description: string) => Type.Optional(Type.String({ description }));
const notSent = () => Type.Optional(Type.String({ description: NOT_SENT }));

/** Every value a string (spec §1.2); a value we cannot know is left out, never guessed. */
const CURRENCY_RATES_FIELDS = {
  last: decimal('last trade price, in the quote currency'),
  bid: decimal('best bid'),
  ask: decimal('best ask'),
  orderbook_ask: notSent(),
  orderbook_bid: notSent(),
  orderbook_last: notSent(),
  orderbook_price_currency: notSent(),
  strategy_name: notSent(),
  contract_strategy_name: notSent(),
  instrumentKind: Type.String({ description: '"spot" here; 3Commas also "linear_futures"' }),
  minPrice: decimal('lowest order price'),
  maxPrice: decimal('highest order price'),
  priceStep: decimal('price tick'),
  minLotSize: decimal('smallest order amount (base currency)'),
  maxLotSize: decimal('largest order amount (base currency)'),
  lotStep: decimal('amount step'),
  maxMarketBuyAmount: notSent(),
  maxMarketSellAmount: notSent(),
  bidMultiplierDown: notSent(),
  bidMultiplierUp: notSent(),
  askMultiplierUp: notSent(),
  askMultiplierDown: notSent(),
  minTotal: decimal('smallest order value (quote currency)'),
  minMarketTotal: notSent(),
  maxTotal: decimal('largest order value (quote currency)'),
};

export const CurrencyRates = Type.Object(CURRENCY_RATES_FIELDS, { $id: 'CurrencyRates' });
export type CurrencyRates = Static<typeof CurrencyRates>;

/**
 * One way of trading a pair with leverage (spec §3.4, §6.3). `valid` bounds are a number or a
 * string in 3Commas' own examples (`{"min":1,"max":"25.0"}`, `{"min":"1.0","max":null}`).
 */
export const LeverageType = Type.Object({
  code: Type.String({ description: '"none", "cross" or "isolated"' }),
  name: Type.String(),
  can_set_leverage_value: Type.Boolean(),
  available_leverage_values: Type.Array(Type.Unknown()),
  max_leverage: Type.Union([Type.String(), Type.Null()]),
  valid: Type.Object({
    min: Type.Optional(Type.Union([Type.Number(), Type.String(), Type.Null()])),
    max: Type.Optional(Type.Union([Type.Number(), Type.String(), Type.Null()])),
  }),
});
export type LeverageType = Static<typeof LeverageType>;

export const CurrencyRatesWithLeverage = Type.Object(
  {
    ...CURRENCY_RATES_FIELDS,
    minMarketBuyAmount: notSent(),
    minMarketSellAmount: notSent(),
    leverage_data: Type.Array(LeverageType),
  },
  { $id: 'CurrencyRatesWithLeverage' },
);
export type CurrencyRatesWithLeverage = Static<typeof CurrencyRatesWithLeverage>;

export const TypeToConnect = Type.Object(
  {
    type: Type.String({ description: 'a market_code' }),
    connected: Type.Boolean({
      description: "the caller's user already has this market connected with this key",
    }),
    available: Type.Boolean(),
    unified: Type.Boolean({ description: 'a Bybit unified account (3Commas); always false here' }),
  },
  { $id: 'TypeToConnect' },
);
export type TypeToConnect = Static<typeof TypeToConnect>;

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import { Type } from 'typebox';
import { MarketData, marketList } from '../../markets/market-data.ts';
import {
  CurrencyRates,
  CurrencyRatesWithLeverage,
  MarketListItem,
  TypeToConnect,
} from '../../markets/market-data-schema.ts';
import type { Services } from '../../services.ts';
import { clientIp } from '../client-ip.ts';
import { ErrorSchema } from '../schemas.ts';
import { signed } from '../signed.ts';

const MARKET_CODE = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'an exchange market_code from market_list, e.g. binance',
});

const MarketPairsQuery = Type.Object({
  // Required here as in the current docs: pairs exist per exchange, there is no default one.
  market_code: MARKET_CODE,
});

const CurrencyRatesQuery = Type.Object({
  market_code: MARKET_CODE,
  pair: Type.String({ minLength: 1, maxLength: 64, description: 'QUOTE_BASE, e.g. USDT_BTC' }),
  limit_type: Type.Optional(
    Type.Union([Type.Literal('bot'), Type.Literal('smart_trade')], {
      description: "3Commas' bot or SmartTrade limits; the exchange's own rules either way here",
    }),
  ),
});

const PairQuery = Type.Object({
  market_code: MARKET_CODE,
  pair: CurrencyRatesQuery.properties.pair,
});

const TypesToConnectQuery = Type.Object({
  type: Type.String({ minLength: 1, maxLength: 64, description: 'a market_code' }),
  name: Type.String({ minLength: 1, maxLength: 100 }),
  api_key: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  // Accepted as 3Commas documents it; not needed to answer, never stored or logged.
  secret: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  address: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});

const errors = { '4xx': ErrorSchema, '5xx': ErrorSchema };

/**
 * 3Commas' market data (security NONE) and types_to_connect (SIGNED, permission NONE). Pairs
 * and rates come from the exchange through ccxt; an exchange we cannot reach is a 503.
 */
export const marketDataRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const data = new MarketData(services.sync.sources, services.storage);
  // Unsigned, but a banned IP stays banned here too.
  const admitted = notBanned(services);

  app.get(
    '/ver1/accounts/market_list',
    {
      preValidation: admitted,
      schema: {
        summary: 'Supported markets list',
        description:
          'Security NONE. Every market this service connects, with the credentials its form ' +
          'needs. 3Commas-only fields (referral and help links, trusted IPs) are not sent.',
        response: { 200: Type.Array(MarketListItem), ...errors },
      },
    },
    async () => marketList(),
  );

  const marketPairs = {
    preValidation: admitted,
    schema: {
      summary: 'All market pairs',
      description:
        "Security NONE. The exchange's tradable spot pairs as QUOTE_BASE, sorted. 400 for a " +
        'wallet or unknown market_code; 503 when the exchange cannot be reached.',
      querystring: MarketPairsQuery,
      response: { 200: Type.Array(Type.String()), ...errors },
    },
  };
  const pairs = async (request: FastifyRequest<{ Querystring: { market_code: string } }>) =>
    data.pairs(request.query.market_code);
  app.get('/ver1/accounts/market_pairs', marketPairs, pairs);
  // The legacy path ([D-MD], used by some clients): the same answer.
  app.get(
    '/v2/accounts/market_pairs',
    { ...marketPairs, schema: { ...marketPairs.schema, deprecated: true } },
    pairs,
  );

  app.get(
    '/ver1/accounts/currency_rates',
    {
      preValidation: admitted,
      schema: {
        summary: 'Currency rates and limits',
        description:
          "Security NONE. Last, bid and ask read from the exchange now, and the exchange's " +
          'order rules from its markets; every value a decimal string, unknown ones left out.',
        querystring: CurrencyRatesQuery,
        response: { 200: CurrencyRates, ...errors },
      },
    },
    async (request) => data.currencyRates(request.query.market_code, request.query.pair),
  );

  app.get(
    '/ver1/accounts/currency_rates_with_leverage_data',
    {
      preValidation: admitted,
      schema: {
        summary: 'Currency rates, limits and leverage types',
        description:
          'Security NONE. currency_rates plus leverage_data; every market here is spot, so ' +
          'its one leverage type is "none" (no leverage).',
        querystring: PairQuery,
        response: { 200: CurrencyRatesWithLeverage, ...errors },
      },
    },
    async (request) =>
      data.currencyRatesWithLeverage(request.query.market_code, request.query.pair),
  );

  app.get(
    '/ver1/accounts/types_to_connect',
    {
      preValidation: signed(services, 'NONE'),
      schema: {
        summary: 'Available market subtypes',
        description:
          'Security SIGNED, permission NONE. The account types a connection would create ' +
          '(spot only: the market itself), and whether the caller already has it with this key.',
        querystring: TypesToConnectQuery,
        response: { 200: Type.Array(TypeToConnect), ...errors },
      },
    },
    async (request) =>
      data.typesToConnect(request.apiKey?.userId ?? 0, {
        type: request.query.type,
        api_key: request.query.api_key,
        address: request.query.address,
      }),
  );
};

function notBanned(services: Services): preValidationAsyncHookHandler {
  return async function admitUnsigned(request) {
    const refused = await services.limits.requests?.admit(clientIp(request));
    if (refused) throw refused;
  };
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type TObject } from 'typebox';
import { CurrencyNetworks, DepositData } from '../../accounts/deposits.ts';
import { SummaryEntity } from '../../accounts/summary.ts';
import type { Permission } from '../../auth/permissions.ts';
import { AppError } from '../../errors.ts';
import type { Services } from '../../services.ts';
import { ErrorSchema } from '../schemas.ts';
import { signed } from '../signed.ts';
import { AccountIdParams, accountIdOf } from './account-writes.ts';

const errors = { '4xx': ErrorSchema, '5xx': ErrorSchema };

/** What 3Commas' active_trading_entities counts; all zero here, as this service never trades. */
const ActiveTradingEntities = Type.Object(
  {
    data: Type.Object({
      active_bots_count: Type.Integer(),
      active_deals_count: Type.Integer(),
      active_smart_trades_count: Type.Integer(),
      active_orders_count: Type.Integer(),
      active_grid_bots_count: Type.Integer(),
    }),
  },
  { $id: 'ActiveTradingEntities' },
);

const DepositDataQuery = Type.Object({
  currency: Type.Optional(Type.String({ description: 'e.g. BTC (required)' })),
  network: Type.Optional(Type.String({ description: "the exchange's network id (required)" })),
});

const NetworksInfoQuery = Type.Object({
  purpose: Type.Optional(Type.Union([Type.Literal('deposit'), Type.Literal('withdraw')])),
});

/**
 * 3Commas' own parameters of its trading endpoints, declared so the document (and an SDK typed
 * from it, which also talks to 3Commas) carries them; here they change nothing.
 */
const PAIR = Type.Object({
  pair: Type.Optional(Type.String({ description: 'QUOTE_BASE, e.g. USDT_BTC (3Commas)' })),
});
const CODES = Type.Object({
  codes: Type.Optional(Type.Array(Type.String(), { description: 'assets to convert (3Commas)' })),
});
const DATE = Type.Object({
  date: Type.Optional(Type.String({ description: 'YYYY-MM-DD, UTC (3Commas)' })),
});
const MONTH = Type.Object({
  month: Type.Optional(Type.String({ description: 'YYYY-MM, UTC (3Commas)' })),
});

/** Endpoints of 3Commas that trade, which this read-only service answers as unavailable. */
const TRADING: Array<{
  method: 'GET' | 'POST';
  path: string;
  permission: Permission;
  query?: TObject;
}> = [
  { method: 'POST', path: 'sell_all_to_btc', permission: 'ACCOUNTS_WRITE' },
  { method: 'POST', path: 'sell_all_to_usd', permission: 'ACCOUNTS_WRITE' },
  { method: 'POST', path: 'convert_dust_to_bnb', permission: 'ACCOUNTS_WRITE', query: CODES },
  // The docs disagree on its method (§6.3 of the contract): both are answered.
  { method: 'GET', path: 'leverage_data', permission: 'ACCOUNTS_READ', query: PAIR },
  { method: 'POST', path: 'leverage_data', permission: 'ACCOUNTS_READ', query: PAIR },
  { method: 'GET', path: 'volume/daily', permission: 'ACCOUNTS_READ', query: DATE },
  { method: 'GET', path: 'volume/monthly', permission: 'ACCOUNTS_READ', query: MONTH },
  { method: 'GET', path: 'volume/total', permission: 'ACCOUNTS_READ' },
];

/**
 * The rest of the 3Commas accounts family around one account: the summary pseudo-account,
 * trading entities (none), deposit addresses and networks (through the exchange), and the
 * trading endpoints (refused: this service never trades).
 */
export const accountFamilyRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const caller = (request: FastifyRequest) => request.apiKey?.userId ?? 0;
  const describe = (permission: Permission, text: string) =>
    `Permission ${permission}, security SIGNED. ${text}`;

  app.get(
    '/ver1/accounts/summary',
    {
      preValidation: signed(services, 'ACCOUNTS_READ'),
      schema: {
        summary: 'Summary of every account included in summary',
        description: describe(
          'ACCOUNTS_READ',
          'The Account entity with `"id": "summary"`, over every account with ' +
            'include_in_summary: amounts and profits summed, percentages from the summed ' +
            "windows' bases.",
        ),
        response: { 200: SummaryEntity, ...errors },
      },
    },
    async (request, reply) => {
      // Bytes serialized from the same SummaryEntity schema, served from the list's cache.
      const body = await services.lister.summary(caller(request));
      return reply.type('application/json; charset=utf-8').send(body as never);
    },
  );

  app.get(
    '/ver1/accounts/:account_id/active_trading_entities',
    {
      preValidation: signed(services, 'ACCOUNTS_READ'),
      attachValidation: true,
      schema: {
        summary: 'Active trading entities',
        description: describe('ACCOUNTS_READ', 'All zero: this service does not trade.'),
        params: AccountIdParams,
        response: { 200: ActiveTradingEntities, ...errors },
      },
    },
    async (request) => {
      await services.accounts.findOwned(caller(request), accountIdOf(request));
      return {
        data: {
          active_bots_count: 0,
          active_deals_count: 0,
          active_smart_trades_count: 0,
          active_orders_count: 0,
          active_grid_bots_count: 0,
        },
      };
    },
  );

  app.get(
    '/ver1/accounts/:account_id/deposit_data',
    {
      preValidation: signed(services, 'ACCOUNTS_READ'),
      attachValidation: true,
      schema: {
        summary: 'Deposit address',
        description: describe(
          'ACCOUNTS_READ',
          "The exchange's deposit address, read with the account's keys (Binance, Binance US, " +
            'OKX; 403 elsewhere), and the holding as last read (totals: what is on orders is ' +
            'not told apart).',
        ),
        params: AccountIdParams,
        querystring: DepositDataQuery,
        response: { 200: DepositData, ...errors },
      },
    },
    async (request) => {
      const id = accountIdOf(request);
      const { currency, network } = request.query;
      const missing = Object.entries({ currency, network }).filter(([, value]) => !value);
      if (missing.length > 0) {
        throw new AppError(
          'record_invalid',
          'Invalid parameters',
          Object.fromEntries(missing.map(([field]) => [field, ['is missing']])),
        );
      }
      return services.accounts.depositData(caller(request), id, currency!, network!);
    },
  );

  app.get(
    '/ver1/accounts/:account_id/networks_info',
    {
      preValidation: signed(services, 'ACCOUNTS_READ'),
      attachValidation: true,
      schema: {
        summary: 'Currencies and their networks',
        description: describe(
          'ACCOUNTS_READ',
          "The exchange's currencies and networks, read with the account's keys (Binance, " +
            'Binance US, OKX; 403 elsewhere). `purpose`: only those open for deposit or withdraw.',
        ),
        params: AccountIdParams,
        querystring: NetworksInfoQuery,
        response: { 200: Type.Array(CurrencyNetworks), ...errors },
      },
    },
    async (request) =>
      services.accounts.networksInfo(caller(request), accountIdOf(request), request.query.purpose),
  );

  for (const { method, path, permission, query } of TRADING) {
    app.route({
      method,
      url: `/ver1/accounts/:account_id/${path}`,
      preValidation: signed(services, permission),
      attachValidation: true,
      schema: {
        summary: `${path} (unavailable: this service never trades)`,
        description: describe(
          permission,
          'Answers 403 "Forbidden. Unavailable for this account." for every account of the ' +
            'caller (404 for any other): this service reads balances, it never trades.',
        ),
        params: AccountIdParams,
        ...(query ? { querystring: query } : {}),
        response: errors,
      },
      handler: async (request) => {
        await services.accounts.findOwned(caller(request), accountIdOf(request));
        throw new AppError('unavailable_for_account', `${path}: this service never trades`);
      },
    });
  }
};

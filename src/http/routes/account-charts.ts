import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AccountCharts, type ChartTarget } from '../../accounts/charts/charts.ts';
import { BalanceChart, BalanceChartQuery, PieChart, Table } from '../../accounts/charts/schemas.ts';
import type { Services } from '../../services.ts';
import { ErrorSchema } from '../schemas.ts';
import { signed } from '../signed.ts';
import { accountIdParam } from './account-writes.ts';

// Typed as the Account's own integer id or the literal `summary`, so a client passes
// `account.id` as it is; anything else is the family's 404 (the handler decides, not a 400).
const ChartParams = Type.Object({
  account_id: Type.Union(
    [Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), Type.Literal('summary')],
    { description: 'An account id, or `summary`: every account with include_in_summary' },
  ),
});

const SUMMARY_NOTE =
  ' With `summary` as the id: every account of the caller with include_in_summary, one entry ' +
  'per account and asset, each carrying its account_id.';

/**
 * The chart endpoints of one account or of the summary. 3Commas answers the two read-only
 * POSTs with 201, as it does every POST. Their bytes come from the list's cache (see
 * `AccountCharts`); another user's account is a 404, as in the rest of the family.
 */
export const accountChartRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const charts = new AccountCharts(services.storage, services.lister.cache);
  const userOf = (request: { apiKey?: { userId: number } }) => request.apiKey?.userId ?? 0;
  const json = 'application/json; charset=utf-8';

  app.post(
    '/ver1/accounts/:account_id/pie_chart_data',
    {
      preValidation: signed(services, 'ACCOUNTS_READ'),
      attachValidation: true,
      schema: {
        summary: 'User balances for pie chart visualization',
        description:
          'Permission ACCOUNTS_READ, security SIGNED. One item per priced asset of the latest ' +
          'balance snapshot, largest share first; an asset without a price has no value and no ' +
          'slice. `coinmarketcapid` is null (not known here) and `name` is the code.' +
          SUMMARY_NOTE,
        params: ChartParams,
        response: { 201: PieChart, '4xx': ErrorSchema },
      },
    },
    async (request, reply) => {
      const body = await charts.pie(userOf(request), accountIdParam<ChartTarget>(request));
      return reply
        .code(201)
        .type(json)
        .send(body as never);
    },
  );

  app.post(
    '/ver1/accounts/:account_id/account_table_data',
    {
      preValidation: signed(services, 'ACCOUNTS_READ'),
      attachValidation: true,
      schema: {
        summary: 'User balances for table visualization',
        description:
          'Permission ACCOUNTS_READ, security SIGNED. One row per asset of the latest balance ' +
          'snapshot. Balances are stored as totals (nothing traded here), so on_orders and ' +
          'borrowed are 0 and the whole position is available; figures that need a price are ' +
          'null for an asset without one; day_change_percent* compare its price with the ' +
          "snapshot that starts the list's day window. currency_icon and currency_slug are " +
          'not known here and are left out.' +
          SUMMARY_NOTE,
        params: ChartParams,
        response: { 201: Table, '4xx': ErrorSchema },
      },
    },
    async (request, reply) => {
      const body = await charts.table(userOf(request), accountIdParam<ChartTarget>(request));
      return reply
        .code(201)
        .type(json)
        .send(body as never);
    },
  );

  app.get(
    '/ver1/accounts/:account_id/balance_chart_data',
    {
      preValidation: signed(services, 'ACCOUNTS_READ'),
      attachValidation: true,
      schema: {
        summary: 'Balance history data',
        description:
          'Permission ACCOUNTS_READ, security SIGNED. A point at every 00:00 UTC from date_from ' +
          "'s day, each the latest balance snapshot at or before it, then a final point at " +
          'date_to (now when absent). The deposit amounts are per point: money moved in minus ' +
          'money moved out in the interval ending at the point. At most 1827 days.' +
          SUMMARY_NOTE,
        params: ChartParams,
        querystring: BalanceChartQuery,
        response: { 200: BalanceChart, '4xx': ErrorSchema },
      },
    },
    async (request, reply) => {
      const body = await charts.balance(
        userOf(request),
        accountIdParam<ChartTarget>(request),
        request.query,
      );
      return reply.type(json).send(body as never);
    },
  );
};

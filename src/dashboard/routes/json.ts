import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ChartTarget } from '../../accounts/charts/charts.ts';
import { MAX_CHART_DAYS } from '../../accounts/charts/balance-chart.ts';
import { AppError, invalid } from '../../errors.ts';
import type { Services } from '../../services.ts';
import { DAY_MS } from '../../valuation/index.ts';
import type { PortfolioReader } from '../portfolio.ts';
import { RANGES, type Range } from '../views/history-chart.ts';
import { HIDDEN, jsonGuard, viewerOf } from './guard.ts';

const JSON_TYPE = 'application/json; charset=utf-8';
const RANGE_DAYS: Record<Exclude<Range, 'ALL'>, number> = {
  '1W': 7,
  '1M': 30,
  '3M': 90,
  '1Y': 365,
};

/**
 * The dashboard's JSON, behind the session: the very bytes the API's endpoints answer (list,
 * summary, pie, table, balance chart), from the same caches.
 */
export function jsonRoutes(app: FastifyInstance, services: Services, reader: PortfolioReader) {
  const guarded = { ...HIDDEN, preHandler: jsonGuard };
  const userOf = (request: FastifyRequest) => viewerOf(request).userId;

  /** `summary` or one of the user's accounts (another's is a 404, as on the API). */
  async function targetOf(request: FastifyRequest): Promise<ChartTarget> {
    const text = String((request.query as Record<string, unknown>).target ?? 'summary');
    if (text === 'summary') return 'summary';
    if (!/^[1-9][0-9]{0,14}$/.test(text)) throw new AppError('not_found', 'Not Found');
    return (await services.accounts.findOwned(userOf(request), Number(text))).id;
  }

  app.get('/app/api/summary', guarded, async (request, reply) =>
    reply.type(JSON_TYPE).send(await services.lister.summary(userOf(request))),
  );

  app.get('/app/api/accounts', guarded, async (request, reply) =>
    reply.type(JSON_TYPE).send(await reader.entities(userOf(request))),
  );

  app.get('/app/api/pie', guarded, async (request, reply) =>
    reply.type(JSON_TYPE).send(await reader.charts.pie(userOf(request), await targetOf(request))),
  );

  app.get('/app/api/table', guarded, async (request, reply) =>
    reply.type(JSON_TYPE).send(await reader.charts.table(userOf(request), await targetOf(request))),
  );

  app.get('/app/api/balance-chart', guarded, async (request, reply) => {
    const target = await targetOf(request);
    const range = String((request.query as Record<string, unknown>).range ?? '1M');
    if (!(RANGES as readonly string[]).includes(range)) {
      throw invalid('range', `must be one of ${RANGES.join(', ')}`);
    }
    const now = Date.now();
    const days =
      range === 'ALL'
        ? await daysOfHistory(services, userOf(request), target, now)
        : RANGE_DAYS[range as Exclude<Range, 'ALL'>];
    const dateFrom = new Date(now - days * DAY_MS).toISOString();
    const body = await reader.charts.balance(userOf(request), target, { date_from: dateFrom }, now);
    return reply.type(JSON_TYPE).send(body);
  });
}

/** From the first snapshot of the target's accounts (at most the API's longest chart). */
async function daysOfHistory(
  services: Services,
  userId: number,
  target: ChartTarget,
  now: number,
): Promise<number> {
  // One index probe per account (its first snapshot on (user_id, account_id, taken_at)), never a
  // read of the accounts' whole history.
  const row = await services.storage.db
    .selectFrom('accounts as a')
    .innerJoinLateral(
      (eb) =>
        eb
          .selectFrom('balance_snapshots as s')
          .select('s.taken_at')
          .whereRef('s.user_id', '=', 'a.user_id')
          .whereRef('s.account_id', '=', 'a.id')
          .orderBy('s.taken_at')
          .limit(1)
          .as('f'),
      (join) => join.onTrue(),
    )
    .select((eb) => eb.fn.min('f.taken_at').as('first'))
    .where('a.user_id', '=', userId)
    .$if(target !== 'summary', (q) => q.where('a.id', '=', target as number))
    .executeTakeFirst();
  const first = row?.first ? new Date(row.first).getTime() : now;
  return Math.min(MAX_CHART_DAYS - 1, Math.max(1, Math.ceil((now - first) / DAY_MS)));
}

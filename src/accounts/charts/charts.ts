import build from 'fast-json-stringify';
import { sql } from 'kysely';
import { notFound } from '../../errors.ts';
import { findMarket } from '../../markets/index.ts';
import type { Storage } from '../../storage/database.ts';
import type { AccountRow } from '../../storage/schema.ts';
import { DAY_MS } from '../../valuation/index.ts';
import type { PageCache } from '../page-cache.ts';
import {
  balancePoints,
  chartSpan,
  nextMidnight,
  restampFinalPoint,
  type ChartSpan,
} from './balance-chart.ts';
import { loadHoldings } from './holdings.ts';
import { pieItems, tableRows } from './rows.ts';
import { BalanceChart, PieChart, Table, type BalanceChartQuery } from './schemas.ts';
import { valueAssets } from './values.ts';

// Compiled once from the schemas: field order as the specification lists it, and fast.
const serializePie = build(PieChart as object);
const serializeTable = build(Table as object);
const serializeChart = build(BalanceChart as object);

/** `summary`, or one of the caller's accounts by its numeric id. */
export type ChartTarget = 'summary' | number;

interface Rendered {
  body: Buffer;
  /** The first moment the body would differ by itself (never, when null). */
  validUntil: number | null;
}

/**
 * The pie chart, the holdings table and the balance chart of one account or of the summary,
 * as JSON bytes. They are served from the list's page cache (`lister.cache`), under keys of
 * their own in the caller's entry: every write of the user drops them with the list's pages,
 * the change feed going down empties them all, and no entry outlives the moment its figures
 * would change by themselves (a snapshot entering a window, a new midnight) nor the cache's TTL.
 */
export class AccountCharts {
  constructor(
    private readonly storage: Storage,
    private readonly cache: PageCache,
  ) {}

  pie(userId: number, target: ChartTarget, now = Date.now()): Promise<Buffer> {
    return this.cached(userId, `pie|${target}`, now, async () => {
      const { assets, validUntil } = await this.valued(userId, target, now);
      return { body: Buffer.from(serializePie(pieItems(assets))), validUntil };
    });
  }

  table(userId: number, target: ChartTarget, now = Date.now()): Promise<Buffer> {
    return this.cached(userId, `table|${target}`, now, async () => {
      const { assets, validUntil } = await this.valued(userId, target, now);
      return { body: Buffer.from(serializeTable(tableRows(assets))), validUntil };
    });
  }

  /** Refuses a bad span before anything is read (or looked up in the cache). */
  async balance(
    userId: number,
    target: ChartTarget,
    query: BalanceChartQuery,
    now = Date.now(),
  ): Promise<Buffer> {
    const span = chartSpan(query, now);
    // A chart ending now is cached by its first day and restamped; one ending earlier is fixed.
    const key = `chart|${target}|${span.firstMidnight}|${span.endIsNow ? 'now' : span.end}`;
    const body = await this.cached(userId, key, now, () =>
      this.renderBalance(userId, target, span, now),
    );
    return span.endIsNow ? restampFinalPoint(body, now) : body;
  }

  private async renderBalance(
    userId: number,
    target: ChartTarget,
    span: ChartSpan,
    now: number,
  ): Promise<Rendered> {
    const { accounts } = await this.resolve(userId, target);
    const ids = accounts.map((a) => a.id);
    const points = await balancePoints(this.storage, userId, ids, span);
    const body = Buffer.from(serializeChart(points));
    if (!span.endIsNow) return { body, validUntil: null };
    // A chart ending exactly at a midnight has no separate "now" point to restamp.
    if (span.end % DAY_MS === 0) return { body, validUntil: now + 1 };
    const next = await this.nextRecordAfter(userId, ids, new Date(now));
    return { body, validUntil: Math.min(nextMidnight(now), next ?? Number.POSITIVE_INFINITY) };
  }

  /** A snapshot or transfer dated after now (an import may hold some) moves the final point. */
  private async nextRecordAfter(userId: number, ids: number[], now: Date): Promise<number | null> {
    if (ids.length === 0) return null;
    // Each account's first record after now, by its own probe on (user_id, account_id, time).
    const first = (table: 'balance_snapshots' | 'transfers', column: 'taken_at' | 'at') =>
      sql`(SELECT min(n.at) FROM unnest(ARRAY[${sql.join(ids)}]::bigint[]) a(id)
        CROSS JOIN LATERAL (SELECT ${sql.ref(column)} AS at FROM ${sql.table(table)}
          WHERE user_id = ${userId} AND account_id = a.id AND ${sql.ref(column)} > ${now}
          ORDER BY ${sql.ref(column)} LIMIT 1) n)`;
    const next = sql`least(${first('balance_snapshots', 'taken_at')}, ${first('transfers', 'at')})`;
    const { rows } = await sql<{ next: Date | null }>`SELECT ${next} AS next`.execute(
      this.storage.db,
    );
    return rows[0]?.next ? new Date(rows[0].next).getTime() : null;
  }

  private async valued(userId: number, target: ChartTarget, now: number) {
    const { accounts, displayCurrency } = await this.resolve(userId, target);
    const { holdings, validUntil } = await loadHoldings(
      this.storage,
      accounts,
      new Date(now),
      displayCurrency,
    );
    const wallets = new Set(
      accounts.filter((a) => findMarket(a.market_code)?.kind === 'wallet').map((a) => a.id),
    );
    const assets = valueAssets(holdings, displayCurrency, (id) => wallets.has(id));
    return { assets, validUntil };
  }

  /** The caller's account (404 for anyone else's), or every account counted in its summary. */
  private async resolve(userId: number, target: ChartTarget) {
    const user = await this.storage.db
      .selectFrom('users')
      .select('display_currency')
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();
    let query = this.storage.db.selectFrom('accounts').selectAll().where('user_id', '=', userId);
    query =
      target === 'summary'
        ? query.where('include_in_summary', '=', true)
        : query.where('id', '=', target);
    const accounts: AccountRow[] = await query.orderBy('id').execute();
    if (target !== 'summary' && accounts.length === 0) throw notFound(`Account ${target}`);
    return { accounts, displayCurrency: user.display_currency };
  }

  private async cached(
    userId: number,
    key: string,
    now: number,
    render: () => Promise<Rendered>,
  ): Promise<Buffer> {
    const hit = this.cache.get(userId, key, now);
    if (hit) return hit;
    // Taken before reading: a write that races the render keeps its result out of the cache.
    const ticket = this.cache.ticket();
    const { body, validUntil } = await render();
    this.cache.set(userId, ticket, key, body, validUntil ?? Number.POSITIVE_INFINITY, now);
    return body;
  }
}

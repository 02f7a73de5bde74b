import { AccountCharts } from '../accounts/charts/charts.ts';
import { accountDetails } from '../accounts/details.ts';
import type { PieChartItem, TableRow } from '../accounts/charts/schemas.ts';
import type { AccountEntity } from '../accounts/entity-schema.ts';
import type { SummaryEntity } from '../accounts/summary.ts';
import type { Services } from '../services.ts';
import { isLive } from '../sync/account-sync.ts';
import { Dec, formatPercent } from '../valuation/index.ts';

/** Where an account's syncing stands: what the accounts table and the account page show. */
export interface SyncState {
  live: boolean;
  last_sync_at: Date | null;
  last_sync_error: string | null;
  last_error_at: Date | null;
  next_sync_at: Date | null;
}

export interface AccountLine {
  entity: AccountEntity;
  sync: SyncState;
}

export interface Portfolio {
  summary: SummaryEntity;
  accounts: AccountLine[];
  /** By asset over every account in the summary (the summary's pie_chart_data). */
  byAsset: PieChartItem[];
}

const PAGE = 100;

/**
 * The figures the dashboard shows, read through the very calls the API answers with (the list's
 * pages, the summary, the chart endpoints) and so from the same caches: the page and the API
 * cannot disagree. The JSON bytes they return are parsed, never recomputed.
 */
export class PortfolioReader {
  readonly charts: AccountCharts;

  constructor(private readonly services: Services) {
    this.charts = new AccountCharts(services.storage, services.lister.cache);
  }

  async overview(userId: number): Promise<Portfolio> {
    const [summary, entities, byAsset, sync] = await Promise.all([
      this.summary(userId),
      this.entities(userId),
      this.parse<PieChartItem[]>(this.charts.pie(userId, 'summary')),
      this.syncStates(userId),
    ]);
    return {
      summary,
      byAsset,
      accounts: entities.map((entity) => ({ entity, sync: sync.get(entity.id) ?? NEVER_SYNCED })),
    };
  }

  summary(userId: number): Promise<SummaryEntity> {
    return this.parse(this.services.lister.summary(userId));
  }

  /** Every account of the user, page by page as a client of the list would read them. */
  async entities(userId: number): Promise<AccountEntity[]> {
    const all: AccountEntity[] = [];
    for (let page = 1; ; page++) {
      const batch = await this.parse<AccountEntity[]>(
        this.services.lister.page(userId, { page, per_page: PAGE }),
      );
      all.push(...batch);
      if (batch.length < PAGE) return all;
    }
  }

  /** One account of the user's (404 for another's), with its holdings table. */
  async account(userId: number, accountId: number) {
    const row = await this.services.accounts.findOwned(userId, accountId);
    const [entity, table, details] = await Promise.all([
      this.services.accounts.render(row.id),
      this.parse<TableRow[]>(this.charts.table(userId, row.id)),
      accountDetails(this.services.storage, row.id),
    ]);
    // Which of the exchange's wallets held each asset (what `account show` prints).
    const wallets = new Map(details.holdings.map((line) => [line.asset, line.wallets]));
    return { entity, table, wallets, sync: syncStateOf(row), row };
  }

  private async syncStates(userId: number): Promise<Map<number, SyncState>> {
    const rows = await this.services.storage.db
      .selectFrom('accounts')
      .select([
        'id',
        'market_code',
        'exchange_api_key',
        'wallet_address',
        'last_sync_at',
        'last_sync_error',
        'last_error_at',
        'next_sync_at',
      ])
      .where('user_id', '=', userId)
      .execute();
    return new Map(rows.map((row) => [row.id, syncStateOf(row)]));
  }

  private async parse<T>(body: Promise<Buffer>): Promise<T> {
    return JSON.parse((await body).toString('utf8')) as T;
  }
}

const NEVER_SYNCED: SyncState = {
  live: false,
  last_sync_at: null,
  last_sync_error: null,
  last_error_at: null,
  next_sync_at: null,
};

type SyncColumns = Parameters<typeof isLive>[0] & Omit<SyncState, 'live'>;

function syncStateOf(row: SyncColumns): SyncState {
  return {
    live: isLive(row),
    last_sync_at: row.last_sync_at,
    last_sync_error: row.last_sync_error,
    last_error_at: row.last_error_at,
    next_sync_at: row.next_sync_at,
  };
}

/**
 * The total profit's percentage, which the entity does not carry: the contract's rule for every
 * percentage (profit over the value at the start of its window, value − profit), in decimal,
 * rounded as the API rounds its own. Null when there is no base (nothing was ever held).
 */
export function totalProfitPercentage(amount: string, totalProfit: number | string): string | null {
  const profit = new Dec(String(totalProfit));
  const base = new Dec(amount).minus(profit);
  if (base.isZero()) return null;
  return formatPercent(profit.div(base).times(100), 2);
}

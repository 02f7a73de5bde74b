import { sql } from 'kysely';
import type { Storage } from '../storage/database.ts';
import { priceTable, type PriceTable, type Quote } from './routes.ts';

export type QuoteFetcher = (source: string) => Promise<Quote[]>;

interface Cached {
  fetchedAt: number;
  table: PriceTable;
}

/**
 * Each source's prices, read once per round and shared: by every account in this process, and
 * — on PostgreSQL — by every worker process, through `price_rounds` under an advisory lock, so
 * N workers make one tickers request per exchange per round, not N.
 */
export class PriceBook {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<PriceTable>>();

  constructor(
    private readonly storage: Storage,
    private readonly fetchQuotes: QuoteFetcher,
    /** How long one round's prices are used: never longer than a sync interval. */
    private readonly ttlMs: number,
  ) {}

  async table(source: string, now = Date.now()): Promise<PriceTable> {
    const cached = this.cache.get(source);
    if (cached && now - cached.fetchedAt < this.ttlMs) return cached.table;
    let pending = this.inflight.get(source);
    if (!pending) {
      pending = this.refresh(source).finally(() => this.inflight.delete(source));
      this.inflight.set(source, pending);
    }
    return pending;
  }

  private async refresh(source: string): Promise<PriceTable> {
    const fresh =
      this.storage.kind === 'postgres'
        ? await this.refreshShared(source)
        : { fetchedAt: Date.now(), table: priceTable(await this.fetchQuotes(source)) };
    this.cache.set(source, fresh);
    return fresh.table;
  }

  /** One process fetches while the others wait on the lock, then read what it stored. */
  private async refreshShared(source: string): Promise<Cached> {
    return this.storage.db.transaction().execute(async (tx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`opencommas:prices:${source}`}))`.execute(
        tx,
      );
      const row = await tx
        .selectFrom('price_rounds')
        .selectAll()
        .where('source', '=', source)
        .executeTakeFirst();
      if (row && Date.now() - row.fetched_at.getTime() < this.ttlMs) {
        return {
          fetchedAt: row.fetched_at.getTime(),
          table: { btcUsd: row.btc_usd_price, usd: row.usd_prices },
        };
      }
      const table = priceTable(await this.fetchQuotes(source));
      const fetchedAt = new Date();
      const values = {
        fetched_at: fetchedAt,
        btc_usd_price: table.btcUsd,
        usd_prices: JSON.stringify(table.usd),
      };
      await tx
        .insertInto('price_rounds')
        .values({ source, ...values })
        .onConflict((conflict) => conflict.column('source').doUpdateSet(values))
        .execute();
      return { fetchedAt: fetchedAt.getTime(), table };
    });
  }
}

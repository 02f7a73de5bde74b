import { sql } from 'kysely';
import type { Storage } from '../storage/database.ts';
import { recordDisplayPrices } from './display-currencies.ts';
import { priceTable, type PriceTable, type Quote } from './routes.ts';

export type QuoteFetcher = (source: string) => Promise<Quote[]>;

interface Cached {
  fetchedAt: number;
  table: PriceTable;
}

/**
 * Each source's prices, read once per round and shared: by every account in this process, and
 * — on PostgreSQL — by every worker process, through `price_rounds` (one fetches under a lease), so
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

  /** This round's prices if this process read them less than `maxAgeMs` ago; never fetches. */
  recent(source: string, maxAgeMs: number, now = Date.now()): PriceTable | undefined {
    const cached = this.cache.get(source);
    return cached && now - cached.fetchedAt < maxAgeMs ? cached.table : undefined;
  }

  private async refresh(source: string): Promise<PriceTable> {
    const fresh =
      this.storage.kind === 'postgres'
        ? await this.refreshShared(source)
        : await this.readRound(source);
    this.cache.set(source, fresh);
    return fresh.table;
  }

  /**
   * One process fetches while the others wait, then read what it stored. The one fetching holds
   * a lease (a row of `price_rounds`), not a transaction: no transaction or lock stays open
   * while an exchange answers, so a slow exchange ties up no connection and trips no statement
   * timeout of the waiting processes. A lease whose holder died expires after `LEASE_MS`.
   */
  private async refreshShared(source: string): Promise<Cached> {
    for (;;) {
      const stored = await this.storage.db
        .selectFrom('price_rounds')
        .selectAll()
        .where('source', '=', source)
        .executeTakeFirst();
      if (stored && Date.now() - stored.fetched_at.getTime() < this.ttlMs) {
        return {
          fetchedAt: stored.fetched_at.getTime(),
          table: { btcUsd: stored.btc_usd_price, usd: stored.usd_prices },
        };
      }
      if (await this.takeLease(source)) {
        try {
          return await this.fetchAndStore(source);
        } finally {
          await this.releaseLease(source).catch(() => undefined); // expires by itself anyway
        }
      }
      await new Promise((resolve) => setTimeout(resolve, LEASE_POLL_MS));
    }
  }

  /** Reads one round's tickers; the display currencies' prices are kept, one row per round. */
  private async readRound(source: string): Promise<Cached & { at: Date }> {
    const quotes = await this.fetchQuotes(source);
    const at = new Date();
    await recordDisplayPrices(this.storage, source, at, quotes);
    return { fetchedAt: at.getTime(), at, table: priceTable(quotes) };
  }

  private async fetchAndStore(source: string): Promise<Cached> {
    const { table, at: fetchedAt } = await this.readRound(source);
    const values = {
      fetched_at: fetchedAt,
      btc_usd_price: table.btcUsd,
      usd_prices: JSON.stringify(table.usd),
    };
    await this.storage.db
      .insertInto('price_rounds')
      .values({ source, ...values })
      .onConflict((conflict) => conflict.column('source').doUpdateSet(values))
      .execute();
    return { fetchedAt: fetchedAt.getTime(), table };
  }

  /** Takes the lease on fetching `source` unless another process holds one that is still valid. */
  private async takeLease(source: string): Promise<boolean> {
    const taken = await sql<{ source: string }>`
      INSERT INTO price_rounds (source, fetched_at, btc_usd_price, usd_prices)
      VALUES (${leaseOf(source)}, now(), NULL, '{}'::jsonb)
      ON CONFLICT (source) DO UPDATE SET fetched_at = now()
      WHERE price_rounds.fetched_at < now() - make_interval(secs => ${LEASE_MS / 1000})
      RETURNING source`.execute(this.storage.db);
    return taken.rows.length > 0;
  }

  private async releaseLease(source: string): Promise<void> {
    await this.storage.db
      .updateTable('price_rounds')
      .set({ fetched_at: new Date(0) })
      .where('source', '=', leaseOf(source))
      .execute();
  }
}

/** Longer than a tickers request with its retries takes; a dead holder's lease lapses after it. */
const LEASE_MS = 60_000;
const LEASE_POLL_MS = 100;
/** The lease row of a source: market codes have no colon, so it never names a real source. */
const leaseOf = (source: string) => `lease:${source}`;

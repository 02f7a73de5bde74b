import type { PriceBook } from './price-book.ts';
import { priceTable, type PriceTable, type Quote } from './routes.ts';

/** Reads the tickers that price `assets` on `source`. */
export type HeldQuoteFetcher = (source: string, assets: ReadonlySet<string>) => Promise<Quote[]>;

interface Read {
  startedAt: number;
  assets: ReadonlySet<string>;
  table: Promise<PriceTable>;
}

/**
 * Prices read for one on-demand sync (a refresh, `account sync`, connecting): the tickers of
 * the assets it prices, at most `maxAgeMs` old — so a refresh right after a move shows it.
 *
 * - A read started less than `maxAgeMs` ago that covers the same assets is shared, finished or
 *   still in flight: a burst of refreshes on one exchange makes one request. Its age counts from
 *   when it was sent, so it is never older than that when used.
 * - The round's shared prices (`PriceBook`) are used when this process read them within the
 *   bound. They are never written from here: a read of a few assets cannot stand in for a whole
 *   round, and every scheduled snapshot of a round stays valued at the same prices.
 */
export class FreshPrices {
  private readonly reads = new Map<string, Read[]>();

  constructor(
    private readonly book: PriceBook,
    private readonly fetchQuotes: HeldQuoteFetcher,
    readonly maxAgeMs: number,
  ) {}

  table(source: string, assets: ReadonlySet<string>, now = Date.now()): Promise<PriceTable> {
    const round = this.book.recent(source, this.maxAgeMs, now);
    if (round) return Promise.resolve(round);
    const recent = (this.reads.get(source) ?? []).filter(
      (read) => now - read.startedAt < this.maxAgeMs,
    );
    const covering = recent.find((read) => [...assets].every((asset) => read.assets.has(asset)));
    if (covering) {
      this.reads.set(source, recent);
      return covering.table;
    }
    const read: Read = {
      startedAt: now,
      assets: new Set(assets),
      table: this.fetchQuotes(source, assets).then(priceTable),
    };
    // A failed read is not shared: the next sync asks the exchange again.
    read.table.catch(() => {
      const reads = this.reads.get(source);
      if (reads)
        this.reads.set(
          source,
          reads.filter((other) => other !== read),
        );
    });
    this.reads.set(source, [...recent, read]);
    return read.table;
  }
}

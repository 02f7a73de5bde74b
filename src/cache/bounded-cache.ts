import { LRUCache } from 'lru-cache';

/** The caches of the process, as named in the `opencommas_cache_lookups_total` metric. */
export type CacheName = 'keys' | 'unknown_keys' | 'signatures' | 'pages';
export type LookupResult = 'hit' | 'miss' | 'bypass';

/** Whether this process hears every write of the others (`ChangeBus.connected`). */
export interface ChangeFeed {
  readonly connected: boolean;
}

export interface CacheBounds {
  maxEntries: number;
  maxBytes: number;
  /** The backstop: no entry is served longer than this after it was stored. */
  ttlMs: number;
}

export interface BoundedCacheOptions<K, V> extends CacheBounds {
  name: CacheName;
  /** Estimated bytes an entry holds (key and value); only an estimate, but a bound on it. */
  sizeOf(value: V, key: K): number;
  /**
   * Whether the cache may be trusted now: while false (the change feed is down, so writes of
   * other processes go unheard) nothing is served from it and nothing is stored in it.
   */
  trusted?: () => boolean;
  /** The clock of the TTL (tests); `performance` by default. */
  clock?: { now(): number };
}

/** Invalidations remembered per key for the generation guard; beyond this, the oldest go. */
const REMEMBERED_INVALIDATIONS = 4096;

/**
 * Lookups counted in plain numbers, one fixed record per cache name: a prom-client `inc()`
 * hashes its labels on every call (~150 ns), too much for three lookups per cached request.
 * `flushCacheLookups` adds them to the Prometheus counter when it is scraped.
 */
const lookups: Record<CacheName, Record<LookupResult, number>> = {
  keys: { hit: 0, miss: 0, bypass: 0 },
  unknown_keys: { hit: 0, miss: 0, bypass: 0 },
  signatures: { hit: 0, miss: 0, bypass: 0 },
  pages: { hit: 0, miss: 0, bypass: 0 },
};
const LABELS = (Object.keys(lookups) as CacheName[]).flatMap((cache) =>
  (['hit', 'miss', 'bypass'] as const).map((result) => ({ cache, result })),
);

/** Moves the counts since the last call into `counter` (called at scrape time). */
export function flushCacheLookups(counter: {
  inc(labels: { cache: CacheName; result: LookupResult }, value: number): void;
}): void {
  for (const labels of LABELS) {
    const counts = lookups[labels.cache];
    const value = counts[labels.result];
    if (value === 0) continue;
    counts[labels.result] = 0;
    counter.inc(labels, value);
  }
}

const alwaysTrusted = () => true;

/** Every cache of the process, held weakly (tests build many), for the bytes gauge. */
const liveCaches = new Set<WeakRef<{ name: CacheName; bytes: number; maxBytes: number }>>();

/** Estimated bytes held and the byte budget of each cache name, summed over live instances. */
export function cacheBytes(): Array<{ cache: CacheName; bytes: number; budget: number }> {
  const sums = new Map<CacheName, { bytes: number; budget: number }>();
  for (const ref of liveCaches) {
    const cache = ref.deref();
    if (cache === undefined) {
      liveCaches.delete(ref);
      continue;
    }
    const sum = sums.get(cache.name) ?? { bytes: 0, budget: 0 };
    sum.bytes += cache.bytes;
    sum.budget += cache.maxBytes;
    sums.set(cache.name, sum);
  }
  return [...sums].map(([cache, sum]) => ({ cache, ...sum }));
}

/**
 * A cache bounded by entries and by bytes, evicting the least recently used, with a TTL on every
 * entry, and a generation guard: take a `ticket()` before reading what will be stored, pass it
 * to `set`, and a value that an invalidation of its key (or of everything) raced is not stored —
 * it may be older than the write that invalidated it.
 */
export class BoundedCache<K extends NonNullable<unknown>, V extends NonNullable<unknown>> {
  private readonly entries: LRUCache<K, V>;
  private readonly counts: Record<LookupResult, number>;
  private readonly trusted: () => boolean;
  /** Counts invalidations; a ticket is its value when the read began. */
  private clock = 0;
  /** Tickets below this are refused: an invalidation they may have raced is forgotten. */
  private floor = 0;
  /** Key → clock value of its latest invalidation, oldest first. */
  private readonly invalidated = new Map<K, number>();
  readonly name: CacheName;
  readonly maxBytes: number;

  constructor(options: BoundedCacheOptions<K, V>) {
    this.name = options.name;
    this.maxBytes = options.maxBytes;
    this.entries = new LRUCache<K, V>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      sizeCalculation: (value, key) => Math.max(1, Math.ceil(options.sizeOf(value, key))),
      ttl: options.ttlMs,
      // A clock of its own is read every time (lru-cache otherwise reuses a reading for 1 ms).
      ...(options.clock ? { perf: options.clock, ttlResolution: 0 } : {}),
    });
    this.counts = lookups[options.name];
    this.trusted = options.trusted ?? alwaysTrusted;
    liveCaches.add(new WeakRef(this));
  }

  /** The value (counted as a hit or a miss), or undefined; always undefined while untrusted. */
  get(key: K): V | undefined {
    if (!this.trusted()) {
      this.counts.bypass += 1;
      return undefined;
    }
    const value = this.entries.get(key);
    if (value === undefined) this.counts.miss += 1;
    else this.counts.hit += 1;
    return value;
  }

  /**
   * The value without counting, for a cache whose hit is decided inside the value (a page
   * among a user's pages): the caller counts with `count`. Undefined while untrusted.
   */
  lookup(key: K): V | undefined {
    return this.trusted() ? this.entries.get(key) : undefined;
  }

  /** Counts a lookup made with `lookup`: a bypass whatever `found` says while untrusted. */
  count(found: boolean): void {
    if (!this.trusted()) this.counts.bypass += 1;
    else if (found) this.counts.hit += 1;
    else this.counts.miss += 1;
  }

  /** Take before reading the value to store; no allocation. */
  ticket(): number {
    return this.clock;
  }

  /** Whether a value read under `ticket` may still be stored for `key`. */
  accepts(key: K, ticket: number): boolean {
    if (ticket < this.floor || !this.trusted()) return false;
    const invalidatedAt = this.invalidated.get(key);
    return invalidatedAt === undefined || invalidatedAt <= ticket;
  }

  /** Stores the value unless an invalidation raced it (or the cache is untrusted). */
  set(key: K, value: V, ticket: number): boolean {
    if (!this.accepts(key, ticket)) return false;
    this.entries.set(key, value);
    return true;
  }

  /** Drops `key`, and refuses values of it read before now. */
  delete(key: K): void {
    this.clock += 1;
    this.entries.delete(key);
    this.invalidated.delete(key);
    this.invalidated.set(key, this.clock);
    if (this.invalidated.size > REMEMBERED_INVALIDATIONS) {
      const oldest = this.invalidated.entries().next();
      if (!oldest.done) {
        this.invalidated.delete(oldest.value[0]);
        // Tickets older than the forgotten invalidation can no longer be checked against it.
        this.floor = Math.max(this.floor, oldest.value[1]);
      }
    }
  }

  /** Drops everything, and refuses every value read before now. */
  clear(): void {
    this.clock += 1;
    this.floor = this.clock;
    this.invalidated.clear();
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /** The bytes held by entries, by their `sizeOf` estimate. */
  get bytes(): number {
    return this.entries.calculatedSize;
  }

  /** Whether `key` is cached, without touching its recency or counting (tests, diagnostics). */
  has(key: K): boolean {
    return this.entries.has(key);
  }
}

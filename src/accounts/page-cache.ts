import { BoundedCache, type CacheBounds, type ChangeFeed } from '../cache/bounded-cache.ts';

const MIB = 1024 * 1024;

/**
 * Users whose pages are kept, their bytes in all, and how long a page may be served at most. The
 * byte budgets of all caches (pages 48 MiB, keys 16, signatures 16, unknown keys 2) plus Node's
 * ~120 MB and the heap a busy process works in keep an API process under 300 MB with every
 * cache full; `npm run bench:scale` reads it.
 */
export const PAGE_CACHE_BOUNDS: CacheBounds = {
  maxEntries: 10_000,
  maxBytes: 48 * MIB,
  ttlMs: 60_000,
};
/** Distinct pages (page, per_page, api_key filter) kept per user, least recently used first out. */
const MAX_PAGES_PER_USER = 64;
const USER_BYTES = 256;
const pageBytes = (key: string, body: Buffer) => 160 + key.length + body.length;

/**
 * The body in an allocation of its own. A small Buffer is a slice of one of Node's shared 8 KiB
 * pool slabs, and a cached slice pins its whole slab: ten thousand cached summaries of 1 KiB
 * would hold 80 MiB while counting 10.
 */
const owned = (body: Buffer): Buffer => {
  if (body.byteOffset === 0 && body.buffer.byteLength === body.length) return body;
  const copy = Buffer.allocUnsafeSlow(body.length);
  body.copy(copy);
  return copy;
};

interface Page {
  body: Buffer;
  expiresAt: number;
}

interface UserPages {
  /** In order of use, least recent first. */
  pages: Map<string, Page>;
  bytes: number;
}

const alwaysConnected: ChangeFeed = { connected: true };

/**
 * Each user's rendered pages, as bytes. A user's pages are dropped when anything of that user
 * changes, and a page is never served at or after the moment its figures would change by
 * themselves (a snapshot entering or leaving a window, a key state turning), nor past its TTL.
 * Nothing is served while the change feed is down.
 */
export class PageCache {
  private readonly users: BoundedCache<number, UserPages>;

  constructor(
    feed: ChangeFeed = alwaysConnected,
    private readonly bounds: CacheBounds = PAGE_CACHE_BOUNDS,
  ) {
    this.users = new BoundedCache({
      name: 'pages',
      ...bounds,
      sizeOf: (entry) => entry.bytes,
      trusted: () => feed.connected,
    });
  }

  /** Take before rendering; pass to `set` so a render that raced a write is not stored. */
  ticket(): number {
    return this.users.ticket();
  }

  get(userId: number, key: string, now: number): Buffer | undefined {
    const entry = this.users.lookup(userId);
    const page = entry?.pages.get(key);
    if (entry === undefined || page === undefined || now >= page.expiresAt) {
      this.users.count(false);
      return undefined;
    }
    this.users.count(true);
    if (entry.pages.size > 1) {
      // Most recently used last, so the first is the one to evict.
      entry.pages.delete(key);
      entry.pages.set(key, page);
    }
    return page.body;
  }

  /** Stores a page rendered at `now`, valid until `validUntil`, unless a write raced it. */
  set(
    userId: number,
    ticket: number,
    key: string,
    body: Buffer,
    validUntil: number,
    now: number,
  ): void {
    if (!this.users.accepts(userId, ticket)) return;
    body = owned(body);
    const entry = this.users.lookup(userId) ?? {
      pages: new Map<string, Page>(),
      bytes: USER_BYTES,
    };
    const previous = entry.pages.get(key);
    if (previous) {
      entry.pages.delete(key);
      entry.bytes -= pageBytes(key, previous.body);
    }
    for (const [oldKey, old] of entry.pages) {
      if (entry.pages.size < MAX_PAGES_PER_USER) break;
      entry.pages.delete(oldKey);
      entry.bytes -= pageBytes(oldKey, old.body);
    }
    entry.pages.set(key, { body, expiresAt: Math.min(validUntil, now + this.bounds.ttlMs) });
    entry.bytes += pageBytes(key, body);
    // Stored again so the cache counts the user's bytes as they are now.
    this.users.set(userId, entry, ticket);
  }

  invalidate(userId: number): void {
    this.users.delete(userId);
  }

  invalidateAll(): void {
    this.users.clear();
  }

  /** Users with pages, and the bytes of all pages (tests, diagnostics). */
  sizes(): { entries: number; bytes: number } {
    return { entries: this.users.size, bytes: this.users.bytes };
  }
}

import { describe, expect, it } from 'vitest';
import { PageCache } from '../../src/accounts/page-cache.ts';

const page = (text: string) => Buffer.from(text);
const FOREVER = Number.POSITIVE_INFINITY;

describe('the page cache', () => {
  it('serves a page until its window boundary, and never past its TTL', () => {
    const cache = new PageCache(undefined, { maxEntries: 10, maxBytes: 1_000_000, ttlMs: 1_000 });
    cache.set(1, cache.ticket(), 'p1', page('a'), 5_000, 0);
    cache.set(2, cache.ticket(), 'p1', page('b'), 500, 0);
    expect(cache.get(1, 'p1', 999)?.toString()).toBe('a');
    expect(cache.get(1, 'p1', 1_000)).toBeUndefined(); // TTL backstop
    expect(cache.get(2, 'p1', 499)?.toString()).toBe('b');
    expect(cache.get(2, 'p1', 500)).toBeUndefined(); // window boundary
  });

  it('keeps a small page in an allocation of its own, not a slice pinning a shared slab', () => {
    const cache = new PageCache();
    const small = Buffer.from('{"id":1}');
    // Node hands out small Buffers as slices of a shared 8 KiB slab.
    expect(small.buffer.byteLength).toBeGreaterThan(small.length);
    cache.set(1, cache.ticket(), 'p1', small, FOREVER, 0);
    const stored = cache.get(1, 'p1', 1);
    expect(stored?.toString()).toBe('{"id":1}');
    expect(stored?.buffer.byteLength).toBe(small.length);
  });

  it('does not store a page whose render a change of its user raced', () => {
    const cache = new PageCache();
    const ticket = cache.ticket(); // rendering begins…
    cache.invalidate(7); // …the user's figures change meanwhile
    cache.set(7, ticket, 'p1', page('old'), FOREVER, 0);
    expect(cache.get(7, 'p1', 0)).toBeUndefined();
    cache.set(8, ticket, 'p1', page('other user'), FOREVER, 0); // another user is not affected
    expect(cache.get(8, 'p1', 0)?.toString()).toBe('other user');
    const after = cache.ticket();
    cache.set(7, after, 'p1', page('new'), FOREVER, 0);
    expect(cache.get(7, 'p1', 0)?.toString()).toBe('new');
  });

  it('drops all of a user’s pages on a change of that user, and everything on invalidateAll', () => {
    const cache = new PageCache();
    cache.set(1, cache.ticket(), 'p1', page('a'), FOREVER, 0);
    cache.set(1, cache.ticket(), 'p2', page('b'), FOREVER, 0);
    cache.set(2, cache.ticket(), 'p1', page('c'), FOREVER, 0);
    cache.invalidate(1);
    expect([cache.get(1, 'p1', 0), cache.get(1, 'p2', 0)]).toEqual([undefined, undefined]);
    expect(cache.get(2, 'p1', 0)?.toString()).toBe('c');
    cache.invalidateAll();
    expect(cache.get(2, 'p1', 0)).toBeUndefined();
    expect(cache.sizes()).toEqual({ entries: 0, bytes: 0 });
  });

  it('is bounded by bytes: the least recently used users go first', () => {
    const body = page('x'.repeat(10_000));
    const cache = new PageCache(undefined, { maxEntries: 1_000, maxBytes: 50_000, ttlMs: 60_000 });
    for (let user = 1; user <= 4; user++) cache.set(user, cache.ticket(), 'p', body, FOREVER, 0);
    expect(cache.get(1, 'p', 0)).toBeDefined(); // user 1 is now the most recently used
    // Four users' pages fit (about 10 kB each); two more push out the two least recently used.
    for (let user = 5; user <= 6; user++) cache.set(user, cache.ticket(), 'p', body, FOREVER, 0);
    expect(cache.sizes().bytes).toBeLessThanOrEqual(50_000);
    expect([1, 2, 3, 4, 5, 6].map((user) => cache.get(user, 'p', 0) !== undefined)).toEqual([
      true,
      false,
      false,
      true,
      true,
      true,
    ]);
  });

  it('keeps at most 64 pages per user, dropping the least recently used', () => {
    const cache = new PageCache();
    for (let i = 0; i < 64; i++) cache.set(1, cache.ticket(), `p${i}`, page(`${i}`), FOREVER, 0);
    expect(cache.get(1, 'p0', 0)?.toString()).toBe('0'); // p0 now the most recently used
    cache.set(1, cache.ticket(), 'p64', page('64'), FOREVER, 0);
    expect(cache.get(1, 'p0', 0)?.toString()).toBe('0');
    expect(cache.get(1, 'p1', 0)).toBeUndefined();
    expect(cache.get(1, 'p64', 0)?.toString()).toBe('64');
  });

  it('serves and stores nothing while the change feed is down', () => {
    const feed = { connected: true };
    const cache = new PageCache(feed);
    cache.set(1, cache.ticket(), 'p', page('a'), FOREVER, 0);
    feed.connected = false;
    expect(cache.get(1, 'p', 0)).toBeUndefined();
    cache.set(2, cache.ticket(), 'p', page('b'), FOREVER, 0);
    feed.connected = true;
    expect(cache.get(2, 'p', 0)).toBeUndefined();
  });
});

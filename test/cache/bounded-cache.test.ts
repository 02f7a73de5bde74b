import { randomBytes } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { BoundedCache, type CacheBounds } from '../../src/cache/bounded-cache.ts';
import { KEY_CACHE_BOUNDS } from '../../src/auth/key-store.ts';
import { metrics } from '../../src/ops/metrics.ts';

const clock = { time: 0, now: () => clock.time };

/** A full collection, so the heap measured is what is retained, not garbage not yet collected. */
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;
const heapUsed = () => {
  collectGarbage();
  return process.memoryUsage().heapUsed;
};

function cache(bounds: Partial<CacheBounds> = {}, trusted?: () => boolean) {
  return new BoundedCache<string, string>({
    name: 'pages',
    maxEntries: 3,
    maxBytes: 1_000_000,
    ttlMs: 60_000,
    ...bounds,
    sizeOf: (value, key) => key.length + value.length,
    clock,
    ...(trusted ? { trusted } : {}),
  });
}

/** `opencommas_cache_lookups_total` for one cache and result, as a scrape would read it. */
async function lookups(name: string, result: string): Promise<number> {
  const { values } = await metrics.cacheLookups.get();
  return values.find((v) => v.labels.cache === name && v.labels.result === result)?.value ?? 0;
}

describe('BoundedCache', () => {
  it('evicts the least recently used entry beyond its entry bound', () => {
    const c = cache({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) c.set(key, key, c.ticket());
    expect(c.get('a')).toBe('a'); // a is now the most recently used
    c.set('d', 'd', c.ticket());
    expect(c.has('b')).toBe(false);
    expect(['a', 'c', 'd'].map((key) => c.has(key))).toEqual([true, true, true]);
    expect(c.size).toBe(3);
  });

  it('is bounded by bytes as well: big entries push out old ones, and one too big is refused', () => {
    const c = cache({ maxEntries: 100, maxBytes: 100 });
    c.set('a', 'x'.repeat(39), c.ticket()); // 40 bytes
    c.set('b', 'x'.repeat(39), c.ticket()); // 80 in all
    c.set('c', 'x'.repeat(39), c.ticket()); // 120 > 100: a goes
    expect([c.has('a'), c.has('b'), c.has('c')]).toEqual([false, true, true]);
    expect(c.bytes).toBe(80);
    c.set('huge', 'x'.repeat(200), c.ticket());
    expect(c.has('huge')).toBe(false);
    expect(c.bytes).toBeLessThanOrEqual(100);
  });

  it('serves no entry past its TTL', () => {
    clock.time = 1_000;
    const c = cache({ ttlMs: 500 });
    c.set('a', 'a', c.ticket());
    clock.time = 1_500; // 500 ms old: still served
    expect(c.get('a')).toBe('a');
    clock.time = 1_501;
    expect(c.get('a')).toBeUndefined();
  });

  it('does not store a value whose read an invalidation of its key raced', () => {
    const c = cache();
    const ticket = c.ticket(); // a read begins…
    c.delete('a'); // …a write to `a` is announced meanwhile…
    expect(c.set('a', 'old', ticket)).toBe(false); // …so what was read may be older than it
    expect(c.has('a')).toBe(false);
    expect(c.set('b', 'b', ticket)).toBe(true); // another key's read is not affected
    expect(c.set('a', 'new', c.ticket())).toBe(true); // a read begun after the write is stored
  });

  it('does not store a value whose read a clear raced, whatever its key', () => {
    const c = cache();
    const ticket = c.ticket();
    c.clear();
    expect(c.set('a', 'a', ticket)).toBe(false);
    expect(c.set('a', 'a', c.ticket())).toBe(true);
  });

  it('refuses old reads once the invalidation they may have raced is forgotten', () => {
    const c = cache({ maxEntries: 10 });
    const ticket = c.ticket();
    // Far more invalidations than are remembered one by one (4096).
    for (let i = 0; i < 5_000; i++) c.delete(`other-${i}`);
    expect(c.set('other-0', 'x', ticket)).toBe(false); // its invalidation is forgotten: refused
    expect(c.set('other-0', 'x', c.ticket())).toBe(true);
  });

  it('serves and stores nothing while untrusted, and counts those lookups as bypasses', async () => {
    let trusted = true;
    const c = cache({}, () => trusted);
    c.set('a', 'a', c.ticket());
    const before = {
      hit: await lookups('pages', 'hit'),
      miss: await lookups('pages', 'miss'),
      bypass: await lookups('pages', 'bypass'),
    };
    expect(c.get('a')).toBe('a');
    expect(c.get('zz')).toBeUndefined();
    trusted = false;
    expect(c.get('a')).toBeUndefined();
    expect(c.set('b', 'b', c.ticket())).toBe(false);
    trusted = true;
    expect(c.has('b')).toBe(false);
    expect(await lookups('pages', 'hit')).toBe(before.hit + 1);
    expect(await lookups('pages', 'miss')).toBe(before.miss + 1);
    expect(await lookups('pages', 'bypass')).toBe(before.bypass + 1);
  });

  it('stays bounded under a flood of 200,000 distinct unknown keys, and the known keys stay', () => {
    // The two caches of the key store, with their production bounds: unknown keys have their own.
    const known = new BoundedCache<string, string>({
      name: 'keys',
      ...KEY_CACHE_BOUNDS.keys,
      sizeOf: (value, key) => 400 + key.length + value.length,
    });
    const unknown = new BoundedCache<string, true>({
      name: 'unknown_keys',
      ...KEY_CACHE_BOUNDS.unknownKeys,
      sizeOf: (_, key) => 160 + key.length,
    });
    const working = Array.from({ length: 1_000 }, () => randomBytes(32).toString('hex'));
    for (const key of working) known.set(key, 'resolved', known.ticket());

    const heapBefore = heapUsed();
    const seed = randomBytes(24).toString('hex');
    for (let i = 0; i < 200_000; i++) {
      // Well-formed (64 hex characters) and all distinct.
      const key = seed + i.toString(16).padStart(16, '0');
      if (known.get(key) === undefined && unknown.get(key) === undefined) {
        unknown.set(key, true, unknown.ticket());
      }
    }
    const heapAfter = heapUsed();
    const grownMiB = (heapAfter - heapBefore) / 1024 / 1024;
    console.log(
      `flood of 200,000 unknown keys: heap ${(heapBefore / 1024 / 1024).toFixed(1)} MiB → ` +
        `${(heapAfter / 1024 / 1024).toFixed(1)} MiB (${grownMiB.toFixed(1)} MiB retained); ` +
        `unknown-key cache ${unknown.size} entries, ${(unknown.bytes / 1024).toFixed(0)} KiB`,
    );
    expect(unknown.size).toBeLessThanOrEqual(KEY_CACHE_BOUNDS.unknownKeys.maxEntries);
    expect(unknown.bytes).toBeLessThanOrEqual(KEY_CACHE_BOUNDS.unknownKeys.maxBytes);
    expect(working.every((key) => known.has(key))).toBe(true);
    // A bound, not a measure: even a bare Map of all 200,000 keys retains some 30 MiB.
    expect(grownMiB).toBeLessThan(16);
  });
});

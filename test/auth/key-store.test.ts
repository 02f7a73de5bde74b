import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_CACHE_BOUNDS, KeyStore, type KeyCacheBounds } from '../../src/auth/key-store.ts';
import { createSealer } from '../../src/auth/sealing.ts';
import { startTestServer, userWithKey, type TestServer } from '../support/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

function store(feed = { connected: true }, bounds: Partial<KeyCacheBounds> = {}): KeyStore {
  return new KeyStore(server.services.storage, createSealer(server.masterKey), feed, {
    ...KEY_CACHE_BOUNDS,
    ...bounds,
  });
}

const newKey = async () => (await userWithKey(server.services)).credentials.apiKey;
const unknownKey = () => randomBytes(32).toString('hex');

describe('the key store', () => {
  it('keeps its working set of keys through a flood of distinct unknown keys', async () => {
    const keys = store(undefined, {
      unknownKeys: { maxEntries: 100, maxBytes: 1024 * 1024, ttlMs: 60_000 },
    });
    const working = await Promise.all(Array.from({ length: 10 }, newKey));
    for (const apiKey of working) expect(await keys.load(apiKey)).not.toBeNull();
    for (let i = 0; i < 1_000; i++) expect(await keys.load(unknownKey())).toBeNull();
    expect(keys.sizes().unknownKeys.entries).toBeLessThanOrEqual(100);
    expect(working.every((apiKey) => keys.isCached(apiKey))).toBe(true);
    expect(working.every((apiKey) => keys.peek(apiKey)?.revoked === false)).toBe(true);
  });

  it('does not cache a key whose load a revocation raced', async () => {
    const keys = store();
    const apiKey = await newKey();
    const loading = keys.load(apiKey); // the query is under way…
    keys.onChange({ apiKey }); // …when a change to the key is announced
    expect((await loading)?.revoked).toBe(false); // what was read is answered once…
    expect(keys.isCached(apiKey)).toBe(false); // …but not remembered
    await keys.load(apiKey);
    expect(keys.isCached(apiKey)).toBe(true);
  });

  it('never keeps a valid key after a revocation that ran alongside its load', async () => {
    const keys = server.services.keyStore;
    for (let i = 0; i < 5; i++) {
      const apiKey = await newKey();
      await Promise.all([keys.load(apiKey), server.services.keys.revoke({ api_key: apiKey })]);
      // Whatever the order: cached as revoked, or not cached at all.
      expect(keys.peek(apiKey)?.revoked ?? true).toBe(true);
    }
  });

  it('forgets a key remembered as unknown once its creation is announced', async () => {
    const heard: unknown[] = [];
    server.services.changes.subscribe((change) => heard.push(change));
    const created = await newKey();
    expect(heard).toContainEqual({ apiKey: created });
    // The announcement reaches the store (as it would from any process) before the key is used.
    const keys = store();
    const apiKey = unknownKey();
    expect(await keys.load(apiKey)).toBeNull();
    expect(keys.peek(apiKey)).toBeNull(); // remembered as unknown
    keys.onChange({ apiKey });
    expect(keys.peek(apiKey)).toBeUndefined();
  });

  it('serves nothing from its caches while the change feed is down, and stores nothing', async () => {
    const feed = { connected: true };
    const keys = store(feed);
    const apiKey = await newKey();
    const missing = unknownKey();
    await keys.load(apiKey);
    await keys.load(missing);
    expect(keys.peek(apiKey)).toBeTruthy();
    expect(keys.peek(missing)).toBeNull();
    feed.connected = false;
    expect(keys.peek(apiKey)).toBeUndefined();
    expect(keys.peek(missing)).toBeUndefined();
    const other = await newKey();
    await keys.load(other);
    feed.connected = true;
    expect(keys.isCached(other)).toBe(false);
  });

  it('drops every cache (keys, unknown keys, verified signatures) when changes may have been missed', async () => {
    const keys = store();
    const key = await keys.load(await newKey());
    await keys.load(unknownKey());
    if (key) keys.signatures.set(`${key.id}\n/x\nsig`, key, keys.signatures.ticket());
    const sizes = keys.sizes();
    expect([sizes.keys.entries, sizes.unknownKeys.entries, sizes.signatures.entries]).toEqual([
      1, 1, 1,
    ]);
    keys.onChange({ everything: true });
    const after = keys.sizes();
    expect([after.keys.entries, after.unknownKeys.entries, after.signatures.entries]).toEqual([
      0, 0, 0,
    ]);
  });
});

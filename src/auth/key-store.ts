import { createPublicKey, createSecretKey } from 'node:crypto';
import { BoundedCache, type CacheBounds, type ChangeFeed } from '../cache/bounded-cache.ts';
import type { Change } from '../storage/changes.ts';
import type { Storage } from '../storage/database.ts';
import type { ApiKeyRow } from '../storage/schema.ts';
import { parseIpRules, type IpRules } from './ip-rules.ts';
import type { Sealer } from './sealing.ts';
import type { SignatureVerifier } from './signature.ts';

/** An API key as the request path needs it: verifier ready, permissions as a set. */
export interface ResolvedKey {
  id: number;
  userId: number;
  verifier: SignatureVerifier;
  permissions: ReadonlySet<string>;
  ipRules: IpRules | null;
  expiresAt: number | null;
  revoked: boolean;
}

export interface KeyCacheBounds {
  keys: CacheBounds;
  unknownKeys: CacheBounds;
  signatures: CacheBounds;
}

const MIB = 1024 * 1024;
const MINUTE = 60_000;

/**
 * Unknown keys have a cache of their own, smaller than the known keys', so a flood of distinct
 * unknown keys evicts only other unknown keys, never the working set of keys in use.
 */
export const KEY_CACHE_BOUNDS: KeyCacheBounds = {
  keys: { maxEntries: 50_000, maxBytes: 16 * MIB, ttlMs: MINUTE },
  unknownKeys: { maxEntries: 10_000, maxBytes: 2 * MIB, ttlMs: MINUTE },
  signatures: { maxEntries: 100_000, maxBytes: 16 * MIB, ttlMs: 10 * MINUTE },
};

// Estimated bytes per entry (object headers, map slots, the key's own text, the KeyObject's native
// part): an HMAC key measured ~900 B of RSS per entry on Node 20, counted 1,064 here. What
// matters is that every entry counts, and a bigger one counts more.
const keyBytes = (key: ResolvedKey, apiKey: string) =>
  800 +
  apiKey.length +
  (key.verifier.kind === 'rsa' ? 2048 : 200) +
  64 * (key.ipRules?.entries.length ?? 0);
const unknownKeyBytes = (_: true, apiKey: string) => 160 + apiKey.length;
const signatureBytes = (_: ResolvedKey, remembered: string) => 160 + remembered.length;

const LAST_USED_FLUSH_MS = 30_000;
const alwaysConnected: ChangeFeed = { connected: true };

/**
 * API keys cached in memory: the hot path neither queries nor decrypts. Entries are dropped on
 * every change to a key (creation, revocation) announced on the change bus, and nothing is
 * served from these caches while the change feed is down; `last_used_at` is written in
 * batches, not per request.
 */
export class KeyStore {
  private readonly keys: BoundedCache<string, ResolvedKey>;
  private readonly unknown: BoundedCache<string, true>;
  /**
   * Requests (key id + path + query + signature) already verified, each mapped to the key
   * object that verified it. A signature carries no nonce, so repeating a verified request
   * proves nothing new; remembering it spares the HMAC or RSA work on the hot path. An entry
   * counts only for the very key object it was verified with: a key reloaded after a change is
   * a new object, so what the old one verified is never taken for it.
   */
  readonly signatures: BoundedCache<string, ResolvedKey>;
  private readonly usedIds = new Set<number>();
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly sealer: Sealer,
    feed: ChangeFeed = alwaysConnected,
    bounds: KeyCacheBounds = KEY_CACHE_BOUNDS,
  ) {
    const trusted = () => feed.connected;
    this.keys = new BoundedCache({ name: 'keys', ...bounds.keys, sizeOf: keyBytes, trusted });
    this.unknown = new BoundedCache({
      name: 'unknown_keys',
      ...bounds.unknownKeys,
      sizeOf: unknownKeyBytes,
      trusted,
    });
    this.signatures = new BoundedCache({
      name: 'signatures',
      ...bounds.signatures,
      sizeOf: signatureBytes,
      trusted,
    });
  }

  /** The cached entry: a key, null for a known-unknown key, undefined when not cached. */
  peek(apiKey: string): ResolvedKey | null | undefined {
    const key = this.keys.get(apiKey);
    if (key !== undefined) return key;
    return this.unknown.get(apiKey) === undefined ? undefined : null;
  }

  /** Reads the key from storage, and caches it unless a change to it raced the read. */
  async load(apiKey: string): Promise<ResolvedKey | null> {
    const keyTicket = this.keys.ticket();
    const unknownTicket = this.unknown.ticket();
    const row = await this.storage.db
      .selectFrom('api_keys')
      .selectAll()
      .where('api_key', '=', apiKey)
      .executeTakeFirst();
    if (!row) {
      this.unknown.set(apiKey, true, unknownTicket);
      return null;
    }
    const resolved = this.resolve(row);
    this.keys.set(apiKey, resolved, keyTicket);
    return resolved;
  }

  /** Whether `apiKey` is cached as a known key (tests, diagnostics). */
  isCached(apiKey: string): boolean {
    return this.keys.has(apiKey);
  }

  /** Entries and estimated bytes of each cache (tests, diagnostics). */
  sizes() {
    const of = (cache: { size: number; bytes: number }) => ({
      entries: cache.size,
      bytes: cache.bytes,
    });
    return { keys: of(this.keys), unknownKeys: of(this.unknown), signatures: of(this.signatures) };
  }

  onChange(change: Change): void {
    if (change.everything) {
      this.keys.clear();
      this.unknown.clear();
      this.signatures.clear();
    } else if (change.apiKey !== undefined) {
      // A created key was maybe remembered as unknown; a revoked one as valid. What the old key
      // object verified dies with it (see `signatures`).
      this.keys.delete(change.apiKey);
      this.unknown.delete(change.apiKey);
    }
  }

  markUsed(key: ResolvedKey): void {
    this.usedIds.add(key.id);
    this.flushTimer ??= setTimeout(() => void this.flushLastUsed(), LAST_USED_FLUSH_MS).unref();
  }

  async flushLastUsed(now = new Date()): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const ids = [...this.usedIds];
    this.usedIds.clear();
    if (ids.length === 0) return;
    await this.storage.db
      .updateTable('api_keys')
      .set({ last_used_at: now })
      .where('id', 'in', ids)
      .execute();
  }

  private resolve(row: ApiKeyRow): ResolvedKey {
    const verifier: SignatureVerifier = row.rsa_public_key
      ? { kind: 'rsa', publicKey: createPublicKey(row.rsa_public_key) }
      : {
          kind: 'hmac',
          secret: createSecretKey(this.sealer.open(row.secret_sealed ?? ''), 'utf8'),
        };
    return {
      id: row.id,
      userId: row.user_id,
      verifier,
      permissions: new Set(row.permissions),
      ipRules: row.ip_whitelist ? parseIpRules(row.ip_whitelist) : null,
      expiresAt: row.expires_at?.getTime() ?? null,
      revoked: row.revoked_at !== null,
    };
  }
}

import { createPublicKey } from 'node:crypto';
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
  /**
   * Requests (path + query + signature) already verified with this key. A signature carries no
   * nonce, so repeating a verified request proves nothing new; remembering it spares the HMAC
   * or RSA work on the hot path. Bounded; dropped with the key on any change to it.
   */
  verified: Set<string>;
}

/** Unknown keys are remembered too (bounded), so guessing keys cannot make every request query. */
const MAX_ENTRIES = 100_000;
const LAST_USED_FLUSH_MS = 30_000;

/**
 * API keys cached in memory: the hot path neither queries nor decrypts. Entries are dropped on
 * every change to a key (creation, revocation) announced on the change bus; `last_used_at` is
 * written in batches, not per request.
 */
export class KeyStore {
  private readonly cache = new Map<string, ResolvedKey | null>();
  private readonly usedIds = new Set<number>();
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly sealer: Sealer,
  ) {}

  /** The cached entry: a key, null for a known-unknown key, undefined when not cached. */
  peek(apiKey: string): ResolvedKey | null | undefined {
    return this.cache.get(apiKey);
  }

  async load(apiKey: string): Promise<ResolvedKey | null> {
    const row = await this.storage.db
      .selectFrom('api_keys')
      .selectAll()
      .where('api_key', '=', apiKey)
      .executeTakeFirst();
    const resolved = row ? this.resolve(row) : null;
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(apiKey, resolved);
    return resolved;
  }

  onChange(change: Change): void {
    if (change.everything) this.cache.clear();
    else if (change.apiKey !== undefined) this.cache.delete(change.apiKey);
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
      : { kind: 'hmac', secret: Buffer.from(this.sealer.open(row.secret_sealed ?? '')) };
    return {
      id: row.id,
      userId: row.user_id,
      verifier,
      permissions: new Set(row.permissions),
      ipRules: row.ip_whitelist ? parseIpRules(row.ip_whitelist) : null,
      expiresAt: row.expires_at?.getTime() ?? null,
      revoked: row.revoked_at !== null,
      verified: new Set(),
    };
  }
}

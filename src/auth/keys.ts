import { randomBytes } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { invalid, notFound } from '../errors.ts';
import type { ChangeBus } from '../storage/changes.ts';
import type { Storage } from '../storage/database.ts';
import { InvalidIpRuleError, parseIpRules } from './ip-rules.ts';
import { PERMISSIONS, isPermission } from './permissions.ts';
import type { Sealer } from './sealing.ts';
import { InvalidRsaKeyError, parseRsaPublicKey } from './signature.ts';
import { requireUser } from '../users/users.ts';

export const CreateKeyInput = Type.Object({
  user_id: Type.Integer({ minimum: 1 }),
  permissions: Type.Array(Type.String(), { minItems: 1 }),
  /** PEM of the user's own RSA public key: the key then signs with RSA and has no secret. */
  rsa_public_key: Type.Optional(Type.String()),
  ip_whitelist: Type.Optional(Type.Array(Type.String())),
  expires_at: Type.Optional(Type.String()),
});
export type CreateKeyInput = Static<typeof CreateKeyInput>;

export const RevokeKeyInput = Type.Object({ api_key: Type.String({ minLength: 1 }) });
export type RevokeKeyInput = Static<typeof RevokeKeyInput>;

/** A key as its owner sees it in a list: never its secret (only the sealed form is stored). */
export interface KeyListing {
  id: number;
  api_key: string;
  signing: 'HMAC' | 'RSA';
  permissions: string[];
  ip_whitelist: string[] | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  created_at: Date;
}

export interface CreatedKey {
  id: number;
  user_id: number;
  api_key: string;
  /** Shown once, at creation; only the sealed form is stored. Absent for RSA keys. */
  secret?: string;
  permissions: string[];
  ip_whitelist: string[] | null;
  expires_at: string | null;
}

/** 64 characters, like the keys 3Commas issues. */
const newToken = () => randomBytes(32).toString('hex');
const API_KEY_FORMAT = /^[0-9a-f]{64}$/;

/**
 * Whether `text` has the form of a key `newToken` makes: anything else cannot be one of ours and
 * is refused before any cache or database lookup (it could not fill either).
 */
export function isWellFormedApiKey(text: string): boolean {
  return text.length === 64 && API_KEY_FORMAT.test(text);
}

export class ApiKeyService {
  constructor(
    private readonly storage: Storage,
    private readonly sealer: Sealer,
    private readonly changes: ChangeBus,
  ) {}

  async create(input: CreateKeyInput, now = new Date()): Promise<CreatedKey> {
    const permissions = validPermissions(input.permissions);
    const ipWhitelist = input.ip_whitelist ? validIpRules(input.ip_whitelist) : null;
    const expiresAt = input.expires_at ? validExpiry(input.expires_at, now) : null;
    const rsaPublicKey = input.rsa_public_key ? validRsaKey(input.rsa_public_key) : null;
    await requireUser(this.storage, input.user_id);

    const apiKey = newToken();
    const secret = rsaPublicKey ? undefined : newToken();
    const row = await this.changes.transaction(async (tx, announce) => {
      // Announced too: a process may remember this key as unknown.
      announce({ apiKey });
      return tx
        .insertInto('api_keys')
        .values({
          user_id: input.user_id,
          api_key: apiKey,
          secret_sealed: secret ? this.sealer.seal(secret) : null,
          rsa_public_key: rsaPublicKey,
          permissions,
          ip_whitelist: ipWhitelist,
          expires_at: expiresAt,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
    });
    return {
      id: row.id,
      user_id: input.user_id,
      api_key: apiKey,
      ...(secret ? { secret } : {}),
      permissions,
      ip_whitelist: ipWhitelist,
      expires_at: expiresAt?.toISOString() ?? null,
    };
  }

  async revoke(
    input: RevokeKeyInput,
    now = new Date(),
  ): Promise<{ api_key: string; revoked_at: string }> {
    const row = await this.changes.transaction(async (tx, announce) => {
      const revoked = await tx
        .updateTable('api_keys')
        .set({ revoked_at: now })
        .where('api_key', '=', input.api_key)
        .where('revoked_at', 'is', null)
        .returning('revoked_at')
        .executeTakeFirst();
      if (revoked) announce({ apiKey: input.api_key });
      return revoked;
    });
    if (!row) {
      const exists = await this.storage.db
        .selectFrom('api_keys')
        .select('revoked_at')
        .where('api_key', '=', input.api_key)
        .executeTakeFirst();
      if (!exists) throw notFound('API key');
      throw invalid('api_key', 'is already revoked');
    }
    return { api_key: input.api_key, revoked_at: (row.revoked_at ?? now).toISOString() };
  }

  /** The user's keys, newest first, revoked ones included (with when). */
  async list(userId: number): Promise<KeyListing[]> {
    const rows = await this.storage.db
      .selectFrom('api_keys')
      .select([
        'id',
        'api_key',
        'rsa_public_key',
        'permissions',
        'ip_whitelist',
        'expires_at',
        'revoked_at',
        'last_used_at',
        'created_at',
      ])
      .where('user_id', '=', userId)
      .orderBy('id', 'desc')
      .execute();
    return rows.map(({ rsa_public_key, ...row }) => ({
      ...row,
      signing: rsa_public_key ? 'RSA' : 'HMAC',
    }));
  }

  /** Revokes one of the user's own keys by its id: another user's key is not found. */
  async revokeOwned(userId: number, keyId: number, now = new Date()) {
    const row = await this.storage.db
      .selectFrom('api_keys')
      .select('api_key')
      .where('id', '=', keyId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!row) throw notFound('API key');
    return this.revoke({ api_key: row.api_key }, now);
  }
}

function validPermissions(values: string[]): string[] {
  const unknown = values.filter((value) => !isPermission(value));
  if (unknown.length > 0) {
    throw invalid(
      'permissions',
      `unknown: ${unknown.join(', ')} (allowed: ${PERMISSIONS.join(', ')})`,
    );
  }
  return [...new Set(values)];
}

function validIpRules(entries: string[]): string[] {
  // An empty list would lock the key out of every address; "no whitelist" is the absence of one.
  if (entries.length === 0) throw invalid('ip_whitelist', 'must list at least one address or CIDR');
  try {
    return parseIpRules(entries).entries;
  } catch (error) {
    if (error instanceof InvalidIpRuleError) throw invalid('ip_whitelist', error.message);
    throw error;
  }
}

function validExpiry(text: string, now: Date): Date {
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) throw invalid('expires_at', 'is not an ISO 8601 date-time');
  if (at <= now) throw invalid('expires_at', 'must be in the future');
  return at;
}

function validRsaKey(pem: string): string {
  try {
    parseRsaPublicKey(pem);
    return pem.trim() + '\n';
  } catch (error) {
    if (error instanceof InvalidRsaKeyError) throw invalid('rsa_public_key', error.message);
    throw error;
  }
}

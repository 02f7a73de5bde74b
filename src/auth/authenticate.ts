import { AppError } from '../errors.ts';
import { ipAllowed } from './ip-rules.ts';
import type { KeyStore, ResolvedKey } from './key-store.ts';
import { isWellFormedApiKey } from './keys.ts';
import type { Permission } from './permissions.ts';
import { verifySignature } from './signature.ts';

/** What a SIGNED request brings, taken from the wire as received. */
export interface SignedRequest {
  apiKey: string | undefined;
  signature: string | undefined;
  /** Path and query exactly as on the request line. */
  rawUrl: string;
  rawBody?: Buffer | string | undefined;
  remoteAddress: string | undefined;
}

/** Verifies the signature, or recognises a body-less request this very key already verified. */
function signatureHolds(
  store: KeyStore,
  key: ResolvedKey,
  request: SignedRequest,
  signature: string,
): boolean {
  // A body is not part of the remembered text: requests with one are verified every time.
  const remembered = request.rawBody ? undefined : `${key.id}\n${request.rawUrl}\n${signature}`;
  if (remembered !== undefined && store.signatures.get(remembered) === key) return true;
  const ticket = store.signatures.ticket();
  if (!verifySignature(key.verifier, request.rawUrl, request.rawBody, signature)) return false;
  if (remembered !== undefined) store.signatures.set(remembered, key, ticket);
  return true;
}

const invalidKey = () =>
  new AppError('api_key_invalid_or_expired', 'Unauthorized. Invalid or expired api key.');

/**
 * Checks a SIGNED request: key known; signature valid; only then the key's state (revoked,
 * expired), the caller's IP against the key's whitelist, and the permission — so a caller who
 * holds a key id but cannot sign learns nothing about that key. Returns the key, or the error to
 * answer — expected failures are values, not exceptions.
 */
export async function authenticate(
  store: KeyStore,
  request: SignedRequest,
  permission: Permission,
  now: number,
): Promise<ResolvedKey | AppError> {
  if (!request.apiKey) {
    return new AppError(
      'api_key_invalid_or_expired',
      'Unauthorized. The Apikey header is missing.',
    );
  }
  // Not of the form we issue: no cache entry, no query — it cannot be ours.
  if (!isWellFormedApiKey(request.apiKey)) return invalidKey();
  const cached = store.peek(request.apiKey);
  const key = cached === undefined ? await store.load(request.apiKey) : cached;
  if (!key) return invalidKey();
  if (!request.signature) {
    return new AppError('signature_invalid', 'The Signature header is missing.');
  }
  if (!signatureHolds(store, key, request, request.signature)) {
    return new AppError('signature_invalid', 'Provided signature is invalid');
  }
  if (key.revoked) {
    return new AppError(
      'api_key_invalid_or_expired',
      'Unauthorized. The API key has been revoked.',
    );
  }
  if (key.expiresAt !== null && key.expiresAt <= now) {
    return new AppError('api_key_invalid_or_expired', 'Unauthorized. The API key has expired.');
  }
  if (!ipAllowed(key.ipRules, request.remoteAddress)) {
    return new AppError(
      'ip_not_allowed',
      `Unauthorized. Requests from ${request.remoteAddress ?? 'this address'} are not allowed for this API key.`,
    );
  }
  // NONE (types_to_connect): any valid key of the caller will do; no permission is asked for.
  if (permission !== 'NONE' && !key.permissions.has(permission)) {
    return new AppError(
      'access_denied',
      `Api key doesn't have enough permissions: ${permission} is required.`,
    );
  }
  store.markUsed(key);
  return key;
}

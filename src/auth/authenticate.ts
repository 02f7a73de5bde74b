import { AppError } from '../errors.ts';
import { ipAllowed } from './ip-rules.ts';
import type { KeyStore, ResolvedKey } from './key-store.ts';
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

const MAX_REMEMBERED = 1024;

/** Verifies the signature, or recognises a body-less request this key already verified. */
function signatureHolds(key: ResolvedKey, request: SignedRequest, signature: string): boolean {
  const remembered = request.rawBody ? undefined : `${request.rawUrl}\n${signature}`;
  if (remembered !== undefined && key.verified.has(remembered)) return true;
  if (!verifySignature(key.verifier, request.rawUrl, request.rawBody, signature)) return false;
  if (remembered !== undefined) {
    if (key.verified.size >= MAX_REMEMBERED) key.verified.clear();
    key.verified.add(remembered);
  }
  return true;
}

const invalidKey = () =>
  new AppError('api_key_invalid_or_expired', 'Unauthorized. Invalid or expired api key.');

/**
 * Checks a SIGNED request: key known, not revoked or expired; signature valid; caller IP in the
 * key's whitelist; permission held. Returns the key, or the error to answer — expected failures
 * are values, not exceptions.
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
  const cached = store.peek(request.apiKey);
  const key = cached === undefined ? await store.load(request.apiKey) : cached;
  if (!key) return invalidKey();
  if (key.revoked) {
    return new AppError(
      'api_key_invalid_or_expired',
      'Unauthorized. The API key has been revoked.',
    );
  }
  if (key.expiresAt !== null && key.expiresAt <= now) {
    return new AppError('api_key_invalid_or_expired', 'Unauthorized. The API key has expired.');
  }
  if (!request.signature) {
    return new AppError('signature_invalid', 'The Signature header is missing.');
  }
  if (!signatureHolds(key, request, request.signature)) {
    return new AppError('signature_invalid', 'Provided signature is invalid');
  }
  if (!ipAllowed(key.ipRules, request.remoteAddress)) {
    return new AppError(
      'ip_not_allowed',
      `Unauthorized. Requests from ${request.remoteAddress ?? 'this address'} are not allowed for this API key.`,
    );
  }
  if (!key.permissions.has(permission)) {
    return new AppError(
      'access_denied',
      `Api key doesn't have enough permissions: ${permission} is required.`,
    );
  }
  store.markUsed(key);
  return key;
}

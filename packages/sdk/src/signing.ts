// Request signatures (3Commas security type SIGNED). The payload is built from the exact
// request-target and body bytes that go on the wire, so what is signed is what is sent.
import { constants, createHmac, createPrivateKey, sign, type KeyObject } from 'node:crypto';

/** An API key with its HMAC secret, or with the RSA private key whose public half 3Commas holds. */
export type Credentials =
  | { apiKey: string; secret: string; rsaPrivateKey?: undefined }
  | { apiKey: string; rsaPrivateKey: string | KeyObject; secret?: undefined };

/**
 * The bytes to sign for a request: its target (`path`, or `path?query`, as sent), then its body.
 * Between a target without a query and a body, HMAC puts a `?` (3Commas' HMAC docs: the body
 * takes the query string's place) and RSA puts nothing (3Commas' RSA docs). With a query, the
 * body follows it directly: 3Commas signs `path?` + query string + body.
 */
export function signedPayload(target: string, body: Uint8Array, algorithm: 'hmac' | 'rsa'): Buffer {
  if (body.length === 0) return Buffer.from(target, 'utf8');
  const separator = algorithm === 'hmac' && !target.includes('?') ? '?' : '';
  return Buffer.concat([Buffer.from(target + separator, 'utf8'), body]);
}

/** The `Signature` header: lower-case hex HMAC-SHA256, or Base64 RSASSA-PKCS1-v1_5 SHA-256. */
export function signature(credentials: Credentials, payload: Buffer): string {
  if (credentials.secret !== undefined) {
    return createHmac('sha256', credentials.secret).update(payload).digest('hex');
  }
  const { rsaPrivateKey } = credentials;
  const key = typeof rsaPrivateKey === 'string' ? createPrivateKey(rsaPrivateKey) : rsaPrivateKey;
  return sign('sha256', payload, { key, padding: constants.RSA_PKCS1_PADDING }).toString('base64');
}

export const algorithmOf = (credentials: Credentials): 'hmac' | 'rsa' =>
  credentials.secret !== undefined ? 'hmac' : 'rsa';

/** The request-target of `url` as it goes on the wire: path and query, without the fragment. */
export function requestTarget(url: URL): string {
  const withoutFragment = url.href.slice(0, url.href.length - url.hash.length);
  // A bare trailing `?` is kept: it is sent, so it is signed (`href` keeps it, `search` does not).
  return withoutFragment.slice(url.origin.length);
}

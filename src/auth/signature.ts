// Request signatures of security type SIGNED (see the contract README, "Security type SIGNED").
// The payload is always rebuilt from the request-target and body exactly as they came over the
// wire: re-encoding or re-ordering the query would let a request signed in one form be replayed
// in another.
import {
  constants,
  createHmac,
  createPublicKey,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';

/**
 * A verifier as the key cache holds it. The HMAC secret is a KeyObject, not a Buffer: a small
 * Buffer is a slice of one of Node's shared 8 KiB pool slabs, and each cached key would pin a
 * whole slab (10,000 keys, ~80 MB counted as 5).
 */
export type SignatureVerifier =
  { kind: 'hmac'; secret: KeyObject } | { kind: 'rsa'; publicKey: KeyObject };

export class InvalidRsaKeyError extends Error {
  override name = 'InvalidRsaKeyError';
}

// What current guidance accepts: shorter moduli are breakable, longer ones make every verification
// slow for no gain, and a small exponent (3) invites padding attacks.
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 4096;
const RSA_EXPONENT = 65537n;
const HMAC_HEX = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Every payload a real client may have signed for this request.
 *
 * - no body, non-empty query: `path?query`
 * - no body, empty query (no `?`, or a bare trailing `?`): `path` and `path?` — clients differ on
 *   whether they sign and/or send the `?` of an empty query.
 * - body, empty query: `path?body` (HMAC docs, 3commas-typescript) and `path` + body (RSA docs,
 *   py3cw).
 * - body and non-empty query: the same two ways of joining, after `path?query`.
 *
 * Every form covers all the bytes of the request-target and the body, so no part of the request
 * can be changed without invalidating the signature. An empty body counts as no body. A body that
 * is not valid UTF-8 cannot be represented faithfully as a string, so no payload is offered for it
 * (the request then never verifies).
 */
export function signedPayloads(rawUrl: string, rawBody?: Buffer | string): string[] {
  const mark = rawUrl.indexOf('?');
  const path = mark === -1 ? rawUrl : rawUrl.slice(0, mark);
  const query = mark === -1 ? '' : rawUrl.slice(mark + 1);

  const body = bodyText(rawBody);
  if (body === null) return [];

  let forms: string[];
  if (body === '') {
    forms = query === '' ? [path, `${path}?`] : [`${path}?${query}`];
  } else {
    const target = query === '' ? path : `${path}?${query}`;
    forms = [`${target}?${body}`, `${target}${body}`];
  }
  return [...new Set(forms)];
}

/** '' for no body, null for a body that is not valid UTF-8. */
function bodyText(rawBody: Buffer | string | undefined): string | null {
  if (rawBody === undefined) return '';
  if (typeof rawBody === 'string') return rawBody;
  const text = rawBody.toString('utf8');
  // A lossy decode would let different bytes map to the same signed payload.
  return Buffer.from(text, 'utf8').equals(rawBody) ? text : null;
}

/** True when `signatureHeader` signs one of the request's payload forms. Never throws. */
export function verifySignature(
  verifier: SignatureVerifier,
  rawUrl: string,
  rawBody: Buffer | string | undefined,
  signatureHeader: string | undefined,
): boolean {
  if (typeof signatureHeader !== 'string') return false;
  try {
    const payloads = signedPayloads(rawUrl, rawBody);
    if (verifier.kind === 'hmac') return verifyHmac(verifier.secret, payloads, signatureHeader);
    if (verifier.kind === 'rsa') return verifyRsa(verifier.publicKey, payloads, signatureHeader);
    return false;
  } catch {
    return false;
  }
}

function verifyHmac(secret: KeyObject, payloads: string[], signature: string): boolean {
  if (!HMAC_HEX.test(signature)) return false;
  const given = Buffer.from(signature, 'hex');
  // Compare against every form (no early exit) so timing does not reveal which form matched.
  let ok = false;
  for (const payload of payloads) {
    const expected = createHmac('sha256', secret).update(payload, 'utf8').digest();
    if (timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}

function verifyRsa(publicKey: KeyObject, payloads: string[], signature: string): boolean {
  // Node's base64 decoder skips junk characters and ignores padding mistakes; accept only the
  // canonical encoding so a signature has exactly one textual form.
  if (signature === '' || !BASE64.test(signature)) return false;
  const given = Buffer.from(signature, 'base64');
  if (given.toString('base64') !== signature) return false;
  const key = { key: publicKey, padding: constants.RSA_PKCS1_PADDING };
  return payloads.some((payload) => verify('sha256', Buffer.from(payload, 'utf8'), key, given));
}

/** Lower-case hex HMAC-SHA256 of `payload`, as clients send it. */
export function signHmac(secret: string | Buffer, payload: string): string {
  return createHmac('sha256', secret).update(payload, 'utf8').digest('hex');
}

/** Base64 RSASSA-PKCS1-v1_5 SHA-256 signature of `payload`, as clients send it. */
export function signRsa(privateKeyPem: string, payload: string): string {
  const key = { key: privateKeyPem, padding: constants.RSA_PKCS1_PADDING };
  return sign('sha256', Buffer.from(payload, 'utf8'), key).toString('base64');
}

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/g;

/** A user's RSA public key (SPKI or PKCS#1 PEM): 2048 to 4096 bits, exponent 65537. */
export function parseRsaPublicKey(pem: string): KeyObject {
  if (typeof pem !== 'string') throw new InvalidRsaKeyError('RSA public key must be PEM text');
  // createPublicKey would happily derive a public key from a private key or a certificate; a
  // private key pasted here is a user mistake to report, not to accept.
  const labels = [...pem.matchAll(PEM_BEGIN)].map((m) => m[1]);
  if (labels.length !== 1 || (labels[0] !== 'PUBLIC KEY' && labels[0] !== 'RSA PUBLIC KEY')) {
    throw new InvalidRsaKeyError(
      'expected exactly one PEM block "PUBLIC KEY" or "RSA PUBLIC KEY"' +
        (labels.some((l) => l?.includes('PRIVATE')) ? ' (this looks like a private key)' : ''),
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new InvalidRsaKeyError('RSA public key is not valid PEM');
  }
  if (key.type !== 'public' || key.asymmetricKeyType !== 'rsa') {
    throw new InvalidRsaKeyError(`expected an RSA public key, got ${key.asymmetricKeyType ?? '?'}`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
    throw new InvalidRsaKeyError(
      `RSA key is ${bits} bits; ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits required`,
    );
  }
  const exponent = key.asymmetricKeyDetails?.publicExponent;
  if (exponent !== RSA_EXPONENT) {
    throw new InvalidRsaKeyError(
      `RSA key has public exponent ${exponent ?? '?'}; only ${RSA_EXPONENT} is accepted`,
    );
  }
  return key;
}

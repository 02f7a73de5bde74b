import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new secret token: 32 random bytes, base64url (43 characters, safe in URLs and cookies). */
export const newToken = () => randomBytes(32).toString('base64url');

/** What the database keeps of a token: its SHA-256, hex. */
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

/** Tokens we issue, and nothing else, look like this: anything else is refused unhashed. */
export const isTokenShaped = (token: string) => /^[A-Za-z0-9_-]{43}$/.test(token);

export const hmacToken = (key: Buffer, token: string) =>
  createHmac('sha256', key).update(token).digest('base64url');

/** Equal strings, compared in constant time (over their digests, so lengths leak nothing). */
export function sameSecret(a: string, b: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

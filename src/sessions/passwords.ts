import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { invalid } from '../errors.ts';

/**
 * Password hashing with scrypt from node:crypto. The encoded hash names its own parameters
 * (`scrypt$N$r$p$saltB64$hashB64`), so stronger ones can be chosen later while old hashes still
 * verify.
 */
export const PASSWORD_MIN_CHARS = 10;
/** Bytes (UTF-8): scrypt's work grows with the input, and no one types more. */
export const PASSWORD_MAX_BYTES = 1024;

const PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** scrypt needs 128·N·r bytes (32 MiB here); Node's default ceiling is exactly that, too low. */
const MAX_MEM = 64 * 1024 * 1024;

/** Refuses a password the rules do not allow, naming the rule (never echoing the password). */
export function checkPasswordRules(password: string): void {
  if ([...password].length < PASSWORD_MIN_CHARS) {
    throw invalid('password', `must be at least ${PASSWORD_MIN_CHARS} characters`);
  }
  if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES) {
    throw invalid('password', `must be at most ${PASSWORD_MAX_BYTES} bytes`);
  }
}

export async function hashPassword(password: string): Promise<string> {
  checkPasswordRules(password);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, b64(salt), b64(key)].join('$');
}

/**
 * Whether `password` matches `encoded`, compared in constant time. A malformed hash, one with
 * parameters out of bounds, or a password over the size limit never matches.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parse(encoded);
  if (!parsed) return false;
  // Still does the work for an oversized password, so its refusal takes as long as any other.
  const oversized = Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES;
  const key = await derive(oversized ? '' : password, parsed.salt, parsed.key.length, parsed);
  return timingSafeEqual(key, parsed.key) && !oversized;
}

/**
 * A well-formed hash of no password at all (random salt and key): verifying against it costs
 * what a real verification costs, and never matches.
 */
export function decoyHash(): string {
  const [salt, key] = [randomBytes(SALT_BYTES), randomBytes(KEY_BYTES)];
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, b64(salt), b64(key)].join('$');
}

interface Parsed {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parse(encoded: string): Parsed | undefined {
  const [scheme, n, r, p, salt, key, extra] = encoded.split('$');
  if (scheme !== 'scrypt' || extra !== undefined || salt === undefined || key === undefined) {
    return undefined;
  }
  const [N, R, P] = [n, r, p].map(Number) as [number, number, number];
  // Bounds keep a tampered row from asking for gigabytes or minutes of work.
  const powerOfTwo = Number.isInteger(N) && N >= 2 && N <= 2 ** 20 && (N & (N - 1)) === 0;
  if (!powerOfTwo || !isIn(R, 1, 32) || !isIn(P, 1, 16) || 128 * N * R > MAX_MEM) {
    return undefined;
  }
  const parsed = { N, r: R, p: P, salt: unb64(salt), key: unb64(key) };
  return parsed.salt.length >= 8 && parsed.key.length >= 16 ? parsed : undefined;
}

const isIn = (value: number, min: number, max: number) =>
  Number.isInteger(value) && value >= min && value <= max;

function derive(
  password: string,
  salt: Buffer,
  length: number,
  params: { N: number; r: number; p: number },
): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: MAX_MEM };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, length, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

const b64 = (bytes: Buffer) => bytes.toString('base64');
const unb64 = (text: string) => Buffer.from(text, 'base64');

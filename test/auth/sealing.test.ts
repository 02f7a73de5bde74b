import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  InvalidMasterKeyError,
  SealedSecretError,
  createSealer,
  generateMasterKey,
  parseMasterKey,
} from '../../src/auth/sealing.ts';

const SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';

describe('master keys', () => {
  it('generates base64 keys of 32 bytes that parse back', () => {
    const text = generateMasterKey();
    const key = parseMasterKey(text);
    expect(key).toHaveLength(32);
    expect(key.toString('base64')).toBe(text);
    expect(generateMasterKey()).not.toBe(text);
  });

  it('accepts 64 hex characters in either case', () => {
    const key = randomBytes(32);
    expect(parseMasterKey(key.toString('hex')).equals(key)).toBe(true);
    expect(parseMasterKey(key.toString('hex').toUpperCase()).equals(key)).toBe(true);
    expect(parseMasterKey(`${key.toString('base64')}\n`).equals(key)).toBe(true);
  });

  it.each([
    '',
    'secret',
    'ab'.repeat(31),
    'ab'.repeat(33),
    'zz'.repeat(32),
    randomBytes(16).toString('base64'),
    randomBytes(48).toString('base64'),
    randomBytes(32).toString('base64').replace(/=+$/, ''),
    randomBytes(32).toString('base64url'),
    `${randomBytes(32).toString('base64').slice(0, 20)}!${randomBytes(32).toString('base64').slice(20)}`,
  ])('rejects %j', (text) => {
    expect(() => parseMasterKey(text)).toThrow(InvalidMasterKeyError);
  });

  it('refuses a sealer key that is not 32 bytes', () => {
    expect(() => createSealer(randomBytes(16))).toThrow(InvalidMasterKeyError);
  });
});

describe('sealer', () => {
  const key = randomBytes(32);
  const sealer = createSealer(key);

  it('round-trips, with a fresh IV each time', () => {
    const a = sealer.seal(SECRET);
    const b = sealer.seal(SECRET);
    expect(a).not.toBe(b);
    expect(a).not.toContain(SECRET);
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(sealer.open(a)).toBe(SECRET);
    expect(sealer.open(b)).toBe(SECRET);
    expect(sealer.open(sealer.seal(''))).toBe('');
    expect(sealer.open(sealer.seal('ключ ✓'))).toBe('ключ ✓');
  });

  it('opens with another sealer on the same key', () => {
    expect(createSealer(Buffer.from(key)).open(sealer.seal(SECRET))).toBe(SECRET);
  });

  it('refuses a wrong key', () => {
    expect(() => createSealer(randomBytes(32)).open(sealer.seal(SECRET))).toThrow(
      SealedSecretError,
    );
  });

  it('refuses tampering with any part', () => {
    const sealed = sealer.seal(SECRET);
    const parts = sealed.split('.');
    for (const index of [1, 2, 3]) {
      const bytes = Buffer.from(parts[index]!, 'base64url');
      bytes[0] = bytes[0]! ^ 0x01;
      const tampered = parts.map((p, i) => (i === index ? bytes.toString('base64url') : p));
      expect(() => sealer.open(tampered.join('.')), `part ${index}`).toThrow(SealedSecretError);
    }
  });

  it('refuses truncated or swapped ciphertext', () => {
    const [v, iv, tag, ct] = sealer.seal(SECRET).split('.') as [string, string, string, string];
    const other = sealer.seal('another secret').split('.');
    expect(() => sealer.open([v, iv, tag, ct.slice(0, -4)].join('.'))).toThrow(SealedSecretError);
    expect(() => sealer.open([v, iv, tag, other[3]].join('.'))).toThrow(SealedSecretError);
    expect(() => sealer.open([v, iv, other[2], ct].join('.'))).toThrow(SealedSecretError);
  });

  it.each([
    '',
    SECRET,
    'v1',
    'v1...',
    'v2.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAA',
    'v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAA.AAAA',
    'v1.AAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAA',
    'v1.AAAAAAAAAAAAAAAA.AAAA.AAAA',
    'v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AA+A',
    'v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAA',
  ])('refuses malformed input %j with SealedSecretError', (text) => {
    expect(() => sealer.open(text)).toThrow(SealedSecretError);
  });

  it('refuses non-canonical base64url that decodes to the same bytes', () => {
    const [v, iv, tag, ct] = sealer.seal(SECRET).split('.') as [string, string, string, string];
    // The 16-byte tag ends in a character with 4 unused bits; setting one keeps the same bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet[alphabet.indexOf(tag.at(-1)!) ^ 1]!;
    const altered = tag.slice(0, -1) + last;
    expect(Buffer.from(altered, 'base64url').equals(Buffer.from(tag, 'base64url'))).toBe(true);
    expect(() => sealer.open([v, iv, altered, ct].join('.'))).toThrow(SealedSecretError);
  });
});

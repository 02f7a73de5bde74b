import { createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  InvalidRsaKeyError,
  parseRsaPublicKey,
  signHmac,
  signRsa,
  signedPayloads,
  verifySignature,
  type SignatureVerifier,
} from '../../src/auth/signature.ts';

type Vector = {
  alg: 'hmac' | 'rsa';
  request: string;
  payload: string;
  signature: string;
};

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');

const vectors = JSON.parse(fixture('signature-vectors.json')) as {
  hmac_secret: string;
  vectors: Vector[];
};
const privatePem = fixture('docs-rsa-private.pem');
const publicPem = fixture('docs-rsa-public.pem');

const hmac: SignatureVerifier = {
  kind: 'hmac',
  secret: createSecretKey(vectors.hmac_secret, 'utf8'),
};
const rsa: SignatureVerifier = { kind: 'rsa', publicKey: parseRsaPublicKey(publicPem) };
const verifierFor = (v: Vector): SignatureVerifier => (v.alg === 'hmac' ? hmac : rsa);

const CHANGE_MODE = '/public/api/ver1/users/change_mode';
const ACCOUNTS = '/public/api/ver1/accounts';
const JSON_BODY = '{"mode": "paper"}';

// What goes over the wire for each vector's request description. A vector may list several
// wire forms (the trailing-`?` one is signed by clients that may or may not send the `?`).
const wire: Record<string, { rawUrl: string; body?: string }[]> = {
  'POST /public/api/ver1/users/change_mode?mode=paper (no body)': [
    { rawUrl: `${CHANGE_MODE}?mode=paper` },
  ],
  'POST /public/api/ver1/users/change_mode, form body mode=paper': [
    { rawUrl: CHANGE_MODE, body: 'mode=paper' },
  ],
  'POST /public/api/ver1/users/change_mode, JSON body {"mode": "paper"}': [
    { rawUrl: CHANGE_MODE, body: JSON_BODY },
  ],
  'POST /public/api/ver1/users/change_mode?mode=paper': [{ rawUrl: `${CHANGE_MODE}?mode=paper` }],
  'GET /public/api/ver1/accounts': [{ rawUrl: ACCOUNTS }, { rawUrl: `${ACCOUNTS}?` }],
  'GET /public/api/ver1/accounts?page=2&per_page=10': [
    { rawUrl: `${ACCOUNTS}?page=2&per_page=10` },
  ],
  "GET /public/api/ver1/accounts (no query; some clients sign the path with a trailing '?', whether or not they send it)":
    [{ rawUrl: ACCOUNTS }, { rawUrl: `${ACCOUNTS}?` }],
};

const hmacOf = (payload: string) => signHmac(vectors.hmac_secret, payload);

describe('signature vectors', () => {
  it('every vector has a wire description', () => {
    expect(vectors.vectors).toHaveLength(8);
    for (const v of vectors.vectors) expect(wire[v.request], v.request).toBeDefined();
  });

  it.each(vectors.vectors)('$alg: $request verifies', (v) => {
    for (const { rawUrl, body } of wire[v.request] ?? []) {
      expect(verifySignature(verifierFor(v), rawUrl, body, v.signature), rawUrl).toBe(true);
      if (body !== undefined) {
        expect(verifySignature(verifierFor(v), rawUrl, Buffer.from(body), v.signature)).toBe(true);
      }
    }
  });

  it.each(vectors.vectors)('$alg: signing "$payload" reproduces the vector', (v) => {
    const signature = v.alg === 'hmac' ? hmacOf(v.payload) : signRsa(privatePem, v.payload);
    expect(signature).toBe(v.signature);
  });

  it('accepts upper-case HMAC hex', () => {
    const v = vectors.vectors.find((x) => x.request === 'GET /public/api/ver1/accounts')!;
    expect(v.signature).not.toBe(v.signature.toUpperCase());
    expect(verifySignature(hmac, ACCOUNTS, undefined, v.signature.toUpperCase())).toBe(true);
  });

  it('rejects an RSA signature with one letter in the other case', () => {
    const v = vectors.vectors.find((x) => x.alg === 'rsa')!;
    const url = `${CHANGE_MODE}?mode=paper`;
    expect(verifySignature(rsa, url, undefined, v.signature)).toBe(true);
    const i = v.signature.search(/[A-Za-z]/);
    const c = v.signature[i]!;
    const flipped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
    const tampered = v.signature.slice(0, i) + flipped + v.signature.slice(i + 1);
    expect(verifySignature(rsa, url, undefined, tampered)).toBe(false);
  });
});

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** With `==` padding the last data character carries 4 unused bits: set one of them. */
function unusedBitsSet(signature: string): string {
  const at = signature.length - 3;
  const altered = B64[B64.indexOf(signature[at]!) ^ 1]!;
  return signature.slice(0, at) + altered + signature.slice(at + 1);
}

describe('signedPayloads', () => {
  it('keeps the query exactly as received', () => {
    expect(signedPayloads('/p?b=%2F&a=x+y&a=1')).toEqual(['/p?b=%2F&a=x+y&a=1']);
  });

  it('offers both trailing-? forms for an empty query', () => {
    expect(signedPayloads('/p')).toEqual(['/p', '/p?']);
    expect(signedPayloads('/p?')).toEqual(['/p', '/p?']);
    expect(signedPayloads('/p', '')).toEqual(['/p', '/p?']);
  });

  it('joins a body with and without ?', () => {
    expect(signedPayloads('/p', 'a=1')).toEqual(['/p?a=1', '/pa=1']);
    expect(signedPayloads('/p?', Buffer.from('{"a":1}'))).toEqual(['/p?{"a":1}', '/p{"a":1}']);
    expect(signedPayloads('/p?q=1', '{"a":1}')).toEqual(['/p?q=1?{"a":1}', '/p?q=1{"a":1}']);
  });

  it('offers nothing for a body that is not valid UTF-8', () => {
    expect(signedPayloads('/p', Buffer.from([0x7b, 0xff, 0x7d]))).toEqual([]);
  });
});

describe('verifySignature rejects', () => {
  const query = `${ACCOUNTS}?page=2&per_page=10`;
  const signed = hmacOf(query);

  it('a tampered path, query, reordered query or wrong secret', () => {
    expect(verifySignature(hmac, query, undefined, signed)).toBe(true);
    expect(
      verifySignature(hmac, `/public/api/ver1/accountz?page=2&per_page=10`, undefined, signed),
    ).toBe(false);
    expect(verifySignature(hmac, `${ACCOUNTS}?page=3&per_page=10`, undefined, signed)).toBe(false);
    expect(verifySignature(hmac, `${ACCOUNTS}?per_page=10&page=2`, undefined, signed)).toBe(false);
    expect(verifySignature(hmac, ACCOUNTS, undefined, signed)).toBe(false);
    const other: SignatureVerifier = {
      kind: 'hmac',
      secret: createSecretKey('another secret', 'utf8'),
    };
    expect(verifySignature(other, query, undefined, signed)).toBe(false);
  });

  it('a re-encoded query', () => {
    const raw = `${ACCOUNTS}?api_key=a%2Bb`;
    expect(verifySignature(hmac, raw, undefined, hmacOf(raw))).toBe(true);
    expect(verifySignature(hmac, `${ACCOUNTS}?api_key=a+b`, undefined, hmacOf(raw))).toBe(false);
    expect(verifySignature(hmac, raw, undefined, hmacOf(`${ACCOUNTS}?api_key=a+b`))).toBe(false);
  });

  it('a body that was not signed, or a changed body', () => {
    const body = '{"mode": "paper"}';
    const url = `${CHANGE_MODE}?mode=paper`;
    // Signed without a body: adding one must invalidate it.
    expect(verifySignature(hmac, url, body, hmacOf(url))).toBe(false);
    // Signed with query and body: both are covered.
    const both = hmacOf(`${url}${body}`);
    expect(verifySignature(hmac, url, body, both)).toBe(true);
    expect(verifySignature(hmac, url, '{"mode": "real"}', both)).toBe(false);
    expect(verifySignature(hmac, `${CHANGE_MODE}?mode=real`, body, both)).toBe(false);
    expect(verifySignature(hmac, CHANGE_MODE, body, both)).toBe(false);
  });

  it('non-canonical base64 for RSA, even when it decodes to the right bytes', () => {
    const v = vectors.vectors.find((x) => x.alg === 'rsa')!;
    const url = `${CHANGE_MODE}?mode=paper`;
    expect(v.signature.endsWith('==')).toBe(true);
    const variants = [
      v.signature.slice(0, -2), // padding dropped
      v.signature.slice(0, -1), // half the padding
      `${v.signature.slice(0, 64)}\n${v.signature.slice(64)}`, // line break
      ` ${v.signature}`,
      `${v.signature}!`, // junk character Node would skip
      unusedBitsSet(v.signature), // same bytes, non-zero padding bits
      v.signature.replace(/\+/g, '-').replace(/\//g, '_'), // base64url alphabet
    ];
    for (const s of variants) {
      expect(Buffer.from(s, 'base64').equals(Buffer.from(v.signature, 'base64'))).toBe(true);
      expect(verifySignature(rsa, url, undefined, s), JSON.stringify(s)).toBe(false);
    }
  });

  it('garbage signatures without throwing', () => {
    const v = vectors.vectors.find((x) => x.alg === 'rsa')!;
    const garbage: unknown[] = [
      undefined,
      null,
      42,
      '',
      ' ',
      'zz',
      'g'.repeat(64),
      signed.slice(0, 63),
      `${signed}0`,
      ` ${signed}`,
      `${signed.slice(0, 32)} ${signed.slice(33)}`,
      '='.repeat(8),
      'AAAA',
      'A'.repeat(100_000),
      v.signature.slice(0, 40) + v.signature.slice(44), // canonical base64, wrong length
    ];
    for (const verifier of [hmac, rsa]) {
      for (const g of garbage) {
        expect(() => verifySignature(verifier, query, undefined, g as string)).not.toThrow();
        expect(verifySignature(verifier, query, undefined, g as string)).toBe(false);
      }
    }
    // A signature of the other algorithm is garbage too.
    expect(verifySignature(rsa, query, undefined, signed)).toBe(false);
    expect(verifySignature(hmac, `${CHANGE_MODE}?mode=paper`, undefined, v.signature)).toBe(false);
    // An unusable verifier, a wrong-type URL or body: false, not an exception.
    const broken = { kind: 'rsa', publicKey: {} } as unknown as SignatureVerifier;
    expect(verifySignature(broken, query, undefined, v.signature)).toBe(false);
    expect(verifySignature(hmac, undefined as unknown as string, undefined, signed)).toBe(false);
    expect(verifySignature(hmac, query, 5 as unknown as string, signed)).toBe(false);
  });
});

describe('parseRsaPublicKey', () => {
  const expectInvalid = (pem: unknown) =>
    expect(() => parseRsaPublicKey(pem as string)).toThrow(InvalidRsaKeyError);

  it("accepts the docs' public key, SPKI or PKCS#1", () => {
    const key = parseRsaPublicKey(publicPem);
    expect(key.type).toBe('public');
    const pkcs1 = key.export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(pkcs1).toContain('BEGIN RSA PUBLIC KEY');
    const fromPkcs1: KeyObject = parseRsaPublicKey(pkcs1);
    expect(fromPkcs1.equals(key)).toBe(true);
  });

  it('rejects a private key', () => {
    expectInvalid(privatePem);
    expect(() => parseRsaPublicKey(privatePem)).toThrow(/private key/);
  });

  it('rejects junk', () => {
    expectInvalid('');
    expectInvalid('not a key');
    expectInvalid(undefined);
    expectInvalid('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n');
    expectInvalid(publicPem.replace('MIIB', 'MIIC'));
    expectInvalid(`${publicPem}${publicPem}`);
  });

  it('rejects a 1024-bit RSA key', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => parseRsaPublicKey(pem)).toThrow(/1024 bits/);
    expectInvalid(pem);
  });

  it('rejects a non-RSA key', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expectInvalid(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  });
});

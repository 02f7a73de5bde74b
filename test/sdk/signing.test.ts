import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  requestTarget,
  signature,
  signedPayload,
  type Credentials,
} from '../../packages/sdk/src/index.ts';

// Every worked vector of the contract (the 3Commas docs' own examples, re-checked with openssl),
// rebuilt from the request the SDK would send: its URL and its body bytes.

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);
const vectors = JSON.parse(readFileSync(fixture('signature-vectors.json'), 'utf8')) as {
  api_key: string;
  hmac_secret: string;
  vectors: Array<{ alg: 'hmac' | 'rsa'; request: string; payload: string; signature: string }>;
};
const hmac: Credentials = { apiKey: vectors.api_key, secret: vectors.hmac_secret };
const rsa: Credentials = {
  apiKey: vectors.api_key,
  rsaPrivateKey: readFileSync(fixture('docs-rsa-private.pem'), 'utf8'),
};

const BASE = 'https://api.3commas.io';
const CHANGE_MODE = '/public/api/ver1/users/change_mode';
// The request each vector describes in words: the URL sent and the body sent (in vector order).
const requests: Array<{ url: string; body: string }> = [
  { url: `${BASE}${CHANGE_MODE}?mode=paper`, body: '' },
  { url: `${BASE}${CHANGE_MODE}`, body: 'mode=paper' },
  { url: `${BASE}${CHANGE_MODE}`, body: '{"mode": "paper"}' },
  { url: `${BASE}${CHANGE_MODE}?mode=paper`, body: '' },
  { url: `${BASE}${CHANGE_MODE}`, body: '{"mode": "paper"}' },
  { url: `${BASE}/public/api/ver1/accounts`, body: '' },
  { url: `${BASE}/public/api/ver1/accounts?page=2&per_page=10`, body: '' },
  { url: `${BASE}/public/api/ver1/accounts?`, body: '' },
];

describe('signing over the exact bytes sent', () => {
  it('covers every vector of the contract', () => {
    expect(requests).toHaveLength(vectors.vectors.length);
  });

  it.each(vectors.vectors.map((vector, i) => [i, vector.request, vector, requests[i]!] as const))(
    'vector %i: %s',
    (_i, _request, vector, request) => {
      const payload = signedPayload(
        requestTarget(new URL(request.url)),
        Buffer.from(request.body, 'utf8'),
        vector.alg,
      );
      expect(payload.toString('utf8')).toBe(vector.payload);
      expect(signature(vector.alg === 'hmac' ? hmac : rsa, payload)).toBe(vector.signature);
    },
  );

  it('signs a query and a body together as 3Commas does: path?query then the body', () => {
    // 3Commas signs `uri?totalParams`, totalParams = query string + body: no second `?`.
    const target = requestTarget(new URL(`${BASE}/public/api/ver1/accounts/7/rename?name=x`));
    const body = Buffer.from('{"a":1}');
    expect(signedPayload(target, body, 'hmac').toString()).toBe(
      '/public/api/ver1/accounts/7/rename?name=x{"a":1}',
    );
    expect(signedPayload(target, body, 'rsa').toString()).toBe(
      '/public/api/ver1/accounts/7/rename?name=x{"a":1}',
    );
  });

  it('signs the target as sent: percent-encoding kept, fragment dropped', () => {
    expect(requestTarget(new URL(`${BASE}/public/api/ver1/accounts?api_key=a%2Bb#frag`))).toBe(
      '/public/api/ver1/accounts?api_key=a%2Bb',
    );
  });
});

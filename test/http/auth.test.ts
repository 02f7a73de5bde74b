import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signHmac, signRsa } from '../../src/auth/signature.ts';
import { AppError } from '../../src/errors.ts';
import { metrics } from '../../src/ops/metrics.ts';
import {
  LIST,
  signedGet,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
const docsPrivateKey = fixture('docs-rsa-private.pem');
const docsPublicKey = fixture('docs-rsa-public.pem');

let server: TestServer;
let good: Credentials;
let userId: number;

beforeAll(async () => {
  server = await startTestServer();
  const owner = await userWithKey(server.services);
  good = owner.credentials;
  userId = owner.user.id;
  await server.services.accounts.add({ user_id: userId, market_code: 'binance', name: 'Main' });
});
afterAll(() => server.close());

async function expectError(response: Response, status: number, error: string): Promise<string> {
  expect(response.status).toBe(status);
  const body = (await response.json()) as { error: string; error_description: string };
  expect(body.error).toBe(error);
  expect(body.error_description.length).toBeGreaterThan(10);
  return body.error_description;
}

describe('SIGNED GET /ver1/accounts', () => {
  it('answers a correctly signed HMAC request with the caller’s accounts', async () => {
    const response = await signedGet(server, LIST, good);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as Array<{ name: string }>;
    expect(body.map((a) => a.name)).toEqual(['Main']);
  });

  it('accepts the Apikey header in any letter case and an upper-case hex signature', async () => {
    for (const name of ['APIKEY', 'apikey', 'ApiKey']) {
      const response = await fetch(`${server.url}${LIST}?per_page=5`, {
        headers: {
          [name]: good.apiKey,
          signature: signHmac(good.secret ?? '', `${LIST}?per_page=5`).toUpperCase(),
        },
      });
      expect(response.status, name).toBe(200);
    }
  });

  it('accepts the trailing-? payload for an empty query, sent with or without the ?', async () => {
    const signature = signHmac(good.secret ?? '', `${LIST}?`);
    for (const target of [LIST, `${LIST}?`]) {
      const response = await fetch(`${server.url}${target}`, {
        headers: { Apikey: good.apiKey, Signature: signature },
      });
      expect(response.status, target).toBe(200);
    }
  });

  it('verifies RSA keys registered with the user’s own public key (the docs’ key pair)', async () => {
    const key = await server.services.keys.create({
      user_id: userId,
      permissions: ['ACCOUNTS_READ'],
      rsa_public_key: docsPublicKey,
    });
    expect(key.secret).toBeUndefined();
    const rsa = { apiKey: key.api_key, rsaPrivateKey: docsPrivateKey };
    expect((await signedGet(server, `${LIST}?page=1&per_page=10`, rsa)).status).toBe(200);
    // Base64 is case-sensitive: flipping one letter's case breaks the signature.
    const signature = signRsa(docsPrivateKey, LIST);
    const index = signature.search(/[a-z]/);
    const flipped =
      signature.slice(0, index) + signature[index]?.toUpperCase() + signature.slice(index + 1);
    const response = await fetch(`${server.url}${LIST}`, {
      headers: { Apikey: key.api_key, Signature: flipped },
    });
    await expectError(response, 401, 'signature_invalid');
  });

  describe('answers 401 in the 3Commas error shape', () => {
    it('without an Apikey header', async () => {
      const response = await fetch(`${server.url}${LIST}`, {
        headers: { Signature: signHmac(good.secret ?? '', LIST) },
      });
      expect(await expectError(response, 401, 'api_key_invalid_or_expired')).toMatch(/missing/);
    });

    it('for an unknown key', async () => {
      const response = await signedGet(server, LIST, {
        apiKey: 'f'.repeat(64),
        secret: good.secret ?? '',
      });
      await expectError(response, 401, 'api_key_invalid_or_expired');
    });

    it('without a signature, or with a wrong secret', async () => {
      const unsigned = await fetch(`${server.url}${LIST}`, { headers: { Apikey: good.apiKey } });
      await expectError(unsigned, 401, 'signature_invalid');
      const wrong = await signedGet(server, LIST, {
        apiKey: good.apiKey,
        secret: 'not-the-secret',
      });
      await expectError(wrong, 401, 'signature_invalid');
    });

    it('for a tampered path, a tampered query and a reordered query', async () => {
      const headers = (payload: string) => ({
        Apikey: good.apiKey,
        Signature: signHmac(good.secret ?? '', payload),
      });
      const cases: Array<[string, string]> = [
        ['/public/api/ver1/accounts_other', LIST], // signed for another path
        [`${LIST}?page=2`, `${LIST}?page=1`], // query changed after signing
        [`${LIST}?per_page=10&page=1`, `${LIST}?page=1&per_page=10`], // same params, other order
      ];
      for (const [sent, signedFor] of cases) {
        const response = await fetch(`${server.url}${sent}`, { headers: headers(signedFor) });
        if (sent.startsWith('/public/api/ver1/accounts_other')) expect(response.status).toBe(404);
        else await expectError(response, 401, 'signature_invalid');
      }
    });

    it('for a revoked key — and a cached page does not outlive the revocation', async () => {
      const { credentials } = await userWithKey(server.services);
      expect((await signedGet(server, LIST, credentials)).status).toBe(200);
      expect((await signedGet(server, LIST, credentials)).status).toBe(200); // served from cache
      await server.services.keys.revoke({ api_key: credentials.apiKey });
      expect(
        await expectError(
          await signedGet(server, LIST, credentials),
          401,
          'api_key_invalid_or_expired',
        ),
      ).toMatch(/revoked/);
    });

    it('for an expired key, from the moment it expires', async () => {
      const expiresAt = Date.now() + 60 * 60 * 1000;
      const key = await server.services.keys.create({
        user_id: userId,
        permissions: ['ACCOUNTS_READ'],
        expires_at: new Date(expiresAt).toISOString(),
      });
      const credentials = { apiKey: key.api_key, secret: key.secret ?? '' };
      // Only Date is faked: the server's clock moves, sockets and timers stay real.
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(expiresAt - 1);
        expect((await signedGet(server, LIST, credentials)).status).toBe(200);
        vi.setSystemTime(expiresAt);
        const response = await signedGet(server, LIST, credentials);
        expect(await expectError(response, 401, 'api_key_invalid_or_expired')).toMatch(/expired/);
      } finally {
        vi.useRealTimers();
      }
    });

    it('for a caller outside the key’s IP whitelist, and 200 inside it', async () => {
      const outside = await server.services.keys.create({
        user_id: userId,
        permissions: ['ACCOUNTS_READ'],
        ip_whitelist: ['10.1.2.0/24'],
      });
      const response = await signedGet(server, LIST, {
        apiKey: outside.api_key,
        secret: outside.secret ?? '',
      });
      expect(await expectError(response, 401, 'ip_not_allowed')).toMatch(/127\.0\.0\.1/);
      const inside = await server.services.keys.create({
        user_id: userId,
        permissions: ['ACCOUNTS_READ'],
        ip_whitelist: ['127.0.0.0/8', '::1'],
      });
      expect(
        (await signedGet(server, LIST, { apiKey: inside.api_key, secret: inside.secret ?? '' }))
          .status,
      ).toBe(200);
    });
  });

  it('still refuses a wrong signature for a URL it has just verified (verified requests are remembered)', async () => {
    const target = `${LIST}?per_page=7`;
    expect((await signedGet(server, target, good)).status).toBe(200);
    expect((await signedGet(server, target, good)).status).toBe(200);
    const forged = signHmac('another-secret', target);
    const response = await fetch(`${server.url}${target}`, {
      headers: { Apikey: good.apiKey, Signature: forged },
    });
    await expectError(response, 401, 'signature_invalid');
    const { credentials: other } = await userWithKey(server.services);
    // Another key's valid signature of the same URL is not this key's.
    const borrowed = await fetch(`${server.url}${target}`, {
      headers: { Apikey: good.apiKey, Signature: signHmac(other.secret ?? '', target) },
    });
    await expectError(borrowed, 401, 'signature_invalid');
  });

  it('answers 403 access_denied when the key lacks ACCOUNTS_READ', async () => {
    const { credentials } = await userWithKey(server.services, {
      permissions: ['BOTS_READ', 'ACCOUNTS_WRITE'],
    });
    expect(
      await expectError(await signedGet(server, LIST, credentials), 403, 'access_denied'),
    ).toMatch(/ACCOUNTS_READ/);
  });

  it('checks the signature before the parameters: a bad query from an unsigned caller is 401, not 400', async () => {
    const response = await fetch(`${server.url}${LIST}?per_page=0`, {
      headers: { Apikey: good.apiKey, Signature: 'x' },
    });
    await expectError(response, 401, 'signature_invalid');
  });

  it('records the key’s last use without a write per request', async () => {
    const { credentials } = await userWithKey(server.services);
    await signedGet(server, LIST, credentials);
    await server.services.keyStore.flushLastUsed();
    const row = await server.services.storage.db
      .selectFrom('api_keys')
      .select(['last_used_at', 'secret_sealed'])
      .where('api_key', '=', credentials.apiKey)
      .executeTakeFirstOrThrow();
    expect(row.last_used_at).toBeInstanceOf(Date);
    // Secrets are sealed at rest: the stored column never contains the secret itself.
    expect(row.secret_sealed).toMatch(/^v1\./);
    expect(row.secret_sealed).not.toContain(credentials.secret);
  });
});

describe('a caller who holds a key id but cannot sign', () => {
  const forged = (apiKey: string) =>
    fetch(`${server.url}${LIST}`, {
      headers: { Apikey: apiKey, Signature: signHmac('not-the-secret', LIST) },
    });
  const unsigned = (apiKey: string) =>
    fetch(`${server.url}${LIST}`, { headers: { Apikey: apiKey } });
  const answer = async (response: Response) => ({
    status: response.status,
    body: (await response.json()) as unknown,
  });

  it('learns nothing of the key’s state: revoked, expired, IP-restricted and under-privileged keys answer as a valid one', async () => {
    const { credentials: valid } = await userWithKey(server.services);
    const { credentials: revoked } = await userWithKey(server.services);
    await server.services.keys.revoke({ api_key: revoked.apiKey });
    const expiring = await server.services.keys.create({
      user_id: userId,
      permissions: ['ACCOUNTS_READ'],
      expires_at: new Date(Date.now() + 60 * 60 * 1000).toISOString(),
    });
    const restricted = await server.services.keys.create({
      user_id: userId,
      permissions: ['ACCOUNTS_READ'],
      ip_whitelist: ['10.1.2.0/24'],
    });
    const { credentials: underPrivileged } = await userWithKey(server.services, {
      permissions: ['BOTS_READ'],
    });
    const expected = await answer(await forged(valid.apiKey));
    expect(expected).toEqual({
      status: 401,
      body: { error: 'signature_invalid', error_description: 'Provided signature is invalid' },
    });
    const expectedUnsigned = await answer(await unsigned(valid.apiKey));
    expect(expectedUnsigned.body).toMatchObject({ error: 'signature_invalid' });

    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 2 * 60 * 60 * 1000); // the expiring key has now expired
      for (const apiKey of [
        revoked.apiKey,
        expiring.api_key,
        restricted.api_key,
        underPrivileged.apiKey,
      ]) {
        expect(await answer(await forged(apiKey)), apiKey).toEqual(expected);
        expect(await answer(await unsigned(apiKey)), apiKey).toEqual(expectedUnsigned);
      }
    } finally {
      vi.useRealTimers();
    }
    // With the signature, the state is told.
    const response = await signedGet(server, LIST, revoked);
    expect(await expectError(response, 401, 'api_key_invalid_or_expired')).toMatch(/revoked/);
  });

  it('is refused a key that cannot be ours by its form, without any lookup', async () => {
    const lookups = async () => {
      const { values } = await metrics.cacheLookups.get();
      return values
        .filter((v) => v.labels.cache === 'keys' || v.labels.cache === 'unknown_keys')
        .reduce((sum, v) => sum + v.value, 0);
    };
    const before = await lookups();
    for (const apiKey of [
      'short',
      good.apiKey.toUpperCase(), // keys are issued in lower-case hex
      'g'.repeat(64),
      `${good.apiKey}0`,
      'a'.repeat(2_000),
    ]) {
      const response = await fetch(`${server.url}${LIST}`, {
        headers: { Apikey: apiKey, Signature: signHmac(good.secret ?? '', LIST) },
      });
      expect(
        await expectError(response, 401, 'api_key_invalid_or_expired'),
        apiKey.slice(0, 70),
      ).toBe('Unauthorized. Invalid or expired api key.');
    }
    expect(await lookups()).toBe(before);
  });
});

describe('RSA public keys', () => {
  const publicPem = (options: { modulusLength: number; publicExponent?: number }) =>
    generateKeyPairSync('rsa', options)
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
  const create = (pem: string) =>
    server.services.keys.create({
      user_id: userId,
      permissions: ['ACCOUNTS_READ'],
      rsa_public_key: pem,
    });
  const refusal = async (pem: string) => {
    const error = await create(pem).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('record_invalid');
    return (error as AppError).attributes?.rsa_public_key?.join(' ') ?? '';
  };

  it('are accepted at 2048 bits with exponent 65537', async () => {
    const key = await create(publicPem({ modulusLength: 2048 }));
    expect(key.api_key).toMatch(/^[0-9a-f]{64}$/);
  });

  it('are refused below 2048 bits, naming the field', async () => {
    expect(await refusal(publicPem({ modulusLength: 1024 }))).toMatch(/1024 bits; 2048 to 4096/);
  });

  it('are refused with a public exponent other than 65537', async () => {
    expect(await refusal(publicPem({ modulusLength: 2048, publicExponent: 3 }))).toMatch(
      /exponent 3; only 65537/,
    );
  });
});

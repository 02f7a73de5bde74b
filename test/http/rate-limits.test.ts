import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.ts';
import { STRIKES_BEFORE_BAN } from '../../src/limits/request-limiter.ts';
import { onPostgres } from '../support/database.ts';
import { getFrom, signedGetFrom, type Answer } from '../support/from-ip.ts';
import {
  LIST,
  otherProcess,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

// 3Commas' limits over real HTTP: each test speaks from its own loopback address (127.0.0.x),
// which the server sees as a caller IP of its own.

const LIMIT = 5;
const ENV = { OPENCOMMAS_RATE_LIMIT: `${LIMIT}/1m`, OPENCOMMAS_RATE_LIMIT_BLOCK: '5m' };

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(ENV);
});
afterAll(() => server.close());

const newKey = async (): Promise<Credentials> => (await userWithKey(server.services)).credentials;
const get = (ip: string, key: Credentials, base = server.url) => signedGetFrom(ip, base, LIST, key);
/** A key of our form that was never issued: looking it up would need the database. */
const unknownKey = (): Credentials => ({ apiKey: randomBytes(32).toString('hex'), secret: 'x' });

function expectRefused(answer: Answer, status: number, error: string, retryAfter: number) {
  expect(answer.status).toBe(status);
  expect(answer.body.error).toBe(error);
  expect(answer.body.error_description?.length).toBeGreaterThan(20);
  expect(answer.headers['retry-after']).toBe(String(retryAfter));
}

describe('an API key over its limit', () => {
  it('is refused with 429 rate_limit_exceeded and Retry-After, for the mitigation period', async () => {
    const key = await newKey();
    for (let i = 0; i < LIMIT; i++) expect((await get('127.0.0.11', key)).status).toBe(200);
    const refused = await get('127.0.0.11', key);
    expectRefused(refused, 429, 'rate_limit_exceeded', 300);
    expect(refused.body.error_description).toMatch(/5 requests per 1 minute/);
    // Still refused afterwards (Retry-After counts down from the 5-minute mitigation period),
    // from any IP, while another key of the same caller is served.
    const again = await get('127.0.0.12', key);
    expect(again.status).toBe(429);
    expect(Number(again.headers['retry-after'])).toBeGreaterThan(290);
    expect((await get('127.0.0.11', await newKey())).status).toBe(200);
  });
});

describe('requests that keep arriving during the mitigation period', () => {
  it('ban the caller’s IP with 418 for every key, and leave other IPs alone', async () => {
    const key = await newKey();
    const ip = '127.0.0.21';
    for (let i = 0; i < LIMIT; i++) await get(ip, key);
    expect((await get(ip, key)).status).toBe(429); // the mitigation period starts
    for (let i = 0; i < STRIKES_BEFORE_BAN; i++) expect((await get(ip, key)).status).toBe(429);
    expectRefused(await get(ip, key), 418, 'ip_banned', 120);
    // Every key from that IP, even one never over its limit; not another IP.
    const fresh = await newKey();
    expectRefused(await get(ip, fresh), 418, 'ip_banned', 120);
    expect((await get('127.0.0.22', fresh)).status).toBe(200);
  });
});

describe('failed authentications', () => {
  it('are limited and banned per IP, answered without looking any key up', async () => {
    const ip = '127.0.0.31';
    for (let i = 0; i < LIMIT; i++) {
      expect((await get(ip, unknownKey())).body.error).toBe('api_key_invalid_or_expired');
    }
    const crossing = await get(ip, unknownKey());
    expectRefused(crossing, 429, 'rate_limit_exceeded', 300);
    expect(crossing.body.error_description).toMatch(/failed authentications from 127\.0\.0\.31/);
    // Take the keys table away: any lookup would now fail. The refused IP is still answered,
    // so it never got as far as a lookup (each key is new, so no cache could answer either).
    await sql`ALTER TABLE api_keys RENAME TO api_keys_away`.execute(server.services.storage.db);
    try {
      for (let i = 0; i < STRIKES_BEFORE_BAN; i++) {
        expect((await get(ip, unknownKey())).status).toBe(429);
      }
      expectRefused(await get(ip, unknownKey()), 418, 'ip_banned', 120);
      expect((await get(ip, unknownKey())).status).toBe(418);
      // Bad headers count the same; so does a well-formed request: the IP is banned.
      expect((await getFrom(ip, server.url, LIST)).status).toBe(418);
      // Another IP does get as far as the lookup, which fails without the table.
      expect((await get('127.0.0.32', unknownKey())).status).toBeGreaterThanOrEqual(500);
    } finally {
      await sql`ALTER TABLE api_keys_away RENAME TO api_keys`.execute(server.services.storage.db);
    }
    expect((await get('127.0.0.32', await newKey())).status).toBe(200);
  });

  it('count a missing signature and a missing Apikey header too', async () => {
    const ip = '127.0.0.33';
    const key = await newKey();
    for (let i = 0; i < LIMIT; i++) {
      const headers: Record<string, string> = i % 2 === 0 ? { Apikey: key.apiKey } : {};
      expect((await getFrom(ip, server.url, LIST, headers)).status).toBe(401);
    }
    expect((await getFrom(ip, server.url, LIST, { Apikey: key.apiKey })).status).toBe(429);
    // The caller's IP is refused, whatever it sends next, even a good request.
    expect((await get(ip, key)).status).toBe(429);
  });
});

// Only PostgreSQL lets two API processes share a database; the embedded default is one process.
if (onPostgres) {
  describe('two API processes on one database', () => {
    it('together allow a key its limit once', async () => {
      const services = await otherProcess(server, ENV);
      const app = await buildApp(services, {});
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      const other = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      try {
        const key = await newKey();
        // Sent all at once, alternating between the two processes.
        const answers = await Promise.all(
          Array.from({ length: 4 * LIMIT }, (_, i) =>
            get('127.0.0.41', key, i % 2 === 0 ? server.url : other),
          ),
        );
        const statuses = answers.map((answer) => answer.status);
        expect(statuses.filter((status) => status === 200)).toHaveLength(LIMIT);
        // The rest refused: 429, and 418 once more than ten arrived during the mitigation period.
        expect(statuses.filter((status) => status === 429 || status === 418)).toHaveLength(
          3 * LIMIT,
        );
        // Refused by both from now on.
        expect((await get('127.0.0.42', key)).status).toBe(429);
        expect((await get('127.0.0.42', key, other)).status).toBe(429);
      } finally {
        await app.close();
        await services.close();
      }
    });
  });
}

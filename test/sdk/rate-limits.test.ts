import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRIKES_BEFORE_BAN } from '../../src/limits/request-limiter.ts';
import {
  BannedError,
  RateLimitedError,
  ThreeCommasClient,
  type ClientOptions,
} from '../../packages/sdk/src/index.ts';
import { startTestServer, userWithKey, type TestServer } from '../support/server.ts';

// The SDK's manners against the service's real limiter: 3 requests a minute per key, refused
// for a 3-second mitigation period past it (3Commas: 100 a minute, 300 s).

const LIMIT = 3;
const ENV = { OPENCOMMAS_RATE_LIMIT: `${LIMIT}/1m`, OPENCOMMAS_RATE_LIMIT_BLOCK: '3s' };

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(ENV);
});
afterAll(() => server.close());

/**
 * A client with a new key that records the status of every answer it receives. `strip` drops
 * Retry-After from answers, as 3Commas sends none.
 */
async function client(options: Partial<ClientOptions> = {}, strip = false) {
  const { credentials } = await userWithKey(server.services);
  const statuses: number[] = [];
  const sdk = new ThreeCommasClient({
    apiKey: credentials.apiKey,
    secret: credentials.secret,
    ...options,
    baseUrl: `${server.url}/public/api`,
    fetch: async (request) => {
      const response = await fetch(request);
      statuses.push(response.status);
      if (!strip) return response;
      const headers = new Headers(response.headers);
      headers.delete('retry-after');
      return new Response(response.body, { status: response.status, headers });
    },
  } as ClientOptions);
  return { sdk, statuses };
}

const listOnce = (sdk: ThreeCommasClient) => sdk.listAccounts();

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('on a 429, in wait mode (the default)', () => {
  it('waits out Retry-After and retries: the caller gets its answer', async () => {
    const { sdk, statuses } = await client();
    for (let i = 0; i < LIMIT; i++) expect(await listOnce(sdk)).toEqual([]);
    expect(await listOnce(sdk)).toEqual([]);
    // One refusal, then the same request again after the mitigation period — and no request
    // while refused (each would have been a strike towards a ban, answered 429 again).
    expect(statuses).toEqual([200, 200, 200, 429, 200]);
  });

  it('waits its configured mitigation period when the answer gives no Retry-After', async () => {
    const { sdk, statuses } = await client({ mitigationMs: 3500 }, true);
    for (let i = 0; i < LIMIT; i++) await listOnce(sdk);
    expect(await listOnce(sdk)).toEqual([]);
    expect(statuses).toEqual([200, 200, 200, 429, 200]);
  });

  it('holds every request of the client while refused, not just the refused one', async () => {
    const { sdk, statuses } = await client();
    for (let i = 0; i < LIMIT; i++) await listOnce(sdk);
    const refused = listOnce(sdk);
    await until(() => statuses.length === LIMIT + 1); // its 429 has arrived: the client waits
    const later = listOnce(sdk);
    expect(await Promise.all([refused, later])).toEqual([[], []]);
    // The later request went out only after the period: it met no 429 of its own (which would
    // also have been a strike towards a ban).
    expect(statuses).toEqual([200, 200, 200, 429, 200, 200]);
  });
});

describe('on a 429, in throw mode', () => {
  it('throws RateLimitedError with the code and the wait, and sends nothing more', async () => {
    const { sdk, statuses } = await client({ onRateLimit: 'throw' });
    for (let i = 0; i < LIMIT; i++) await listOnce(sdk);
    const error = await listOnce(sdk).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded', retryAfterMs: 3000 });
    expect((error as RateLimitedError).description).toMatch(/3 requests per 1 minute/);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

// Last in this file: the ban holds this loopback IP for 2 minutes.
describe('a 418 ban', () => {
  it('is thrown as BannedError and never retried, even in wait mode', async () => {
    const { sdk: rude } = await client({ onRateLimit: 'throw' });
    for (let i = 0; i < LIMIT; i++) await listOnce(rude);
    // The refusal that starts the period, then requests that keep coming while refused (a
    // caller ignoring its RateLimitedError): the one past STRIKES_BEFORE_BAN bans the IP.
    for (let i = 0; i <= STRIKES_BEFORE_BAN; i++) {
      expect(await listOnce(rude).catch((e: unknown) => e)).toBeInstanceOf(RateLimitedError);
    }
    const banned = await listOnce(rude).catch((e: unknown) => e);
    expect(banned).toBeInstanceOf(BannedError);
    expect(banned).toMatchObject({ status: 418, code: 'ip_banned', retryAfterMs: 120_000 });

    const { sdk: polite, statuses } = await client({ onRateLimit: 'wait' });
    const error = await listOnce(polite).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BannedError);
    expect(statuses).toEqual([418]);
  });
});

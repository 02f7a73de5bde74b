import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTS_PER_COOLDOWN } from '../../src/limits/sync-cooldowns.ts';
import { startFakeBinance, type FakeBinance } from '../support/exchanges/binance-server.ts';
import {
  signedPost,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

// On-demand operations call the exchange with the user's keys: they are paced, so that no
// caller can make us hammer an exchange (and get the keys or our IP limited there).

const NEW = '/public/api/ver1/accounts/new';
let binance: FakeBinance;
let server: TestServer;

beforeAll(async () => {
  binance = await startFakeBinance();
  binance.setPrice('BTC/USDT', '50000');
  for (const key of ['key-1', 'key-2']) {
    binance.addAccount(key, { secret: 's', balances: { BTC: { free: '1', locked: '0' } } });
  }
  server = await startTestServer({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
    OPENCOMMAS_RATE_LIMIT: '1000/1m',
    OPENCOMMAS_SYNC_COOLDOWN: '1m',
  });
});
afterAll(async () => {
  await server?.close();
  await binance?.close();
});

const writer = async () =>
  (await userWithKey(server.services, { permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'] }))
    .credentials;

const connect = (caller: Credentials, apiKey: string) =>
  signedPost(server, NEW, caller, { type: 'binance', name: apiKey, api_key: apiKey, secret: 's' });

const loadBalances = (caller: Credentials, id: number) =>
  signedPost(server, `/public/api/ver1/accounts/${id}/load_balances`, caller);

describe('POST load_balances', () => {
  it('syncs an account once per cooldown; a second call answers 429 with Retry-After', async () => {
    const caller = await writer();
    const first = (await (await connect(caller, 'key-1')).json()) as { id: number };
    const second = (await (await connect(caller, 'key-2')).json()) as { id: number };
    expect((await loadBalances(caller, first.id)).status).toBe(201);
    const refused = await loadBalances(caller, first.id);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = (await refused.json()) as { error: string; error_description: string };
    expect(body.error).toBe('rate_limit_exceeded');
    expect(body.error_description).toContain(`account ${first.id}`);
    // Another account has its own cooldown.
    expect((await loadBalances(caller, second.id)).status).toBe(201);
  });
});

describe('POST accounts/new', () => {
  it(`allows a user ${CONNECTS_PER_COOLDOWN} connect attempts per cooldown, failed ones included`, async () => {
    const caller = await writer();
    for (let i = 0; i < CONNECTS_PER_COOLDOWN; i++) {
      // Keys the exchange refuses: a 400, but the exchange was asked.
      expect((await connect(caller, `refused-${i}`)).status).toBe(400);
    }
    const refused = await connect(caller, 'key-1');
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: string }).error).toBe('rate_limit_exceeded');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another user is not held back.
    expect((await connect(await writer(), 'key-1')).status).toBe(201);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LIST,
  signedGet,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

let server: TestServer;
let alice: Credentials;
let bob: Credentials;
let aliceId: number;
const aliceAccounts: number[] = [];

interface Entity {
  id: number;
  name: string;
  api_key: string;
  market_code: string;
}

beforeAll(async () => {
  server = await startTestServer();
  const a = await userWithKey(server.services);
  const b = await userWithKey(server.services);
  alice = a.credentials;
  aliceId = a.user.id;
  bob = b.credentials;
  // Interleave the two users' accounts so ids alone cannot give isolation away.
  for (let i = 1; i <= 7; i++) {
    const entity = await server.services.accounts.add({
      sync: false, // illustrative keys: history is imported
      user_id: aliceId,
      market_code: i % 2 ? 'binance' : 'kraken',
      name: `Alice ${i}`,
      ...(i <= 3
        ? { api_key: i === 3 ? 'shared-exchange-key' : `alice-key-${i}`, secret: 's' }
        : {}),
    });
    aliceAccounts.push(entity.id);
    await server.services.accounts.add({
      sync: false, // illustrative keys: history is imported
      user_id: b.user.id,
      market_code: 'binance',
      name: `Bob ${i}`,
      api_key: 'shared-exchange-key',
      secret: 's',
    });
  }
});
afterAll(() => server.close());

const list = async (query: string, who = alice): Promise<Entity[]> => {
  const response = await signedGet(server, query ? `${LIST}?${query}` : LIST, who);
  expect(response.status).toBe(200);
  return (await response.json()) as Entity[];
};

describe('GET /ver1/accounts — pages, filter, isolation', () => {
  it('lists only the caller’s accounts, ascending by id, 100 per page by default', async () => {
    const all = await list('');
    expect(all.map((a) => a.id)).toEqual(aliceAccounts);
    expect(all.every((a) => a.name.startsWith('Alice'))).toBe(true);
    const bobs = await list('', bob);
    expect(bobs).toHaveLength(7);
    expect(bobs.every((a) => a.name.startsWith('Bob'))).toBe(true);
  });

  it('pages with page and per_page, including the edges', async () => {
    expect((await list('per_page=3&page=1')).map((a) => a.id)).toEqual(aliceAccounts.slice(0, 3));
    expect((await list('per_page=3&page=3')).map((a) => a.id)).toEqual(aliceAccounts.slice(6, 7));
    expect(await list('per_page=3&page=4')).toEqual([]);
    expect((await list('per_page=1&page=7')).map((a) => a.id)).toEqual([aliceAccounts[6]]);
    expect(await list('per_page=100')).toHaveLength(7);
    expect(await list('page=2')).toEqual([]);
  });

  it('filters by the exchange API key, never crossing users', async () => {
    const shared = await list('api_key=shared-exchange-key');
    expect(shared.map((a) => a.name)).toEqual(['Alice 3']);
    expect((await list('api_key=alice-key-1')).map((a) => a.api_key)).toEqual(['alice-key-1']);
    expect(await list('api_key=alice-key-1', bob)).toEqual([]);
    expect(await list('api_key=nothing-like-it')).toEqual([]);
  });

  it('ignores unknown parameters, and a blank api_key', async () => {
    expect(await list('per_page=2&foo=bar&scope=enabled')).toHaveLength(2);
    expect(await list('api_key=')).toHaveLength(7);
  });

  it.each([
    ['per_page=0', 'per_page', 'must be greater than or equal to 1'],
    ['per_page=101', 'per_page', 'must be less than or equal to 100'],
    ['page=0', 'page', 'must be greater than or equal to 1'],
    ['page=-1', 'page', 'must be greater than or equal to 1'],
    ['page=abc', 'page', 'must be an integer'],
    ['per_page=2.5', 'per_page', 'must be an integer'],
  ])('answers 400 record_invalid for %s, naming the field', async (query, field, problem) => {
    const response = await signedGet(server, `${LIST}?${query}`, alice);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'record_invalid',
      error_description: 'Invalid parameters',
      error_attributes: { [field]: [problem] },
    });
  });

  it('shows a new account at once (the cached page is dropped on write)', async () => {
    const before = await list('');
    const added = await server.services.accounts.add({
      sync: false, // illustrative keys: history is imported
      user_id: aliceId,
      market_code: 'okex',
      name: 'Alice late',
    });
    const after = await list('');
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)?.id).toBe(added.id);
  });
});

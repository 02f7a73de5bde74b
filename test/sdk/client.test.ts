import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ForbiddenError,
  NotFoundError,
  ThreeCommasClient,
  ThreeCommasError,
  UnauthorizedError,
  type Account,
  type ClientOptions,
} from '../../packages/sdk/src/index.ts';
import { startTestServer, userWithKey, type TestServer } from '../support/server.ts';

// The SDK against the real service on loopback: only the base URL differs from 3Commas.

const ACCOUNTS = 250;
let server: TestServer;
let owner: { apiKey: string; secret: string };
let ownerId: number;
let created: number[] = [];
let foreignId: number;

beforeAll(async () => {
  server = await startTestServer();
  const alice = await userWithKey(server.services);
  owner = { apiKey: alice.credentials.apiKey, secret: alice.credentials.secret };
  ownerId = alice.user.id;
  for (let i = 1; i <= ACCOUNTS; i++) {
    const account = await server.services.accounts.add({
      sync: false, // no exchange behind these: the list shows them as stored
      user_id: ownerId,
      market_code: 'binance',
      name: `Account ${i}`,
      api_key: `key-${i}`,
      secret: 's',
    });
    created.push(account.id);
  }
  created = created.toSorted((a, b) => a - b);
  const bob = await userWithKey(server.services);
  foreignId = (
    await server.services.accounts.add({
      sync: false,
      user_id: bob.user.id,
      market_code: 'kraken',
      name: 'Bob’s',
    })
  ).id;
});
afterAll(() => server.close());

/** A client of the test server that counts the requests it sends. */
function client(options: Partial<ClientOptions> = {}) {
  const sent: string[] = [];
  const sdk = new ThreeCommasClient({
    ...owner,
    ...options,
    baseUrl: `${server.url}/public/api`,
    fetch: (request) => {
      sent.push(`${request.method} ${new URL(request.url).pathname}${new URL(request.url).search}`);
      return fetch(request);
    },
  } as ClientOptions);
  return { sdk, sent };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('the accounts iterator', () => {
  it('walks every page of GET /ver1/accounts, ascending, and stops after the short page', async () => {
    const { sdk, sent } = client();
    const accounts: Account[] = await collect(sdk.accounts());
    expect(accounts.map((a) => a.id)).toEqual(created);
    expect(accounts[0]).toMatchObject({ name: 'Account 1', market_code: 'binance' });
    // 250 accounts at 100 a page: 100 + 100 + 50, and the short third page ends it.
    expect(sent).toEqual([
      'GET /public/api/ver1/accounts?page=1&per_page=100',
      'GET /public/api/ver1/accounts?page=2&per_page=100',
      'GET /public/api/ver1/accounts?page=3&per_page=100',
    ]);
  });

  it('asks once more when the last page is full, and yields no empty page', async () => {
    const { sdk, sent } = client();
    const pages = await collect(sdk.accountPages({ per_page: 50 }));
    // 250 / 50 = 5 full pages; the 6th request answers [] and ends the walk.
    expect(pages.map((page) => page.length)).toEqual([50, 50, 50, 50, 50]);
    expect(pages.flat().map((a) => a.id)).toEqual(created);
    expect(sent).toHaveLength(6);
  });

  it('passes the api_key filter on every page', async () => {
    const { sdk } = client();
    const matching = await collect(sdk.accounts({ api_key: 'key-7' }));
    expect(matching.map((a) => a.name)).toEqual(['Account 7']);
  });
});

describe('one account', () => {
  it('is shown by id', async () => {
    const account = await client().sdk.account(created[41]!);
    expect(account).toMatchObject({ id: created[41], name: 'Account 42', api_key: 'key-42' });
  });

  it('answers every endpoint of the document through `api`, typed', async () => {
    const { data } = await client().sdk.api.GET('/ver1/accounts/{account_id}', {
      params: { path: { account_id: created[0]! } },
    });
    expect(data?.name).toBe('Account 1');
  });
});

describe('errors carry the 3Commas code, description and status', () => {
  it('a wrong secret: 401 signature_invalid', async () => {
    const error = await client({ secret: 'not-the-secret' })
      .sdk.account(created[0]!)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(error).toBeInstanceOf(ThreeCommasError);
    expect(error).toMatchObject({ status: 401, code: 'signature_invalid' });
    expect((error as UnauthorizedError).description).toBe('Provided signature is invalid');
  });

  it('another user’s account: 404 not_found, exactly like one that does not exist', async () => {
    const { sdk } = client();
    const foreign = await sdk.account(foreignId).catch((e: unknown) => e);
    expect(foreign).toBeInstanceOf(NotFoundError);
    expect(foreign).toMatchObject({ status: 404, code: 'not_found' });
    expect((foreign as NotFoundError).description).toEqual(expect.any(String));
    const missing = await sdk.account(2_000_000_000).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('a key without ACCOUNTS_READ: 403', async () => {
    const bots = await userWithKey(server.services, { permissions: ['BOTS_READ'] });
    const sdk = new ThreeCommasClient({
      ...bots.credentials,
      secret: bots.credentials.secret,
      baseUrl: `${server.url}/public/api`,
    });
    const error = await collect(sdk.accounts()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error).toMatchObject({ status: 403, code: 'access_denied' });
  });

  it('bad parameters: the attributes name the field', async () => {
    const error = await client()
      .sdk.listAccounts({ per_page: 101 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, code: 'record_invalid' });
    expect(Object.keys((error as ThreeCommasError).attributes ?? {})).toContain('per_page');
  });
});

describe('an RSA key', () => {
  it('signs with the private key; the service verifies with the public one', async () => {
    const fixture = (name: string) =>
      readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
    const key = await server.services.keys.create({
      user_id: ownerId,
      permissions: ['ACCOUNTS_READ'],
      rsa_public_key: fixture('docs-rsa-public.pem'),
    });
    const sdk = new ThreeCommasClient({
      apiKey: key.api_key,
      rsaPrivateKey: fixture('docs-rsa-private.pem'),
      baseUrl: `${server.url}/public/api`,
    });
    expect((await collect(sdk.accounts())).map((a) => a.id)).toEqual(created);
  });
});

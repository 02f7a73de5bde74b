import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  LIST,
  signedGet,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

let server: TestServer;
let credentials: Credentials;
let accountId: number;
const now0 = Date.parse('2026-03-01T12:00:00.000Z');

const snapshot = (at: number, usdt: string) => ({
  account_id: accountId,
  at: new Date(at).toISOString(),
  btc_usd_price: '50000',
  assets: [{ asset: 'USDT', amount: usdt, usd_price: '1' }],
});

beforeAll(async () => {
  server = await startTestServer();
  const owner = await userWithKey(server.services);
  credentials = owner.credentials;
  accountId = (
    await server.services.accounts.add({
      sync: false, // illustrative keys: history is imported
      user_id: owner.user.id,
      market_code: 'binance',
      name: 'Main',
    })
  ).id;
  await server.services.balances.importSnapshots([
    snapshot(now0 - 30 * DAY - 5 * MINUTE, '90'), // opens the period now
    snapshot(now0 - 30 * DAY + 1 * MINUTE, '95'), // opens it two minutes later
    snapshot(now0 - DAY - HOUR, '100'), // opens the day now
    snapshot(now0 - DAY + 10 * MINUTE, '110'), // opens the day eleven minutes later
    snapshot(now0 - HOUR, '120'),
  ]);
});
afterAll(() => server.close());
afterEach(() => vi.useRealTimers());

async function figures() {
  const [account] = (await (await signedGet(server, LIST, credentials)).json()) as Array<
    Record<string, string>
  >;
  return account ?? {};
}

describe('the cached page', () => {
  it('never outlives a window boundary, a new snapshot or a new transfer', async () => {
    // Only Date is faked: the server's clock moves, sockets and timers stay real.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(now0);
    let account = await figures();
    expect([account.usd_amount, account.day_profit_usd, account.usd_profit]).toEqual([
      '120.0',
      '20.0',
      '30.0',
    ]);
    expect((await figures()).day_profit_usd).toBe('20.0'); // same answer from the cache

    vi.setSystemTime(now0 + 2 * MINUTE); // the period now opens at the 95 snapshot
    account = await figures();
    expect([account.day_profit_usd, account.usd_profit]).toEqual(['20.0', '25.0']);

    vi.setSystemTime(now0 + 11 * MINUTE); // the day now opens at the 110 snapshot
    expect((await figures()).day_profit_usd).toBe('10.0');

    await server.services.balances.importSnapshots([snapshot(now0 + 5 * MINUTE, '130')]);
    account = await figures();
    expect([account.usd_amount, account.day_profit_usd]).toEqual(['130.0', '20.0']);

    // A deposit inside the windows is not profit: 10 of the 20 came in from outside.
    await server.services.balances.importTransfers([
      {
        account_id: accountId,
        at: new Date(now0).toISOString(),
        asset: 'USDT',
        amount: '10',
        usd_price: '1',
        btc_usd_price: '50000',
        kind: 'deposit',
      },
    ]);
    account = await figures();
    expect([account.usd_amount, account.day_profit_usd, account.usd_profit]).toEqual([
      '130.0',
      '10.0',
      '25.0',
    ]);
  });

  it('moves to the snapshot whose time has come (a future-dated snapshot enters when due)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(now0 + 20 * MINUTE);
    await server.services.balances.importSnapshots([snapshot(now0 + 30 * MINUTE, '140')]);
    expect((await figures()).usd_amount).toBe('130.0');
    vi.setSystemTime(now0 + 30 * MINUTE);
    expect((await figures()).usd_amount).toBe('140.0');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LIST,
  signedGet,
  startTestServer,
  userWithKey,
  type TestServer,
} from '../support/server.ts';

/**
 * The profit windows' edges, through storage and the signed endpoint: a window whose base went
 * to zero or below, and assets that gained, lost or never had a price route. Every history has a
 * day-window start 2 days ago and a latest snapshot an hour ago, both in every window (the
 * account is younger than 30 days), so day, period and total agree. BTC/USD is 50000 throughout.
 */
type Entity = Record<string, unknown>;

let server: TestServer;
const now = Date.now();
const ago = (hours: number) => new Date(now - hours * 3_600_000).toISOString();
const BTC = '50000';
type Asset = { asset: string; amount: string; usd_price: string | null };

async function accountWith(
  name: string,
  start: Asset[],
  latest: Asset[],
  transfers: Array<{ asset: string; amount: string; usd_price: string | null; kind: string }>,
): Promise<Entity> {
  const owner = await userWithKey(server.services);
  const { id } = await server.services.accounts.add({
    sync: false, // history is imported
    user_id: owner.user.id,
    market_code: 'binance',
    name,
    api_key: 'exchange-key',
    secret: 'exchange-secret',
  });
  await server.services.balances.importSnapshots([
    { account_id: id, at: ago(48), btc_usd_price: BTC, assets: start },
    { account_id: id, at: ago(1), btc_usd_price: BTC, assets: latest },
  ]);
  const priced = transfers.filter((t) => t.usd_price !== null);
  if (priced.length > 0)
    await server.services.balances.importTransfers(
      priced.map((t) => ({ account_id: id, at: ago(24), btc_usd_price: BTC, ...t })),
    );
  // A sync records a transfer without a price when its asset has no route; files cannot.
  for (const t of transfers.filter((t) => t.usd_price === null))
    await server.services.storage.db
      .insertInto('transfers')
      .values({
        account_id: id,
        user_id: owner.user.id,
        at: new Date(ago(24)),
        asset: t.asset,
        amount: t.amount,
        usd_price: null,
        btc_usd_price: BTC,
        kind: t.kind as 'deposit' | 'withdrawal',
      })
      .execute();
  const response = await signedGet(server, LIST, owner.credentials);
  expect(response.status).toBe(200);
  const [account] = (await response.json()) as Entity[];
  return account ?? {};
}

const figures = (account: Entity) => ({
  usd_amount: account['usd_amount'],
  day_profit_usd: account['day_profit_usd'],
  usd_profit: account['usd_profit'],
  day_profit_usd_percentage: account['day_profit_usd_percentage'],
  usd_profit_percentage: account['usd_profit_percentage'],
  btc_profit: account['btc_profit'],
  btc_profit_percentage: account['btc_profit_percentage'],
  total_usd_profit: account['total_usd_profit'],
});

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('a window whose base is zero or negative', () => {
  it('shows 0.0 % after everything was withdrawn, with the profit exact', async () => {
    // 1 ETH at 100; 1 ETH withdrawn at 120; nothing left. Profit 0 − 100 + 120 = 20 on a base
    // of 100 − 120 = −20: −100 % before, 0.0 now. In BTC: 0 − 0.002 + 0.0024 = 0.0004.
    const account = await accountWith(
      'all withdrawn',
      [{ asset: 'ETH', amount: '1', usd_price: '100' }],
      [],
      [{ asset: 'ETH', amount: '1', usd_price: '120', kind: 'withdrawal' }],
    );
    expect(figures(account)).toEqual({
      usd_amount: '0.0',
      day_profit_usd: '20.0',
      usd_profit: '20.0',
      day_profit_usd_percentage: '0.0',
      usd_profit_percentage: '0.0',
      btc_profit: '0.0004',
      btc_profit_percentage: '0.0',
      total_usd_profit: '20.0',
    });
  });
});

describe('an asset gaining or losing a price route', () => {
  it('does not show the new route’s value as profit', async () => {
    // ETH 100 → 110; 10 XYZ without a price, then at 50 (500): profit 10 (10 %), not 510.
    const account = await accountWith(
      'route appears',
      [
        { asset: 'ETH', amount: '1', usd_price: '100' },
        { asset: 'XYZ', amount: '10', usd_price: null },
      ],
      [
        { asset: 'ETH', amount: '1', usd_price: '110' },
        { asset: 'XYZ', amount: '10', usd_price: '50' },
      ],
      [],
    );
    expect(figures(account)).toEqual({
      usd_amount: '610.0',
      day_profit_usd: '10.0',
      usd_profit: '10.0',
      day_profit_usd_percentage: '10.0',
      usd_profit_percentage: '10.0',
      btc_profit: '0.0002',
      btc_profit_percentage: '10.0',
      total_usd_profit: '10.0',
    });
  });

  it('does not show the lost route’s value as a loss, nor its priced deposit', async () => {
    // ETH 100 → 90; XYZ 5 × 10 = 50, 5 more deposited at 10, then no price: −10 (−10 %), not
    // −60 (value lost) or −110 (deposit counted too).
    const account = await accountWith(
      'route lost',
      [
        { asset: 'ETH', amount: '1', usd_price: '100' },
        { asset: 'XYZ', amount: '5', usd_price: '10' },
      ],
      [
        { asset: 'ETH', amount: '1', usd_price: '90' },
        { asset: 'XYZ', amount: '10', usd_price: null },
      ],
      [{ asset: 'XYZ', amount: '5', usd_price: '10', kind: 'deposit' }],
    );
    expect(figures(account)).toEqual({
      usd_amount: '90.0',
      day_profit_usd: '-10.0',
      usd_profit: '-10.0',
      day_profit_usd_percentage: '-10.0',
      usd_profit_percentage: '-10.0',
      btc_profit: '-0.0002',
      btc_profit_percentage: '-10.0',
      total_usd_profit: '-10.0',
    });
  });

  it('leaves out an asset moved without a price', async () => {
    // XYZ priced at both ends (2 × 10 → 6 × 10) but 4 arrived without a price: XYZ is left
    // out, ETH 100 → 105: profit 5 (5 %), not 45.
    const account = await accountWith(
      'unpriced deposit',
      [
        { asset: 'ETH', amount: '1', usd_price: '100' },
        { asset: 'XYZ', amount: '2', usd_price: '10' },
      ],
      [
        { asset: 'ETH', amount: '1', usd_price: '105' },
        { asset: 'XYZ', amount: '6', usd_price: '10' },
      ],
      [{ asset: 'XYZ', amount: '4', usd_price: null, kind: 'deposit' }],
    );
    expect(figures(account)).toMatchObject({
      usd_amount: '165.0',
      day_profit_usd: '5.0',
      usd_profit_percentage: '5.0',
      total_usd_profit: '5.0',
    });
  });
});

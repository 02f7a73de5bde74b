import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, userWithKey, type TestServer } from '../support/server.ts';

let server: TestServer;
let accountId: number;

beforeAll(async () => {
  server = await startTestServer();
  const { user } = await userWithKey(server.services);
  accountId = (
    await server.services.accounts.add({ user_id: user.id, market_code: 'binance', name: 'B' })
  ).id;
});
afterAll(() => server.close());

const base = Date.parse('2026-01-01T00:00:00.000Z');
const transfer = (i: number, externalId?: string) => ({
  account_id: accountId,
  at: new Date(base + i * 1000).toISOString(),
  asset: 'USDT',
  amount: '1.5',
  usd_price: '1',
  btc_usd_price: '50000',
  kind: 'deposit' as const,
  ...(externalId ? { external_id: externalId } : {}),
});

describe('imports at scale and on repeat', () => {
  it('writes files larger than one statement can carry (PostgreSQL caps parameters at 65,535)', async () => {
    const many = Array.from({ length: 8_000 }, (_, i) => transfer(i));
    expect(await server.services.balances.importTransfers(many)).toMatchObject({
      imported: 8_000,
      skipped: 0,
    });
    const snapshots = Array.from({ length: 1_200 }, (_, i) => ({
      account_id: accountId,
      at: new Date(base + i * 60_000).toISOString(),
      btc_usd_price: '50000',
      assets: Array.from({ length: 12 }, (_, a) => ({
        asset: `A${a}`,
        amount: '2',
        usd_price: '0.5',
      })),
    }));
    expect(await server.services.balances.importSnapshots(snapshots)).toMatchObject({
      imported: 1_200,
    });
    const values = await server.services.storage.db
      .selectFrom('balance_snapshots')
      .select('usd_value')
      .where('account_id', '=', accountId)
      .distinct()
      .execute();
    expect(values).toEqual([{ usd_value: '12.0' }]);
  });

  it('stores a transfer with an exchange transaction id once, however often it is imported', async () => {
    const first = await server.services.balances.importTransfers([
      transfer(1, 'tx-1'),
      transfer(2, 'tx-2'),
      transfer(2, 'tx-2'),
    ]);
    expect(first).toMatchObject({ imported: 2, skipped: 1 });
    const again = await server.services.balances.importTransfers([
      transfer(1, 'tx-1'),
      transfer(3, 'tx-3'),
    ]);
    expect(again).toMatchObject({ imported: 1, skipped: 1 });
    const stored = await server.services.storage.db
      .selectFrom('transfers')
      .select('external_id')
      .where('external_id', 'is not', null)
      .orderBy('external_id')
      .execute();
    expect(stored.map((row) => row.external_id)).toEqual(['tx-1', 'tx-2', 'tx-3']);
  });
});

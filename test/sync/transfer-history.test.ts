import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';
import { startFakeOkx } from '../support/exchanges/okx-server.ts';
import { startTestServer, userWithKey, type TestServer } from '../support/server.ts';

// More transfers between two syncs than one page holds (the stand-ins cap pages at 3 here):
// every one is recorded, once, and the figures count each exactly once.

const MINUTE = 60_000;
const PAGE_CAP = 3;

let binance: Awaited<ReturnType<typeof startFakeBinance>>;
let okx: Awaited<ReturnType<typeof startFakeOkx>>;
let server: TestServer;
let userId: number;

beforeAll(async () => {
  binance = await startFakeBinance({ historyPageCap: PAGE_CAP });
  okx = await startFakeOkx({ historyPageCap: PAGE_CAP });
  for (const standIn of [binance, okx]) {
    standIn.setPrice('BTC/USDT', '50000', Date.now() - 120 * MINUTE);
  }
  server = await startTestServer({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url, okex: okx.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0, okex: 0 }),
  });
  userId = (await userWithKey(server.services)).user.id;
});
afterAll(async () => {
  await server?.close();
  await binance?.close();
  await okx?.close();
});

describe.each([
  ['binance', () => binance],
  ['okex', () => okx],
] as const)('%s: 8 deposits and 8 withdrawals between two syncs, pages of 3', (market, standIn) => {
  it('records each one once, and the figures count each once', async () => {
    const key = `${market}-history`;
    standIn().addAccount(key, {
      secret: 's',
      passphrase: 'p',
      balances: { USDT: { free: '100' } },
    });
    const entity = await server.services.accounts.add({
      user_id: userId,
      market_code: market,
      name: key,
      api_key: key,
      secret: 's',
      passphrase: 'p',
    });
    const id = Number(entity.id);
    // As if connected an hour ago: the first snapshot is moved back, so what follows is after it.
    const now = Date.now();
    await server.services.storage.db
      .updateTable('balance_snapshots')
      .set({ taken_at: new Date(now - 60 * MINUTE) })
      .where('account_id', '=', id)
      .execute();
    // Since then: 8 deposits of 10 USDT and 8 withdrawals of 1 USDT, five minutes apart
    // (newest first on the exchange, 3 to a page).
    for (let n = 1; n <= 8; n += 1) {
      const timestamp = now - 50 * MINUTE + n * 5 * MINUTE;
      const transfer = { asset: 'USDT', timestamp, status: 'ok' as const };
      standIn().addDeposit(key, { ...transfer, id: `d${n}`, amount: '10' });
      standIn().addWithdrawal(key, { ...transfer, id: `w${n}`, amount: '1' });
    }
    standIn().setBalance(key, 'USDT', '172'); // 100 + 8 × 10 − 8 × 1
    const account = await server.services.accounts.findAny(id);
    for (let read = 0; read < 2; read += 1) {
      expect((await server.services.onDemand.syncNow(account)).status).toBe('synced');
    }
    const stored = await server.services.storage.db
      .selectFrom('transfers')
      .select(['external_id'])
      .where('account_id', '=', id)
      .execute();
    expect(stored.map((t) => t.external_id).sort()).toEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].flatMap((n) => [`deposit:d${n}`, `withdrawal:w${n}`]).sort(),
    );
    // 172 now; put in 100 + 80 − 8 = 172: no profit. A transfer missed or counted twice
    // would show as ±10 or ±1 here.
    expect(await server.services.accounts.render(id)).toMatchObject({
      usd_amount: '172.0',
      total_usd_profit: '0.0',
    });
  });
});

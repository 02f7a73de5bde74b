import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';
import {
  signedPost,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

// A refresh is valued at prices read for it, not at a scheduled round's (kept for up to a
// minute); scheduled rounds still share one tickers read per exchange. Rounds here are the
// default 5 minutes, so a round's prices would outlive every step of this file.

const TICKERS = '/api/v3/ticker/24hr';
/** The freshness bound set below, and a wait just past it. */
const FRESHNESS = '1s';
const pastFreshness = () => new Promise((resolve) => setTimeout(resolve, 1100));

let binance: Awaited<ReturnType<typeof startFakeBinance>>;
let server: TestServer;
let caller: Credentials;

beforeAll(async () => {
  binance = await startFakeBinance();
  binance.setPrice('BTC/USDT', '50000');
  binance.setPrice('ETH/USDT', '2500');
  binance.setPrice('SOL/USDT', '100');
  server = await startTestServer({
    OPENCOMMAS_EXCHANGE_URLS: JSON.stringify({ binance: binance.url }),
    OPENCOMMAS_EXCHANGE_RATE_LIMITS: JSON.stringify({ binance: 0 }),
    OPENCOMMAS_PRICE_FRESHNESS: FRESHNESS,
  });
  caller = (
    await userWithKey(server.services, { permissions: ['ACCOUNTS_READ', 'ACCOUNTS_WRITE'] })
  ).credentials;
});
afterAll(async () => {
  await server?.close();
  await binance?.close();
});

let keys = 0;

/** Connects a Binance account holding `balances`; answers its id and its first entity. */
async function connect(balances: Record<string, string>) {
  keys += 1;
  const apiKey = `fresh-key-${keys}`;
  binance.addAccount(apiKey, { secret: 's' });
  for (const [asset, amount] of Object.entries(balances)) binance.setBalance(apiKey, asset, amount);
  const response = await signedPost(server, '/public/api/ver1/accounts/new', caller, {
    type: 'binance',
    name: apiKey,
    api_key: apiKey,
    secret: 's',
  });
  expect(response.status).toBe(201);
  const entity = (await response.json()) as Record<string, unknown>;
  return { id: Number(entity.id), entity };
}

async function loadBalances(id: number): Promise<Record<string, unknown>> {
  const response = await signedPost(
    server,
    `/public/api/ver1/accounts/${id}/load_balances`,
    caller,
  );
  expect(response.status).toBe(201);
  return (await response.json()) as Record<string, unknown>;
}

const tickerRequests = () => binance.stats.byPath[TICKERS] ?? 0;

describe('a refresh shows the prices of now', () => {
  it('load_balances right after a price move values the holdings at the new price', async () => {
    const { id, entity } = await connect({ BTC: '0.5', ETH: '2' });
    expect(entity.usd_amount).toBe('30000.0'); // 0.5 × 50000 + 2 × 2500
    binance.setPrice('ETH/USDT', '3000');
    await pastFreshness();
    // 0.5 × 50000 + 2 × 3000 = 31000, though the last read is far younger than a round
    expect((await loadBalances(id)).usd_amount).toBe('31000.0');
    binance.setPrice('BTC/USDT', '40000');
    await pastFreshness();
    // 0.5 × 40000 + 2 × 3000 = 26000
    expect((await loadBalances(id)).usd_amount).toBe('26000.0');
  });

  it('a burst of refreshes on one exchange shares one tickers read', async () => {
    const accounts = [
      await connect({ SOL: '10' }),
      await connect({ SOL: '20' }),
      await connect({ SOL: '30' }),
    ];
    binance.setPrice('SOL/USDT', '150');
    await pastFreshness();
    const before = tickerRequests();
    const answered = await Promise.all(accounts.map(({ id }) => loadBalances(id)));
    expect(answered.map((entity) => entity.usd_amount)).toEqual(['1500.0', '3000.0', '4500.0']);
    expect(tickerRequests() - before).toBe(1);
  });

  it('a scheduled round still makes one tickers request for every account of the exchange', async () => {
    const { storage } = server.services;
    const ids = (await storage.db.selectFrom('accounts').select('id').execute()).map((a) => a.id);
    expect(ids.length).toBeGreaterThanOrEqual(4);
    binance.setPrice('SOL/USDT', '200');
    await storage.db
      .updateTable('accounts')
      .set({ next_sync_at: new Date(Date.now() - 1000) })
      .execute();
    const startedAt = new Date();
    const before = tickerRequests();
    server.services.worker.start();
    try {
      await waitFor(async () => {
        const rows = await storage.db.selectFrom('accounts').select('last_sync_at').execute();
        return rows.every((row) => row.last_sync_at !== null && row.last_sync_at >= startedAt);
      });
    } finally {
      await server.services.worker.stop();
    }
    expect(tickerRequests() - before).toBe(1);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

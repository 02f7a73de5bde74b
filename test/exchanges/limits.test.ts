import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExchangeClients } from '../../src/exchanges/clients.ts';
import { ExchangeConnector } from '../../src/exchanges/connector.ts';
import { DEFAULT_RETRY } from '../../src/exchanges/retry.ts';
import { findMarket } from '../../src/markets/index.ts';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';

// Exchange manners, measured at the exchange: requests of many accounts share one per-IP
// budget, and each key is paced on its own.

let binance: Awaited<ReturnType<typeof startFakeBinance>>;

beforeAll(async () => {
  binance = await startFakeBinance({ perKeyRequestsPerSecond: 5 });
  binance.setPrice('BTC/USDT', '50000');
  for (let i = 0; i < 8; i++) {
    binance.addAccount(`k${i}`, { secret: 's', balances: { BTC: { free: '1' } } });
  }
});
afterAll(async () => {
  await binance?.close();
});

function connector(settings: {
  rateLimitMs?: number;
  keyRequestsPerSecond: number;
  spotOnly?: boolean;
}) {
  const market = findMarket('binance');
  if (market?.connector.type !== 'ccxt') throw new Error('binance is an exchange');
  const { spotOnly, ...limits } = settings;
  const wallets = spotOnly ? market.connector.wallets.slice(0, 1) : market.connector.wallets;
  return new ExchangeConnector(
    new ExchangeClients(
      { ...market.connector, wallets },
      { origin: binance.url, timeoutMs: 2000, ...limits },
    ),
    DEFAULT_RETRY,
  );
}

/**
 * A Binance account is read wallet by wallet: spot, funding, Simple Earn flexible and locked,
 * four signed requests a read.
 */
const SPOT = '/api/v3/account';
const WALLETS_PER_READ = 4;
const arrivalTimes = (filter: (a: { path: string; apiKey: string | undefined }) => boolean) =>
  binance.stats.arrivals.filter(filter).map((a) => a.at);

describe('rate limits as the exchange sees them', () => {
  it('accounts on one exchange share the per-IP budget instead of each having all of it', async () => {
    // ccxt weighs a Binance spot balance read at 4–5 units: at 20 ms a unit, one per 80–100 ms.
    // Measured on the spot wallet alone: the other wallets' reads weigh 0.1 (funding) to 15
    // (Simple Earn) units, which would leave single gaps saying nothing of the shared budget.
    const exchange = connector({ rateLimitMs: 20, keyRequestsPerSecond: 100, spotOnly: true });
    await exchange.clients.loadMarkets();
    binance.resetStats();
    const asked = Date.now();
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => exchange.fetchHoldings({ apiKey: `k${i}`, secret: 's' })),
    );
    const times = arrivalTimes(() => true);
    expect(times).toHaveLength(8);
    // Eight accounts asked at once still leave one by one, ~80 ms apart: the last cannot arrive
    // before 7 such gaps have passed since they were asked. (A lower bound a busy machine can
    // only lengthen; gaps between arrivals can shrink when the server is the one held up.)
    expect((times.at(-1) ?? 0) - asked).toBeGreaterThanOrEqual(7 * 70);
  });

  it('one key’s requests are paced under its own limit: no 429 however many are asked', async () => {
    const exchange = connector({ rateLimitMs: 0, keyRequestsPerSecond: 4 });
    binance.resetStats();
    const asked = Date.now();
    // Two reads of four wallets: eight requests of one key.
    await Promise.all(
      Array.from({ length: 2 }, () => exchange.fetchHoldings({ apiKey: 'k0', secret: 's' })),
    );
    expect(binance.stats.rateLimited).toBe(0);
    const times = arrivalTimes((a) => a.apiKey === 'k0');
    expect(times).toHaveLength(2 * WALLETS_PER_READ);
    // Paced at 4 a second: the last of eight cannot arrive before seven gaps of 250 ms have
    // passed since they were asked (a bound a busy machine can only lengthen). The exchange's
    // own limit is checked where it counts: the stand-in answered no 429.
    expect((times.at(-1) ?? 0) - asked).toBeGreaterThanOrEqual(7 * 240);
  });

  it('keys are paced apart: one key’s budget does not hold back the others', async () => {
    const exchange = connector({ rateLimitMs: 0, keyRequestsPerSecond: 1 });
    await exchange.clients.loadMarkets();
    binance.resetStats();
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => exchange.fetchHoldings({ apiKey: `k${i}`, secret: 's' })),
    );
    // Each key's first request (its spot read) goes at once: sharing one 1-per-second budget
    // would spread those eight over 7 s (and the 32 requests over 31 s).
    const times = arrivalTimes((a) => a.path === SPOT);
    expect(times).toHaveLength(8);
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeLessThan(3000);
  });
});

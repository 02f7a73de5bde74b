import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExchangeClients } from '../../src/exchanges/clients.ts';
import { ExchangeConnector } from '../../src/exchanges/connector.ts';
import { DEFAULT_RETRY } from '../../src/exchanges/retry.ts';
import { findMarket } from '../../src/markets/index.ts';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';
import { startFakeOkx } from '../support/exchanges/okx-server.ts';

// Prices at a moment in the past from the exchange's candles (Binance klines, OKX candles and
// history-candles), by the same routes as the tickers: ASSET/stablecoin, ASSET/BTC × BTC/USD.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = Date.now();

let binance: Awaited<ReturnType<typeof startFakeBinance>>;
let okx: Awaited<ReturnType<typeof startFakeOkx>>;

/** The same price history on both: ETH 2000 then 3000; SOL only against BTC; BTC 40000. */
function history(standIn: { setPrice: (symbol: string, last: string, at?: number) => void }) {
  standIn.setPrice('BTC/USDT', '40000', now - 5 * DAY);
  standIn.setPrice('ETH/USDT', '2000', now - 5 * DAY);
  standIn.setPrice('ETH/USDT', '3000', now - HOUR);
  standIn.setPrice('SOL/BTC', '0.004', now - 5 * DAY);
  standIn.setPrice('SOL/BTC', '0.005', now - HOUR);
}

beforeAll(async () => {
  binance = await startFakeBinance();
  okx = await startFakeOkx();
  history(binance);
  history(okx);
});
afterAll(async () => {
  await binance?.close();
  await okx?.close();
});

function connector(marketCode: 'binance' | 'okex', origin: string): ExchangeConnector {
  const market = findMarket(marketCode);
  if (market?.connector.type !== 'ccxt') throw new Error(`${marketCode} is an exchange`);
  const clients = new ExchangeClients(market.connector, {
    origin,
    rateLimitMs: 0,
    timeoutMs: 2000,
    keyRequestsPerSecond: 1000,
  });
  return new ExchangeConnector(clients, { ...DEFAULT_RETRY, baseDelayMs: 10 });
}

describe.each([
  ['binance', () => binance, '/api/v3/klines'],
  ['okex', () => okx, '/api/v5/market/history-candles'],
] as const)('%s candles', (marketCode, standIn, oldCandlesPath) => {
  it('values each asset at its own moment, not at today’s price', async () => {
    const prices = await connector(marketCode, standIn().url).fetchPricesAt([
      { asset: 'ETH', at: new Date(now - 2 * HOUR) }, // before the move to 3000
      { asset: 'ETH', at: new Date(now - 10 * 60_000) }, // after it
      { asset: 'SOL', at: new Date(now - 3 * DAY) }, // 0.004 BTC × 40000 = 160
      { asset: 'USDT', at: new Date(now - 3 * DAY) }, // a stablecoin at face value
    ]);
    expect(prices).toEqual([
      { usd: '2000', btcUsd: '40000' },
      { usd: '3000', btcUsd: '40000' },
      { usd: '160', btcUsd: '40000' },
      { usd: '1', btcUsd: '40000' },
    ]);
  });

  it('reads each candle once, however many moments share it', async () => {
    standIn().resetStats();
    const at = new Date(now - 3 * DAY);
    await connector(marketCode, standIn().url).fetchPricesAt([
      { asset: 'ETH', at },
      { asset: 'ETH', at },
    ]);
    // One BTC/USDT candle and one ETH/USDT candle, three days back (OKX: its history
    // endpoint, past the 1440 bars `market/candles` keeps).
    expect(standIn().stats.byPath[oldCandlesPath]).toBe(2);
  });

  it('has no price for a moment before any candle', async () => {
    const prices = await connector(marketCode, standIn().url).fetchPricesAt([
      { asset: 'ETH', at: new Date(now - 30 * DAY) },
    ]);
    expect(prices).toEqual([null]);
  });
});

describe('an exchange that keeps minute candles for a day only', () => {
  it('values an older moment at the hourly candle containing it', async () => {
    const keeper = await startFakeBinance({ minuteCandlesFrom: now - DAY });
    try {
      const at = now - 3 * DAY;
      const hourStart = at - (at % HOUR);
      keeper.setPrice('BTC/USDT', '40000', now - 5 * DAY);
      keeper.setPrice('ETH/USDT', '2000', now - 5 * DAY);
      keeper.setPrice('ETH/USDT', '2500', hourStart + 59 * 60_000); // late in that hour
      keeper.setPrice('ETH/USDT', '3000', now - HOUR);
      const prices = await connector('binance', keeper.url).fetchPricesAt([
        { asset: 'ETH', at: new Date(hourStart) },
      ]);
      // No minute candle three days back; the hour's candle closes at 2500.
      expect(prices).toEqual([{ usd: '2500', btcUsd: '40000' }]);
    } finally {
      await keeper.close();
    }
  });
});

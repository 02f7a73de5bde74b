import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExchangeClients } from '../../src/exchanges/clients.ts';
import { ExchangeConnector } from '../../src/exchanges/connector.ts';
import { DEFAULT_RETRY } from '../../src/exchanges/retry.ts';
import { findMarket } from '../../src/markets/index.ts';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';
import { startFakeOkx } from '../support/exchanges/okx-server.ts';

// A transfer history is read to the cursor whatever the exchange's page size: the stand-ins cap
// pages at 3 rows (Binance's real cap is 1000, OKX's 100), so 8 transfers need several pages,
// and the connector must never take a short page for the last one.

const MINUTE = 60_000;
const DAY = 86_400_000;
const PAGE_CAP = 3;

let binance: Awaited<ReturnType<typeof startFakeBinance>>;
let okx: Awaited<ReturnType<typeof startFakeOkx>>;

beforeAll(async () => {
  binance = await startFakeBinance({ historyPageCap: PAGE_CAP });
  binance.setPrice('BTC/USDT', '50000');
  okx = await startFakeOkx({ historyPageCap: PAGE_CAP });
  okx.setPrice('BTC/USDT', '50000');
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

/** `count` transfers `spacing` apart, the newest `newestAgo` before now: ids `prefix-1`… */
function transfers(prefix: string, count: number, newestAgo: number, spacing = 7 * MINUTE) {
  const now = Date.now();
  return Array.from({ length: count }, (_, index) => ({
    id: `${prefix}-${index + 1}`,
    asset: 'BTC',
    amount: `0.0${index + 1}`,
    timestamp: now - newestAgo - (count - 1 - index) * spacing,
    status: 'ok' as const,
  }));
}

const ids = (read: { transfers: Array<{ id: string }> }) => read.transfers.map((t) => t.id).sort();

describe.each([
  ['binance', () => binance, '/sapi/v1/capital/deposit/hisrec'],
  ['okex', () => okx, '/api/v5/asset/deposit-history'],
] as const)('%s history in pages of 3', (marketCode, standIn, depositPath) => {
  const key = `${marketCode}-pages`;
  const credentials = { apiKey: key, secret: 's', passphrase: 'p' };

  it('reads 8 deposits and 8 withdrawals since the cursor, each once', async () => {
    standIn().addAccount(key, { secret: 's', passphrase: 'p', balances: { BTC: { free: '1' } } });
    for (const t of transfers('d', 8, 2 * MINUTE)) standIn().addDeposit(key, t);
    for (const t of transfers('w', 8, 3 * MINUTE)) standIn().addWithdrawal(key, t);
    standIn().resetStats();
    const exchange = connector(marketCode, standIn().url);
    const read = await exchange.fetchTransfers(credentials, {
      deposits: new Date(Date.now() - 2 * DAY),
      withdrawals: new Date(Date.now() - 2 * DAY),
    });
    expect(ids(read)).toEqual([
      ...['d-1', 'd-2', 'd-3', 'd-4', 'd-5', 'd-6', 'd-7', 'd-8'].map((id) => `deposit:${id}`),
      ...['w-1', 'w-2', 'w-3', 'w-4', 'w-5', 'w-6', 'w-7', 'w-8'].map((id) => `withdrawal:${id}`),
    ]);
    expect(new Set(read.transfers.map((t) => t.id)).size).toBe(16); // none twice
    // Each next page ends a second past the previous page's oldest row (ccxt may read times to
    // the second), so it repeats that row: 3 new, then 2 + 2 + 1 new, then a page with nothing
    // new ends the read — 8 rows in 5 requests.
    expect(standIn().stats.byPath[depositPath]).toBe(5);
  });

  it('reads more than a page that arrived between two reads, and misses none', async () => {
    const exchange = connector(marketCode, standIn().url);
    const first = await exchange.fetchTransfers(credentials, {});
    const cursors = {
      deposits: first.next.deposits ?? undefined,
      withdrawals: first.next.withdrawals ?? undefined,
    };
    for (const t of transfers('late', 8, 0, 2 * MINUTE)) {
      standIn().addDeposit(key, { ...t, timestamp: Math.min(t.timestamp, Date.now()) });
    }
    const second = await exchange.fetchTransfers(credentials, cursors);
    const late = ids(second).filter((id) => id.startsWith('deposit:late-'));
    expect(late).toEqual(
      ['1', '2', '3', '4', '5', '6', '7', '8'].map((n) => `deposit:late-${n}`).sort(),
    );
  });
});

describe('Binance history older than one 90-day window', () => {
  it('walks the windows from the cursor to now, none longer than Binance allows', async () => {
    const key = 'binance-windows';
    binance.addAccount(key, { secret: 's', balances: { BTC: { free: '1' } } });
    const now = Date.now();
    // 150 days and 20 days ago: two different 90-day windows from a cursor 200 days back.
    binance.addDeposit(key, { ...transfers('old', 1, 0)[0]!, timestamp: now - 150 * DAY });
    binance.addDeposit(key, { ...transfers('recent', 1, 0)[0]!, timestamp: now - 20 * DAY });
    const read = await connector('binance', binance.url).fetchTransfers(
      { apiKey: key, secret: 's' },
      { deposits: new Date(now - 200 * DAY), withdrawals: new Date(now - DAY) },
    );
    // The stand-in answers -1127 to a span over 90 days: a read that asked for one would fail.
    expect(ids(read)).toEqual(['deposit:old-1', 'deposit:recent-1']);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExchangeClients } from '../../src/exchanges/clients.ts';
import { ExchangeConnector, toDecimal } from '../../src/exchanges/connector.ts';
import { DEFAULT_RETRY } from '../../src/exchanges/retry.ts';
import { findMarket } from '../../src/markets/index.ts';
import { startFakeBinance } from '../support/exchanges/binance-server.ts';

// The connector's own judgement on what ccxt hands back: unreadable answers are failures, and
// transfer cursors move so that no later transfer falls outside an exchange's history window.

const DAY = 86_400_000;
let binance: Awaited<ReturnType<typeof startFakeBinance>>;
const credentials = { apiKey: 'cursor-key', secret: 's' };

beforeAll(async () => {
  binance = await startFakeBinance();
  binance.setPrice('BTC/USDT', '50000');
  binance.addAccount('cursor-key', { secret: 's', balances: { BTC: { free: '1' } } });
});
afterAll(async () => {
  await binance?.close();
});

function connector(): ExchangeConnector {
  const market = findMarket('binance');
  if (market?.connector.type !== 'ccxt') throw new Error('binance is an exchange');
  const clients = new ExchangeClients(market.connector, {
    origin: binance.url,
    rateLimitMs: 0,
    timeoutMs: 2000,
    keyRequestsPerSecond: 100,
  });
  return new ExchangeConnector(clients, { ...DEFAULT_RETRY, baseDelayMs: 10 });
}

describe('ExchangeConnector', () => {
  it('does not keep an unreadable markets answer as "no markets": it asks again', async () => {
    binance.fail({ kind: 'malformedJson', path: '/api/v3/exchangeInfo' });
    binance.resetStats();
    const holdings = await connector().fetchHoldings(credentials);
    expect(Object.fromEntries(holdings.total)).toEqual({ BTC: '1' });
    expect(binance.stats.byPath['/api/v3/exchangeInfo']).toBe(2);
  });

  it('moves the transfer cursor to the read, so an old cursor cannot hide new transfers', async () => {
    const exchange = connector();
    // Nothing for 200 days: the next read must not start 200 days back (Binance serves 90).
    const first = await exchange.fetchTransfers(credentials, {
      deposits: new Date(Date.now() - 200 * DAY),
    });
    expect(first.transfers).toEqual([]);
    expect(Date.now() - (first.next.deposits?.getTime() ?? 0)).toBeLessThan(60_000);

    binance.addDeposit('cursor-key', {
      id: 'new-dep',
      asset: 'BTC',
      amount: '0.5',
      timestamp: Date.now(),
      status: 'ok',
    });
    const second = await exchange.fetchTransfers(credentials, {
      deposits: first.next.deposits ?? undefined,
      withdrawals: first.next.withdrawals ?? undefined,
    });
    expect(second.transfers.map((t) => [t.id, t.amount])).toEqual([['deposit:new-dep', '0.5']]);
  });

  it('never moves the cursor past a transfer still pending', async () => {
    const pendingAt = Date.now() - 2 * DAY;
    binance.addDeposit('cursor-key', {
      id: 'slow-dep',
      asset: 'BTC',
      amount: '0.25',
      timestamp: pendingAt,
      status: 'pending',
    });
    const read = await connector().fetchTransfers(credentials, {
      deposits: new Date(Date.now() - 10 * DAY),
    });
    expect(read.transfers.map((t) => t.id)).not.toContain('deposit:slow-dep');
    expect(read.next.deposits?.getTime()).toBe(pendingAt);
  });
});

describe('toDecimal: what ccxt hands back, as the decimal the exchange sent', () => {
  it.each([
    [0.1, '0.1'],
    [1e-7, '0.0000001'],
    [60010.25, '60010.25'],
    ['0.00012345', '0.00012345'],
    [0, '0'],
  ])('%s → %s', (value, decimal) => {
    expect(toDecimal(value)).toBe(decimal);
  });

  it.each([undefined, null, Number.NaN, Number.POSITIVE_INFINITY, -1, 'abc'])(
    '%s → null',
    (value) => {
      expect(toDecimal(value)).toBeNull();
    },
  );
});

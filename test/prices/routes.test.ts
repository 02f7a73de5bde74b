import { describe, expect, it } from 'vitest';
import { priceTable, type Quote } from '../../src/prices/routes.ts';

const q = (symbol: string, last: string): Quote => {
  const [base = '', quote = ''] = symbol.split('/');
  return { base, quote, last };
};

describe('priceTable: every asset priced by the first route that exists', () => {
  it('prefers ASSET/USD, then a dollar stablecoin, then ASSET/BTC × BTC/USD', () => {
    const table = priceTable([
      q('BTC/USDT', '60000'),
      q('ETH/USD', '3000.25'),
      q('ETH/USDT', '2999'),
      q('SOL/USDC', '150.5'),
      q('XMR/BTC', '0.0025'),
    ]);
    expect(table.btcUsd).toBe('60000');
    expect(table.usd.ETH).toBe('3000.25'); // the USD pair wins over USDT
    expect(table.usd.SOL).toBe('150.5'); // a stablecoin pair at face value
    expect(table.usd.XMR).toBe('150'); // 0.0025 × 60000, exactly
  });

  it('counts a stablecoin with no USD pair as 1 USD, but uses a USD pair when there is one', () => {
    expect(priceTable([q('BTC/USDT', '60000')]).usd.USDT).toBe('1');
    expect(priceTable([q('USDT/USD', '0.9991'), q('BTC/USD', '1')]).usd.USDT).toBe('0.9991');
  });

  it('leaves an asset with no route out instead of pricing it at 0', () => {
    const table = priceTable([q('BTC/USDT', '60000'), q('DUST/EUR', '0.1')]);
    expect(table.usd).not.toHaveProperty('DUST');
    expect(table.usd).not.toHaveProperty('EUR');
  });

  it('has no BTC/USD when the exchange quotes no bitcoin in dollars', () => {
    const table = priceTable([q('ETH/EUR', '2800'), q('XMR/BTC', '0.0025')]);
    expect(table.btcUsd).toBeNull();
    expect(table.usd).not.toHaveProperty('XMR');
  });

  it('ignores zero and negative last prices (no trades yet)', () => {
    const table = priceTable([q('BTC/USDT', '60000'), q('NEW/USDT', '0'), q('NEW/BTC', '0.00001')]);
    expect(table.usd.NEW).toBe('0.6');
  });

  it('keeps decimals exact through the BTC route', () => {
    const table = priceTable([q('BTC/USD', '67123.45'), q('DOGE/BTC', '0.00000213')]);
    expect(table.usd.DOGE).toBe('0.1429729485');
  });
});

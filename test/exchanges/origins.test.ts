import ccxt from 'ccxt';
import { describe, expect, it } from 'vitest';
import { withOrigin } from '../../src/exchanges/origins.ts';

/** Every URL string in a ccxt `urls.api` tree. */
function urlsOf(tree: unknown): string[] {
  if (typeof tree === 'string') return [tree];
  if (tree && typeof tree === 'object') return Object.values(tree).flatMap(urlsOf);
  return [];
}

describe('withOrigin: one origin for every URL ccxt uses for a market', () => {
  it.each(['binance', 'okx', 'kraken', 'bybit', 'kucoin', 'gate', 'coinbase', 'bitfinex'])(
    '%s: every API URL moves to the new origin with its path kept',
    (id) => {
      const exchange = new (
        ccxt as unknown as Record<string, new () => { urls: { api: unknown } }>
      )[id]!();
      const before = urlsOf(exchange.urls.api);
      const after = urlsOf(withOrigin(exchange.urls.api, 'http://127.0.0.1:9001/'));
      expect(after).toHaveLength(before.length);
      expect(before.length).toBeGreaterThan(0);
      after.forEach((url, i) => {
        expect(url.startsWith('http://127.0.0.1:9001')).toBe(true);
        const path = (before[i] ?? '').replace(/^[a-z]+:\/\/[^/]+/i, '');
        expect(url).toBe(`http://127.0.0.1:9001${path}`);
      });
    },
  );

  it('leaves the original tree untouched', () => {
    const api = { public: 'https://api.example.com/v1' };
    withOrigin(api, 'http://localhost:1');
    expect(api.public).toBe('https://api.example.com/v1');
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDuration } from '../src/config.ts';

describe('sync configuration', () => {
  it('defaults: every 5 minutes, binance prices the wallets, public chain endpoints', () => {
    const { sync } = loadConfig({});
    expect(sync.intervalMs).toBe(300_000);
    expect(sync.priceExchange).toBe('binance');
    expect(sync.exchangeUrls).toEqual({});
    expect(sync.btcEsploraUrl).toBe('https://blockstream.info/api');
  });

  it('reads durations, origin overrides and rate limits', () => {
    const { sync } = loadConfig({
      OPENCOMMAS_SYNC_INTERVAL: '30s',
      OPENCOMMAS_EXCHANGE_TIMEOUT: '1500ms',
      OPENCOMMAS_EXCHANGE_URLS: '{"binance": "http://127.0.0.1:9001/"}',
      OPENCOMMAS_EXCHANGE_RATE_LIMITS: '{"binance": 0}',
    });
    expect(sync.intervalMs).toBe(30_000);
    expect(sync.timeoutMs).toBe(1500);
    expect(sync.exchangeUrls).toEqual({ binance: 'http://127.0.0.1:9001' });
    expect(sync.exchangeRateLimits).toEqual({ binance: 0 });
  });

  it.each([
    ['OPENCOMMAS_SYNC_INTERVAL', 'soon'],
    ['OPENCOMMAS_SYNC_INTERVAL', '0s'],
    ['OPENCOMMAS_EXCHANGE_URLS', '{"binance": "ftp://x"}'],
    ['OPENCOMMAS_EXCHANGE_URLS', '["http://x"]'],
    ['OPENCOMMAS_EXCHANGE_URLS', 'not json'],
    ['OPENCOMMAS_EXCHANGE_RATE_LIMITS', '{"binance": -1}'],
    ['OPENCOMMAS_SYNC_CONCURRENCY', '0'],
  ])('refuses %s=%s with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('parses durations: bare numbers are seconds', () => {
    expect(parseDuration('X', '5m')).toBe(300_000);
    expect(parseDuration('X', '2')).toBe(2000);
    expect(parseDuration('X', '1h')).toBe(3_600_000);
  });
});

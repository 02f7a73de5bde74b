import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDuration } from '../src/config.ts';

describe('session configuration', () => {
  it('defaults: sessions last 7 days, sign-in links 15 minutes', () => {
    expect(loadConfig({}).sessions).toEqual({ ttlMs: 7 * 86_400_000, loginLinkTtlMs: 900_000 });
  });

  it('reads OPENCOMMAS_SESSION_TTL and OPENCOMMAS_LOGIN_LINK_TTL as durations', () => {
    const { sessions } = loadConfig({
      OPENCOMMAS_SESSION_TTL: '12h',
      OPENCOMMAS_LOGIN_LINK_TTL: '90',
    });
    expect(sessions).toEqual({ ttlMs: 12 * 3_600_000, loginLinkTtlMs: 90_000 });
  });

  it.each([
    ['OPENCOMMAS_SESSION_TTL', 'forever'],
    ['OPENCOMMAS_LOGIN_LINK_TTL', '0m'],
  ])('refuses %s=%s with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

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

describe('production configuration', () => {
  it('defaults: 100 requests a minute per key, 5 minutes refused, no trusted proxy', () => {
    const config = loadConfig({});
    expect(config.limits).toEqual({
      rate: { points: 100, windowMs: 60_000 },
      blockMs: 300_000,
      onDemandCooldownMs: 30_000,
    });
    expect(config.http.trustProxy).toEqual([]);
    expect(config.http.bodyLimit).toBe(1024 * 1024);
    expect(config.metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(config.shutdownGraceMs).toBe(10_000);
    expect(config.demo).toBe('auto');
    expect(config.database.statementTimeoutMs).toBe(15_000);
    expect(config.processes).toBe(1);
  });

  it('reads limits, proxies, metrics and the demo switch', () => {
    const config = loadConfig({
      OPENCOMMAS_RATE_LIMIT: '40/10s',
      OPENCOMMAS_RATE_LIMIT_BLOCK: '10s',
      OPENCOMMAS_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1/128',
      OPENCOMMAS_METRICS_PORT: 'off',
      OPENCOMMAS_DEMO: 'on',
      OPENCOMMAS_SHUTDOWN_GRACE: '3s',
    });
    expect(config.limits.rate).toEqual({ points: 40, windowMs: 10_000 });
    expect(config.limits.blockMs).toBe(10_000);
    expect(config.http.trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1', '::1/128']);
    expect(config.metrics).toBeNull();
    expect(config.demo).toBe('on');
    expect(config.shutdownGraceMs).toBe(3000);
    expect(loadConfig({ OPENCOMMAS_RATE_LIMIT: 'off' }).limits.rate).toBeNull();
    expect(loadConfig({ OPENCOMMAS_DEMO: 'off' }).demo).toBe('off');
    expect(loadConfig({ OPENCOMMAS_PROCESSES: '4' }).processes).toBe(4);
  });

  it.each([
    ['OPENCOMMAS_RATE_LIMIT', '100'],
    ['OPENCOMMAS_RATE_LIMIT', '0/1m'],
    ['OPENCOMMAS_RATE_LIMIT', '100/soon'],
    ['OPENCOMMAS_RATE_LIMIT', '1/1m/2'],
    ['OPENCOMMAS_TRUST_PROXY', '10.0.0.0/33'],
    ['OPENCOMMAS_TRUST_PROXY', 'proxy.local'],
    ['OPENCOMMAS_METRICS_PORT', '70000'],
    ['OPENCOMMAS_SHUTDOWN_GRACE', 'never'],
    ['OPENCOMMAS_DEMO', 'maybe'],
    ['OPENCOMMAS_PROCESSES', '0'],
    ['OPENCOMMAS_PROCESSES', 'two'],
  ])('refuses %s=%s with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

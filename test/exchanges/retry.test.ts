import { describe, expect, it } from 'vitest';
import ccxt from 'ccxt';
import { SourceError, classifyCcxtError, parseRetryAfter } from '../../src/exchanges/failures.ts';
import { withRetry, type RetryPolicy } from '../../src/exchanges/retry.ts';

const fast: RetryPolicy = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 200 };
const asIs = (error: unknown) =>
  error instanceof SourceError ? error : new SourceError('error', String(error));

function failing(errors: SourceError[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    work: async () => {
      const error = errors[calls++];
      if (error) throw error;
      return 'ok';
    },
  };
}

describe('withRetry', () => {
  it('retries an unavailable source, then succeeds', async () => {
    const source = failing([new SourceError('unavailable', 'timeout')]);
    await expect(withRetry(source.work, asIs, fast)).resolves.toBe('ok');
    expect(source.calls).toBe(2);
  });

  it('gives up after the last attempt with the source error', async () => {
    const down = new SourceError('unavailable', '502');
    const source = failing([down, down, down, down]);
    await expect(withRetry(source.work, asIs, fast)).rejects.toBe(down);
    expect(source.calls).toBe(3);
  });

  it('never retries refused credentials', async () => {
    const source = failing([new SourceError('credentials', 'Invalid API-key')]);
    await expect(withRetry(source.work, asIs, fast)).rejects.toMatchObject({ kind: 'credentials' });
    expect(source.calls).toBe(1);
  });

  it('waits out a short Retry-After and tells the caller to hold back', async () => {
    const held: number[] = [];
    const source = failing([new SourceError('rate_limited', '429', 60)]);
    const started = Date.now();
    await expect(withRetry(source.work, asIs, fast, (ms) => held.push(ms))).resolves.toBe('ok');
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    expect(held[0]).toBeGreaterThanOrEqual(60);
  });

  it('ends the round on a Retry-After longer than it will wait', async () => {
    const source = failing([new SourceError('rate_limited', '418', 60_000)]);
    await expect(withRetry(source.work, asIs, fast)).rejects.toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 60_000,
    });
    expect(source.calls).toBe(1);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(2)).toBe(2000);
    const now = Date.parse('2026-11-25T10:00:00Z');
    expect(parseRetryAfter('Wed, 25 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('classifyCcxtError', () => {
  it('keeps the exchange’s reason but cuts query strings, which may carry credentials', () => {
    const error = classifyCcxtError(
      new ccxt.AuthenticationError(
        'binance GET https://api.binance.com/api/v3/account?timestamp=1&signature=abc&apiKey=K 401 {"code":-2015}',
      ),
    );
    expect(error.kind).toBe('credentials');
    expect(error.message).toContain('https://api.binance.com/api/v3/account?…');
    expect(error.message).toContain('-2015');
    expect(error.message).not.toContain('signature=');
    expect(error.message).not.toContain('apiKey=K');
  });

  it.each([
    [new ccxt.PermissionDenied('no'), 'credentials'],
    [new ccxt.RateLimitExceeded('slow down'), 'rate_limited'],
    [new ccxt.DDoSProtection('418'), 'rate_limited'],
    [new ccxt.RequestTimeout('timeout'), 'unavailable'],
    [new ccxt.ExchangeNotAvailable('502'), 'unavailable'],
    [new ccxt.BadResponse('garbage'), 'unavailable'],
    [new ccxt.InsufficientFunds('?'), 'error'],
  ])('%s → %s', (thrown, kind) => {
    expect(classifyCcxtError(thrown).kind).toBe(kind);
  });
});

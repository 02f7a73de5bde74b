import type { SourceError } from './failures.ts';

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After we wait out within one round; longer ones end the round. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 3,
  baseDelayMs: 250,
  maxDelayMs: 4000,
  maxRetryAfterMs: 10_000,
};

/**
 * Runs `work`, retrying what is worth retrying: unavailability with exponential backoff and full
 * jitter (so a thousand accounts that failed together don't come back together), and rate
 * limits after the delay the exchange asked for. Credential and other errors are final.
 * `onRateLimited` lets the caller hold back every request to that exchange meanwhile.
 */
export async function withRetry<T>(
  work: () => Promise<T>,
  classify: (error: unknown) => SourceError,
  policy: RetryPolicy,
  onRateLimited?: (delayMs: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (thrown) {
      const error = classify(thrown);
      const last = attempt >= policy.attempts;
      if (last || (error.kind !== 'unavailable' && error.kind !== 'rate_limited')) throw error;
      const backoff = jitter(Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)));
      let delay = backoff;
      if (error.kind === 'rate_limited') {
        const asked = error.retryAfterMs ?? backoff;
        if (asked > policy.maxRetryAfterMs) throw error;
        delay = Math.max(asked, backoff);
        onRateLimited?.(delay);
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** "Full jitter": uniformly between half the delay and the delay. */
const jitter = (ms: number) => ms / 2 + Math.random() * (ms / 2);

interface Limiter {
  /** Resolves when this key may send its next request. */
  throttle(): Promise<void>;
  nextAt: number;
}

/** Forget a key's limiter once it has been idle this long: a fresh one behaves the same. */
const IDLE_MS = 30_000;

/**
 * Paces each API key: its requests leave at least `1 / requestsPerSecond` apart, with no burst,
 * so no one-second window ever holds more than the budget — whatever window the exchange uses.
 */
export class KeyLimiters {
  private readonly limiters = new Map<string, Limiter>();
  private readonly spacingMs: number;
  private lastSweep = Date.now();

  constructor(requestsPerSecond: number) {
    this.spacingMs = 1000 / requestsPerSecond;
  }

  for(apiKey: string): Limiter {
    const now = Date.now();
    if (now - this.lastSweep > IDLE_MS) this.sweep(now);
    let limiter = this.limiters.get(apiKey);
    if (!limiter) {
      const created: Limiter = {
        nextAt: 0,
        throttle: async () => {
          const at = Math.max(Date.now(), created.nextAt);
          created.nextAt = at + this.spacingMs;
          const wait = at - Date.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        },
      };
      limiter = created;
      this.limiters.set(apiKey, limiter);
    }
    return limiter;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, limiter] of this.limiters) {
      if (now - limiter.nextAt > IDLE_MS) this.limiters.delete(key);
    }
  }
}

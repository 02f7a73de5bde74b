import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** One family of counters: `points` per `durationMs`, refused for `blockMs` once over. */
export interface CounterSpec {
  /** Key prefix; every family shares one table on PostgreSQL. */
  name: string;
  points: number;
  durationMs: number;
  blockMs?: number;
}

/** Where rate-limiter-flexible keeps its counters: this process's memory, or PostgreSQL. */
export interface CounterStore {
  readonly kind: 'memory' | 'postgres';
  counter(spec: CounterSpec): RateLimiterAbstract;
  close(): Promise<void>;
}

/** The library's options for one family of counters. */
export const limiterOptions = (spec: CounterSpec) => ({
  keyPrefix: spec.name,
  points: spec.points,
  // The library counts in seconds; fractions are honoured (it multiplies by 1000).
  duration: spec.durationMs / 1000,
  blockDuration: (spec.blockMs ?? 0) / 1000,
});

/** The embedded default: one process, so counters in memory cost no round trip. */
export function memoryCounters(): CounterStore {
  return {
    kind: 'memory',
    counter: (spec) => new RateLimiterMemory(limiterOptions(spec)),
    close: async () => undefined,
  };
}

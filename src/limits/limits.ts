import type { LimitsConfig } from '../config.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { memoryCounters, type CounterStore } from './counters.ts';
import { RequestLimiter } from './request-limiter.ts';
import { SyncCooldowns } from './sync-cooldowns.ts';

/** What the API asks of the limits; with `OPENCOMMAS_RATE_LIMIT=off` every answer is "go on". */
export interface Limits {
  /** Null when limits are off. */
  readonly requests: RequestLimiter | null;
  readonly cooldowns: SyncCooldowns | null;
  /** `off`, or what is enforced and where it is counted. */
  describe(): string;
  close(): Promise<void>;
}

export const NO_LIMITS: Limits = {
  requests: null,
  cooldowns: null,
  describe: () => 'off',
  close: async () => undefined,
};

export interface LimitsOptions {
  /** PostgreSQL: counters shared by every process on that database. Absent: in memory. */
  databaseUrl?: string | undefined;
  connectTimeoutMs?: number | undefined;
  logger?: Logger | undefined;
}

/** Counters every process on the database shares (pg is loaded only here, on PostgreSQL). */
async function sharedCounters(
  url: string,
  connectTimeoutMs: number | undefined,
  logger: Logger,
): Promise<CounterStore> {
  const { postgresCounters } = await import('./postgres-counters.ts');
  return postgresCounters(url, {
    connectTimeoutMs,
    onError: (error) => logger.warn({ err: error }, 'rate limit store: connection lost'),
  });
}

/** Opens the limits of `config` (nothing when `rate` is null: `off` disables all of them). */
export async function openLimits(config: LimitsConfig, options: LimitsOptions): Promise<Limits> {
  const rate = config.rate;
  if (rate === null) return NO_LIMITS;
  const logger = options.logger ?? silentLogger;
  const store = options.databaseUrl
    ? await sharedCounters(options.databaseUrl, options.connectTimeoutMs, logger)
    : memoryCounters();
  const requests = new RequestLimiter(store, rate, config.blockMs, logger);
  return {
    requests,
    cooldowns: new SyncCooldowns(store, config.onDemandCooldownMs),
    describe: () =>
      `on (${store.kind === 'postgres' ? 'PostgreSQL' : 'memory'}): ${requests.describe()}`,
    close: () => store.close(),
  };
}

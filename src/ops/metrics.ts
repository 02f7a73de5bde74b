import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { cacheBytes, flushCacheLookups } from '../cache/bounded-cache.ts';

/**
 * The process's Prometheus metrics, defined once. Domain code only counts (`metrics.x.inc()`);
 * `ops/metrics-server.ts` serves the registry on its own listener. One registry per process:
 * several services in one process (tests) add to the same counters, which is what a scrape of
 * that process should show.
 */
export const registry = new Registry();

// A cached page answers in well under a millisecond; the low buckets keep that visible.
const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export const metrics = {
  httpRequests: new Counter({
    name: 'opencommas_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  }),
  httpDuration: new Histogram({
    name: 'opencommas_http_request_duration_seconds',
    help: 'Time from request to response, by route pattern and method',
    labelNames: ['route', 'method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  cacheLookups: new Counter({
    name: 'opencommas_cache_lookups_total',
    help: 'Cache lookups by cache (keys, unknown_keys, signatures, pages) and result (hit, miss, bypass)',
    labelNames: ['cache', 'result'] as const,
    registers: [registry],
    // Counted in plain numbers on the hot path, added here when scraped.
    collect() {
      flushCacheLookups(this);
    },
  }),
  cacheBytes: new Gauge({
    name: 'opencommas_cache_bytes',
    help: 'Bytes held by each cache (its own estimate, the one its budget is checked against)',
    labelNames: ['cache'] as const,
    registers: [registry],
    collect() {
      for (const { cache, bytes } of cacheBytes()) this.set({ cache }, bytes);
    },
  }),
  cacheBudget: new Gauge({
    name: 'opencommas_cache_budget_bytes',
    help: 'Byte budget of each cache: it evicts its least recently used entries past this',
    labelNames: ['cache'] as const,
    registers: [registry],
    collect() {
      for (const { cache, budget } of cacheBytes()) this.set({ cache }, budget);
    },
  }),
  refusals: new Counter({
    name: 'opencommas_rate_limit_refusals_total',
    help: 'Requests refused by a limit: key (over its rate), ip (failed authentication), banned (418), cooldown (on-demand sync)',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
  bans: new Counter({
    name: 'opencommas_ip_bans_total',
    help: 'IP bans imposed (each ban of the ladder counts once)',
    registers: [registry],
  }),
  syncs: new Counter({
    name: 'opencommas_sync_accounts_total',
    help: 'Account syncs finished, by outcome (synced, failed, lost) and trigger (scheduled, on_demand)',
    labelNames: ['outcome', 'trigger'] as const,
    registers: [registry],
  }),
  exchangeRefusals: new Counter({
    name: 'opencommas_exchange_rate_limited_total',
    help: 'Answers from exchanges that push back: status 429 (rate limit) or 418 (IP ban), by market',
    labelNames: ['market', 'status'] as const,
    registers: [registry],
  }),
  snapshotsPruned: new Counter({
    name: 'opencommas_snapshots_pruned_total',
    help: 'Balance snapshots removed by retention (the worker, or opencommas snapshots prune)',
    registers: [registry],
  }),
  syncRoundSeconds: new Gauge({
    name: 'opencommas_sync_last_round_duration_seconds',
    help: 'Duration of the last sync round of this worker: one claimed batch of due accounts, from the claim until its last account is done (batches overlap as slots free up)',
    registers: [registry],
  }),
};

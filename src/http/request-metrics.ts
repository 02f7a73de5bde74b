import type { FastifyInstance } from 'fastify';
import { metrics } from '../ops/metrics.ts';

/** The route label of requests no route matched (scanners, typos): one series, not one per URL. */
const UNMATCHED = 'unmatched';

interface Series {
  count: { inc(): void };
  duration: { observe(seconds: number): void };
}

/**
 * Counts every answer by route pattern (never the raw URL: label values must stay few) and
 * method and status, and observes its latency. Label children are bound once per series and kept,
 * so a request costs a map lookup, an increment and a histogram observation.
 */
export function registerRequestMetrics(app: FastifyInstance): void {
  const series = new Map<string, Series>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED;
    const status = reply.statusCode;
    const key = `${request.method} ${status} ${route}`;
    let bound = series.get(key);
    if (!bound) {
      bound = {
        count: metrics.httpRequests.labels(route, request.method, String(status)),
        duration: metrics.httpDuration.labels(route, request.method),
      };
      series.set(key, bound);
    }
    bound.count.inc();
    bound.duration.observe(reply.elapsedTime / 1000);
    done();
  });
}

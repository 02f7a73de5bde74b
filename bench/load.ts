// One autocannon measurement, with the same settings for every server.
import autocannon from 'autocannon';

export interface LoadSettings {
  connections: number;
  pipelining: number;
  durationS: number;
  warmupS: number;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

/** A discarded warm-up run (JIT, caches, TCP), then the measured run. */
export async function measure(
  url: string,
  headers: Record<string, string>,
  settings: LoadSettings,
): Promise<LoadResult> {
  const run = (duration: number) =>
    autocannon({
      url,
      headers,
      connections: settings.connections,
      pipelining: settings.pipelining,
      duration,
    });
  if (settings.warmupS > 0) await run(settings.warmupS);
  const result = await run(settings.durationS);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

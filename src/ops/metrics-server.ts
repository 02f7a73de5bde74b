import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics } from 'prom-client';
import { httpUrl } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Storage } from '../storage/database.ts';
import { registry } from './metrics.ts';
import { watchStorage } from './storage-gauges.ts';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

let defaultsCollected = false;

/**
 * Serves `GET /metrics` (Prometheus text) on a listener of its own, so metrics never share the
 * public port. Node's defaults (event-loop lag, memory, GC, handles) are collected from the first
 * start in a process on; `storage` is read at each scrape for the pool and sync gauges.
 */
export async function startMetricsServer(
  listen: { port: number; host: string },
  storage: Storage,
): Promise<MetricsServer> {
  if (!defaultsCollected) {
    collectDefaultMetrics({ register: registry });
    defaultsCollected = true;
  }
  const server = createServer((request, response) => {
    // One connection per scrape (every 15 s or so): no idle keep-alive socket for a scraper to
    // reuse just as the server times it out.
    response.shouldKeepAlive = false;
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) =>
        response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Exclusive: in a `serve --processes N` child the listener is this process's own (its own
    // port), not a handle shared through the cluster's primary, where scrapes would rotate.
    server.listen({ port: listen.port, host: listen.host, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const unwatch = watchStorage(storage);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  return {
    url: httpUrl(listen.host, port),
    close: () => {
      unwatch();
      return closeServer(server);
    },
  };
}

/**
 * For processes where metrics are a convenience, not a duty: a listener that cannot be opened
 * (the port is taken by another process on this host, say) is logged and skipped, and the
 * process serves on without metrics rather than refusing to start.
 */
export async function tryStartMetricsServer(
  listen: { port: number; host: string } | null,
  storage: Storage,
  logger: Logger,
): Promise<MetricsServer | undefined> {
  if (!listen) return undefined;
  try {
    const server = await startMetricsServer(listen, storage);
    logger.info({ url: `${server.url}/metrics` }, 'metrics listening');
    return server;
  } catch (error) {
    logger.warn(
      { err: error, host: listen.host, port: listen.port },
      'metrics listener could not start (set OPENCOMMAS_METRICS_PORT to a free port, or off); serving without metrics',
    );
    return undefined;
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Prometheus keeps its scrape connection alive; close must not wait for it to idle out.
    server.closeAllConnections();
  });
}

// One benchmarked server per child process (`node --import tsx bench/servers.ts`), so on a small
// machine the server and autocannon (in the parent) each get a core and do not share an event loop.
// The parent sends what to start over IPC; the child answers with its URL.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as ConfigModule from '../src/config.ts';
import type * as ServerModule from '../src/server.ts';

export type ServerOrder =
  | {
      kind: 'ours';
      dataDir: string;
      /** PostgreSQL instead of the embedded database in `dataDir`, with its master key. */
      postgres?: { url: string; masterKey: string };
    }
  | { kind: 'baseline'; status: number; contentType: string; body: Uint8Array };

/** `limits`: what the server's request limiter enforces (ours only), e.g. to print it. */
export type ServerReady = { url: string; limits?: string };

/**
 * The limiter stays on, as in production, with a budget no run can reach: 100 million requests
 * a minute per key (the bench sends one key's requests at tens of thousands a second).
 */
const BENCH_RATE_LIMIT = '100000000/1m';
/** Asked after the load runs: the server's peak resident memory, in bytes. */
export type MemoryReport = { maxRss: number };

/** The compiled modules `npm start` runs (the parent has made sure dist/ is fresh). */
const compiled = <T>(file: string) =>
  import(new URL(`../dist/${file}`, import.meta.url).href) as Promise<T>;

/** Our real server, as `npm start` runs it (embedded PGlite, or PostgreSQL), on prepared data. */
async function startOurs(order: Extract<ServerOrder, { kind: 'ours' }>) {
  // An explicit environment: a stray DATABASE_URL or master key in the shell must not leak in.
  // Loaded here, not at the top: the baseline child must not carry our modules in its memory.
  const { loadConfig } = await compiled<typeof ConfigModule>('config.js');
  const { startServer } = await compiled<typeof ServerModule>('server.js');
  const config = loadConfig({
    OPENCOMMAS_DATA_DIR: order.dataDir,
    ...(order.postgres
      ? { DATABASE_URL: order.postgres.url, OPENCOMMAS_MASTER_KEY: order.postgres.masterKey }
      : {}),
    // BENCH_RATE_LIMIT=off measures without the limiter, for comparison only.
    OPENCOMMAS_RATE_LIMIT: process.env.BENCH_RATE_LIMIT ?? BENCH_RATE_LIMIT,
    // Metrics served as in production, each child on a free port of its own.
    OPENCOMMAS_METRICS_PORT: '0',
    HOST: '127.0.0.1',
    PORT: '0',
    OPENCOMMAS_DEMO: 'off',
    // Request logging is off at any level, so per request this costs the same as the default
    // `info`; it only keeps the startup line out of the printed table.
    LOG_LEVEL: 'warn',
  });
  const server = await startServer(config);
  return {
    url: server.url,
    limits: server.services.limits.describe(),
    stop: () => server.stop(),
  };
}

/** The floor: the same status, content type and body bytes, with nothing else done. */
async function startBaseline(order: Extract<ServerOrder, { kind: 'baseline' }>) {
  const body = Buffer.from(order.body);
  const headers = { 'content-type': order.contentType, 'content-length': String(body.length) };
  const server = http.createServer((_request, response) => {
    response.writeHead(order.status, headers);
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    limits: undefined,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * VmHWM, not `resourceUsage().maxRSS`: Linux keeps the parent's peak across fork and exec, so a
 * child lighter than the bench process would report the bench's own peak.
 */
function peakRss(): number {
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(hwm?.[1] ?? 0) * 1024;
}

process.once('message', (order: ServerOrder) => {
  // tsx, which runs this file, turns source maps on; `npm start` runs without them, and with them
  // every stack trace taken (an error, a warning) is mapped through the bundle's maps.
  process.setSourceMapsEnabled(false);
  void (async () => {
    const server = order.kind === 'ours' ? await startOurs(order) : await startBaseline(order);
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      // Keep-alive sockets from autocannon would hold close() open; the exit ends them anyway.
      const timer = setTimeout(() => process.exit(0), 2_000);
      await server.stop().catch(() => undefined);
      clearTimeout(timer);
      process.exit(0);
    };
    process.once('SIGTERM', () => void stop());
    // The parent died or let go of us: never outlive it.
    process.once('disconnect', () => void stop());
    process.on('message', (message) => {
      // The peak covers the whole run, not just this moment.
      if (message === 'memory') process.send?.({ maxRss: peakRss() });
    });
    const ready: ServerReady = { url: server.url };
    if (server.limits !== undefined) ready.limits = server.limits;
    process.send?.(ready);
  })().catch((error: unknown) => {
    console.error('bench server failed:', error);
    process.exit(1);
  });
});

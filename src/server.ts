import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { adminToken, resolveMasterKey } from './auth/master-key.ts';
import { ConfigError, httpUrl, type Config } from './config.ts';
import { seedDemo, type DemoCredentials } from './demo/demo.ts';
import { buildApp } from './http/app.ts';
import { createLogger } from './logger.ts';
import { tryStartMetricsServer } from './ops/metrics-server.ts';
import { removeServerFile, runningServer, writeServerFile } from './server-file.ts';
import { createServices, type Services } from './services.ts';
import { openStorage } from './storage/database.ts';

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  url: string;
  /** Where Prometheus metrics are served; undefined when off or the port was taken. */
  metricsUrl: string | undefined;
  /** Set when this start seeded the demo into an empty database. */
  demo: DemoCredentials | undefined;
  stop(): Promise<void>;
}

/** Embedded PGlite keeps its files under the data directory. */
export const pgliteDir = (config: Config) => path.join(config.dataDir, 'pglite');

export interface ServerOptions {
  /** Run scheduled syncs in this process (default); `serve --no-worker` turns it off. */
  worker?: boolean;
}

/** Opens storage, wires the services, seeds the demo on first run and starts listening. */
export async function startServer(
  config: Config,
  options: ServerOptions = {},
): Promise<RunningServer> {
  const embedded = !config.databaseUrl;
  if (embedded) {
    const other = runningServer(config.dataDir);
    if (other) {
      throw new ConfigError(
        `another opencommas server (pid ${other.pid}, ${other.url}) is using ${config.dataDir}`,
      );
    }
  }
  const masterKey = resolveMasterKey(config);
  const logger = createLogger(config.logLevel);
  const storage = await openStorage({
    databaseUrl: config.databaseUrl,
    dataDir: embedded ? pgliteDir(config) : undefined,
    onBackgroundError: (error) => logger.warn({ err: error }, 'database connection lost'),
    pool: config.database,
  });
  const services = await createServices(storage, masterKey, {
    sync: config.sync,
    logger,
    limits: config.limits,
    limitsDatabaseUrl: config.databaseUrl,
  });
  const seedsDemo = config.demo === 'on' || (config.demo === 'auto' && embedded);
  const demo = seedsDemo && (await isEmpty(services)) ? await seedDemo(services) : undefined;
  const app = await buildApp(services, {
    logger,
    adminToken: adminToken(masterKey),
    trustProxy: config.http.trustProxy,
    limits: config.http,
  });
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = httpUrl(config.host, port);
  if (embedded) writeServerFile(config.dataDir, { url, pid: process.pid });
  const metricsServer = await tryStartMetricsServer(config.metrics, storage, logger);
  if (options.worker !== false) services.worker.start();
  return {
    app,
    services,
    url,
    metricsUrl: metricsServer?.url,
    demo,
    async stop() {
      await metricsServer?.close();
      // Stop accepting and answer the requests in flight while the worker aborts its reads
      // and lets its writes commit; then the services close storage.
      await Promise.all([app.close(), services.worker.stop()]);
      await services.close();
      if (embedded) removeServerFile(config.dataDir);
    },
  };
}

async function isEmpty(services: Services): Promise<boolean> {
  const user = await services.storage.db
    .selectFrom('users')
    .select('id')
    .limit(1)
    .executeTakeFirst();
  return !user;
}

import type { FastifyInstance } from 'fastify';
import { adminToken, resolveMasterKey } from './auth/master-key.ts';
import { httpUrl, pgliteDir, type Config } from './config.ts';
import { DEMO_EMAIL, seedDemo, type DemoCredentials } from './demo/demo.ts';
import { listenAdmin } from './http/admin-app.ts';
import { buildApp } from './http/app.ts';
import { createLogger } from './logger.ts';
import { tryStartMetricsServer } from './ops/metrics-server.ts';
import { createServices, type Services } from './services.ts';
import { loginLinkUrl } from './sessions/links.ts';
import { lockForServer, type DataDirLock } from './storage/data-dir-lock.ts';
import { openStorage } from './storage/database.ts';

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  url: string;
  /** Where Prometheus metrics are served; undefined when off or the port was taken. */
  metricsUrl: string | undefined;
  /** Set when this start seeded the demo into an empty database. */
  demo: DemoCredentials | undefined;
  /**
   * A one-time dashboard sign-in link for the demo user, made at this start when that user
   * exists (seeded now or before); printed by the welcome, never logged.
   */
  signInLink: string | undefined;
  /** The same link with whom it signs in and until when. */
  signIn: SignInLink | undefined;
  stop(): Promise<void>;
}

export interface SignInLink {
  url: string;
  user_id: number;
  expires_at: string;
}

// Defined with the configuration, which the CLI loads without the server.
export { pgliteDir };

export interface ServerOptions {
  /** Run scheduled syncs in this process (default); `serve --no-worker` turns it off. */
  worker?: boolean;
}

/**
 * Opens storage, wires the services, seeds the demo on first run and starts listening. On the
 * embedded database it first takes the data directory's lock (one writer), held until `stop`.
 */
export async function startServer(
  config: Config,
  options: ServerOptions = {},
): Promise<RunningServer> {
  const lock = config.databaseUrl
    ? undefined
    : await lockForServer(config.dataDir, (holder) =>
        process.stderr.write(
          `opencommas: waiting for an opencommas command (pid ${holder.pid}) to finish with ${config.dataDir}…\n`,
        ),
      );
  // What a failed start must close before letting go of the lock: never two writers at once.
  const opened = { close: async (): Promise<unknown> => undefined };
  try {
    return await startLocked(config, options, lock, opened);
  } catch (error) {
    await opened.close().catch(() => undefined);
    lock?.release();
    throw error;
  }
}

async function startLocked(
  config: Config,
  options: ServerOptions,
  lock: DataDirLock | undefined,
  opened: { close(): Promise<unknown> },
): Promise<RunningServer> {
  const embedded = !config.databaseUrl;
  const masterKey = resolveMasterKey(config);
  const logger = createLogger(config.logLevel);
  const storage = await openStorage({
    databaseUrl: config.databaseUrl,
    dataDir: embedded ? pgliteDir(config) : undefined,
    onBackgroundError: (error) => logger.warn({ err: error }, 'database connection lost'),
    pool: config.database,
  });
  opened.close = () => storage.close();
  const services = await createServices(storage, masterKey, {
    sync: config.sync,
    logger,
    limits: config.limits,
    limitsDatabaseUrl: config.databaseUrl,
    sessions: config.sessions,
  });
  opened.close = () => services.close();
  const seedsDemo = config.demo === 'on' || (config.demo === 'auto' && embedded);
  const demo = seedsDemo && (await isEmpty(services)) ? await seedDemo(services) : undefined;
  const app = await buildApp(services, {
    logger,
    trustProxy: config.http.trustProxy,
    limits: config.http,
  });
  await app.listen({ port: config.port, host: config.host });
  opened.close = async () => {
    await app.close();
    await services.close();
  };
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = httpUrl(config.host, port);
  const signIn = await demoSignIn(services, url);
  // The CLI's way in (embedded only: with PostgreSQL the CLI opens the database itself).
  const admin = lock
    ? await listenAdmin(services, { dataDir: config.dataDir, token: adminToken(masterKey), logger })
    : undefined;
  if (admin) lock?.update({ url, socket: admin.socket });
  const metricsServer = await tryStartMetricsServer(config.metrics, storage, logger);
  if (options.worker !== false) services.worker.start();
  return {
    app,
    services,
    url,
    metricsUrl: metricsServer?.url,
    demo,
    signInLink: signIn?.url,
    signIn,
    async stop() {
      await metricsServer?.close();
      await admin?.close();
      // Stop accepting and answer the requests in flight while the worker aborts its reads
      // and lets its writes commit; then the services close storage.
      await Promise.all([app.close(), services.worker.stop()]);
      await services.close();
      lock?.release();
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

/** A fresh one-time link for the demo user, if there is one: the welcome's way into the dashboard. */
async function demoSignIn(services: Services, baseUrl: string): Promise<SignInLink | undefined> {
  const user = await services.users.findByEmail(DEMO_EMAIL);
  if (!user) return undefined;
  const link = await services.sessions.createLoginLink(user.id);
  return { url: loginLinkUrl(baseUrl, link.token), user_id: user.id, expires_at: link.expires_at };
}

import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { adminToken } from '../../src/auth/master-key.ts';
import { signHmac, signRsa } from '../../src/auth/signature.ts';
import { loadConfig } from '../../src/config.ts';
import { buildApp } from '../../src/http/app.ts';
import { startMetricsServer, type MetricsServer } from '../../src/ops/metrics-server.ts';
import { createServices, type Services } from '../../src/services.ts';
import { openStorage } from '../../src/storage/database.ts';
import { createTestDatabase } from './database.ts';

export interface TestServer {
  url: string;
  app: FastifyInstance;
  services: Services;
  masterKey: Buffer;
  adminToken: string;
  /** The database URL (PostgreSQL runs) or undefined (in-memory PGlite). */
  databaseUrl: string | undefined;
  /** The Prometheus listener's URL, when the test asked for one (`metrics: true`). */
  metricsUrl: string | undefined;
  close(): Promise<void>;
}

/**
 * The real app on real storage, listening on a loopback port. One per test file. `env` sets the
 * sync configuration (OPENCOMMAS_EXCHANGE_URLS etc.); no worker runs unless a test starts one.
 */
export interface TestServerOptions {
  /** The app's logger (to capture log lines); none by default. */
  logger?: FastifyBaseLogger;
  /**
   * Serve metrics on a listener of its own, on a free loopback port. Off by default: test files
   * run side by side, and none may take the production port 9464.
   */
  metrics?: boolean;
}

export async function startTestServer(
  env: Record<string, string> = {},
  options: TestServerOptions = {},
): Promise<TestServer> {
  const database = await createTestDatabase();
  const masterKey = randomBytes(32);
  const storage = await openStorage({ databaseUrl: database.url });
  // Limits are off unless a test sets OPENCOMMAS_RATE_LIMIT: test files send many requests
  // from one IP, and call load_balances back to back.
  const config = loadConfig({
    OPENCOMMAS_EXCHANGE_TIMEOUT: '2s',
    OPENCOMMAS_RATE_LIMIT: 'off',
    ...env,
  });
  const services = await createServices(storage, masterKey, {
    sync: config.sync,
    limits: config.limits,
    limitsDatabaseUrl: database.url,
    sessions: config.sessions,
  });
  const token = adminToken(masterKey);
  const app = await buildApp(services, {
    logger: options.logger,
    trustProxy: config.http.trustProxy,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const metricsServer: MetricsServer | undefined = options.metrics
    ? await startMetricsServer({ host: '127.0.0.1', port: 0 }, storage)
    : undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    services,
    masterKey,
    adminToken: token,
    databaseUrl: database.url,
    metricsUrl: metricsServer?.url,
    async close() {
      await metricsServer?.close();
      await app.close();
      await services.close();
      await database.drop();
    },
  };
}

/**
 * The services of another process on the test server's PostgreSQL database (a CLI run, a worker,
 * a second API process): its own pool and change feed, the same master key. `env` as for
 * `startTestServer`; with `OPENCOMMAS_RATE_LIMIT` its limits share the database's counters.
 */
export async function otherProcess(
  server: TestServer,
  env: Record<string, string> = {},
): Promise<Services> {
  const config = loadConfig(env);
  return createServices(await openStorage({ databaseUrl: server.databaseUrl }), server.masterKey, {
    sync: config.sync,
    ...(env.OPENCOMMAS_RATE_LIMIT
      ? { limits: config.limits, limitsDatabaseUrl: server.databaseUrl }
      : {}),
  });
}

export interface Credentials {
  apiKey: string;
  secret?: string;
  rsaPrivateKey?: string;
}

/** GET `target` (path + query exactly as it goes on the wire), signed as a 3Commas client does. */
export async function signedGet(
  server: { url: string },
  target: string,
  credentials: Credentials,
  headers: Record<string, string> = {},
): Promise<Response> {
  const signature = credentials.rsaPrivateKey
    ? signRsa(credentials.rsaPrivateKey, target)
    : signHmac(credentials.secret ?? '', target);
  return fetch(`${server.url}${target}`, {
    headers: { Apikey: credentials.apiKey, Signature: signature, ...headers },
  });
}

/** POST `target` with a JSON body (or none), signed over target + body as 3Commas clients do. */
export async function signedPost(
  server: { url: string },
  target: string,
  credentials: Credentials,
  body?: Record<string, unknown>,
): Promise<Response> {
  const text = body === undefined ? '' : JSON.stringify(body);
  const payload = text === '' ? target : `${target}?${text}`;
  return fetch(`${server.url}${target}`, {
    method: 'POST',
    headers: {
      Apikey: credentials.apiKey,
      Signature: signHmac(credentials.secret ?? '', payload),
      ...(text === '' ? {} : { 'content-type': 'application/json' }),
    },
    ...(text === '' ? {} : { body: text }),
  });
}

let emails = 0;

/** A new user with an HMAC key (ACCOUNTS_READ unless told otherwise). */
export async function userWithKey(
  services: Services,
  options: { permissions?: string[]; displayCurrency?: string } = {},
) {
  emails += 1;
  const user = await services.users.create({
    email: `user${emails}-${randomBytes(3).toString('hex')}@example.com`,
    ...(options.displayCurrency ? { display_currency: options.displayCurrency } : {}),
  });
  const key = await services.keys.create({
    user_id: user.id,
    permissions: options.permissions ?? ['ACCOUNTS_READ'],
  });
  return { user, credentials: { apiKey: key.api_key, secret: key.secret ?? '' } };
}

export const LIST = '/public/api/ver1/accounts';

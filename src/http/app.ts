import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { dashboardRoutes } from '../dashboard/plugin.ts';
import type { Services } from '../services.ts';
import { registerErrorHandling } from './errors.ts';
import { DEFAULT_HTTP_LIMITS, listenerLimits, type HttpLimits } from './limits.ts';
import { registerOpenApi } from './openapi.ts';
import { trustProxyOption } from './client-ip.ts';
import { keepRawBodies } from './raw-body.ts';
import { registerRequestMetrics } from './request-metrics.ts';
import { refuseUnstorableInput } from './storable-input.ts';
import { accountChartRoutes } from './routes/account-charts.ts';
import { accountFamilyRoutes } from './routes/account-family.ts';
import { accountWriteRoutes } from './routes/account-writes.ts';
import { accountsRoutes } from './routes/accounts.ts';
import { healthRoutes } from './routes/health.ts';
import { marketDataRoutes } from './routes/market-data.ts';
import { systemRoutes } from './routes/system.ts';

export interface AppOptions {
  /** The process's logger; absent for no logs (tests). */
  logger?: FastifyBaseLogger | undefined;
  /** Body, head and time limits (`config.http`); the configuration's defaults when absent. */
  limits?: HttpLimits | undefined;
  /** Proxies trusted to name the caller in `X-Forwarded-For` (`config.http.trustProxy`). */
  trustProxy?: readonly string[] | undefined;
}

/** Builds the HTTP app from the services; knows nothing of the process (no listen, no signals). */
export async function buildApp(services: Services, options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // Per-request log lines would cost more than serving a cached page; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger: with redaction on, building one costs more than the cached
    // answer. Errors are logged with the request id by the error handler instead.
    childLoggerFactory: (logger) => logger,
    ...listenerLimits(options.limits ?? DEFAULT_HTTP_LIMITS),
    trustProxy: trustProxyOption(options.trustProxy),
  }).withTypeProvider<TypeBoxTypeProvider>();

  registerErrorHandling(app, true);
  registerRequestMetrics(app);
  keepRawBodies(app);
  refuseUnstorableInput(app);
  // Before the routes: the OpenAPI document (and /docs) is built from every route registered.
  await registerOpenApi(app);
  await app.register(healthRoutes, { services });
  await app.register(systemRoutes, { prefix: '/public/api' });
  await app.register(accountsRoutes, { prefix: '/public/api', services });
  await app.register(accountWriteRoutes, { prefix: '/public/api', services });
  await app.register(accountFamilyRoutes, { prefix: '/public/api', services });
  await app.register(marketDataRoutes, { prefix: '/public/api', services });
  await app.register(accountChartRoutes, { prefix: '/public/api', services });
  // The web dashboard, under `/`: its own pages, session and error pages, hidden from OpenAPI.
  await app.register(dashboardRoutes, { services });
  // No admin API here: it listens on its own owner-only socket (admin-app.ts), never on this port.
  return app;
}

import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import { handleDashboardError } from './errors.ts';
import { PortfolioReader } from './portfolio.ts';
import { accountPages } from './routes/accounts.ts';
import { assetRoutes } from './routes/assets.ts';
import { authRoutes } from './routes/auth.ts';
import { connectPages } from './routes/connect.ts';
import { jsonRoutes } from './routes/json.ts';
import { keyPages } from './routes/keys.ts';
import { settingsPages } from './routes/settings.ts';
import { loadViewer } from './session.ts';

/**
 * The web dashboard, under `/` beside the API (`/public/api`): server-rendered pages behind a
 * session cookie, a few JSON routes for the charts, and static assets, all from this process.
 * Its figures come from the services and caches the API answers from.
 */
export async function dashboardRoutes(app: FastifyInstance, options: { services: Services }) {
  const { services } = options;
  await app.register(fastifyCookie);
  app.setErrorHandler(handleDashboardError);
  // Every page sets its own security headers: no framing, no sniffing, nothing from elsewhere.
  app.addHook('onSend', async (_request, reply) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header(
      'content-security-policy',
      "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
  });
  app.addHook('preHandler', async (request, reply) => {
    if (!request.url.startsWith('/assets/')) await loadViewer(services, request, reply);
  });
  const reader = new PortfolioReader(services);
  assetRoutes(app);
  authRoutes(app, services);
  accountPages(app, services, reader);
  connectPages(app, services);
  keyPages(app, services);
  settingsPages(app, services);
  jsonRoutes(app, services, reader);
}

import type { FastifyPluginAsync } from 'fastify';
import { AppError, toErrorBody } from '../../errors.ts';
import { Readiness, type ReadinessChecks } from '../../ops/readiness.ts';
import type { Services } from '../../services.ts';

/**
 * Probes for orchestrators and load balancers, unsigned and outside the 3Commas API (hidden from
 * its OpenAPI document). `/livez`: the process answers. `/readyz`: it can serve, or `503` in the
 * 3Commas error shape naming the checks that failed.
 */
export const healthRoutes: FastifyPluginAsync<{ services: Services }> = async (
  app,
  { services },
) => {
  const readiness = new Readiness(services.storage, services.changes);
  let wasReady = true;

  app.get('/livez', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const { ready, checks } = await readiness.check();
    // A probe runs every few seconds: log changes of state, not every answer.
    if (ready !== wasReady) {
      wasReady = ready;
      if (ready) app.log.info({ checks }, 'ready again');
      else app.log.warn({ checks }, 'not ready');
    }
    if (ready) return { status: 'ok', checks };
    const error = new AppError('not_ready', `Not ready: ${failedChecks(checks).join(', ')} failed`);
    return reply.code(503).send({ ...toErrorBody(error), checks });
  });
};

const failedChecks = (checks: ReadinessChecks) =>
  Object.entries(checks)
    .filter(([, state]) => state !== 'ok')
    .map(([name]) => name);

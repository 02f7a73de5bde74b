import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { isOperationName, runOperation } from '../../admin/operations.ts';
import { AppError } from '../../errors.ts';
import type { Services } from '../../services.ts';

function holdsToken(request: FastifyRequest, token: string): boolean {
  const given = Buffer.from(request.headers.authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The CLI's way in while the embedded server holds the database: POST /admin/v1/<operation>.
 * Served only on the owner-only admin socket (see http/admin-app.ts), never on the public
 * listener; the admin token derived from the master key is asked as well, as defence in depth.
 */
export const adminRoutes: FastifyPluginAsync<{ services: Services; token: string }> = async (
  app,
  { services, token },
) => {
  app.addHook('onRequest', async (request) => {
    if (!holdsToken(request, token)) {
      throw new AppError('unauthorized', 'The admin API answers callers holding the admin token');
    }
  });
  app.post<{ Params: { operation: string } }>(
    '/v1/:operation',
    { schema: { hide: true } },
    async (request) => {
      const name = request.params.operation;
      if (!isOperationName(name)) throw new AppError('not_found', `Unknown operation ${name}`);
      // Who changed what, for the operator; never the input (it may carry exchange secrets).
      request.log.info({ operation: name }, 'admin operation');
      return runOperation(services, name, request.body ?? {});
    },
  );
};

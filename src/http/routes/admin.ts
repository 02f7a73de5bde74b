import { timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4 } from 'node:net';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { isOperationName, runOperation } from '../../admin/operations.ts';
import { AppError } from '../../errors.ts';
import type { Services } from '../../services.ts';

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return isIPv4(v4) ? loopback.check(v4, 'ipv4') : loopback.check(address, 'ipv6');
}

function holdsToken(request: FastifyRequest, token: string): boolean {
  const given = Buffer.from(request.headers.authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The CLI's way in while the embedded server holds the database: POST /admin/v1/<operation>,
 * from loopback only, with the admin token derived from the master key.
 */
export const adminRoutes: FastifyPluginAsync<{ services: Services; token: string }> = async (
  app,
  { services, token },
) => {
  app.addHook('onRequest', async (request) => {
    if (!isLoopback(request.socket.remoteAddress) || !holdsToken(request, token)) {
      throw new AppError(
        'unauthorized',
        'The admin API answers loopback callers holding the admin token',
      );
    }
  });
  app.post<{ Params: { operation: string } }>(
    '/v1/:operation',
    { schema: { hide: true } },
    async (request) => {
      const name = request.params.operation;
      if (!isOperationName(name)) throw new AppError('not_found', `Unknown operation ${name}`);
      return runOperation(services, name, request.body ?? {});
    },
  );
};

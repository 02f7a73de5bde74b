import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AccountList } from '../../accounts/entity-schema.ts';
import { ListAccountsQuery } from '../../accounts/list.ts';
import type { Services } from '../../services.ts';
import { ErrorSchema } from '../schemas.ts';
import { signed } from '../signed.ts';

/** GET /ver1/accounts — the exchanges and wallets connected by the caller's user. */
export const accountsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  app.get(
    '/ver1/accounts',
    {
      preValidation: signed(services, 'ACCOUNTS_READ'),
      schema: {
        summary: 'List of exchanges and wallets connected by the user',
        description: 'Permission ACCOUNTS_READ, security SIGNED. Ascending by id.',
        querystring: ListAccountsQuery,
        response: { 200: AccountList, '4xx': ErrorSchema },
      },
    },
    async (request, reply) => {
      // The page comes as bytes: rendered once, then served from cache until something changes.
      const body = await services.lister.page(request.apiKey?.userId ?? 0, request.query);
      // Bytes rendered from the same AccountList schema; Fastify sends buffers as they are.
      return reply.type('application/json; charset=utf-8').send(body as never);
    },
  );
};

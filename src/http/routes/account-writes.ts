import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Permission } from '../../auth/permissions.ts';
import { AccountEntity } from '../../accounts/entity-schema.ts';
import { AppError, invalid } from '../../errors.ts';
import { findMarket } from '../../markets/index.ts';
import type { Services } from '../../services.ts';
import { isLive } from '../../sync/account-sync.ts';
import { validate } from '../../validation.ts';
import { ErrorSchema } from '../schemas.ts';
import { signed } from '../signed.ts';

/** POST /ver1/accounts/new, as the 3Commas docs name its parameters. */
export const NewAccountParams = Type.Object({
  type: Type.String({ minLength: 1, description: 'market code, e.g. binance, ethereumwallet' }),
  name: Type.String({ minLength: 1, maxLength: 100 }),
  api_key: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  secret: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  passphrase: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  address: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});
type NewAccountParams = Static<typeof NewAccountParams>;

const AccountIdParams = Type.Object({ account_id: Type.Integer({ minimum: 1 }) });

const oneAccount = { 200: AccountEntity, '4xx': ErrorSchema, '5xx': ErrorSchema };

/**
 * The account endpoints besides the list: connect, load balances now, read one. 3Commas clients
 * send POST parameters in the query string or in a JSON or form body; both are accepted (the
 * body wins), and the signature covers exactly what was sent.
 */
export const accountWriteRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  app.post(
    '/ver1/accounts/new',
    {
      preValidation: signed(services, 'ACCOUNTS_WRITE'),
      schema: {
        summary: 'Add exchange account or wallet',
        description:
          'Permission ACCOUNTS_WRITE, security SIGNED. Exchange keys are checked against the ' +
          'exchange before anything is stored; the first sync runs at once.',
        querystring: Type.Partial(NewAccountParams),
        response: oneAccount,
      },
    },
    async (request) => {
      const params = validate(
        NewAccountParams,
        { ...request.query, ...bodyObject(request.body) },
        'Invalid parameters',
      ) as NewAccountParams;
      const { type, ...rest } = params;
      // Named as the caller sent it: `type`, not our `market_code`.
      if (!findMarket(type)) throw invalid('type', `unknown market "${type}"`);
      const userId = request.apiKey?.userId ?? 0;
      // Keys are checked against the exchange (an address against its chain): paced per user.
      if (rest.api_key !== undefined || rest.address !== undefined) {
        await services.limits.cooldowns?.connect(userId);
      }
      return services.accounts.add({
        ...rest,
        user_id: userId,
        market_code: type,
      });
    },
  );

  /** A SIGNED route about one of the caller's accounts, answering that account. */
  const accountRoute = (permission: Permission, summary: string, description: string) => ({
    preValidation: signed(services, permission),
    schema: {
      summary,
      description: `Permission ${permission}, security SIGNED. ${description}`,
      params: AccountIdParams,
      response: oneAccount,
    },
  });
  const callersAccount = (request: FastifyRequest, accountId: number) =>
    services.accounts.findOwned(request.apiKey?.userId ?? 0, accountId);

  app.post(
    '/ver1/accounts/:account_id/load_balances',
    accountRoute(
      'ACCOUNTS_WRITE',
      'Load balances for the specified exchange',
      'Reads balances, prices, deposits and withdrawals now; answers the updated account.',
    ),
    async (request) => {
      const account = await callersAccount(request, request.params.account_id);
      // A manual account is refused by syncNow (400) without calling anything: no cooldown.
      if (isLive(account)) await services.limits.cooldowns?.onDemandSync(account.id);
      const outcome = await services.onDemand.syncNow(account);
      if (outcome.status === 'failed' && outcome.kind !== 'credentials') {
        // The exchange failed us, not the caller: say so; figures stay as they were.
        throw new AppError('exchange_unavailable', `Could not load balances: ${outcome.error}`);
      }
      // A refused key is not an HTTP error: the entity shows api_key_invalid and the lock.
      return services.accounts.render(account.id);
    },
  );

  app.get(
    '/ver1/accounts/:account_id',
    accountRoute('ACCOUNTS_READ', 'Single account info', 'One account, as in the list.'),
    async (request) =>
      services.accounts.render((await callersAccount(request, request.params.account_id)).id),
  );
};

function bodyObject(body: unknown): Record<string, unknown> {
  return body !== null && typeof body === 'object' && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {};
}

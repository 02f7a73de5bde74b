import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Permission } from '../../auth/permissions.ts';
import { UpdateAccountInput } from '../../accounts/accounts.ts';
import { AccountEntity } from '../../accounts/entity-schema.ts';
import { AppError, invalid, notFound } from '../../errors.ts';
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

/**
 * `{account_id}`: a positive integer. Anything else names no account of the caller: 404
 * `not_found`, the answer 3Commas gives for an account that is not there (a 400 would tell a
 * client its request was malformed, when it only asked for something that does not exist).
 * Routes taking it set `attachValidation` and read it through `accountIdOf`.
 */
export const AccountIdParams = Type.Object({
  account_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
});

/**
 * The route's `{account_id}` as its schema types it, or 404 when the path names no account the
 * schema accepts (it names none of the caller's). Other invalid parameters (the query string's)
 * are the usual 400.
 */
export function accountIdParam<T = number>(request: FastifyRequest): T {
  const failed = request.validationError;
  if (failed) {
    if ((failed as { validationContext?: string }).validationContext === 'params') {
      throw notFound('Account');
    }
    throw failed;
  }
  return (request.params as { account_id: T }).account_id;
}

/** The integer id in `{account_id}`, or 404 when it is not one. */
export const accountIdOf = (request: FastifyRequest): number => accountIdParam(request);

const errors = { '4xx': ErrorSchema, '5xx': ErrorSchema };
const oneAccount = { 200: AccountEntity, ...errors };
const createdAccount = { 201: AccountEntity, ...errors };

/**
 * A POST's parameters: query string and a JSON or form body, as 3Commas takes them; a parameter
 * in both is the query string's. Form values are text: an integer or boolean field written as
 * text is read as one, so a form and a JSON body mean the same.
 */
export function postParams(
  request: FastifyRequest,
  integers: readonly string[] = [],
  booleans: readonly string[] = [],
): Record<string, unknown> {
  const merged: Record<string, unknown> = {
    ...bodyObject(request.body),
    ...(request.query as Record<string, unknown>),
  };
  for (const field of integers) {
    const value = merged[field];
    if (typeof value === 'string' && /^[0-9]{1,15}$/.test(value)) merged[field] = Number(value);
  }
  for (const field of booleans) {
    const value = merged[field];
    if (value === 'true' || value === '1') merged[field] = true;
    if (value === 'false' || value === '0') merged[field] = false;
  }
  return merged;
}

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
        response: createdAccount,
      },
    },
    async (request, reply) => {
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
      const entity = await services.accounts.add({
        ...rest,
        user_id: userId,
        market_code: type,
      });
      return reply.code(201).send(entity);
    },
  );

  /** A SIGNED route about one of the caller's accounts, answering that account. */
  const accountRoute = <R extends typeof oneAccount | typeof createdAccount>(
    permission: Permission,
    summary: string,
    description: string,
    response: R,
  ) => ({
    preValidation: signed(services, permission),
    attachValidation: true,
    schema: {
      summary,
      description: `Permission ${permission}, security SIGNED. ${description}`,
      params: AccountIdParams,
      response,
    },
  });
  const callersAccount = (request: FastifyRequest) =>
    services.accounts.findOwned(request.apiKey?.userId ?? 0, accountIdOf(request));
  const caller = (request: FastifyRequest) => request.apiKey?.userId ?? 0;

  app.post(
    '/ver1/accounts/:account_id/load_balances',
    accountRoute(
      'ACCOUNTS_READ',
      'Load balances for the specified exchange',
      'Reads balances, prices, deposits and withdrawals now; answers the updated account (201, ' +
        'as 3Commas answers every POST).',
      createdAccount,
    ),
    async (request, reply) => {
      const account = await callersAccount(request);
      // A manual account is refused by syncNow (400) without calling anything: no cooldown.
      if (isLive(account)) await services.limits.cooldowns?.onDemandSync(account.id);
      const outcome = await services.onDemand.syncNow(account);
      if (outcome.status === 'failed' && outcome.kind !== 'credentials') {
        // The exchange failed us, not the caller: say so; figures stay as they were.
        throw new AppError('exchange_unavailable', `Could not load balances: ${outcome.error}`);
      }
      // A refused key is not an HTTP error: the entity shows api_key_invalid and the lock.
      return reply.code(201).send(await services.accounts.render(account.id));
    },
  );

  app.get(
    '/ver1/accounts/:account_id',
    accountRoute(
      'ACCOUNTS_READ',
      'Single account info',
      'One account, as in the list.',
      oneAccount,
    ),
    async (request) => services.accounts.render((await callersAccount(request)).id),
  );

  app.post(
    '/ver1/accounts/update',
    {
      preValidation: signed(services, 'ACCOUNTS_WRITE'),
      schema: {
        summary: 'Edit exchange account',
        description:
          'Permission ACCOUNTS_WRITE, security SIGNED. A new name, include_in_summary, and/or ' +
          'new keys (each key part not given stays as stored). New keys are checked against ' +
          'the exchange first, as at connect: a refusal is a 400 and changes nothing.',
        querystring: Type.Partial(UpdateAccountInput),
        response: createdAccount,
      },
    },
    async (request, reply) => {
      const input = validate(
        UpdateAccountInput,
        postParams(request, ['account_id'], ['include_in_summary']),
        'Invalid parameters',
      ) as UpdateAccountInput;
      if (input.api_key !== undefined || input.secret !== undefined) {
        // New keys are checked against the exchange: paced per user, as at connect.
        await services.limits.cooldowns?.connect(caller(request));
      }
      return reply.code(201).send(await services.accounts.update(caller(request), input));
    },
  );

  const renameRoute = accountRoute(
    'ACCOUNTS_WRITE',
    'Rename exchange account',
    '`name` in the query string (as the docs show) or a form or JSON body.',
    createdAccount,
  );
  app.post(
    '/ver1/accounts/:account_id/rename',
    // Declared, so the document (and the SDK typed from it) carries `name`; checked in the handler
    // with the body's, where a missing name is the 3Commas 400 naming it.
    { ...renameRoute, schema: { ...renameRoute.schema, querystring: Type.Partial(RenameParams) } },
    async (request, reply) => {
      const id = accountIdOf(request);
      const { name } = validate(RenameParams, postParams(request), 'Invalid parameters');
      return reply.code(201).send(await services.accounts.rename(caller(request), id, name));
    },
  );

  app.post(
    '/ver1/accounts/:account_id/remove',
    {
      preValidation: signed(services, 'ACCOUNTS_WRITE'),
      attachValidation: true,
      schema: {
        summary: 'Delete exchange account',
        description:
          'Permission ACCOUNTS_WRITE, security SIGNED. The account and its whole history ' +
          '(snapshots, their assets, transfers) go in one transaction. Answers `true`.',
        params: AccountIdParams,
        response: { 201: Type.Literal(true), ...errors },
      },
    },
    async (request, reply) => {
      await services.accounts.remove(caller(request), accountIdOf(request));
      return reply.code(201).send(true);
    },
  );
};

const RenameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) });

function bodyObject(body: unknown): Record<string, unknown> {
  return body !== null && typeof body === 'object' && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {};
}

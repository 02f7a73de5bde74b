import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UpdateAccountInput, UpdateKeysInput } from '../../accounts/accounts.ts';
import { AppError } from '../../errors.ts';
import { marketList } from '../../markets/market-data.ts';
import type { Services } from '../../services.ts';
import { isLive } from '../../sync/account-sync.ts';
import { validate } from '../../validation.ts';
import { errorText } from '../errors.ts';
import type { PortfolioReader } from '../portfolio.ts';
import { accountPage, removePage, type AccountPageState } from '../views/account.ts';
import { overviewPage } from '../views/overview.ts';
import {
  HIDDEN,
  field,
  filledFields,
  idParam,
  pageGuard,
  sendPage,
  sendRefusal,
  viewerOf,
} from './guard.ts';

/** The overview and one account's page, with what the page lets the user do to it. */
export function accountPages(app: FastifyInstance, services: Services, reader: PortfolioReader) {
  const guarded = { ...HIDDEN, preHandler: pageGuard(services) };

  app.get('/', guarded, async (request, reply) => {
    const viewer = viewerOf(request);
    const portfolio = await reader.overview(viewer.userId);
    const removed = (request.query as Record<string, unknown>).removed === '1';
    return sendPage(
      reply,
      overviewPage(viewer, portfolio, new Date(), removed ? 'Account removed.' : undefined),
    );
  });

  async function showAccount(request: FastifyRequest, state: AccountPageState) {
    const viewer = viewerOf(request);
    const data = await reader.account(viewer.userId, idParam(request, 'id'));
    const market = marketList().find((m) => m.market_code === data.entity.market_code);
    return accountPage(
      viewer,
      { ...data, keyFields: market?.form_fields.required ?? [] },
      state,
      new Date(),
    );
  }

  app.get('/accounts/:id', guarded, async (request, reply) => {
    const done = (request.query as Record<string, unknown>).done;
    const page = await showAccount(request, { done: typeof done === 'string' ? done : undefined });
    return sendPage(reply, page);
  });

  /** Runs an action; a refusal re-renders the page with the message beside its form. */
  const action =
    (
      form: 'sync' | 'rename' | 'keys',
      run: (request: FastifyRequest, userId: number, id: number) => Promise<string>,
    ) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const viewer = viewerOf(request);
      const id = idParam(request, 'id');
      try {
        const done = await run(request, viewer.userId, id);
        return reply.redirect(`/accounts/${id}?done=${done}`, 303);
      } catch (error) {
        if (!(error instanceof AppError) || error.code === 'not_found') throw error;
        const page = await showAccount(request, { error: { form, message: errorText(error) } });
        return sendRefusal(reply, page, error);
      }
    };

  app.post(
    '/accounts/:id/sync',
    guarded,
    action('sync', async (_request, userId, id) => {
      const account = await services.accounts.findOwned(userId, id);
      // The same cooldown as the API's load_balances: the page cannot be used to hammer an exchange.
      if (isLive(account)) await services.limits.cooldowns?.onDemandSync(account.id);
      const outcome = await services.onDemand.syncNow(account);
      if (outcome.status === 'failed') {
        throw new AppError(
          outcome.kind === 'credentials' ? 'record_invalid' : 'exchange_unavailable',
          `The sync failed: ${outcome.error}`,
        );
      }
      return 'synced';
    }),
  );

  app.post(
    '/accounts/:id/rename',
    guarded,
    action('rename', async (request, userId, id) => {
      const input = validate(
        UpdateAccountInput,
        { account_id: id, name: field(request, 'name').trim() },
        'Invalid name',
      );
      await services.accounts.update(userId, input);
      return 'renamed';
    }),
  );

  app.post(
    '/accounts/:id/keys',
    guarded,
    action('keys', async (request, userId, id) => {
      const input = validate(
        UpdateKeysInput,
        filledFields(request, { account_id: id }, ['api_key', 'secret', 'passphrase']),
        'Invalid keys',
      );
      await services.accounts.update(userId, input);
      return 'keys';
    }),
  );

  app.get('/accounts/:id/remove', guarded, async (request, reply) => {
    const viewer = viewerOf(request);
    const row = await services.accounts.findOwned(viewer.userId, idParam(request, 'id'));
    return sendPage(reply, removePage(viewer, await services.accounts.render(row.id)));
  });

  app.post('/accounts/:id/remove', guarded, async (request, reply) => {
    const viewer = viewerOf(request);
    await services.accounts.remove(viewer.userId, idParam(request, 'id'));
    return reply.redirect('/?removed=1', 303);
  });
}

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AddAccountInput } from '../../accounts/accounts.ts';
import { AppError } from '../../errors.ts';
import { marketList } from '../../markets/market-data.ts';
import type { MarketListItem } from '../../markets/market-data-schema.ts';
import type { Services } from '../../services.ts';
import { validate } from '../../validation.ts';
import { errorText } from '../errors.ts';
import { connectPage, marketsPage } from '../views/connect.ts';
import { isSecretField } from '../views/credential-fields.ts';
import {
  HIDDEN,
  field,
  filledFields,
  pageGuard,
  sendPage,
  sendRefusal,
  viewerOf,
} from './guard.ts';

/** Connecting an exchange or a wallet, with a form per market built from `market_list`. */
export function connectPages(app: FastifyInstance, services: Services) {
  const guarded = { ...HIDDEN, preHandler: pageGuard(services) };

  function marketOf(request: FastifyRequest): MarketListItem {
    const code = (request.params as { code?: string }).code;
    const market = marketList().find((m) => m.market_code === code);
    if (!market) throw new AppError('not_found', 'There is no such market here.');
    return market;
  }

  app.get('/connect', guarded, async (request, reply) =>
    sendPage(reply, marketsPage(viewerOf(request), marketList())),
  );

  app.get('/connect/:code', guarded, async (request, reply) =>
    sendPage(reply, connectPage(viewerOf(request), marketOf(request))),
  );

  app.post('/connect/:code', guarded, async (request, reply) => {
    const viewer = viewerOf(request);
    const market = marketOf(request);
    const fields = market.form_fields.required.map((f) => f.field);
    try {
      const input = validate(
        AddAccountInput,
        filledFields(request, { user_id: viewer.userId, market_code: market.market_code }, [
          'name',
          ...fields,
        ]),
        'Invalid parameters',
      );
      // The same cooldown as POST /ver1/accounts/new: connecting reads the exchange at once.
      await services.limits.cooldowns?.connect(viewer.userId);
      const entity = await services.accounts.add(input);
      return reply.redirect(`/accounts/${entity.id}?done=connected`, 303);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      // The name, API key and address come back; secrets are never written into a page.
      const values = Object.fromEntries(
        fields.filter((name) => !isSecretField(name)).map((name) => [name, field(request, name)]),
      );
      const page = connectPage(viewer, market, {
        name: field(request, 'name'),
        values,
        error: errorText(error),
      });
      return sendRefusal(reply, page, error);
    }
  });
}

import type { FastifyInstance } from 'fastify';
import { AppError, errorStatus } from '../../errors.ts';
import { DISPLAY_CURRENCIES } from '../../prices/display-currencies.ts';
import type { Services } from '../../services.ts';
import { errorText } from '../errors.ts';
import { settingsPage } from '../views/settings.ts';
import { HIDDEN, field, pageGuard, sendPage, viewerOf } from './guard.ts';

/** The user's settings: the display currency (as `opencommas user update` sets it). */
export function settingsPages(app: FastifyInstance, services: Services) {
  const guarded = { ...HIDDEN, preHandler: pageGuard(services) };

  app.get('/settings', guarded, async (request, reply) => {
    const viewer = viewerOf(request);
    const user = await services.users.get(viewer.userId);
    const done = (request.query as Record<string, unknown>).done === '1';
    return sendPage(
      reply,
      settingsPage(viewer, user.display_currency, DISPLAY_CURRENCIES, { done }),
    );
  });

  app.post('/settings', guarded, async (request, reply) => {
    const viewer = viewerOf(request);
    try {
      await services.users.setDisplayCurrency(viewer.userId, field(request, 'display_currency'));
      return reply.redirect('/settings?done=1', 303);
    } catch (error) {
      if (!(error instanceof AppError) || error.code === 'not_found') throw error;
      const user = await services.users.get(viewer.userId);
      const page = settingsPage(viewer, user.display_currency, DISPLAY_CURRENCIES, {
        error: errorText(error),
      });
      return sendPage(reply, page, errorStatus[error.code]);
    }
  });
}

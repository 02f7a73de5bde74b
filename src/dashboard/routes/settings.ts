import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, invalid } from '../../errors.ts';
import { clientIp } from '../../http/client-ip.ts';
import { DISPLAY_CURRENCIES } from '../../prices/display-currencies.ts';
import type { Services } from '../../services.ts';
import { errorText } from '../errors.ts';
import { setSessionCookie } from '../session.ts';
import { settingsPage, type SettingsState } from '../views/settings.ts';
import { HIDDEN, field, pageGuard, sendPage, sendRefusal, viewerOf } from './guard.ts';

/** The user's settings: the display currency (as `user update` sets it) and the password. */
export function settingsPages(app: FastifyInstance, services: Services) {
  const guarded = { ...HIDDEN, preHandler: pageGuard(services) };

  async function show(request: FastifyRequest, state: SettingsState) {
    const viewer = viewerOf(request);
    const [user, hasPassword] = await Promise.all([
      services.users.get(viewer.userId),
      services.sessions.hasPassword(viewer.userId),
    ]);
    const data = {
      displayCurrency: user.display_currency,
      currencies: DISPLAY_CURRENCIES,
      hasPassword,
    };
    return settingsPage(viewer, data, state);
  }

  /** A refusal shown beside its form, with the status it stands for. */
  async function refused(
    request: FastifyRequest,
    reply: FastifyReply,
    form: 'currency' | 'password',
    error: AppError,
  ) {
    const page = await show(request, { error: { form, message: errorText(error) } });
    return sendRefusal(reply, page, error);
  }

  app.get('/settings', guarded, async (request, reply) => {
    const done = (request.query as Record<string, unknown>).done;
    const state: SettingsState = {
      done: done === 'currency' || done === 'password' ? done : undefined,
    };
    return sendPage(reply, await show(request, state));
  });

  app.post('/settings', guarded, async (request, reply) => {
    const viewer = viewerOf(request);
    try {
      await services.users.setDisplayCurrency(viewer.userId, field(request, 'display_currency'));
      return reply.redirect('/settings?done=currency', 303);
    } catch (error) {
      if (!(error instanceof AppError) || error.code === 'not_found') throw error;
      return refused(request, reply, 'currency', error);
    }
  });

  app.post('/settings/password', guarded, async (request, reply) => {
    const viewer = viewerOf(request);
    const limiter = services.limits.requests;
    try {
      // Guessing the current password from a stolen session is refused like any guessing.
      const banned = await limiter?.admit(clientIp(request));
      if (banned) throw banned;
      const password = field(request, 'password');
      if (password !== field(request, 'confirm')) {
        throw invalid('confirm', 'does not match the new password');
      }
      const signed = await services.sessions
        .changePassword(viewer.userId, field(request, 'current'), password)
        .catch(async (error: unknown) => {
          if (error instanceof AppError && error.code === 'unauthorized') {
            throw (await limiter?.authenticationFailed(clientIp(request))) ?? error;
          }
          throw error;
        });
      setSessionCookie(request, reply, signed.token, signed.session.expiresAt);
      return reply.redirect('/settings?done=password', 303);
    } catch (error) {
      if (!(error instanceof AppError) || error.code === 'not_found') throw error;
      return refused(request, reply, 'password', error);
    }
  });
}

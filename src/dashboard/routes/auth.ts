import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.ts';
import { clientIp } from '../../http/client-ip.ts';
import type { Services } from '../../services.ts';
import type { SignedIn } from '../../sessions/sessions.ts';
import { errorText } from '../errors.ts';
import { clearSessionCookie, safeNext, setSessionCookie, submittedCsrf } from '../session.ts';
import { loginPage } from '../views/login.ts';
import { HIDDEN, field, sendPage, sendRefusal } from './guard.ts';

/**
 * Before a session exists, the sign-in form is protected by a token in a cookie of its own and
 * in the form (double submit): another site cannot sign a browser in to an account of its choice.
 */
const LOGIN_COOKIE = 'opencommas_login';

function loginToken(request: FastifyRequest, reply: FastifyReply): string {
  const token = randomBytes(18).toString('base64url');
  void reply.setCookie(LOGIN_COOKIE, token, {
    path: '/login',
    httpOnly: true,
    sameSite: 'strict',
    secure: request.protocol === 'https',
    maxAge: 3600,
  });
  return token;
}

function sameToken(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function authRoutes(app: FastifyInstance, services: Services): void {
  const limiter = () => services.limits.requests;

  /** Sign-in attempts count against the caller's IP like API requests: refused while banned. */
  async function admitted(request: FastifyRequest): Promise<AppError | undefined> {
    return (await limiter()?.admit(clientIp(request))) ?? undefined;
  }

  /** A failed attempt is a strike against the IP, as a bad signature is on the API. */
  async function failed(request: FastifyRequest, refusal: AppError): Promise<AppError> {
    return (await limiter()?.authenticationFailed(clientIp(request))) ?? refusal;
  }

  function refusedPage(
    request: FastifyRequest,
    reply: FastifyReply,
    error: AppError,
    email = '',
    next = '/',
  ) {
    const page = loginPage({
      email,
      error: errorText(error),
      next,
      loginToken: loginToken(request, reply),
    });
    return sendRefusal(reply, page, error);
  }

  function signedIn(request: FastifyRequest, reply: FastifyReply, signed: SignedIn, next: string) {
    setSessionCookie(request, reply, signed.token, signed.session.expiresAt);
    void reply.clearCookie(LOGIN_COOKIE, { path: '/login' });
    return reply.header('cache-control', 'no-store').redirect(safeNext(next), 303);
  }

  app.get('/login', HIDDEN, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const next = safeNext(query.next);
    if (typeof query.token === 'string' && query.token !== '') {
      const refused = await admitted(request);
      if (refused) return refusedPage(request, reply, refused);
      try {
        return signedIn(request, reply, await services.sessions.redeemLoginLink(query.token), next);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        return refusedPage(request, reply, await failed(request, error), '', next);
      }
    }
    if (request.viewer) return reply.redirect(next, 303);
    return sendPage(reply, loginPage({ next, loginToken: loginToken(request, reply) }));
  });

  app.post('/login', HIDDEN, async (request, reply) => {
    const email = field(request, 'email');
    const next = safeNext(field(request, 'next'));
    const refused = await admitted(request);
    if (refused) return refusedPage(request, reply, refused, email, next);
    if (!sameToken(request.cookies[LOGIN_COOKIE], field(request, '_login'))) {
      const expired = new AppError(
        'access_denied',
        'The sign-in form expired (or cookies are off): try again.',
      );
      return refusedPage(request, reply, expired, email, next);
    }
    try {
      return signedIn(
        request,
        reply,
        await services.sessions.signIn(email, field(request, 'password')),
        next,
      );
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      // Bad input (an empty field) is the user's typo; a wrong password is a strike.
      const counted = error.code === 'unauthorized' ? await failed(request, error) : error;
      return refusedPage(request, reply, counted, email, next);
    }
  });

  app.post('/logout', HIDDEN, async (request, reply) => {
    const viewer = request.viewer;
    // Only the page's own form may end a session (no logging people out from another site).
    if (viewer && services.sessions.checkCsrf(viewer.session, submittedCsrf(request))) {
      await services.sessions.end(viewer.token);
    }
    clearSessionCookie(request, reply);
    return reply.redirect('/login', 303);
  });
}

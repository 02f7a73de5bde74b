import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientIp } from '../http/client-ip.ts';
import type { Services } from '../services.ts';
import type { Session } from '../sessions/sessions.ts';

export const SESSION_COOKIE = 'opencommas_session';

/** The signed-in user of a dashboard request. */
export interface Viewer {
  userId: number;
  email: string;
  csrfToken: string;
  session: Session;
  /** The cookie's token, to end the session at logout. */
  token: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    viewer?: Viewer;
  }
}

/**
 * The session cookie: `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page
 * sends it), `Secure` when the request came over HTTPS (directly or through a trusted proxy).
 */
export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
  expiresAt: Date,
): void {
  void reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: request.protocol === 'https',
    expires: expiresAt,
  });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  void reply.clearCookie(SESSION_COOKIE, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: request.protocol === 'https',
  });
}

/**
 * Reads the session cookie into `request.viewer` (left unset without a live session). A cookie
 * naming no session counts against the caller's IP like a bad API signature: guessing session
 * tokens is refused as guessing keys is, and an IP refused there is refused here.
 */
export async function loadViewer(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const token = request.cookies[SESSION_COOKIE];
  if (!token) return;
  const limiter = services.limits.requests;
  const refused = await limiter?.admit(clientIp(request));
  if (refused) throw refused;
  const session = await services.sessions.find(token);
  if (!session) {
    // Expired or ended: forget it, so the browser stops sending it.
    clearSessionCookie(request, reply);
    const banned = await limiter?.authenticationFailed(clientIp(request));
    if (banned) throw banned;
    return;
  }
  const user = await services.users.get(session.userId);
  request.viewer = {
    userId: session.userId,
    email: user.email,
    csrfToken: session.csrfToken,
    session,
    token,
  };
}

/** The CSRF token a state-changing request carries: its form's `_csrf` field. */
export function submittedCsrf(request: FastifyRequest): string | undefined {
  const body = request.body as Record<string, unknown> | undefined;
  const field = body?._csrf;
  return typeof field === 'string' ? field : undefined;
}

/**
 * Where to go after signing in: a path on this site only (`/accounts/3`), never another origin
 * (`//evil.example`, `https://…`), which would make the sign-in page an open redirect.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//')) return '/';
  // A backslash or a control character can make a browser read the path as another host.
  if (next.includes('\\') || [...next].some((c) => c.charCodeAt(0) < 0x20)) return '/';
  return next;
}

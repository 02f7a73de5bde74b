import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, errorStatus } from '../../errors.ts';
import type { Services } from '../../services.ts';
import type { Viewer } from '../session.ts';
import { submittedCsrf } from '../session.ts';

/** Every dashboard route is left out of the API's OpenAPI document. */
export const HIDDEN = { schema: { hide: true } } as const;

/**
 * A page needs a signed-in user: without one, to the sign-in page and back here after. A POST
 * also needs the session's CSRF token: another site cannot make the browser submit our forms.
 */
export function pageGuard(services: Services) {
  return async function guard(request: FastifyRequest, reply: FastifyReply) {
    const viewer = request.viewer;
    if (!viewer) {
      const next = request.method === 'GET' ? request.url : '/';
      return reply.redirect(`/login?next=${encodeURIComponent(next)}`, 303);
    }
    if (
      request.method !== 'GET' &&
      !services.sessions.checkCsrf(viewer.session, submittedCsrf(request))
    ) {
      throw new AppError(
        'access_denied',
        'This form has expired or did not come from this site: reload the page and try again.',
      );
    }
  };
}

/** The JSON routes behind the session: 401 in the API's shape without one. */
export async function jsonGuard(request: FastifyRequest) {
  if (!request.viewer) throw new AppError('unauthorized', 'Sign in to the dashboard first');
}

/** The signed-in user (set by the guard, so present in every guarded handler). */
export function viewerOf(request: FastifyRequest): Viewer {
  const viewer = request.viewer;
  if (!viewer) throw new AppError('unauthorized', 'Sign in to the dashboard first');
  return viewer;
}

/**
 * Sends a form's page again with a refusal on it: the refusal's status, and `Retry-After` when
 * it says when to retry (rate limits, outages).
 */
export function sendRefusal(reply: FastifyReply, body: { text: string }, error: AppError) {
  if (error.retryAfterSeconds !== undefined) {
    void reply.header('retry-after', String(error.retryAfterSeconds));
  }
  return sendPage(reply, body, errorStatus[error.code]);
}

/** Sends a page. */
export const sendPage = (reply: FastifyReply, body: { text: string }, status = 200) =>
  reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(body.text);

/** A positive integer id from a path, or a 404 (a malformed id names nothing of the user's). */
export function idParam(request: FastifyRequest, name: string): number {
  const text = (request.params as Record<string, string | undefined>)[name] ?? '';
  const id = /^[1-9][0-9]{0,14}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(id))
    throw new AppError('not_found', 'There is nothing at this address.');
  return id;
}

/** A form field as text ('' when absent or not text). */
export function field(request: FastifyRequest, name: string): string {
  const value = (request.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

/**
 * The named form fields that were filled in (trimmed), over `base`: a blank optional field is
 * absent, as 3Commas treats blank parameters, so the schema's own rules decide what is missing.
 */
export function filledFields(
  request: FastifyRequest,
  base: Record<string, unknown>,
  names: readonly string[],
): Record<string, unknown> {
  const filled: Record<string, unknown> = { ...base };
  for (const name of names) {
    const value = field(request, name).trim();
    if (value !== '') filled[name] = value;
  }
  return filled;
}

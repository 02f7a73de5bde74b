import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, errorStatus, invalid, toErrorBody } from '../errors.ts';
import { isDatabaseUnavailable } from '../storage/unavailable.ts';
import { toErrorAttributes, type SchemaIssue } from '../validation.ts';

/**
 * The one place where failures become HTTP answers. `publicApi`: answers in 3Commas' own words
 * where they differ from ours (the admin socket keeps ours, for the CLI's messages).
 */
export function registerErrorHandling(app: FastifyInstance, publicApi = false): void {
  app.setErrorHandler((thrown: FastifyError | AppError, request, reply) => {
    const error = fromStorage(thrown);
    if (error instanceof AppError) {
      if (error.retryAfterSeconds !== undefined) {
        void reply.header('retry-after', String(error.retryAfterSeconds));
      }
      const status = errorStatus[error.code];
      logRefusal(request, status, error.code, {
        reason: error.message,
        ...(error.attributes ? { fields: Object.keys(error.attributes) } : {}),
        ...(error.retryAfterSeconds !== undefined ? { retryAfter: error.retryAfterSeconds } : {}),
      });
      return reply.code(status).send(publicApi ? publicBody(error) : toErrorBody(error));
    }
    if (error.validation) {
      const attributes = toErrorAttributes(error.validation as unknown as SchemaIssue[]);
      logRefusal(request, 400, 'record_invalid', {
        reason: 'Invalid parameters',
        fields: Object.keys(attributes),
      });
      return reply.code(400).send({
        error: 'record_invalid',
        error_description: 'Invalid parameters',
        error_attributes: attributes,
      });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      logRefusal(request, status, 'bad_request', { reason: error.message, fastify: error.code });
      return reply.code(status).send({ error: 'bad_request', error_description: error.message });
    }
    request.log.error(
      { err: error, ...requestFields(request), status: 500, code: 'internal_error' },
      'request failed',
    );
    return reply
      .code(500)
      .send({ error: 'internal_error', error_description: 'Internal server error' });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    logRefusal(request, 404, 'not_found', { reason: 'no such route' });
    return reply.code(404).send({
      error: 'not_found',
      error_description: `No route for ${request.method} ${path}`,
    });
  });
}

/**
 * The body the public API answers. A missing record is 3Commas' own words, whatever it was —
 * `{"error":"not_found","error_description":"Not Found"}` — which also tells a caller nothing of
 * which ids exist (the log line keeps the specific reason).
 */
function publicBody(error: AppError) {
  const body = toErrorBody(error);
  return error.code === 'not_found' ? { ...body, error_description: 'Not Found' } : body;
}

/** Another system being away: one log line per request at `error` would drown real bugs. */
const OUTAGES = new Set(['database_unavailable', 'exchange_unavailable']);

/**
 * Every refused request is logged with why, at a level an operator can filter on: 4xx (bad
 * credentials, invalid parameters, unknown routes) at `info`, limits and bans (429/418) and
 * outages of the database or an exchange (503) at `warn`, our own failures (5xx) at `error`.
 * Successful answers log nothing.
 */
function logRefusal(
  request: FastifyRequest,
  status: number,
  code: string,
  why: Record<string, unknown>,
): void {
  const level =
    status >= 500 && !OUTAGES.has(code)
      ? 'error'
      : status >= 500 || status === 418 || status === 429
        ? 'warn'
        : 'info';
  request.log[level](
    { ...requestFields(request), status, code, ...why },
    status >= 500 ? 'request failed' : 'request refused',
  );
}

/** Who asked for what: never the signature, the secret or a whole API key. */
function requestFields(request: FastifyRequest): Record<string, unknown> {
  return {
    reqId: request.id,
    method: request.method,
    // The pattern (`/accounts/:account_id`), or the path of an unmatched request; never the
    // query string, which may carry parameters a caller did not mean to have logged.
    route: request.routeOptions.url ?? request.url.split('?')[0],
    ip: request.ip,
    ...callerKey(request),
  };
}

/** Enough of a key to tell callers apart in logs, not enough to use it. */
const KEY_PREFIX_LENGTH = 8;

function callerKey(request: FastifyRequest): Record<string, unknown> {
  if (request.apiKey) return { keyId: request.apiKey.id };
  const presented = request.headers.apikey;
  const text = Array.isArray(presented) ? presented[0] : presented;
  return text ? { keyPrefix: text.slice(0, KEY_PREFIX_LENGTH) } : {};
}

/** How soon a client may retry while the database is away: reconnects are tried every 2 s. */
const DATABASE_RETRY_MS = 2000;

/** Storage failures a caller can act on, as the AppError to answer; anything else as it is. */
export function fromStorage(error: FastifyError | AppError): FastifyError | AppError {
  if (error instanceof AppError) return error;
  if (isDatabaseUnavailable(error)) {
    return new AppError(
      'database_unavailable',
      'The database is unavailable right now; nothing was changed. Retry shortly.',
    ).retryAfter(DATABASE_RETRY_MS);
  }
  // Text PostgreSQL cannot store (NUL, invalid UTF-8) is refused before storage by
  // refuseUnstorableInput; this is the backstop for a path that missed it.
  if (error.code === '22021' || error.code === '22P05') {
    return invalid('base', 'contains a NUL byte or text that is not valid UTF-8');
  }
  return error;
}

import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, errorStatus, toErrorBody } from '../errors.ts';
import { isDatabaseUnavailable } from '../storage/unavailable.ts';
import { toErrorAttributes, type SchemaIssue } from '../validation.ts';

/** The one place where failures become HTTP answers. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((thrown: FastifyError | AppError, request, reply) => {
    const error = isDatabaseUnavailable(thrown) ? databaseUnavailable(request, thrown) : thrown;
    if (error instanceof AppError) {
      if (error.retryAfterSeconds !== undefined) {
        void reply.header('retry-after', String(error.retryAfterSeconds));
      }
      return reply.code(errorStatus[error.code]).send(toErrorBody(error));
    }
    if (error.validation) {
      const attributes = toErrorAttributes(error.validation as unknown as SchemaIssue[]);
      return reply.code(400).send({
        error: 'record_invalid',
        error_description: 'Invalid parameters',
        error_attributes: attributes,
      });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: 'bad_request', error_description: error.message });
    }
    request.log.error(
      { err: error, reqId: request.id, method: request.method, path: request.routeOptions.url },
      'request failed',
    );
    return reply
      .code(500)
      .send({ error: 'internal_error', error_description: 'Internal server error' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: 'not_found',
      error_description: `No route for ${request.method} ${request.url.split('?')[0]}`,
    }),
  );
}

/** How soon a client may retry while the database is away: reconnects are tried every 2 s. */
const DATABASE_RETRY_MS = 2000;

let lastOutageLog = 0;

function databaseUnavailable(request: FastifyRequest, cause: unknown): AppError {
  // Warn, not error: an outage is the operator's to see, but not a bug. Once a second at most,
  // so that load during an outage does not flood the log.
  const now = Date.now();
  if (now - lastOutageLog >= 1000) {
    lastOutageLog = now;
    request.log.warn(
      { err: cause, reqId: request.id, path: request.routeOptions.url },
      'database unavailable: answering 503',
    );
  }
  return new AppError(
    'database_unavailable',
    'The database is unavailable right now; nothing was changed. Retry shortly.',
  ).retryAfter(DATABASE_RETRY_MS);
}

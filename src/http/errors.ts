import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, errorStatus, invalid, toErrorBody } from '../errors.ts';
import { isDatabaseUnavailable } from '../storage/unavailable.ts';
import { toErrorAttributes, type SchemaIssue } from '../validation.ts';

/** The one place where failures become HTTP answers. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((thrown: FastifyError | AppError, request, reply) => {
    const error = fromStorage(thrown);
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

/** Storage failures a caller can act on, as the AppError to answer; anything else as it is. */
function fromStorage(error: FastifyError | AppError): FastifyError | AppError {
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

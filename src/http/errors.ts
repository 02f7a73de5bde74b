import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, errorStatus, toErrorBody } from '../errors.ts';
import { toErrorAttributes, type SchemaIssue } from '../validation.ts';

/** The one place where failures become HTTP answers. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
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

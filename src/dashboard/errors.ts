import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, errorStatus, toErrorBody } from '../errors.ts';
import { fromStorage } from '../http/errors.ts';
import { errorPage } from './views/errors.ts';

/**
 * An AppError in words for a person: each field's problems (`Name is too long`; a sentence of
 * its own, like an exchange's refusal, as it is), else the message.
 */
export function errorText(error: AppError): string {
  const problems = Object.entries(error.attributes ?? {}).flatMap(([name, list]) =>
    list.map((problem) => (/^[a-z]/.test(problem) ? `${fieldName(name)} ${problem}` : problem)),
  );
  return problems.length > 0 ? problems.join('; ') : error.message;
}

const fieldName = (name: string) => {
  const words = name.replace(/_/g, ' ').replace(/^api /, 'API ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};

export const isJsonRoute = (request: FastifyRequest) => request.url.startsWith('/app/api/');

/**
 * The dashboard's one error handler: its JSON routes answer in the API's error shape, its pages
 * with a page saying what happened. Our own failures are logged (never a request's body).
 */
export function handleDashboardError(
  thrown: FastifyError | AppError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const error = fromStorage(thrown);
  let status: number;
  let message: string;
  if (error instanceof AppError) {
    status = errorStatus[error.code];
    message = errorText(error);
    if (error.retryAfterSeconds !== undefined) {
      void reply.header('retry-after', String(error.retryAfterSeconds));
    }
    if (isJsonRoute(request)) return reply.code(status).send(toErrorBody(error));
  } else if (error.statusCode !== undefined && error.statusCode < 500) {
    status = error.statusCode;
    message = error.message;
    if (isJsonRoute(request)) {
      return reply.code(status).send({ error: 'bad_request', error_description: message });
    }
  } else {
    request.log.error(
      { err: error, method: request.method, url: request.routeOptions.url },
      'dashboard request failed',
    );
    status = 500;
    message = 'The service failed to answer; the error is in its log.';
    if (isJsonRoute(request)) {
      return reply
        .code(500)
        .send({ error: 'internal_error', error_description: 'Internal server error' });
    }
  }
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(errorPage(status, message, request.viewer).text);
}

import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body exactly as received: signatures cover these bytes, not a re-encoding. */
    rawBody?: string;
  }
}

/** Keys that would reach an object's prototype if the body were ever merged into another. */
const POISONOUS_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const badBody = (message: string) => Object.assign(new Error(message), { statusCode: 400 });

/**
 * Parses JSON and form bodies while keeping their raw text for signature checks. Both keep
 * Fastify's protection against prototype poisoning: JSON goes through Fastify's own parser
 * (secure-json-parse, refusing `__proto__` and `constructor.prototype`), forms refuse such keys.
 */
export function keepRawBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    request.rawBody = body as string;
    if (body === '') return done(null, {});
    void parseJson(request, body as string, (error, value) => {
      if (error) {
        done(badBody('Body is not valid JSON, or sets __proto__ or constructor.prototype'));
      } else done(null, value);
    });
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (request, body, done) => {
      request.rawBody = body as string;
      const fields = new URLSearchParams(body as string);
      for (const name of fields.keys()) {
        if (POISONOUS_KEYS.has(name)) return done(badBody(`Form field ${name} is not allowed`));
      }
      done(null, Object.fromEntries(fields));
    },
  );
}

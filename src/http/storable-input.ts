import type { FastifyInstance } from 'fastify';
import { unstorableField } from '../storable.ts';

/**
 * Refuses, before authentication and before anything reaches storage, a request whose query,
 * route parameters or body hold text PostgreSQL cannot store (a NUL byte, a lone surrogate):
 * `400 record_invalid` naming the field, never a database error. Registered on the root app as
 * a preValidation hook, it runs before every route's own preValidation (the SIGNED check).
 */
export function refuseUnstorableInput(app: FastifyInstance): void {
  // Callback style: no promise on the hot path for a check that is a few regex tests.
  app.addHook('preValidation', (request, _reply, done) => {
    const bad =
      unstorableField(request.query) ??
      unstorableField(request.params) ??
      unstorableField(request.body);
    done(bad);
  });
}

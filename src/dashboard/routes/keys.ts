import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, invalid } from '../../errors.ts';
import type { Services } from '../../services.ts';
import { errorText } from '../errors.ts';
import { keyCreatedPage, keysPage, type KeysState } from '../views/keys.ts';
import { HIDDEN, field, idParam, pageGuard, sendPage, sendRefusal, viewerOf } from './guard.ts';

/** The user's API keys for the 3Commas API: list, create (secret shown once), revoke. */
export function keyPages(app: FastifyInstance, services: Services) {
  const guarded = { ...HIDDEN, preHandler: pageGuard(services) };

  async function showKeys(request: FastifyRequest, state: KeysState) {
    const viewer = viewerOf(request);
    // Last use is written in batches; the list shows it as of now.
    await services.keyStore.flushLastUsed();
    return keysPage(viewer, await services.keys.list(viewer.userId), state, new Date());
  }

  app.get('/keys', guarded, async (request, reply) => {
    const revoked = (request.query as Record<string, unknown>).revoked === '1';
    return sendPage(
      reply,
      await showKeys(request, {
        done: revoked ? 'Key revoked: it is refused from now on.' : undefined,
      }),
    );
  });

  app.post('/keys', guarded, async (request, reply) => {
    const viewer = viewerOf(request);
    const form = keyForm(request);
    try {
      if (form.signing === 'RSA' && !form.rsa_public_key.trim()) {
        throw invalid(
          'rsa_public_key',
          'is needed to sign with RSA: paste or upload your public key',
        );
      }
      // A key pasted with HMAC chosen is a mistake either way: say so rather than guess.
      if (form.signing === 'HMAC' && form.rsa_public_key.trim()) {
        throw invalid(
          'rsa_public_key',
          'was given with HMAC signing: choose RSA to use it, or clear it',
        );
      }
      const created = await services.keys.create({
        user_id: viewer.userId,
        permissions: form.permissions.length > 0 ? form.permissions : ['NONE'],
        ...(form.ip_whitelist.trim()
          ? { ip_whitelist: form.ip_whitelist.split(/[\s,]+/).filter(Boolean) }
          : {}),
        ...(form.expires_at ? { expires_at: asUtc(form.expires_at) } : {}),
        ...(form.signing === 'RSA' ? { rsa_public_key: form.rsa_public_key } : {}),
      });
      const base = `${request.protocol}://${request.host}`;
      return sendPage(reply, keyCreatedPage(viewer, created, base), 201);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      return sendRefusal(reply, await showKeys(request, { error: errorText(error), form }), error);
    }
  });

  app.post('/keys/:id/revoke', guarded, async (request, reply) => {
    const viewer = viewerOf(request);
    await services.keys.revokeOwned(viewer.userId, idParam(request, 'id'));
    return reply.redirect('/keys?revoked=1', 303);
  });
}

function keyForm(request: FastifyRequest) {
  // Checkboxes repeat their name: read every value from the raw form, not the last one.
  const raw = new URLSearchParams(request.rawBody ?? '');
  return {
    permissions: raw.getAll('permissions'),
    ip_whitelist: field(request, 'ip_whitelist'),
    expires_at: field(request, 'expires_at'),
    rsa_public_key: field(request, 'rsa_public_key'),
    signing: field(request, 'signing') === 'RSA' ? 'RSA' : 'HMAC',
  };
}

/** `datetime-local` has no zone; the form says UTC. */
const asUtc = (local: string) => (/Z|[+-]\d\d:?\d\d$/.test(local) ? local : `${local}Z`);

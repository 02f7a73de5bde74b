import type { FastifyReply, FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import { authenticate } from '../auth/authenticate.ts';
import type { KeyStore, ResolvedKey } from '../auth/key-store.ts';
import type { Permission } from '../auth/permissions.ts';
import { AppError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified API key of a SIGNED request. */
    apiKey?: ResolvedKey;
  }
}

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/**
 * Security SIGNED for a route: runs before validation, so an unauthenticated caller learns
 * nothing about parameters. Node lower-cases header names, so `APIKEY`, `Apikey` and `apikey`
 * all arrive as `apikey`.
 */
export function signed(keyStore: KeyStore, permission: Permission): preValidationAsyncHookHandler {
  return async function verifySigned(request: FastifyRequest, _reply: FastifyReply) {
    const result = await authenticate(
      keyStore,
      {
        apiKey: header(request.headers.apikey),
        signature: header(request.headers.signature),
        rawUrl: request.raw.url ?? request.url,
        rawBody: request.rawBody,
        remoteAddress: request.socket.remoteAddress,
      },
      permission,
      Date.now(),
    );
    if (result instanceof AppError) throw result;
    request.apiKey = result;
  };
}

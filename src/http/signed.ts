import type { FastifyReply, FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import { authenticate } from '../auth/authenticate.ts';
import type { KeyStore, ResolvedKey } from '../auth/key-store.ts';
import type { Permission } from '../auth/permissions.ts';
import { AppError } from '../errors.ts';
import type { Limits } from '../limits/limits.ts';
import { clientIp } from './client-ip.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified API key of a SIGNED request. */
    apiKey?: ResolvedKey;
  }
}

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** Failures that say "you are not who you claim": counted against the caller's IP. */
const failedAuthentication = (error: AppError) =>
  error.code === 'api_key_invalid_or_expired' || error.code === 'signature_invalid';

/**
 * Security SIGNED for a route: runs before validation, so an unauthenticated caller learns
 * nothing about parameters. Node lower-cases header names, so `APIKEY`, `Apikey` and `apikey`
 * all arrive as `apikey`. The rate limits wrap the check: a banned or refused IP is answered
 * before any key is looked up; a failed check spends the IP's budget, a passed one the key's.
 */
export function signed(
  services: { keyStore: KeyStore; limits: Limits },
  permission: Permission,
): preValidationAsyncHookHandler {
  const hook = verifySigned(services, permission);
  // Remembered so that the OpenAPI document can tell SIGNED routes and their permission.
  signedHooks.set(hook, permission);
  return hook;
}

/** The permission of each `signed(...)` hook. */
const signedHooks = new WeakMap<object, Permission>();

/** The permission a route's `preValidation` hook(s) demand, or undefined for a NONE route. */
export function signedPermission(hooks: unknown): Permission | undefined {
  const list: unknown[] = Array.isArray(hooks) ? hooks : [hooks];
  for (const hook of list) {
    const permission = typeof hook === 'function' ? signedHooks.get(hook) : undefined;
    if (permission) return permission;
  }
  return undefined;
}

function verifySigned(
  services: { keyStore: KeyStore; limits: Limits },
  permission: Permission,
): preValidationAsyncHookHandler {
  const { keyStore, limits } = services;
  return async function verifySigned(request: FastifyRequest, _reply: FastifyReply) {
    const ip = clientIp(request);
    const limiter = limits.requests;
    const refused = limiter ? await limiter.admit(ip) : undefined;
    if (refused) throw refused;
    const result = await authenticate(
      keyStore,
      {
        apiKey: header(request.headers.apikey),
        signature: header(request.headers.signature),
        rawUrl: request.raw.url ?? request.url,
        rawBody: request.rawBody,
        remoteAddress: ip,
      },
      permission,
      Date.now(),
    );
    if (result instanceof AppError) {
      if (limiter && failedAuthentication(result)) {
        throw (await limiter.authenticationFailed(ip)) ?? result;
      }
      throw result;
    }
    const over = limiter ? await limiter.spend(result.id, ip) : undefined;
    if (over) throw over;
    request.apiKey = result;
  };
}

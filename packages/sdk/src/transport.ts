// What happens to every request: it is signed over the exact bytes sent, sent, and a non-2xx
// answer becomes a typed error. A 429 is waited out and retried, or thrown (the caller's choice);
// a 418 is never retried.
import { errorFromAnswer, RateLimitedError } from './errors.ts';
import {
  algorithmOf,
  requestTarget,
  signature,
  signedPayload,
  type Credentials,
} from './signing.ts';

/** 3Commas' mitigation period after a 429 when the answer does not say (it never does). */
export const DEFAULT_MITIGATION_MS = 300_000;

export interface RateLimitManners {
  /**
   * On a 429: `wait` out the mitigation period and retry (every request of this client waits,
   * so none is sent while refused), or `throw` a RateLimitedError at once.
   */
  onRateLimit: 'wait' | 'throw';
  /** How long to wait when the 429 has no `Retry-After`. */
  mitigationMs: number;
  /** 429s waited out for one request before its RateLimitedError is thrown. */
  maxWaits: number;
}

export interface TransportOptions extends RateLimitManners {
  credentials: Credentials;
  /** Headers for every request (e.g. `Forced-Mode: real`). */
  headers: Record<string, string>;
  fetch: (request: Request) => Promise<Response>;
}

export type Transport = (request: Request) => Promise<Response>;

export function signingTransport(options: TransportOptions): Transport {
  const algorithm = algorithmOf(options.credentials);
  /** While refused (after a 429, in `wait` mode) no request of this client goes out. */
  let resumeAt = 0;

  return async (request) => {
    const body = new Uint8Array(await request.arrayBuffer());
    const headers = new Headers(request.headers);
    for (const [name, value] of Object.entries(options.headers)) headers.set(name, value);
    headers.set('Apikey', options.credentials.apiKey);
    const payload = signedPayload(requestTarget(new URL(request.url)), body, algorithm);
    headers.set('Signature', signature(options.credentials, payload));

    for (let waits = 0; ; waits++) {
      await sleep(resumeAt - Date.now(), request.signal);
      const response = await options.fetch(
        new Request(request.url, {
          method: request.method,
          headers,
          signal: request.signal,
          ...(body.length > 0 ? { body } : {}),
        }),
      );
      if (response.ok) return response;
      const error = errorFromAnswer(
        response.status,
        await response.text(),
        response.headers.get('retry-after'),
      );
      const waitable =
        error instanceof RateLimitedError &&
        !error.bySubscriptionPlan &&
        options.onRateLimit === 'wait' &&
        waits < options.maxWaits;
      if (!waitable) throw error;
      resumeAt = Math.max(resumeAt, Date.now() + (error.retryAfterMs ?? options.mitigationMs));
    }
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(done, ms);
    function done() {
      signal.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted() {
      clearTimeout(timer);
      reject(signal.reason as Error);
    }
    signal.addEventListener('abort', aborted, { once: true });
  });
}

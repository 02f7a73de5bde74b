import type * as Ccxt from 'ccxt';
import { ccxtModuleUrl } from './ccxt-modules.ts';

// ccxt's error classes alone (milliseconds), not ccxt's entry with every exchange; the same
// classes every exchange module throws.
const ccxt = (await import(ccxtModuleUrl('base/errors'))) as typeof Ccxt;

/** Why a read failed, in the terms the scheduler acts on. */
export type FailureKind =
  /** The exchange refused the credentials (invalid, revoked, missing permission). */
  | 'credentials'
  /** 429/418: the exchange asked us to slow down. */
  | 'rate_limited'
  /** Network error, timeout, 5xx, maintenance, an unreadable answer: worth retrying. */
  | 'unavailable'
  /** Anything else: reported, retried next round. */
  | 'error';

/** A failed read of an exchange or a chain, with what the caller needs to react to it. */
export class SourceError extends Error {
  override name = 'SourceError';

  constructor(
    readonly kind: FailureKind,
    message: string,
    /** From Retry-After, when the source sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Maps ccxt's error classes (and anything else thrown) onto what we do about them. */
export function classifyCcxtError(error: unknown, retryAfterMs?: number): SourceError {
  if (error instanceof SourceError) return error;
  const message = describe(error);
  if (error instanceof ccxt.AuthenticationError) return new SourceError('credentials', message);
  if (error instanceof ccxt.DDoSProtection || error instanceof ccxt.RateLimitExceeded) {
    return new SourceError('rate_limited', message, retryAfterMs);
  }
  if (error instanceof ccxt.NetworkError || error instanceof ccxt.BadResponse) {
    return new SourceError('unavailable', message);
  }
  if (error instanceof SyntaxError) return new SourceError('unavailable', message);
  return new SourceError('error', message);
}

/** `Retry-After` as delay-seconds or an HTTP date. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * A one-line message fit to store and show: ccxt messages carry the exchange id, the URL and the
 * exchange's answer. Query strings are cut, since some exchanges take credentials (or
 * signatures) there.
 */
function describe(error: unknown): string {
  const text =
    error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
  const line = text
    .replace(/(https?:\/\/[^\s?]+)\?\S*/g, '$1?…')
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

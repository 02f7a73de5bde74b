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
  /**
   * The exchange refused this server's IP, not the key (the key's IP whitelist): reported on the
   * account and retried next round, never a lock, since the key itself may be sound.
   */
  | 'ip_refused'
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
    /** The exchange banned this IP (418, or its own ban code): every account holds back. */
    readonly banned = false,
  ) {
    super(message);
  }
}

/**
 * Refusals of this server's IP by an exchange, by its own error code (ccxt calls them
 * PermissionDenied, an AuthenticationError, which would lock the account). Binance's -2015
 * "Invalid API-key, IP, or permissions for action" is not here: Binance answers it for a deleted
 * or revoked key too, and nothing tells the cases apart, so it locks (updating the keys or a
 * manual sync that works unlocks).
 */
const IP_REFUSALS: RegExp[] = [
  /\bokx\b.*"code":"50110"/, // Your IP is not included in your API key's IP whitelist
  /\bbybit\b.*"retCode":10010\b/, // Unmatched IP, please check your API key's bound IP addresses
  /\bkucoin\b.*"code":"400006"/, // Invalid request ip (the key's IP whitelist), HTTP 403
  /\bgate\b.*"label":"IP_FORBIDDEN"/, // Request IP not in whitelist (the key's IP whitelist), HTTP 403
];

/**
 * Definite refusals of the key that ccxt maps to no AuthenticationError (a plain ExchangeError,
 * which would read as a passing failure and never lock): a wrong secret signs wrongly.
 */
const KEY_REFUSALS: RegExp[] = [
  /\bkraken\b.*"EAPI:Invalid signature"/, // the secret does not sign for this key
];

/** Binance's ban: -1003 "… IP banned until 1580000000000 …" (epoch ms). */
const BANNED_UNTIL = /\bbanned until (\d{13})\b/i;

/** How long a ban without Retry-After holds us back: Binance's shortest ban. */
export const DEFAULT_BAN_MS = 2 * 60 * 1000;

/**
 * Bans an exchange answers with its own status and words rather than a 418, and how long they
 * last. Bybit: HTTP 403 "access too frequent" bans the IP for 10 minutes (ccxt calls it a plain
 * RateLimitExceeded, which alone would be retried within seconds).
 */
const OWN_BANS: Array<{ status: number; pattern: RegExp; ms: number }> = [
  { status: 403, pattern: /\bbybit\b.*access too frequent/i, ms: 10 * 60 * 1000 },
];

/**
 * Maps ccxt's error classes (and anything else thrown) onto what we do about them. `status` is
 * the answer's HTTP status when known: a 418 is a ban whatever ccxt made of the body.
 */
export function classifyCcxtError(
  error: unknown,
  retryAfterMs?: number,
  status?: number,
  now = Date.now(),
): SourceError {
  if (error instanceof SourceError) return error;
  const message = describe(error);
  if (IP_REFUSALS.some((pattern) => pattern.test(message))) {
    return new SourceError('ip_refused', message);
  }
  const ownBan = OWN_BANS.find((ban) => ban.status === status && ban.pattern.test(message));
  if (ownBan) return new SourceError('rate_limited', message, retryAfterMs ?? ownBan.ms, true);
  const bannedUntil = BANNED_UNTIL.exec(message)?.[1];
  if (status === 418 || bannedUntil) {
    const wait = retryAfterMs ?? (bannedUntil ? Number(bannedUntil) - now : DEFAULT_BAN_MS);
    return new SourceError('rate_limited', message, Math.max(0, wait), true);
  }
  if (error instanceof ccxt.AuthenticationError || KEY_REFUSALS.some((p) => p.test(message))) {
    return new SourceError('credentials', message);
  }
  // A 429 is a rate limit whatever ccxt made of its body (KuCoin's 429000 is a plain ExchangeError).
  if (status === 429) return new SourceError('rate_limited', message, retryAfterMs);
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

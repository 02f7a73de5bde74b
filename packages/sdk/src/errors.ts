// 3Commas answers errors as {"error": code, "error_description"?, "error_attributes"?} with an
// HTTP status. The status says what kind of failure it is (the `error` code is sometimes a
// sentence, so it is carried, not switched on); each kind a caller acts on has its own class.

export type ErrorAttributes = Record<string, string[]>;

export class ThreeCommasError extends Error {
  override name = 'ThreeCommasError';
  /** HTTP status of the answer. */
  readonly status: number;
  /** 3Commas' `error` (e.g. `signature_invalid`, `not_found`); `http_<status>` for a non-JSON body. */
  readonly code: string;
  /** 3Commas' `error_description`, when given. */
  readonly description: string | undefined;
  /** 3Commas' `error_attributes`: the parameters that failed validation and why. */
  readonly attributes: ErrorAttributes | undefined;

  constructor(status: number, code: string, description?: string, attributes?: ErrorAttributes) {
    super(`${status} ${code}${description ? `: ${description}` : ''}`);
    this.status = status;
    this.code = code;
    this.description = description;
    this.attributes = attributes;
  }
}

/** 401: missing, unknown, revoked or expired API key, a wrong signature, or an IP not allowed. */
export class UnauthorizedError extends ThreeCommasError {
  override name = 'UnauthorizedError';
}

/** 403: the key lacks the endpoint's permission, or the operation is not allowed here. */
export class ForbiddenError extends ThreeCommasError {
  override name = 'ForbiddenError';
}

/** 404: no such resource — or one that belongs to another user. */
export class NotFoundError extends ThreeCommasError {
  override name = 'NotFoundError';
}

/** Shared by the two refusals that come with a wait: 429 and 418. */
abstract class RefusalError extends ThreeCommasError {
  /** From `Retry-After` when the answer had one (3Commas itself sends none). */
  readonly retryAfterMs: number | undefined;

  constructor(
    status: number,
    code: string,
    description: string | undefined,
    attributes: ErrorAttributes | undefined,
    retryAfterMs: number | undefined,
  ) {
    super(status, code, description, attributes);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * 429: over the rate limit; the caller is refused for a mitigation period (300 s on 3Commas).
 * Requests sent meanwhile lead to an IP ban (418).
 */
export class RateLimitedError extends RefusalError {
  override name = 'RateLimitedError';

  /**
   * 3Commas also answers 429 when the subscription plan does not allow the request type: that
   * refusal lasts until the plan changes, so waiting does not help.
   */
  get bySubscriptionPlan(): boolean {
    return /subscription plan/i.test(this.code);
  }
}

/** 418: the IP is banned for sending requests while refused (2 minutes to 3 days on 3Commas). */
export class BannedError extends RefusalError {
  override name = 'BannedError';
}

type ErrorBody = { error?: unknown; error_description?: unknown; error_attributes?: unknown };

/** The typed error for a non-2xx answer; any body is accepted (an edge proxy may send HTML). */
export function errorFromAnswer(status: number, bodyText: string, retryAfter: string | null) {
  const body = parseBody(bodyText);
  const code = typeof body.error === 'string' ? body.error : `http_${status}`;
  const description =
    typeof body.error_description === 'string' ? body.error_description : undefined;
  const attributes = isAttributes(body.error_attributes) ? body.error_attributes : undefined;
  const waitMs = parseRetryAfter(retryAfter);
  switch (status) {
    case 401:
      return new UnauthorizedError(status, code, description, attributes);
    case 403:
      return new ForbiddenError(status, code, description, attributes);
    case 404:
      return new NotFoundError(status, code, description, attributes);
    case 418:
      return new BannedError(status, code, description, attributes, waitMs);
    case 429:
      return new RateLimitedError(status, code, description, attributes, waitMs);
    default:
      return new ThreeCommasError(status, code, description, attributes);
  }
}

function parseBody(text: string): ErrorBody {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as ErrorBody) : {};
  } catch {
    return {};
  }
}

function isAttributes(value: unknown): value is ErrorAttributes {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.values(value).every((v) => Array.isArray(v) && v.every((m) => typeof m === 'string'))
  );
}

/** `Retry-After` as delay-seconds or an HTTP date, in ms from now; undefined when absent or bad. */
export function parseRetryAfter(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

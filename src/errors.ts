/**
 * The closed set of failures a caller can see. Each code maps to one HTTP status and to the
 * 3Commas error shape in `http/errors.ts`, and to a message and exit code in the CLI. The auth
 * codes are the ones 3Commas itself answers, so clients that branch on them keep working.
 */
export const errorStatus = {
  record_invalid: 400,
  api_key_invalid_or_expired: 401,
  signature_invalid: 401,
  ip_not_allowed: 401,
  unauthorized: 401,
  access_denied: 403,
  not_found: 404,
  /** A feature this account's exchange lacks, or one this service never offers (trading). */
  unavailable_for_account: 403,
  /** The exchange refused a call made for the caller (deposit address, networks): its words. */
  unknown_market_api_error: 422,
  /** 3Commas' teapot: the caller's IP kept calling while refused, and is banned for a while. */
  ip_banned: 418,
  /** Over the key's (or IP's) request limit, or an on-demand sync too soon after the last. */
  rate_limit_exceeded: 429,
  /** An exchange or chain we had to ask could not be reached; nothing was changed. */
  exchange_unavailable: 503,
  /** The database cannot be reached right now; nothing was changed. Retry shortly. */
  database_unavailable: 503,
  /** A readiness check failed (`/readyz`): storage, migrations or the change feed. */
  not_ready: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;
export type ErrorAttributes = Record<string, string[]>;

export class AppError extends Error {
  override name = 'AppError';
  /** Whole seconds after which a retry may succeed (sent as `Retry-After`), for 418/429/503. */
  retryAfterSeconds?: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly attributes?: ErrorAttributes,
  ) {
    super(message);
  }

  retryAfter(ms: number): this {
    this.retryAfterSeconds = Math.max(1, Math.ceil(ms / 1000));
    return this;
  }
}

/** One invalid field, in the Rails-style shape 3Commas uses: `{ field: ["problem"] }`. */
export const invalid = (field: string, problem: string, message = 'Invalid parameters') =>
  new AppError('record_invalid', message, { [field]: [problem] });

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);

/** The 3Commas error shape. `error` is always present; attributes only for invalid fields. */
export interface ErrorBody {
  error: string;
  error_description?: string;
  error_attributes?: ErrorAttributes;
}

/** Refusals 3Commas words as a sentence in `error`, with no description. */
const SENTENCES: Partial<Record<ErrorCode, string>> = {
  unavailable_for_account: 'Forbidden. Unavailable for this account.',
};

export function toErrorBody(error: AppError): ErrorBody {
  const sentence = SENTENCES[error.code];
  if (sentence !== undefined) return { error: sentence };
  return {
    error: error.code,
    error_description: error.message,
    ...(error.attributes ? { error_attributes: error.attributes } : {}),
  };
}

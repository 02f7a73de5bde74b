/**
 * Whether a storage error means "the database cannot be reached right now" (a restart, a
 * network cut, a full pool) rather than a fault of the statement: the caller may retry shortly
 * and nothing was changed. The one place that knows what such errors look like.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  const { code, message, errors, cause } = error as {
    code?: unknown;
    message?: unknown;
    errors?: unknown;
    cause?: unknown;
  };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || isServerGoneCode(code))) return true;
  if (typeof message === 'string' && LOST_CONNECTION.test(message)) return true;
  // Node reports a refused dual-stack connect as an AggregateError of one error per address.
  if (Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) {
    return true;
  }
  return isDatabaseUnavailable(cause, depth + 1);
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * SQLSTATE classes 08 (connection exception) and 57P01..57P03 (the server is shutting down,
 * crashed, or not yet accepting connections); 53300 (too many connections).
 */
function isServerGoneCode(code: string): boolean {
  return /^08[0-9A-Z]{3}$/.test(code) || /^57P0[123]$/.test(code) || code === '53300';
}

// node-postgres and pg-pool say these in words, without a code; PostgreSQL says the last one
// (SQLSTATE 55000, shared with unrelated errors) while a database refuses connections for
// maintenance (ALLOW_CONNECTIONS false).
const LOST_CONNECTION =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout|Connection ended|not queryable|is not currently accepting connections/i;

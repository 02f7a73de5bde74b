import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Paths that may carry secrets anywhere we log: request headers, CLI arguments, records.
 * Redaction is the last line of defence; code never logs secrets on purpose.
 */
export const redactPaths = [
  'req.headers.signature',
  'req.headers.apikey',
  'req.headers.authorization',
  // A caller's credentials, should a refusal ever log them under their wire names.
  'signature',
  '*.signature',
  'apikey',
  '*.apikey',
  'api_key',
  '*.api_key',
  // PostgreSQL's error detail quotes the offending values ("Key (api_key)=(…) already exists").
  'err.detail',
  '*.secret',
  '*.secret_sealed',
  '*.exchange_secret',
  '*.passphrase',
  '*.exchange_secret_sealed',
  '*.exchange_passphrase_sealed',
  '*.credentials',
  '*.masterKey',
  'secret',
  'masterKey',
];

export function loggerOptions(level: string): LoggerOptions {
  return { level, redact: { paths: redactPaths, censor: '[redacted]' } };
}

export function createLogger(level: string): Logger {
  return pino(loggerOptions(level));
}

/** For services built without a logger (CLI runs, tests): nothing is written. */
export const silentLogger: Logger = pino({ level: 'silent' });

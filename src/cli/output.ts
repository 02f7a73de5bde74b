import { ConfigError } from '../config.ts';
import { AppError, toErrorBody, type ErrorBody } from '../errors.ts';

/** With --json, exactly the JSON; otherwise a readable rendering of the same result. */
export function printResult(result: unknown, json: boolean): void {
  process.stdout.write(json ? JSON.stringify(result, null, 2) + '\n' : readable(result) + '\n');
}

function readable(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    return value
      .map((item) => `${indent}- ${readable(item, indent + '  ').trimStart()}`)
      .join('\n');
  }
  if (value && typeof value === 'object') {
    return Object.entries(value)
      .map(([key, item]) =>
        item && typeof item === 'object'
          ? `${indent}${key}:\n${readable(item, indent + '  ')}`
          : `${indent}${key}: ${String(item)}`,
      )
      .join('\n');
  }
  return `${indent}${String(value)}`;
}

/** A clear message on stderr (JSON error shape with --json); the caller exits non-zero. */
export function printError(error: unknown, json: boolean): void {
  const body: ErrorBody =
    error instanceof AppError
      ? toErrorBody(error)
      : error instanceof ConfigError
        ? { error: 'config_invalid', error_description: error.message }
        : {
            error: 'internal_error',
            error_description: error instanceof Error ? error.message : String(error),
          };
  if (json) {
    process.stderr.write(JSON.stringify(body) + '\n');
    return;
  }
  const details = Object.entries(body.error_attributes ?? {}).map(
    ([field, problems]) => `  ${field}: ${problems.join('; ')}`,
  );
  process.stderr.write([`opencommas: ${body.error_description}`, ...details].join('\n') + '\n');
}

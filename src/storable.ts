import { invalid, type AppError } from './errors.ts';

// NUL, which PostgreSQL text cannot hold, or a UTF-16 surrogate with no partner (text that was
// not valid UTF-8 before decoding, or a JSON "\ud800"), which would be stored as U+FFFD: the
// `u` flag makes paired surrogates one code point, so only lone ones match.
// eslint-disable-next-line no-control-regex -- NUL is exactly what is looked for
const UNSTORABLE = /[\u0000\uD800-\uDFFF]/u;

/** Whether PostgreSQL can store this string exactly as given. */
export const isStorable = (text: string): boolean => !UNSTORABLE.test(text);

/**
 * The first place in `value` (strings, arrays, objects; keys too) holding text PostgreSQL cannot
 * store, as a `record_invalid` naming the field (`name`, `name.inner`, `list.0`); undefined if
 * all is storable.
 */
export function unstorableField(value: unknown, field = 'base'): AppError | undefined {
  const bad = findUnstorable(value, [], 0);
  if (bad === undefined) return undefined;
  const name = bad.length > 0 ? bad.join('.') : field;
  return invalid(name, 'contains a NUL byte or text that is not valid UTF-8');
}

// Deeper than any body we accept; a pathological nesting is not walked further.
const MAX_DEPTH = 32;

function findUnstorable(value: unknown, path: string[], depth: number): string[] | undefined {
  if (typeof value === 'string') return isStorable(value) ? undefined : path;
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    // A bad key is named with its bad characters escaped, so the answer is itself storable.
    if (!isStorable(key)) return [...path, escape(key)];
    const found = findUnstorable(inner, [...path, key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

const escape = (key: string) =>
  key.replace(
    // eslint-disable-next-line no-control-regex -- NUL is exactly what is escaped
    /[\u0000\uD800-\uDFFF]/gu,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

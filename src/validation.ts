import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { AppError, type ErrorAttributes } from './errors.ts';

/** A non-negative decimal written out in full: money never travels as a JSON number. */
export const DECIMAL_PATTERN = '^[0-9]+(\\.[0-9]+)?$';

/** The fields both Ajv (Fastify) and TypeBox report for a failed check. */
export interface SchemaIssue {
  keyword: string;
  instancePath: string;
  message?: string | undefined;
  params: Record<string, unknown>;
}

/** Turns schema failures into 3Commas `error_attributes`: `{ "field": ["problem"] }`. */
export function toErrorAttributes(issues: readonly SchemaIssue[]): ErrorAttributes {
  const attributes: ErrorAttributes = {};
  for (const issue of issues) {
    const field = fieldName(issue);
    (attributes[field] ??= []).push(describe(issue));
  }
  return attributes;
}

function fieldName(issue: SchemaIssue): string {
  const path = issue.instancePath.replace(/^\//, '').split('/').filter(Boolean);
  if (issue.keyword === 'required') {
    const missing =
      issue.params.missingProperty ?? (issue.params.requiredProperties as string[])?.[0];
    if (typeof missing === 'string') path.push(missing);
  }
  return path.length > 0 ? path.join('.') : 'base';
}

function describe(issue: SchemaIssue): string {
  const limit = issue.params.limit;
  switch (issue.keyword) {
    case 'minimum':
      return `must be greater than or equal to ${String(limit)}`;
    case 'maximum':
      return `must be less than or equal to ${String(limit)}`;
    case 'type':
      return `must be ${article(String(issue.params.type))}`;
    case 'required':
      return "can't be blank";
    case 'pattern':
      return issue.params.pattern === DECIMAL_PATTERN
        ? 'must be a non-negative decimal string, e.g. "12.5"'
        : 'is invalid';
    default:
      return issue.message ?? 'is invalid';
  }
}

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

const compiled = new WeakMap<TSchema, ReturnType<typeof Compile>>();

/** Checks `value` against `schema`; throws `record_invalid` naming every bad field. */
export function validate<S extends TSchema>(schema: S, value: unknown, message: string): Static<S> {
  let validator = compiled.get(schema);
  if (!validator) {
    validator = Compile(schema);
    compiled.set(schema, validator);
  }
  if (validator.Check(value)) return value as Static<S>;
  const issues = validator.Errors(value) as unknown as SchemaIssue[];
  throw new AppError('record_invalid', message, toErrorAttributes(issues));
}

import { expect } from 'vitest';
import { Dec } from '../../src/valuation/index.ts';

/**
 * How many leading significant digits two plain decimal strings share, provided sign and
 * magnitude agree (else 0); Infinity when the values are equal.
 */
export function sharedSignificantDigits(actual: string, expected: string): number {
  const parse = (text: string) => {
    const negative = text.startsWith('-');
    const [whole = '', fraction = ''] = text.replace('-', '').split('.');
    const all = `${whole}${fraction}`;
    const lead = all.search(/[1-9]/);
    // Power of ten of the first significant digit.
    const magnitude = whole.length - 1 - lead;
    return { negative, magnitude, digits: all.slice(lead).replace(/0+$/, '') };
  };
  const a = parse(actual);
  const e = parse(expected);
  if (a.negative !== e.negative || a.magnitude !== e.magnitude) return 0;
  if (a.digits === e.digits) return Number.POSITIVE_INFINITY;
  let shared = 0;
  while ((a.digits[shared] ?? '0') === (e.digits[shared] ?? '0')) shared++;
  return shared;
}

export const MIN_SHARED_DIGITS = 25;

export function expectClose(actual: string, expected: string) {
  expect(
    sharedSignificantDigits(actual, expected),
    `${actual} vs ${expected}`,
  ).toBeGreaterThanOrEqual(MIN_SHARED_DIGITS);
  // Whatever differs lies beyond the 25th significant digit.
  const difference = new Dec(actual).minus(expected).abs();
  expect(difference.lte(new Dec(expected).abs().times(`1e-${MIN_SHARED_DIGITS - 1}`))).toBe(true);
}

import { Dec } from './decimal.ts';

/**
 * Format 1, amounts: the exact decimal in plain notation. Integers keep one decimal ("24.0"),
 * as the seed shows; zero (also negative zero) is "0.0".
 */
export function formatAmount(d: Dec): string {
  if (d.isZero()) return '0.0';
  const plain = d.toFixed(); // without an argument: every digit, never an exponent
  return plain.includes('.') ? plain : `${plain}.0`;
}

/**
 * Format 2, percentages: rounded half away from zero to `places` decimals (decimal.js calls
 * that ROUND_HALF_UP), trailing zeros dropped but one decimal kept; zero is "0.0", never "-0.0".
 */
export function formatPercent(d: Dec, places: 2 | 4): string {
  return formatAmount(d.toDecimalPlaces(places, Dec.ROUND_HALF_UP));
}

/**
 * Format 3 needs a binary double. This is the one deliberate conversion from decimal to
 * floating point: JavaScript parses the exact decimal string to the nearest double.
 */
export function toDouble(d: Dec): number {
  return Number(d.toString());
}

/**
 * Prints a double the way Ruby's Float#to_s does: the shortest digits that round-trip, in fixed
 * notation when 1e-4 <= |x| < 1e16, otherwise as "d.ddde±XX" (at least one mantissa decimal,
 * exponent signed and at least two digits). Zero, including -0, is "0.0".
 */
export function formatRubyFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without an argument yields exactly the shortest round-trip digits.
  const [mantissa = '', exponent = '0'] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const e = Number(exponent);
  // Ruby's rule is stated on the decimal point position: x = 0.DIGITS × 10^point.
  const point = e + 1;
  if (point > -4 && point <= 16) return sign + fixed(digits, point);
  const fraction = digits.slice(1) || '0';
  const exp = String(Math.abs(e)).padStart(2, '0');
  return `${sign}${digits[0]}.${fraction}e${e < 0 ? '-' : '+'}${exp}`;
}

function fixed(digits: string, point: number): string {
  if (point <= 0) return `0.${'0'.repeat(-point)}${digits}`;
  if (digits.length <= point) return `${digits}${'0'.repeat(point - digits.length)}.0`;
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

import { Decimal } from 'decimal.js';

/**
 * The one decimal type for money and prices. 64 significant digits keep sums and products of
 * realistic inputs exact and give quotients far more digits than any figure shows; the huge
 * exponent limits stop `toString()` from ever switching to exponent notation.
 */
export const Dec = Decimal.clone({
  precision: 64,
  rounding: Decimal.ROUND_HALF_UP,
  toExpNeg: -9e15,
  toExpPos: 9e15,
});
export type Dec = InstanceType<typeof Dec>;

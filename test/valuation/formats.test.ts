import { describe, expect, it } from 'vitest';
import {
  Dec,
  formatAmount,
  formatPercent,
  formatRubyFloat,
  toDouble,
} from '../../src/valuation/index.ts';

describe('formatAmount (format 1)', () => {
  it.each([
    [
      '29.157221154400000000000000000000150887648576',
      '29.157221154400000000000000000000150887648576',
    ],
    [
      '-1.0573748319477998456887445312498491129587827906685',
      '-1.0573748319477998456887445312498491129587827906685',
    ],
    ['24', '24.0'],
    ['-24', '-24.0'],
    ['24.500', '24.5'],
    ['0', '0.0'],
    ['-0', '0.0'],
    ['0.000', '0.0'],
    ['1e-30', '0.000000000000000000000000000001'],
    ['-4.2e-12', '-0.0000000000042'],
    ['1.5e25', '15000000000000000000000000.0'],
  ])('%s → %s', (input, expected) => {
    expect(formatAmount(new Dec(input))).toBe(expected);
  });

  it('keeps every digit of a 64-digit quotient', () => {
    const third = new Dec(1).dividedBy(3);
    expect(formatAmount(third)).toBe(`0.${'3'.repeat(64)}`);
  });
});

describe('formatPercent (format 2)', () => {
  it.each([
    ['6.3145', 2, '6.31'],
    ['-3.4995497951571663848', 2, '-3.5'],
    ['-3.4995497951571663848', 4, '-3.4995'],
    ['1.36449999', 4, '1.3645'],
    ['0.3223', 2, '0.32'],
    ['0.3', 2, '0.3'],
    ['5.598', 2, '5.6'],
    ['-0.16', 2, '-0.16'],
    ['7', 2, '7.0'],
    ['99.999', 2, '100.0'],
    ['0', 2, '0.0'],
    ['0', 4, '0.0'],
  ] as const)('%s to %i places → %s', (input, places, expected) => {
    expect(formatPercent(new Dec(input), places)).toBe(expected);
  });

  it.each([
    ['0.125', 2, '0.13'],
    ['-0.125', 2, '-0.13'],
    ['1.005', 2, '1.01'],
    ['-1.005', 2, '-1.01'],
    ['2.00005', 4, '2.0001'],
    ['-2.00005', 4, '-2.0001'],
    ['0.004999', 2, '0.0'],
    ['0.005', 2, '0.01'],
  ] as const)('rounds half away from zero: %s to %i places → %s', (input, places, expected) => {
    expect(formatPercent(new Dec(input), places)).toBe(expected);
  });

  it.each([
    ['-0.004', 2],
    ['-0.00004', 4],
    ['-0', 2],
  ] as const)('never prints negative zero: %s to %i places', (input, places) => {
    expect(formatPercent(new Dec(input), places)).toBe('0.0');
  });
});

describe('formatRubyFloat (format 3)', () => {
  it.each([
    [5.1572211544, '5.1572211544'],
    [-0.0003489791822848687, '-0.0003489791822848687'],
    [1.6199672389633248e-6, '1.6199672389633248e-06'],
    [-3.30980633289966e-5, '-3.30980633289966e-05'],
    [0.1063549606782962, '0.1063549606782962'],
    [1e-5, '1.0e-05'],
    [-1e-5, '-1.0e-05'],
    [1e16, '1.0e+16'],
    [-1e16, '-1.0e+16'],
    [9999999999999998.0, '9999999999999998.0'],
    [1e15, '1000000000000000.0'],
    [100, '100.0'],
    [-7, '-7.0'],
    [0.5, '0.5'],
    [0.0001, '0.0001'],
    [-0.0001, '-0.0001'],
    [0.00009999, '9.999e-05'],
    [0.00012345, '0.00012345'],
    [123456789.125, '123456789.125'],
    [1.5e300, '1.5e+300'],
    [2.5e-300, '2.5e-300'],
    [5e-324, '5.0e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [0.1 + 0.2, '0.30000000000000004'],
  ])('%s → %s', (input, expected) => {
    expect(formatRubyFloat(input)).toBe(expected);
  });

  it('prints zero and negative zero as 0.0', () => {
    expect(formatRubyFloat(0)).toBe('0.0');
    expect(formatRubyFloat(-0)).toBe('0.0');
  });

  it('prints non-finite values as Ruby does', () => {
    expect(formatRubyFloat(Number.NaN)).toBe('NaN');
    expect(formatRubyFloat(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(formatRubyFloat(Number.NEGATIVE_INFINITY)).toBe('-Infinity');
  });
});

describe('toDouble', () => {
  it('gives the nearest double of a long decimal', () => {
    expect(toDouble(new Dec('5.157221154400000000000000000000150887648576'))).toBe(5.1572211544);
    expect(toDouble(new Dec('0.10635496067829619923123521178661442940157682200204'))).toBe(
      0.1063549606782962,
    );
    expect(toDouble(new Dec('-0.000348979182284868700000000000000000000001'))).toBe(
      -0.0003489791822848687,
    );
  });

  it('rounds a tie between two doubles to the even one', () => {
    // 2^53 + 1 lies exactly between 2^53 and 2^53 + 2.
    expect(toDouble(new Dec('9007199254740993'))).toBe(9007199254740992);
    expect(toDouble(new Dec('9007199254740993.000000000000000000000000001'))).toBe(
      9007199254740994,
    );
  });

  it('maps zero and negative zero to a zero that prints as 0.0', () => {
    expect(formatRubyFloat(toDouble(new Dec('-0')))).toBe('0.0');
    expect(formatRubyFloat(toDouble(new Dec(0)))).toBe('0.0');
  });
});

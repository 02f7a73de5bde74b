import { describe, expect, it } from 'vitest';
import { expectClose, sharedSignificantDigits } from '../support/digits.ts';
import {
  DAY_MS,
  Dec,
  PERIOD_MS,
  formatAmount,
  formatPercent,
  formatRubyFloat,
  toDouble,
  valueAccount,
  type SnapshotPoint,
  type TransferPoint,
  type Valuation,
  type ValuationInput,
} from '../../src/valuation/index.ts';
import {
  seedAccounts,
  seedHistory,
  seedString,
  type SeedAccountHistory,
} from '../support/seed-history.ts';

const NOW = new Date('2024-09-26T12:28:43.736Z');

/** Selects the window snapshots the way storage does: the latest at or before each bound. */
function toInput(history: SeedAccountHistory, now: Date): ValuationInput {
  const points: SnapshotPoint[] = history.snapshots
    .map((s) => ({
      at: new Date(s.at),
      usdValue: s.assets.reduce(
        (sum, a) => sum.plus(new Dec(a.amount).times(a.usd_price)),
        new Dec(0),
      ),
      btcUsdPrice: new Dec(s.btc_usd_price),
    }))
    .sort((x, y) => x.at.getTime() - y.at.getTime());
  const atOrBefore = (bound: number) =>
    points.filter((p) => p.at.getTime() <= bound).at(-1) ?? null;
  const latest = atOrBefore(now.getTime());
  const first = points[0] ?? null;
  const transfers: TransferPoint[] = history.transfers
    .map((t) => {
      const usdValue = new Dec(t.amount).times(t.usd_price).times(t.kind === 'deposit' ? 1 : -1);
      return { at: new Date(t.at), usdValue, btcValue: usdValue.dividedBy(t.btc_usd_price) };
    })
    .filter((t) => first && latest && t.at > first.at && t.at <= latest.at);
  return {
    latest,
    dayStart: atOrBefore(now.getTime() - DAY_MS),
    periodStart: atOrBefore(now.getTime() - PERIOD_MS),
    first,
    transfers,
  };
}

describe('sharedSignificantDigits', () => {
  it('counts leading significant digits that agree', () => {
    expect(sharedSignificantDigits('0.00123456', '0.00123457')).toBe(5);
    expect(sharedSignificantDigits('-12.5', '-12.50')).toBe(Number.POSITIVE_INFINITY);
    expect(sharedSignificantDigits('12.5', '12.6')).toBe(2);
    expect(sharedSignificantDigits('12.5', '-12.5')).toBe(0);
    expect(sharedSignificantDigits('0.0125', '0.125')).toBe(0);
  });
});

describe('seed accounts', () => {
  const histories = seedHistory(NOW);

  it('derives a history for each seed account, in the import formats', () => {
    expect(histories.map((h) => h.seedId)).toEqual(seedAccounts.map((a) => a['id']));
    const decimals = histories.flatMap((h) => [
      ...h.snapshots.flatMap((s) => [
        s.btc_usd_price,
        ...s.assets.flatMap((a) => [a.amount, a.usd_price]),
      ]),
      ...h.transfers.flatMap((t) => [t.amount, t.usd_price, t.btc_usd_price]),
    ]);
    for (const text of decimals) {
      expect(text).toMatch(/^[0-9]+(\.[0-9]+)?$/);
      expect(text.length).toBeLessThanOrEqual(80);
    }
  });

  describe.each(seedAccounts.map((account, i) => [account['market_code'], account, i] as const))(
    '%s',
    (_code, account, index) => {
      const history = histories[index];
      if (!history) throw new Error('missing history');
      const valuation: Valuation = valueAccount(toInput(history, NOW));
      const { usd, btc } = valuation;
      const seed = (field: string) => seedString(account, field);
      const displayed = (field: string) => (account[field] as { amount: unknown }).amount;

      it('reproduces the long amounts to at least 25 significant digits', () => {
        const pairs: Array<[Dec, string]> = [
          [usd.amount, seed('usd_amount')],
          [btc.amount, seed('btc_amount')],
          [usd.day.profit, seed('day_profit_usd')],
          [btc.day.profit, seed('day_profit_btc')],
          [usd.period.profit, seed('usd_profit')],
          [btc.period.profit, seed('btc_profit')],
          [usd.amount, displayed('primary_display_currency_amount') as string],
          [usd.day.profit, displayed('day_profit_primary_display_currency') as string],
          [usd.period.profit, displayed('primary_display_currency_profit') as string],
        ];
        for (const [figure, expected] of pairs) expectClose(formatAmount(figure), expected);
      });

      it('reproduces the USD amounts exactly', () => {
        expect(formatAmount(usd.amount)).toBe(seed('usd_amount'));
        expect(formatAmount(usd.day.profit)).toBe(seed('day_profit_usd'));
        expect(formatAmount(usd.period.profit)).toBe(seed('usd_profit'));
      });

      it('reproduces the percentages exactly', () => {
        expect(formatPercent(usd.day.percentage, 2)).toBe(seed('day_profit_usd_percentage'));
        expect(formatPercent(btc.day.percentage, 2)).toBe(seed('day_profit_btc_percentage'));
        expect(formatPercent(usd.period.percentage, 2)).toBe(seed('usd_profit_percentage'));
        expect(formatPercent(btc.period.percentage, 2)).toBe(seed('btc_profit_percentage'));
        expect(formatPercent(usd.period.percentage, 2)).toBe(
          displayed('primary_display_currency_profit_percentage'),
        );
        expect(formatPercent(usd.day.percentage, 4)).toBe(
          displayed('day_profit_primary_display_currency_percentage'),
        );
      });

      it('reproduces the totals exactly, as Ruby floats', () => {
        expect(formatRubyFloat(toDouble(usd.total))).toBe(seed('total_usd_profit'));
        expect(formatRubyFloat(toDouble(btc.total))).toBe(seed('total_btc_profit'));
        expect(toDouble(usd.total)).toBe(displayed('total_primary_display_currency_profit'));
      });
    },
  );

  it('puts exactly 24.0 USD into the first account', () => {
    const [first] = histories;
    const input = toInput(first!, NOW);
    const putIn = input.first!.usdValue.plus(
      input.transfers.reduce((sum, t) => sum.plus(t.usdValue), new Dec(0)),
    );
    expect(formatAmount(putIn)).toBe('24.0');
    expect(input.periodStart!.at > input.first!.at).toBe(true);
  });

  it('starts the second account period at its first snapshot', () => {
    const input = toInput(histories[1]!, NOW);
    expect(input.periodStart).toBeNull();
    expect(input.first!.at.getTime()).toBeGreaterThan(NOW.getTime() - PERIOD_MS);
    const { usd, btc } = valueAccount(input);
    expect(usd.total.eq(usd.period.profit)).toBe(true);
    expect(btc.total.eq(btc.period.profit)).toBe(true);
  });
});

// Targeted rules, on small hand-made histories.
const T0 = Date.parse('2024-06-01T00:00:00.000Z');
const at = (hours: number) => new Date(T0 + hours * 3_600_000);
const snap = (hours: number, usd: string, price = '50000'): SnapshotPoint => ({
  at: at(hours),
  usdValue: new Dec(usd),
  btcUsdPrice: new Dec(price),
});
const transfer = (hours: number, usd: string, price = '50000'): TransferPoint => ({
  at: at(hours),
  usdValue: new Dec(usd),
  btcValue: new Dec(usd).dividedBy(price),
});
const text = (d: Dec) => formatAmount(d);

describe('valueAccount', () => {
  it('does not count a deposit inside a window as profit', () => {
    const start = snap(0, '100');
    const { usd, btc } = valueAccount({
      latest: snap(30, '150'),
      dayStart: start,
      periodStart: start,
      first: start,
      transfers: [transfer(10, '50')],
    });
    for (const figures of [usd, btc]) {
      expect(text(figures.day.profit)).toBe('0.0');
      expect(text(figures.day.percentage)).toBe('0.0');
      expect(text(figures.total)).toBe('0.0');
    }
  });

  it('does not count a withdrawal inside a window as a loss', () => {
    const start = snap(0, '100');
    const { usd, btc } = valueAccount({
      latest: snap(30, '70'),
      dayStart: start,
      periodStart: start,
      first: start,
      transfers: [transfer(10, '-30')],
    });
    expect(text(usd.period.profit)).toBe('0.0');
    expect(text(btc.period.profit)).toBe('0.0');
    expect(text(usd.total)).toBe('0.0');
  });

  it('measures the percentage against the start value plus what was moved in', () => {
    const start = snap(0, '100');
    const { usd } = valueAccount({
      latest: snap(30, '165'),
      dayStart: start,
      periodStart: start,
      first: start,
      transfers: [transfer(10, '50')],
    });
    expect(text(usd.day.profit)).toBe('15.0');
    expect(text(usd.day.percentage)).toBe('10.0');
  });

  it('counts transfers only inside each window, and all of them in the total', () => {
    const first = snap(-40 * 24, '100');
    const periodStart = snap(-31 * 24, '130');
    const dayStart = snap(-25, '125');
    const { usd } = valueAccount({
      latest: snap(0, '136'),
      dayStart,
      periodStart,
      first,
      // Before the period (only in the total), at the day start's own instant (already in
      // that snapshot), and inside the day window.
      transfers: [transfer(-35 * 24, '20'), transfer(-25, '5'), transfer(-2, '10')],
    });
    expect(text(usd.day.profit)).toBe('1.0'); // 136 − 125 − 10
    expect(text(usd.period.profit)).toBe('-9.0'); // 136 − 130 − 5 − 10
    expect(text(usd.total)).toBe('1.0'); // 136 − (100 + 20 + 5 + 10)
  });

  it('ignores transfers after the latest snapshot', () => {
    const start = snap(0, '100');
    const { usd } = valueAccount({
      latest: snap(30, '110'),
      dayStart: start,
      periodStart: start,
      first: start,
      transfers: [transfer(30, '4'), transfer(31, '50')],
    });
    expect(text(usd.day.profit)).toBe('6.0');
  });

  it('values BTC at each snapshot’s own price and transfers at theirs', () => {
    const first = snap(0, '100', '50000'); // 0.002 BTC
    const { usd, btc } = valueAccount({
      latest: snap(30, '150', '40000'), // 0.00375 BTC
      dayStart: first,
      periodStart: first,
      first,
      transfers: [transfer(10, '50', '25000')], // 0.002 BTC moved in
    });
    expect(text(usd.total)).toBe('0.0');
    expect(text(btc.amount)).toBe('0.00375');
    expect(text(btc.total)).toBe('-0.00025'); // 0.00375 − 0.002 − 0.002
    expect(formatPercent(btc.period.percentage, 2)).toBe('-6.25'); // −0.00025 / 0.004
  });

  it('starts a window older than the account at the first snapshot', () => {
    const first = snap(-5, '80');
    const { usd } = valueAccount({
      latest: snap(0, '90'),
      dayStart: null,
      periodStart: null,
      first,
      transfers: [transfer(-3, '8')],
    });
    expect(text(usd.day.profit)).toBe('2.0');
    expect(text(usd.period.profit)).toBe('2.0');
    expect(text(usd.total)).toBe('2.0');
    expect(formatPercent(usd.day.percentage, 4)).toBe('2.2727'); // 2 / 88
  });

  it('reports every figure as zero without snapshots', () => {
    const valuation = valueAccount({
      latest: null,
      dayStart: null,
      periodStart: null,
      first: null,
      transfers: [],
    });
    for (const figures of [valuation.usd, valuation.btc]) {
      const all = [
        figures.amount,
        figures.day.profit,
        figures.day.percentage,
        figures.period.profit,
        figures.period.percentage,
        figures.total,
      ];
      expect(all.map(text)).toEqual(Array(6).fill('0.0'));
      expect(formatRubyFloat(toDouble(figures.total))).toBe('0.0');
    }
  });

  it('reports a zero percentage when the window started from nothing', () => {
    const start = snap(0, '0');
    const { usd, btc } = valueAccount({
      latest: snap(30, '10'),
      dayStart: start,
      periodStart: start,
      first: start,
      transfers: [],
    });
    expect(text(usd.day.profit)).toBe('10.0');
    expect(text(usd.day.percentage)).toBe('0.0');
    expect(text(btc.period.percentage)).toBe('0.0');
  });

  it('has no profit with a single snapshot', () => {
    const only = snap(0, '42.5');
    const { usd } = valueAccount({
      latest: only,
      dayStart: null,
      periodStart: null,
      first: only,
      transfers: [],
    });
    expect(text(usd.amount)).toBe('42.5');
    expect(text(usd.day.profit)).toBe('0.0');
    expect(text(usd.total)).toBe('0.0');
  });
});

// A snapshot with single holdings: USD value per asset, null for one held without a price.
const held = (hours: number, assets: Record<string, string | null>, price = '50000') => {
  const values = new Map(
    Object.entries(assets).map(([a, v]) => [a, v === null ? null : new Dec(v)]),
  );
  const usd = [...values.values()].reduce((sum: Dec, v) => (v ? sum.plus(v) : sum), new Dec(0));
  return { ...snap(hours, usd.toFixed(), price), assets: values };
};
const moveOf = (asset: string, hours: number, usd: string): TransferPoint => ({
  ...transfer(hours, usd),
  asset,
});
const oneWindow = (start: SnapshotPoint, latest: SnapshotPoint, extra: Partial<ValuationInput>) =>
  valueAccount({
    latest,
    dayStart: start,
    periodStart: start,
    first: start,
    transfers: [],
    ...extra,
  });

describe('a window whose base is zero or negative', () => {
  it('reports 0.0 when everything was withdrawn, with the profit exact', () => {
    // 100 at the start, grew to 110, all 110 withdrawn: profit 0 − 100 + 110 = 10 on a base of
    // 100 − 110 = −10, which would read −100 %.
    const { usd, btc } = oneWindow(snap(0, '100'), snap(30, '0'), {
      transfers: [transfer(10, '-110')],
    });
    expect(text(usd.day.profit)).toBe('10.0');
    expect(text(usd.total)).toBe('10.0');
    expect(text(btc.period.profit)).toBe('0.0002'); // 0 − 0.002 + 0.0022
    for (const figures of [usd, btc]) {
      expect(formatPercent(figures.day.percentage, 2)).toBe('0.0');
      expect(formatPercent(figures.period.percentage, 4)).toBe('0.0');
    }
  });

  it('reports 0.0, not a flipped sign, when more was withdrawn than the window started with', () => {
    // 100 at the start, 150 withdrawn, 20 left: profit 20 − 100 + 150 = 70 on a base of −50
    // (−140 % before).
    const { usd, btc } = oneWindow(snap(0, '100'), snap(30, '20'), {
      transfers: [transfer(10, '-150')],
    });
    expect(text(usd.period.profit)).toBe('70.0');
    expect(formatRubyFloat(toDouble(usd.total))).toBe('70.0');
    expect(text(btc.period.profit)).toBe('0.0014'); // 0.0004 − 0.002 + 0.003
    expect(formatPercent(usd.period.percentage, 2)).toBe('0.0');
    expect(formatPercent(btc.day.percentage, 2)).toBe('0.0');
  });

  it('reports 0.0 on a base of exactly zero', () => {
    // 100 withdrawn of 100, then 5 arrives as growth: profit 5 − 100 + 100 = 5, base 0.
    const { usd } = oneWindow(snap(0, '100'), snap(30, '5'), {
      transfers: [transfer(10, '-100')],
    });
    expect(text(usd.day.profit)).toBe('5.0');
    expect(text(usd.day.percentage)).toBe('0.0');
  });

  it('keeps the percentage of a loss on a positive base', () => {
    // 100 at the start, 40 withdrawn, 50 left: profit 50 − 100 + 40 = −10 on 60 → −16.67 %.
    const { usd } = oneWindow(snap(0, '100'), snap(30, '50'), {
      transfers: [transfer(10, '-40')],
    });
    expect(text(usd.day.profit)).toBe('-10.0');
    expect(formatPercent(usd.day.percentage, 2)).toBe('-16.67');
  });
});

describe('an asset gaining or losing a price route', () => {
  it('is not profit when the price route appears', () => {
    // ETH 100 → 110; XYZ unpriced at the start, worth 500 at the end: profit 10, not 510.
    const { usd, btc } = oneWindow(
      held(0, { ETH: '100', XYZ: null }),
      held(30, { ETH: '110', XYZ: '500' }),
      {},
    );
    expect(text(usd.amount)).toBe('610.0'); // the amount still shows everything priced now
    expect(text(usd.day.profit)).toBe('10.0');
    expect(formatPercent(usd.day.percentage, 2)).toBe('10.0');
    expect(text(usd.total)).toBe('10.0');
    expect(text(btc.period.profit)).toBe('0.0002'); // 10 / 50000
  });

  it('is not a loss when the price route disappears', () => {
    // ETH 100 → 90; XYZ worth 50 at the start, unpriced at the end: −10 (−10 %), not −60.
    const { usd } = oneWindow(
      held(0, { ETH: '100', XYZ: '50' }),
      held(30, { ETH: '90', XYZ: null }),
      {},
    );
    expect(text(usd.amount)).toBe('90.0');
    expect(text(usd.period.profit)).toBe('-10.0');
    expect(formatPercent(usd.period.percentage, 2)).toBe('-10.0');
  });

  it('leaves out the priced transfers of a left-out asset too', () => {
    // XYZ unpriced at the start; 40 of it deposited at a price; worth 90 at the end. Counting
    // the deposit without XYZ's value would show −40; XYZ is left out whole: profit 0.
    const { usd } = oneWindow(
      held(0, { ETH: '100', XYZ: null }),
      held(30, { ETH: '100', XYZ: '90' }),
      {
        transfers: [moveOf('XYZ', 10, '40')],
      },
    );
    expect(text(usd.day.profit)).toBe('0.0');
  });

  it('leaves out an asset moved without a price', () => {
    // XYZ priced at both ends (20 → 60) but a deposit of it had no price: its 40 in could be
    // anything, so XYZ is left out: ETH 100 → 100, profit 0, not 40.
    const { usd } = oneWindow(
      held(0, { ETH: '100', XYZ: '20' }),
      held(30, { ETH: '100', XYZ: '60' }),
      {
        unpricedTransfers: [{ at: at(10), asset: 'XYZ' }],
      },
    );
    expect(text(usd.day.profit)).toBe('0.0');
  });

  it('keeps an asset absent at one end: it was worth zero there, whatever its price', () => {
    // XYZ not held at the start, 40 deposited, worth 45 at the end: profit 145 − 100 − 40 = 5,
    // 5 / 140 = 3.5714… %.
    const { usd } = oneWindow(held(0, { ETH: '100' }), held(30, { ETH: '100', XYZ: '45' }), {
      transfers: [moveOf('XYZ', 10, '40')],
    });
    expect(text(usd.day.profit)).toBe('5.0');
    expect(formatPercent(usd.day.percentage, 2)).toBe('3.57');
  });

  it('decides per window, from that window’s two ends', () => {
    // XYZ unpriced in the first snapshot, priced from the day start on (30 → 36): the day
    // window counts it (136 − 130 = 6, 6 / 130 = 4.615… %); the total leaves it out (100 − 100).
    const first = held(-40 * 24, { ETH: '100', XYZ: null });
    const dayStart = held(-25, { ETH: '100', XYZ: '30' });
    const { usd } = valueAccount({
      latest: held(0, { ETH: '100', XYZ: '36' }),
      dayStart,
      periodStart: null,
      first,
      transfers: [],
    });
    expect(text(usd.day.profit)).toBe('6.0');
    expect(formatPercent(usd.day.percentage, 2)).toBe('4.62');
    expect(text(usd.period.profit)).toBe('0.0');
    expect(text(usd.total)).toBe('0.0');
  });

  it('values the left-out asset in BTC at each end’s own price', () => {
    // Start: ETH 100 + XYZ 50 at 50000 → 0.002 BTC without XYZ; end: ETH 120, XYZ unpriced,
    // at 40000 → 0.003 BTC. BTC profit 0.001 = 50 %.
    const { btc } = oneWindow(
      held(0, { ETH: '100', XYZ: '50' }, '50000'),
      held(30, { ETH: '120', XYZ: null }, '40000'),
      {},
    );
    expect(text(btc.day.profit)).toBe('0.001');
    expect(formatPercent(btc.day.percentage, 2)).toBe('50.0');
  });
});

import type { SnapshotRecord, TransferRecord } from '../balances/import.ts';
import { Dec } from '../valuation/index.ts';

/**
 * A deterministic, plausible 60-day history for the demo accounts: smooth synthetic prices,
 * holdings that change through trades (profit) and transfers (not profit).
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const STEP = 8 * HOUR;
export const DEMO_DAYS = 60;

type Holdings = Record<string, string>;
interface Event {
  daysAgo: number;
  apply(h: Holdings, at: number): void;
  transfer?: { asset: string; amount: string; kind: 'deposit' | 'withdrawal' };
}

export interface DemoAccountPlan {
  startDaysAgo: number;
  start: Holdings;
  events: Event[];
}

/** USD price of an asset at a time: sine waves around a base, two decimals, stable coins 1. */
export function demoPrice(asset: string, at: number): Dec {
  const day = at / DAY;
  const wave = (period: number, phase = 0) => Math.sin((2 * Math.PI * day) / period + phase);
  const factor = (base: number, shape: number) =>
    new Dec(base).times((1 + shape).toFixed(6)).toDecimalPlaces(2);
  switch (asset) {
    case 'BTC':
      return factor(62_000, 0.07 * wave(23) + 0.025 * wave(5.3, 1));
    case 'ETH':
      return factor(3_100, 0.09 * wave(17, 2) + 0.03 * wave(4.1));
    default:
      return new Dec(1);
  }
}

const add = (h: Holdings, asset: string, amount: Dec) => {
  h[asset] = new Dec(h[asset] ?? 0).plus(amount).toFixed();
};
const deposit = (daysAgo: number, asset: string, amount: string): Event => ({
  daysAgo,
  apply: (h) => add(h, asset, new Dec(amount)),
  transfer: { asset, amount, kind: 'deposit' },
});
const withdraw = (daysAgo: number, asset: string, amount: string): Event => ({
  daysAgo,
  apply: (h) => add(h, asset, new Dec(amount).negated()),
  transfer: { asset, amount, kind: 'withdrawal' },
});
/** Spend `quote` amount of USDT on `asset` at the time's price (a trade: value moves, not money). */
const buy = (daysAgo: number, asset: string, usdt: string): Event => ({
  daysAgo,
  apply: (h, at) => {
    add(h, 'USDT', new Dec(usdt).negated());
    add(h, asset, new Dec(usdt).dividedBy(demoPrice(asset, at)).toDecimalPlaces(8, Dec.ROUND_DOWN));
  },
});
const sell = (daysAgo: number, asset: string, amount: string): Event => ({
  daysAgo,
  apply: (h, at) => {
    add(h, asset, new Dec(amount).negated());
    add(h, 'USDT', new Dec(amount).times(demoPrice(asset, at)).toDecimalPlaces(2, Dec.ROUND_DOWN));
  },
});

export const DEMO_PLANS: Record<'binance' | 'bybit' | 'wallet', DemoAccountPlan> = {
  binance: {
    startDaysAgo: 60,
    start: { USDT: '5000', BTC: '0.05' },
    events: [deposit(40, 'USDT', '2000'), buy(25, 'BTC', '3000'), withdraw(10, 'BTC', '0.02')],
  },
  bybit: {
    startDaysAgo: 45,
    start: { USDT: '1500', ETH: '0.3' },
    events: [sell(15, 'ETH', '0.1'), buy(3, 'ETH', '400')],
  },
  wallet: {
    startDaysAgo: 60,
    start: { ETH: '1.2', USDC: '800' },
    events: [deposit(20, 'ETH', '0.5')],
  },
};

/** Snapshots every 8 hours from the account's start to `anchor`, and its transfers. */
export function demoHistory(accountId: number, plan: DemoAccountPlan, anchor: number) {
  const snapshots: SnapshotRecord[] = [];
  const transfers: TransferRecord[] = [];
  const holdings: Holdings = { ...plan.start };
  const events = [...plan.events].sort((a, b) => b.daysAgo - a.daysAgo);
  let next = 0;
  for (let at = anchor - plan.startDaysAgo * DAY; at <= anchor; at += STEP) {
    for (; next < events.length && anchor - (events[next]?.daysAgo ?? 0) * DAY <= at; next++) {
      const event = events[next];
      if (!event) break;
      const eventAt = anchor - event.daysAgo * DAY;
      event.apply(holdings, eventAt);
      if (event.transfer) transfers.push(transferRecord(accountId, eventAt, event.transfer));
    }
    snapshots.push({
      account_id: accountId,
      at: new Date(at).toISOString(),
      btc_usd_price: demoPrice('BTC', at).toFixed(),
      assets: Object.entries(holdings).map(([asset, amount]) => ({
        asset,
        amount,
        usd_price: demoPrice(asset, at).toFixed(),
      })),
    });
  }
  return { snapshots, transfers };
}

function transferRecord(
  accountId: number,
  at: number,
  t: NonNullable<Event['transfer']>,
): TransferRecord {
  return {
    account_id: accountId,
    at: new Date(at - 60_000).toISOString(),
    asset: t.asset,
    amount: t.amount,
    usd_price: demoPrice(t.asset, at).toFixed(),
    btc_usd_price: demoPrice('BTC', at).toFixed(),
    kind: t.kind,
  };
}

/** Demo history is laid out on whole hours, so a day's runs give the same figures. */
export const demoAnchor = (now: Date) => Math.floor(now.getTime() / HOUR) * HOUR;

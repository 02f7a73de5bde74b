import { readFileSync } from 'node:fs';
import { DAY_MS, Dec, PERIOD_MS } from '../../src/valuation/index.ts';

/**
 * Stored histories that reproduce the figures of the two accounts in the seed response
 * (test/fixtures/seed-accounts-response.json), in the import file shapes. Every value is derived
 * from the seed's own strings with exact decimal arithmetic; the only rounding is of derived BTC
 * prices (a quotient rarely terminates), kept to 60 significant digits, far beyond any figure.
 */

export interface SeedAsset {
  asset: string;
  amount: string;
  usd_price: string;
}

export interface SeedSnapshot {
  at: string;
  btc_usd_price: string;
  assets: SeedAsset[];
}

export interface SeedTransfer {
  at: string;
  asset: string;
  amount: string;
  usd_price: string;
  btc_usd_price: string;
  kind: 'deposit' | 'withdrawal';
}

export interface SeedAccountHistory {
  seedId: number;
  snapshots: SeedSnapshot[];
  transfers: SeedTransfer[];
}

export type SeedAccount = Record<string, unknown>;

export const seedAccounts: SeedAccount[] = JSON.parse(
  readFileSync(new URL('../fixtures/seed-accounts-response.json', import.meta.url), 'utf8'),
) as SeedAccount[];

/** A string field of a seed account (the long figures are all strings). */
export function seedString(account: SeedAccount, field: string): string {
  const value = account[field];
  if (typeof value !== 'string') throw new Error(`seed field ${field} is not a string`);
  return value;
}

const HOUR_MS = 60 * 60 * 1000;
const MINUTE_MS = 60 * 1000;
const PRICE_DIGITS = 60;

/** The BTC price at which `usd` is worth `btc`. */
const priceOf = (usd: Dec, btc: Dec): Dec => usd.dividedBy(btc).toSignificantDigits(PRICE_DIGITS);

/** Figures of the seed account that a history has to reproduce, as decimals. */
function seedFigures(account: SeedAccount) {
  const dec = (field: string) => new Dec(seedString(account, field));
  const usd = dec('usd_amount');
  const btc = dec('btc_amount');
  const dayUsd = usd.minus(dec('day_profit_usd'));
  const periodUsd = usd.minus(dec('usd_profit'));
  return {
    id: account['id'] as number,
    now: { usd, price: priceOf(usd, btc) },
    day: { usd: dayUsd, price: priceOf(dayUsd, btc.minus(dec('day_profit_btc'))) },
    period: { usd: periodUsd, price: priceOf(periodUsd, btc.minus(dec('btc_profit'))) },
    totalBtc: dec('total_btc_profit'),
  };
}

/**
 * A snapshot holding `btc` BTC (priced at the BTC price) and USDT making up the rest of `usd`:
 * Σ amount × usd_price is exactly `usd`.
 */
function snapshot(at: Date, usd: Dec, price: Dec, btc: string): SeedSnapshot {
  const usdt = usd.minus(price.times(btc));
  if (usdt.isNegative()) throw new Error(`snapshot at ${at.toISOString()}: BTC exceeds value`);
  const assets = [
    { asset: 'BTC', amount: btc, usd_price: price.toFixed() },
    { asset: 'USDT', amount: usdt.toFixed(), usd_price: '1' },
  ];
  return { at: at.toISOString(), btc_usd_price: price.toFixed(), assets };
}

function usdtOnly(at: Date, usdt: string, price: Dec): SeedSnapshot {
  const assets = [{ asset: 'USDT', amount: usdt, usd_price: '1' }];
  return { at: at.toISOString(), btc_usd_price: price.toFixed(), assets };
}

export function seedHistory(now: Date): SeedAccountHistory[] {
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const [binanceUs, bybitSpot] = seedAccounts;
  if (!binanceUs || !bybitSpot) throw new Error('the seed response has two accounts');

  // Binance US: 20 USDT at the first snapshot (60 days ago) and a 4 USDT deposit 45 days ago, so
  // exactly 24.0 USD was put in. What that was worth in BTC follows from the seed's total BTC
  // profit: put in = BTC value now − total. The first snapshot's BTC price is a round 29000; the
  // deposit's is derived so the two add up to that amount.
  const a = seedFigures(binanceUs);
  const putInBtc = a.now.usd.dividedBy(a.now.price).minus(a.totalBtc);
  const firstPrice = new Dec(29000);
  const depositPrice = priceOf(new Dec(4), putInBtc.minus(new Dec(20).dividedBy(firstPrice)));
  const first = {
    seedId: a.id,
    snapshots: [
      usdtOnly(ago(60 * DAY_MS), '20', firstPrice),
      // After the deposit, part of the USDT bought BTC.
      snapshot(ago(44 * DAY_MS), new Dec(24), new Dec('28650.5'), '0.0003'),
      snapshot(ago(PERIOD_MS + 2 * HOUR_MS), a.period.usd, a.period.price, '0.0003'),
      // Just inside the period and the day: never a window start.
      snapshot(ago(PERIOD_MS - HOUR_MS), new Dec('27.51'), new Dec('57602.15'), '0.0003'),
      snapshot(ago(DAY_MS + 15 * MINUTE_MS), a.day.usd, a.day.price, '0.0003'),
      snapshot(ago(DAY_MS - MINUTE_MS), new Dec('30.19'), new Dec('62410.8'), '0.0003'),
      snapshot(ago(5 * MINUTE_MS), a.now.usd, a.now.price, '0.0003'),
    ],
    transfers: [
      {
        at: ago(45 * DAY_MS).toISOString(),
        asset: 'USDT',
        amount: '4',
        usd_price: '1',
        btc_usd_price: depositPrice.toFixed(),
        kind: 'deposit' as const,
      },
    ],
  };

  // Bybit Spot: connected 28 days ago, younger than the period, so its first snapshot starts
  // the period and the total profit equals the period profit. No transfers.
  const b = seedFigures(bybitSpot);
  const second = {
    seedId: b.id,
    snapshots: [
      snapshot(ago(28 * DAY_MS), b.period.usd, b.period.price, '0.0005'),
      snapshot(ago(10 * DAY_MS), new Dec('31.87'), new Dec('58120.4'), '0.0005'),
      snapshot(ago(DAY_MS + 10 * MINUTE_MS), b.day.usd, b.day.price, '0.0005'),
      snapshot(ago(2 * MINUTE_MS), b.now.usd, b.now.price, '0.0005'),
    ],
    transfers: [],
  };
  return [first, second];
}

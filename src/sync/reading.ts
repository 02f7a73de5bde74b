import type { TransferCursors } from '../exchanges/connector.ts';
import { SourceError } from '../exchanges/failures.ts';
import type { PriceTable } from '../prices/routes.ts';
import type { BalanceSources, SourceTarget } from '../sources/sources.ts';
import type { Holdings, SourceTransfer } from '../sources/types.ts';

/** Everything one sync read from the outside world, before anything is written. */
export interface Reading {
  takenAt: Date;
  holdings: Holdings;
  prices: PriceTable & { btcUsd: string };
  /** Exchange deposits and withdrawals; null when this round did not read them. */
  transfers: SourceTransfer[] | null;
  cursors: { deposits: Date | null; withdrawals: Date | null } | null;
}

/**
 * Reads an account's holdings, the round's prices and (when asked) its transfers. Pure I/O: a
 * failure here leaves the database untouched.
 */
export async function readAccount(
  sources: BalanceSources,
  target: SourceTarget,
  options: { transfers: boolean; cursors: TransferCursors },
): Promise<Reading> {
  const [holdings, prices] = await Promise.all([
    sources.fetchHoldings(target),
    sources.prices.table(sources.priceSource(target.market)),
  ]);
  if (prices.btcUsd === null) {
    throw new SourceError('unavailable', `${sources.priceSource(target.market)} has no BTC price`);
  }
  const base = { takenAt: new Date(), holdings, prices: { ...prices, btcUsd: prices.btcUsd } };
  if (!options.transfers || target.kind !== 'exchange') {
    return { ...base, transfers: null, cursors: null };
  }
  const read = await sources
    .exchange(target.market.market_code)
    .fetchTransfers(target.credentials, options.cursors);
  return { ...base, transfers: read.transfers, cursors: read.next };
}

import type { TransferCursors } from '../exchanges/connector.ts';
import { SourceError } from '../exchanges/failures.ts';
import type { PriceTable } from '../prices/routes.ts';
import type { BalanceSources, SourceTarget } from '../sources/sources.ts';
import type { Holdings, SourceTransfer } from '../sources/types.ts';

/** Everything one sync read from the outside world, before anything is written. */
export interface Reading {
  takenAt: Date;
  /** Summed over the account's wallets: what is priced and valued. */
  holdings: Holdings;
  /** What each wallet of an exchange account held (empty for a chain address). */
  wallets: Map<string, Holdings>;
  prices: PriceTable & { btcUsd: string };
  /** Exchange deposits and withdrawals; null when this round did not (or could not) read them. */
  transfers: SourceTransfer[] | null;
  /** Why the transfers asked for could not be read: the balances stand, the transfers wait. */
  transfersError?: string;
  cursors: { deposits: Date | null; withdrawals: Date | null } | null;
}

/**
 * Reads an account's holdings, its prices and (when asked) its transfers. Pure I/O: a failure
 * here leaves the database untouched.
 *
 * Prices: a scheduled round (`roundPrices`) shares the round's read of the whole exchange; any
 * other sync (a refresh, `account sync`, connecting) is valued at the tickers of what it prices,
 * read for it after the holdings and transfers (`FreshPrices`). `alsoPriced` adds assets priced
 * besides those: a wallet's previous holdings, whose disappearance is a priced withdrawal.
 */
export async function readAccount(
  sources: BalanceSources,
  target: SourceTarget,
  options: {
    transfers: boolean;
    cursors: TransferCursors;
    roundPrices?: boolean;
    alsoPriced?: Iterable<string>;
  },
): Promise<Reading> {
  const source = sources.priceSource(target.market);
  const roundPrices = options.roundPrices ? sources.prices.table(source) : undefined;
  void roundPrices?.catch(() => undefined); // awaited below, unless the holdings fail first
  const { total: holdings, wallets } = await sources.fetchHoldings(target);
  const { read, transfersError } =
    options.transfers && target.kind === 'exchange'
      ? await readTransfers(sources, target, options.cursors)
      : { read: null, transfersError: undefined };
  const prices = await (roundPrices ??
    sources.freshPrices.table(
      source,
      new Set([
        ...holdings.keys(),
        ...(read?.transfers ?? []).map((transfer) => transfer.asset),
        ...(options.alsoPriced ?? []),
      ]),
    ));
  if (prices.btcUsd === null) throw new SourceError('unavailable', `${source} has no BTC price`);
  return {
    takenAt: new Date(),
    holdings,
    wallets,
    prices: { ...prices, btcUsd: prices.btcUsd },
    transfers: read?.transfers ?? null,
    cursors: read?.next ?? null,
    ...(transfersError === undefined ? {} : { transfersError }),
  };
}

/**
 * Transfers never hold back balances: when the history cannot be read (an endpoint down, a key
 * not allowed to read it), the balances are still recorded and the history is read next round
 * from the same cursors, so nothing is lost; figures are computed from what is stored, so they
 * correct themselves when it arrives.
 */
async function readTransfers(
  sources: BalanceSources,
  target: Extract<SourceTarget, { kind: 'exchange' }>,
  cursors: TransferCursors,
) {
  try {
    const read = await sources
      .exchange(target.market.market_code)
      .fetchTransfers(target.credentials, cursors);
    return { read, transfersError: undefined };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { read: null, transfersError: `deposits and withdrawals not read: ${reason}` };
  }
}

import type { PricesAt } from '../exchanges/candle-prices.ts';
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
  /**
   * The prices of the new transfers (not stored before) at their own time, from the exchange's
   * candles, by transfer id; a transfer absent here is priced from the account's snapshots
   * around its time, else at this reading's prices (`recordReading`).
   */
  transferPrices?: ReadonlyMap<string, PricesAt>;
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
    /**
     * Of these transfers, those worth a candle read: not stored yet, and inside the account's
     * history (one made before its first snapshot is in that snapshot, and counts in no window).
     * Absent (an account's first reading): none.
     */
    worthPricing?: (transfers: readonly SourceTransfer[]) => Promise<SourceTransfer[]>;
    /** The assets of the account's previous snapshot, for a history read per currency. */
    heldBefore?: () => Promise<Iterable<string>>;
  },
): Promise<Reading> {
  const source = sources.priceSource(target.market);
  const roundPrices = options.roundPrices ? sources.prices.table(source) : undefined;
  void roundPrices?.catch(() => undefined); // awaited below, unless the holdings fail first
  const { total: holdings, wallets } = await sources.fetchHoldings(target);
  const { read, transfersError } =
    options.transfers && target.kind === 'exchange'
      ? await readTransfers(sources, target, options, holdings)
      : { read: null, transfersError: undefined };
  const transferPrices = read
    ? await pricesOfNew(sources, target.market.market_code, read.transfers, options)
    : undefined;
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
    ...(transferPrices === undefined ? {} : { transferPrices }),
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
  options: { cursors: TransferCursors; heldBefore?: () => Promise<Iterable<string>> },
  holdings: Holdings,
) {
  try {
    const exchange = sources.exchange(target.market.market_code);
    // An exchange read per currency is asked about what is held now or was held before.
    const assets = exchange.transfersByCurrency
      ? [...holdings.keys(), ...((await options.heldBefore?.()) ?? [])]
      : [];
    const read = await exchange.fetchTransfers(target.credentials, options.cursors, assets);
    return { read, transfersError: undefined };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { read: null, transfersError: `deposits and withdrawals not read: ${reason}` };
  }
}

/**
 * The new transfers' prices at their own time from the exchange's candles (`worthPricing`). Candles that cannot
 * be read (none kept, the endpoint failing, the exchange pausing us) leave the transfers to the
 * snapshots around their time: a price of their time still, and never a reason to hold them back.
 */
async function pricesOfNew(
  sources: BalanceSources,
  marketCode: string,
  transfers: readonly SourceTransfer[],
  options: { worthPricing?: (transfers: readonly SourceTransfer[]) => Promise<SourceTransfer[]> },
): Promise<Map<string, PricesAt>> {
  const prices = new Map<string, PricesAt>();
  const fresh = transfers.length === 0 ? [] : ((await options.worthPricing?.(transfers)) ?? []);
  if (fresh.length === 0) return prices;
  try {
    const found = await sources.exchange(marketCode).fetchPricesAt(fresh);
    fresh.forEach((transfer, index) => {
      const price = found[index];
      if (price) prices.set(transfer.id, price);
    });
  } catch {
    // Left to the snapshots (see above).
  }
  return prices;
}

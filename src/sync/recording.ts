import { sql, type Transaction } from 'kysely';
import { insertSnapshots } from '../balances/import.ts';
import { Dec } from '../valuation/index.ts';
import type { Database, TransferPricedFrom, WalletShare } from '../storage/schema.ts';
import type { SourceTransfer } from '../sources/types.ts';
import type { Reading } from './reading.ts';

interface Owner {
  accountId: number;
  userId: number;
  /** A wallet does not trade: every change in its holdings is a transfer. */
  isWallet: boolean;
}

/**
 * Writes one reading: the snapshot with every asset and its price, the transfers, all in the
 * caller's transaction — so a round leaves a whole snapshot or none.
 */
export async function recordReading(
  tx: Transaction<Database>,
  owner: Owner,
  reading: Reading,
): Promise<void> {
  const price = (asset: string) => reading.prices.usd[asset] ?? null;
  const previous = owner.isWallet ? await latestHoldings(tx, owner) : null;
  await insertSnapshots(
    tx,
    [
      {
        account_id: owner.accountId,
        at: reading.takenAt.toISOString(),
        btc_usd_price: reading.prices.btcUsd,
        assets: [...reading.holdings].map(([asset, amount]) => ({
          asset,
          amount,
          usd_price: price(asset),
          wallets: walletShares(reading.wallets, asset),
        })),
      },
    ],
    new Map([[owner.accountId, owner.userId]]),
  );
  // Exchange transfers at their own time; a wallet's movements are seen at this reading's.
  const transfers = [
    ...(await pricedTransfers(tx, owner, reading)),
    ...(previous ? walletMovements(previous, reading) : []).map((t) => ({
      ...t,
      usd_price: price(t.asset),
      btc_usd_price: reading.prices.btcUsd,
      priced_from: 'round' as const,
    })),
  ];
  if (transfers.length === 0) return;
  await tx
    .insertInto('transfers')
    .values(transfers.map((t) => ({ ...t, account_id: owner.accountId, user_id: owner.userId })))
    .onConflict((conflict) =>
      conflict.columns(['user_id', 'account_id', 'external_id']).doNothing(),
    )
    .execute();
}

/**
 * Which wallets held `asset`, in the catalog's order; null when the main (first) wallet held all
 * of it, as every one-wallet account and every older snapshot does.
 */
function walletShares(wallets: Reading['wallets'], asset: string): WalletShare[] | null {
  const shares: WalletShare[] = [];
  for (const [wallet, holdings] of wallets) {
    const amount = holdings.get(asset);
    if (amount !== undefined) shares.push({ wallet, amount });
  }
  const main = wallets.keys().next().value;
  const onlyMain = shares.length === 0 || (shares.length === 1 && shares[0]?.wallet === main);
  return onlyMain ? null : shares;
}

/**
 * The exchange's transfers not stored yet, each valued at its own time: the candles' prices the
 * reading found for it; else the account's nearest snapshot pricing its asset, at or before its
 * time, else after it; else this reading's prices (exchanges report no price with a deposit).
 */
async function pricedTransfers(tx: Transaction<Database>, owner: Owner, reading: Reading) {
  const read = reading.transfers ?? [];
  if (read.length === 0) return [];
  const stored = await tx
    .selectFrom('transfers')
    .select('external_id')
    .where('user_id', '=', owner.userId)
    .where('account_id', '=', owner.accountId)
    .where(
      'external_id',
      'in',
      read.map((t) => t.id),
    )
    .execute();
  const known = new Set(stored.map((row) => row.external_id));
  // An account's first reading has no snapshot to look in (and its transfers count in no window).
  const earlier = await tx
    .selectFrom('balance_snapshots')
    .select('id')
    .where('user_id', '=', owner.userId)
    .where('account_id', '=', owner.accountId)
    .where('taken_at', '<', reading.takenAt)
    .limit(1)
    .executeTakeFirst();
  const priced = [];
  for (const t of read) {
    if (known.has(t.id)) continue;
    priced.push({
      at: t.at,
      asset: t.asset,
      amount: t.amount,
      kind: t.kind,
      external_id: t.id,
      ...(await pricesAtItsTime(tx, earlier ? owner : null, t, reading)),
    });
  }
  return priced;
}

interface TransferPrices {
  usd_price: string | null;
  btc_usd_price: string;
  priced_from: TransferPricedFrom;
}

/** `snapshotsOf`: the account whose snapshots to look in; null when it has none before this. */
async function pricesAtItsTime(
  tx: Transaction<Database>,
  snapshotsOf: Owner | null,
  transfer: SourceTransfer,
  reading: Reading,
): Promise<TransferPrices> {
  const candles = reading.transferPrices?.get(transfer.id);
  if (candles)
    return { usd_price: candles.usd, btc_usd_price: candles.btcUsd, priced_from: 'candles' };
  const snapshot =
    snapshotsOf === null ? undefined : await snapshotPrices(tx, snapshotsOf, transfer, reading);
  if (snapshot) return { ...snapshot, priced_from: 'snapshots' };
  return {
    usd_price: reading.prices.usd[transfer.asset] ?? null,
    btc_usd_price: reading.prices.btcUsd,
    priced_from: 'round',
  };
}

/** The account's snapshot nearest `transfer`'s time that priced its asset (before this one). */
async function snapshotPrices(
  tx: Transaction<Database>,
  owner: Owner,
  transfer: SourceTransfer,
  reading: Reading,
) {
  const nearest = (side: 'before' | 'after') =>
    sql<{ usd_price: string; btc_usd_price: string }>`
    SELECT a.usd_price, s.btc_usd_price FROM balance_snapshots s
    JOIN snapshot_assets a ON a.user_id = s.user_id AND a.snapshot_id = s.id
      AND a.asset = ${transfer.asset}
    WHERE s.user_id = ${owner.userId} AND s.account_id = ${owner.accountId}
      AND a.usd_price IS NOT NULL AND s.taken_at < ${reading.takenAt}
      AND ${side === 'before' ? sql`s.taken_at <= ${transfer.at}` : sql`s.taken_at > ${transfer.at}`}
    ORDER BY s.taken_at ${side === 'before' ? sql`DESC` : sql`ASC`} LIMIT 1`.execute(tx);
  const row = (await nearest('before')).rows[0] ?? (await nearest('after')).rows[0];
  return row;
}

async function latestHoldings(
  tx: Transaction<Database>,
  owner: Owner,
): Promise<Map<string, string> | null> {
  const rows = await sql<{ id: number; asset: string | null; amount: string | null }>`
    SELECT s.id, a.asset, a.amount FROM (SELECT user_id, id FROM balance_snapshots
      WHERE user_id = ${owner.userId} AND account_id = ${owner.accountId}
      ORDER BY taken_at DESC LIMIT 1) s
    LEFT JOIN snapshot_assets a ON a.user_id = s.user_id AND a.snapshot_id = s.id`.execute(tx);
  if (rows.rows.length === 0) return null;
  const holdings = new Map<string, string>();
  for (const row of rows.rows) if (row.asset && row.amount) holdings.set(row.asset, row.amount);
  return holdings;
}

/** What arrived in or left a wallet since its previous snapshot, one transfer per asset. */
function walletMovements(previous: Map<string, string>, reading: Reading) {
  const assets = new Set([...previous.keys(), ...reading.holdings.keys()]);
  const moments = reading.takenAt.toISOString();
  return [...assets].flatMap((asset) => {
    const delta = new Dec(reading.holdings.get(asset) ?? 0).minus(previous.get(asset) ?? 0);
    if (delta.isZero()) return [];
    const kind = delta.isPositive() ? ('deposit' as const) : ('withdrawal' as const);
    return [
      {
        at: reading.takenAt,
        asset,
        amount: delta.abs().toFixed(),
        kind,
        external_id: `balance-change:${moments}:${asset}`,
      },
    ];
  });
}

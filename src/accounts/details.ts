import { sql } from 'kysely';
import { notFound } from '../errors.ts';
import { findMarket } from '../markets/index.ts';
import type { Storage } from '../storage/database.ts';
import type { WalletShare } from '../storage/schema.ts';
import { isLive } from '../sync/account-sync.ts';
import { Dec } from '../valuation/index.ts';

export interface HoldingLine {
  asset: string;
  amount: string;
  /** null: no price route on the price source; left out of the account's value. */
  usd_price: string | null;
  usd_value: string | null;
  /** Which wallets of the exchange account held it, in the catalog's order; [] for an address. */
  wallets: WalletShare[];
}

export interface AccountDetails {
  account_id: number;
  market_code: string;
  name: string;
  live: boolean;
  api_key_invalid: boolean;
  is_locked: boolean;
  lock_reason: string | null;
  api_keys_expire_at: Date | null;
  next_sync_at: Date | null;
  last_sync_at: Date | null;
  last_sync_error: string | null;
  last_error_at: Date | null;
  sync_failures: number;
  transfers_synced_at: Date | null;
  snapshot: { taken_at: Date; btc_usd_price: string; usd_value: string } | null;
  holdings: HoldingLine[];
}

/** What `account show` prints: sync health and the latest snapshot asset by asset. */
export async function accountDetails(storage: Storage, accountId: number): Promise<AccountDetails> {
  const account = await storage.db
    .selectFrom('accounts')
    .selectAll()
    .where('id', '=', accountId)
    .executeTakeFirst();
  if (!account) throw notFound(`Account ${accountId}`);
  const snapshot = await storage.db
    .selectFrom('balance_snapshots')
    .select(['id', 'taken_at', 'btc_usd_price', 'usd_value'])
    .where('user_id', '=', account.user_id)
    .where('account_id', '=', accountId)
    .orderBy('taken_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const assets = snapshot
    ? (
        await sql<{
          asset: string;
          amount: string;
          usd_price: string | null;
          wallets: WalletShare[] | null;
        }>`
          SELECT asset, amount, usd_price, wallets FROM snapshot_assets
          WHERE user_id = ${account.user_id} AND snapshot_id = ${snapshot.id}
          ORDER BY asset`.execute(storage.db)
      ).rows
    : [];
  return {
    account_id: account.id,
    market_code: account.market_code,
    name: account.name,
    live: isLive(account),
    api_key_invalid: account.api_key_invalid,
    is_locked: account.is_locked,
    lock_reason: account.lock_reason,
    api_keys_expire_at: account.api_keys_expire_at,
    next_sync_at: account.next_sync_at,
    last_sync_at: account.last_sync_at,
    last_sync_error: account.last_sync_error,
    last_error_at: account.last_error_at,
    sync_failures: account.sync_failures,
    transfers_synced_at: account.transfers_synced_at,
    snapshot: snapshot
      ? {
          taken_at: snapshot.taken_at,
          btc_usd_price: new Dec(snapshot.btc_usd_price).toFixed(),
          usd_value: new Dec(snapshot.usd_value).toFixed(),
        }
      : null,
    holdings: assets.map(({ wallets, ...line }) => ({
      ...line,
      usd_value:
        line.usd_price === null ? null : new Dec(line.amount).times(line.usd_price).toFixed(),
      wallets: wallets ?? mainWalletShare(account.market_code, line.amount),
    })),
  };
}

/** No wallets stored: the main wallet held it all (an address has none to name). */
function mainWalletShare(marketCode: string, amount: string): WalletShare[] {
  const connector = findMarket(marketCode)?.connector;
  const main = connector?.type === 'ccxt' ? connector.wallets[0]?.name : undefined;
  return main ? [{ wallet: main, amount }] : [];
}

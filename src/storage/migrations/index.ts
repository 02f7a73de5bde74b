import type { Migration, MigrationProvider } from 'kysely/migration';
import * as initial from './0001_initial.ts';
import * as sync from './0002_sync.ts';
import * as exchangePauses from './0003_exchange_pauses.ts';
import * as snapshotWallets from './0004_snapshot_wallets.ts';
import * as transferPrices from './0005_transfer_prices.ts';
import * as displayPrices from './0006_display_prices.ts';
import * as sessions from './0007_sessions.ts';
import * as claimedAccounts from './0008_claimed_accounts.ts';
import * as citusReady from './0009_citus_ready.ts';

/** Versioned migrations, applied in name order at start. Add new ones; never edit old ones. */
export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_sync': sync,
  '0003_exchange_pauses': exchangePauses,
  '0004_snapshot_wallets': snapshotWallets,
  '0005_transfer_prices': transferPrices,
  '0006_display_prices': displayPrices,
  '0007_sessions': sessions,
  '0008_claimed_accounts': claimedAccounts,
  '0009_citus_ready': citusReady,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};

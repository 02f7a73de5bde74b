import type { Kysely } from 'kysely';
import { runEach } from './run-each.ts';

// Which wallet of an exchange account held what (Binance spot, funding, Simple Earn; OKX trading,
// funding), kept with each snapshot asset for `account show`. Null when the account's main
// wallet held all of it (every snapshot before this, every one-wallet account): most rows stay
// as small as now, and a nullable column without a default is added without rewriting the table.
// The list endpoints never read it.
export async function up(db: Kysely<unknown>): Promise<void> {
  await runEach(db, `ALTER TABLE snapshot_assets ADD COLUMN wallets jsonb`);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runEach(db, `ALTER TABLE snapshot_assets DROP COLUMN wallets`);
}

import type { Kysely } from 'kysely';
import { runEach } from './run-each.ts';

// Live sync: each connected account carries its schedule, its claim by a worker (a lease, so a
// worker that dies mid-sync gives the account back), its health and its transfer cursors.
// Prices read in one round are shared by every worker through `price_rounds`.
export async function up(db: Kysely<unknown>): Promise<void> {
  await runEach(
    db,
    `
    ALTER TABLE accounts ADD COLUMN next_sync_at timestamptz;
    ALTER TABLE accounts ADD COLUMN claimed_by text;
    ALTER TABLE accounts ADD COLUMN claimed_until timestamptz;
    ALTER TABLE accounts ADD COLUMN last_sync_at timestamptz;
    ALTER TABLE accounts ADD COLUMN last_sync_error text;
    ALTER TABLE accounts ADD COLUMN last_error_at timestamptz;
    ALTER TABLE accounts ADD COLUMN sync_failures integer NOT NULL DEFAULT 0;
    ALTER TABLE accounts ADD COLUMN transfers_synced_at timestamptz;
    ALTER TABLE accounts ADD COLUMN deposits_since timestamptz;
    ALTER TABLE accounts ADD COLUMN withdrawals_since timestamptz;
    CREATE INDEX accounts_due ON accounts (next_sync_at) WHERE next_sync_at IS NOT NULL;

    ALTER TABLE transfers ALTER COLUMN usd_price DROP NOT NULL;

    CREATE TABLE price_rounds (
      source text PRIMARY KEY,
      fetched_at timestamptz NOT NULL,
      btc_usd_price numeric,
      usd_prices jsonb NOT NULL
    )
  `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runEach(
    db,
    `
    DROP TABLE price_rounds;
    ALTER TABLE transfers ALTER COLUMN usd_price SET NOT NULL;
    DROP INDEX accounts_due;
    ALTER TABLE accounts DROP COLUMN next_sync_at, DROP COLUMN claimed_by,
      DROP COLUMN claimed_until, DROP COLUMN last_sync_at, DROP COLUMN last_sync_error,
      DROP COLUMN last_error_at, DROP COLUMN sync_failures, DROP COLUMN transfers_synced_at,
      DROP COLUMN deposits_since, DROP COLUMN withdrawals_since
  `,
  );
}

import type { Kysely } from 'kysely';
import { runEach } from './run-each.ts';

// Display currencies (EUR, JPY, ETH, …) are valued from the rounds that priced each snapshot
// and transfer. One row per price source and round, holding every catalog currency's USD price:
// its size follows the rounds, never the number of accounts or snapshots. The fetched_at index
// serves accounts without a price source of their own (wallets): any source's latest round.
export async function up(db: Kysely<unknown>): Promise<void> {
  await runEach(
    db,
    `
    CREATE TABLE display_prices (
      source text NOT NULL,
      fetched_at timestamptz NOT NULL,
      usd_prices jsonb NOT NULL,
      PRIMARY KEY (source, fetched_at)
    );
    CREATE INDEX display_prices_fetched_at ON display_prices (fetched_at)
  `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runEach(db, `DROP TABLE display_prices`);
}

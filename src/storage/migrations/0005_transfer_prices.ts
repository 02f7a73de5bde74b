import type { Kysely } from 'kysely';
import { runEach } from './run-each.ts';

// A synced deposit or withdrawal is valued at its own time: where its prices came from is kept
// ('candles': the exchange's candles at its time; 'snapshots': the account's snapshot nearest its
// time; 'round': the round that saw it). Null for imported transfers, which carry their prices.
// Transfers synced before this were valued at the round that saw them.
export async function up(db: Kysely<unknown>): Promise<void> {
  await runEach(
    db,
    `
    ALTER TABLE transfers ADD COLUMN priced_from text
      CHECK (priced_from IN ('candles', 'snapshots', 'round'));
    UPDATE transfers SET priced_from = 'round' WHERE external_id IS NOT NULL
  `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runEach(db, `ALTER TABLE transfers DROP COLUMN priced_from`);
}

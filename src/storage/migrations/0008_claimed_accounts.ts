import type { Kysely } from 'kysely';
import { runEach } from './run-each.ts';

// The accounts a worker holds right now (claims are cleared when a sync ends, so this holds
// about the syncs in flight): the worker's wake-up query (`nextDueAt`) reads when their leases
// end here instead of walking every scheduled account — a million of them — on each idle poll.
export async function up(db: Kysely<unknown>): Promise<void> {
  await runEach(
    db,
    `CREATE INDEX accounts_claimed ON accounts (claimed_until) WHERE claimed_until IS NOT NULL`,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runEach(db, `DROP INDEX accounts_claimed`);
}

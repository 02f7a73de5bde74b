import type { Kysely } from 'kysely';
import { runEach } from './run-each.ts';

// An exchange that pushed back (a 418 ban, a long Retry-After, its own ban code) is paused for
// this IP: stored, so every worker process on the database and a restarted one honour it.
export async function up(db: Kysely<unknown>): Promise<void> {
  await runEach(
    db,
    `
    CREATE TABLE exchange_pauses (
      market_code text PRIMARY KEY,
      until timestamptz NOT NULL,
      reason text NOT NULL
    )
  `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runEach(db, `DROP TABLE exchange_pauses`);
}

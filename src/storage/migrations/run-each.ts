import { sql, type Kysely } from 'kysely';

/** PGlite prepares every query, and a prepared statement holds one command: run them singly. */
export async function runEach(db: Kysely<unknown>, script: string): Promise<void> {
  for (const statement of script.split(';').map((text) => text.trim())) {
    if (statement) await sql.raw(statement).execute(db);
  }
}

import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The suite runs on PGlite by default and on PostgreSQL when DATABASE_URL is set. On PostgreSQL
 * each test file gets a database of its own (created here, dropped after), so files run in
 * parallel without seeing each other's rows.
 */
export const onPostgres = Boolean(process.env.DATABASE_URL);

export interface TestDatabase {
  /** undefined means in-memory PGlite. */
  url: string | undefined;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) return { url: undefined, drop: async () => undefined };
  const name = `opencommas_test_${randomBytes(6).toString('hex')}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function admin(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * Drops the test database at `url` (no-op on PGlite): for tests that close a server's storage
 * under it, whose usual teardown then fails partway.
 */
export async function dropDatabaseAt(url: string | undefined): Promise<void> {
  const serverUrl = process.env.DATABASE_URL;
  if (!url || !serverUrl) return;
  await admin(serverUrl, `DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
}

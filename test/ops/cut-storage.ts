import pg from 'pg';
import type { TestServer } from '../support/server.ts';

/**
 * Takes a test server's database away under it: on PostgreSQL, the database stops accepting
 * connections and every one it had is terminated (as in an outage; `restore` lets them back);
 * on PGlite, which lives in the process, the storage is closed for good (`restore` is a no-op,
 * and the server's teardown will fail partway).
 */
export async function cutStorage(server: TestServer): Promise<{ restore(): Promise<void> }> {
  const url = server.databaseUrl;
  if (!url) {
    await server.services.storage.close();
    return { restore: async () => undefined };
  }
  const name = new URL(url).pathname.slice(1);
  await admin(
    `ALTER DATABASE ${name} ALLOW_CONNECTIONS false`,
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE datname = '${name}' AND pid <> pg_backend_pid()`,
  );
  return { restore: () => admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`) };
}

async function admin(...statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

// A fresh PostgreSQL database of the bench's own on the local server, dropped afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_URL =
  process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface Database {
  url: string;
  /** OPENCOMMAS_MASTER_KEY for this database, base64. */
  masterKey: string;
  drop(): Promise<void>;
}

/** One statement on the server's maintenance database (CREATE/DROP DATABASE). */
export async function admin(statement: string, url = POSTGRES_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export async function createDatabase(): Promise<Database> {
  const name = `opencommas_bench_startup_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    masterKey: randomBytes(32).toString('base64'),
    drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

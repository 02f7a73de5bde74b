import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { migrationProvider } from './migrations/index.ts';
import type { Database } from './schema.ts';

export type StorageKind = 'pglite' | 'postgres';

/** The channel on which every process announces writes, so other processes drop their caches. */
export const CHANGES_CHANNEL = 'opencommas_changes';

export interface Storage {
  kind: StorageKind;
  db: Kysely<Database>;
  /** Calls `handler` with the payload of every change notification, from any process. */
  listen(handler: (payload: string) => void): Promise<void>;
  close(): Promise<void>;
}

export interface StorageOptions {
  /** PostgreSQL connection string; when absent, the embedded PGlite is used. */
  databaseUrl?: string | undefined;
  /** PGlite data directory; absent means in memory (tests). */
  dataDir?: string | undefined;
}

const INT8 = 20;
const NUMERIC = 1700;
// Ids are bigint in SQL but stay far below 2^53; numerics stay exact strings.
const parseInt8 = (value: string) => Number(value);
const keepText = (value: string) => value;

export async function openStorage(options: StorageOptions): Promise<Storage> {
  const storage = options.databaseUrl
    ? openPostgres(options.databaseUrl)
    : await openPGlite(options.dataDir);
  try {
    await migrate(storage.db);
  } catch (error) {
    await storage.close();
    throw error;
  }
  return storage;
}

async function openPGlite(dataDir: string | undefined): Promise<Storage> {
  const pglite = await PGlite.create(dataDir, {
    parsers: { [INT8]: parseInt8, [NUMERIC]: keepText },
  });
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
  return {
    kind: 'pglite',
    db,
    async listen(handler) {
      await pglite.listen(CHANGES_CHANNEL, handler);
    },
    close: () => db.destroy(),
  };
}

function openPostgres(connectionString: string): Storage {
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') =>
      oid === INT8 ? parseInt8 : oid === NUMERIC ? keepText : pg.types.getTypeParser(oid, format),
  };
  const pool = new pg.Pool({ connectionString, types, max: 10 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let listener: pg.Client | undefined;
  return {
    kind: 'postgres',
    db,
    async listen(handler) {
      listener = new pg.Client({ connectionString });
      await listener.connect();
      listener.on('notification', (message) => handler(message.payload ?? ''));
      await listener.query(`LISTEN ${CHANGES_CHANNEL}`);
    },
    async close() {
      await listener?.end();
      await db.destroy();
    },
  };
}

async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === 'Error');
  if (error || failed) {
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
}

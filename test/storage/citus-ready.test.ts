import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../../src/storage/database.ts';
import {
  DISTRIBUTED_TABLES,
  DISTRIBUTION_COLUMN,
  LOCAL_TABLES,
  REFERENCE_TABLES,
} from '../../src/storage/distribution.ts';
import type { Database } from '../../src/storage/schema.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// Issue 14 §4: the schema keeps Citus's rules, read from the catalog after every migration, so
// that distributing by user later needs no change of keys or queries. Each rule lists what breaks
// it, by name: an empty list is a schema that distributes as it stands.

const distributed = new Set<string>(DISTRIBUTED_TABLES);
const reference = new Set<string>(REFERENCE_TABLES);
const classified = new Set<string>([...DISTRIBUTED_TABLES, ...REFERENCE_TABLES, ...LOCAL_TABLES]);

interface KeyRow {
  table: string;
  name: string;
  columns: string[];
}

interface ForeignKeyRow {
  table: string;
  name: string;
  target: string;
  columns: string[];
  targets: string[];
}

async function tables(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY name`.execute(db);
  return rows.map((row) => row.name);
}

/** Every primary key and unique index (constraint or not), with its columns in key order. */
async function uniques(db: Kysely<Database>): Promise<KeyRow[]> {
  const { rows } = await sql<KeyRow>`
    SELECT t.relname AS table, x.relname AS name,
      array(SELECT coalesce(a.attname, '(expression)') FROM unnest(i.indkey) WITH ORDINALITY k(n, o)
        LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n
        ORDER BY k.o)::text[] AS columns
    FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_class x ON x.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = current_schema() AND i.indisunique ORDER BY 1, 2`.execute(db);
  return rows;
}

async function foreignKeys(db: Kysely<Database>): Promise<ForeignKeyRow[]> {
  const { rows } = await sql<ForeignKeyRow>`
    SELECT t.relname AS table, c.conname AS name, r.relname AS target,
      array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o)::text[]
        AS columns,
      array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
        JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o)::text[]
        AS targets
    FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
    JOIN pg_class r ON r.oid = c.confrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = current_schema() AND c.contype = 'f' ORDER BY 1, 2`.execute(db);
  return rows;
}

/** Tables in the schema that `src/storage/distribution.ts` does not place. */
async function unclassified(db: Kysely<Database>): Promise<string[]> {
  return (await tables(db)).filter((table) => !classified.has(table));
}

/** Keys and uniques of distributed tables that Citus could not enforce on one shard. */
async function keysWithoutUser(db: Kysely<Database>): Promise<string[]> {
  return (await uniques(db))
    .filter((key) => distributed.has(key.table) && !key.columns.includes(DISTRIBUTION_COLUMN))
    .map((key) => `${key.table}.${key.name} (${key.columns.join(', ')})`);
}

/** Foreign keys between distributed tables that do not pair user_id with user_id. */
async function crossShardForeignKeys(db: Kysely<Database>): Promise<string[]> {
  return (await foreignKeys(db))
    .filter((fk) => distributed.has(fk.table) && distributed.has(fk.target))
    .filter((fk) => {
      const at = fk.columns.indexOf(DISTRIBUTION_COLUMN);
      return at < 0 || fk.targets[at] !== DISTRIBUTION_COLUMN;
    })
    .map((fk) => `${fk.table}.${fk.name} → ${fk.target}`);
}

/** Reference tables pointing into distributed ones (a replicated row cannot check a shard). */
async function referencesIntoShards(db: Kysely<Database>): Promise<string[]> {
  return (await foreignKeys(db))
    .filter((fk) => reference.has(fk.table) && distributed.has(fk.target))
    .map((fk) => `${fk.table}.${fk.name} → ${fk.target}`);
}

let database: TestDatabase;
let storage: Storage;

beforeAll(async () => {
  database = await createTestDatabase();
  storage = await openStorage({ databaseUrl: database.url });
});

afterAll(async () => {
  await storage.close();
  await database.drop();
});

describe('the schema distributes by user (Citus)', () => {
  it('places every table: distributed, reference or local, and each in one list only', async () => {
    expect(await unclassified(storage.db)).toEqual([]);
    const lists = [...DISTRIBUTED_TABLES, ...REFERENCE_TABLES, ...LOCAL_TABLES];
    expect(lists.length).toBe(classified.size);
    // Every distributed and reference table the lists name exists (a stale name is a typo).
    const present = new Set(await tables(storage.db));
    expect([...DISTRIBUTED_TABLES, ...REFERENCE_TABLES].filter((t) => !present.has(t))).toEqual([]);
  });

  it('keys every distributed table by user, with user_id in every unique', async () => {
    expect(await keysWithoutUser(storage.db)).toEqual([]);
    const keys = (await uniques(storage.db)).filter((key) => key.name.endsWith('_pkey'));
    const keyed = keys.filter((key) => distributed.has(key.table));
    expect(Object.fromEntries(keyed.map((key) => [key.table, key.columns]))).toEqual({
      accounts: ['user_id', 'id'],
      balance_snapshots: ['user_id', 'id'],
      snapshot_assets: ['user_id', 'snapshot_id', 'asset'],
      transfers: ['user_id', 'id'],
    });
  });

  it('pairs user_id on both sides of every key between distributed tables', async () => {
    expect(await crossShardForeignKeys(storage.db)).toEqual([]);
    const between = (await foreignKeys(storage.db)).filter(
      (fk) => distributed.has(fk.table) && distributed.has(fk.target),
    );
    expect(between.map((fk) => `${fk.table} (${fk.columns.join(', ')}) → ${fk.target}`)).toEqual([
      'balance_snapshots (user_id, account_id) → accounts',
      'snapshot_assets (user_id, snapshot_id) → balance_snapshots',
      'transfers (user_id, account_id) → accounts',
    ]);
  });

  it('has no reference table pointing into a distributed one', async () => {
    expect(await referencesIntoShards(storage.db)).toEqual([]);
  });

  it('names the table, unique or key that breaks a rule', async () => {
    await sql`CREATE TABLE notes (id bigint PRIMARY KEY, user_id bigint NOT NULL,
      account_id bigint NOT NULL, body text)`.execute(storage.db);
    await sql`CREATE UNIQUE INDEX transfers_external_alone ON transfers (external_id)`.execute(
      storage.db,
    );
    await sql`ALTER TABLE sessions ADD COLUMN account_id bigint,
      ADD COLUMN account_user bigint`.execute(storage.db);
    await sql`ALTER TABLE sessions ADD CONSTRAINT sessions_account_fkey
      FOREIGN KEY (account_user, account_id) REFERENCES accounts (user_id, id)`.execute(storage.db);
    try {
      expect(await unclassified(storage.db)).toEqual(['notes']);
      expect(await keysWithoutUser(storage.db)).toEqual([
        'transfers.transfers_external_alone (external_id)',
      ]);
      expect(await referencesIntoShards(storage.db)).toEqual([
        'sessions.sessions_account_fkey → accounts',
      ]);
      // A key between distributed tables that pairs user_id with another column.
      await sql`ALTER TABLE transfers ADD CONSTRAINT transfers_skewed_fkey
        FOREIGN KEY (user_id, account_id) REFERENCES accounts (id, user_id)`.execute(storage.db);
      expect(await crossShardForeignKeys(storage.db)).toEqual([
        'transfers.transfers_skewed_fkey → accounts',
      ]);
    } finally {
      await sql`DROP TABLE notes`.execute(storage.db);
      await sql`DROP INDEX transfers_external_alone`.execute(storage.db);
      await sql`ALTER TABLE transfers DROP CONSTRAINT IF EXISTS transfers_skewed_fkey`.execute(
        storage.db,
      );
      await sql`ALTER TABLE sessions DROP CONSTRAINT sessions_account_fkey,
        DROP COLUMN account_id, DROP COLUMN account_user`.execute(storage.db);
    }
  });
});

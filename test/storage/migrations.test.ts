import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import { afterAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/storage/database.ts';
import { migrationProvider } from '../../src/storage/migrations/index.ts';
import type { Database } from '../../src/storage/schema.ts';
import { createTestDatabase, onPostgres } from '../support/database.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('storage', () => {
  it('applies the versioned migrations once, and keeps data across restarts', async () => {
    const database = await createTestDatabase();
    const dataDir = onPostgres
      ? undefined
      : mkdtempSync(path.join(tmpdir(), 'opencommas-storage-'));
    if (dataDir) dirs.push(dataDir);
    const options = { databaseUrl: database.url, dataDir };
    try {
      const first = await openStorage(options);
      await first.db.insertInto('users').values({ email: 'kept@example.com' }).execute();
      await first.close();

      const second = await openStorage(options);
      const applied = await sql<{
        name: string;
      }>`SELECT name FROM kysely_migration ORDER BY name`.execute(second.db);
      expect(applied.rows.map((row) => row.name)).toEqual([
        '0001_initial',
        '0002_sync',
        '0003_exchange_pauses',
        '0004_snapshot_wallets',
        '0005_transfer_prices',
        '0006_display_prices',
        '0007_sessions',
        '0008_claimed_accounts',
        '0009_citus_ready',
      ]);
      const users = await second.db.selectFrom('users').select('email').execute();
      expect(users).toEqual([{ email: 'kept@example.com' }]);
      // Money columns are numeric: values come back as exact decimal strings.
      const product = await sql<{
        v: string;
      }>`SELECT 0.1::numeric * 3 + 0.000000000000000000000000000001 AS v`.execute(second.db);
      expect(product.rows[0]?.v).toBe('0.300000000000000000000000000001');
      await second.close();
    } finally {
      await database.drop();
    }
  });

  it('keys a populated 0008 database by user (0009) and keeps its rows and cascades', async () => {
    const database = await createTestDatabase();
    const storage = await openStorage({ databaseUrl: database.url });
    try {
      const migrator = new Migrator({ db: storage.db, provider: migrationProvider });
      const back = await migrator.migrateTo('0008_claimed_accounts');
      expect(back.error).toBeUndefined();
      await populate08(storage.db);

      const forward = await migrator.migrateToLatest();
      expect(forward.error).toBeUndefined();
      expect(forward.results?.map((result) => result.migrationName)).toEqual(['0009_citus_ready']);
      expect(await snapshotOf(storage.db)).toEqual(POPULATED);
      expect(await keysOf(storage.db)).toEqual({
        accounts_pkey: 'PRIMARY KEY (user_id, id)',
        balance_snapshots_pkey: 'PRIMARY KEY (user_id, id)',
        snapshot_assets_pkey: 'PRIMARY KEY (user_id, snapshot_id, asset)',
        transfers_pkey: 'PRIMARY KEY (user_id, id)',
      });

      // The composite keys still cascade: removing an account takes its history with it.
      await sql`DELETE FROM accounts WHERE name = 'Gone'`.execute(storage.db);
      const left = await snapshotOf(storage.db);
      expect(left.snapshots).toEqual(POPULATED.snapshots.filter((row) => row.account !== 'Gone'));
      expect(left.assets).toEqual(POPULATED.assets.filter((row) => row.account !== 'Gone'));
      expect(left.transfers).toEqual(POPULATED.transfers.filter((row) => row.account !== 'Gone'));
    } finally {
      await storage.close();
      await database.drop();
    }
  });
});

/** Two users, three accounts, snapshots with assets and transfers, written as 0008 had them. */
async function populate08(db: Kysely<Database>): Promise<void> {
  await sql`INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com')`.execute(db);
  await sql`INSERT INTO accounts (user_id, market_code, name)
    SELECT u.id, 'binance', n FROM users u
    CROSS JOIN unnest(ARRAY['Main', 'Gone']) n WHERE u.email = 'a@example.com'
    UNION ALL SELECT id, 'okx', 'Other' FROM users WHERE email = 'b@example.com'`.execute(db);
  await sql`INSERT INTO balance_snapshots (account_id, user_id, taken_at, btc_usd_price, usd_value)
    SELECT a.id, a.user_id, t, 50000, 100.5 FROM accounts a
    CROSS JOIN unnest(ARRAY['2026-01-01T00:00Z', '2026-01-02T00:00Z']::timestamptz[]) t`.execute(
    db,
  );
  await sql`INSERT INTO snapshot_assets (snapshot_id, user_id, asset, amount, usd_price)
    SELECT s.id, s.user_id, x, 0.000000000000000001, 1 FROM balance_snapshots s
    CROSS JOIN unnest(ARRAY['BTC', 'USDT']) x`.execute(db);
  await sql`INSERT INTO transfers
      (account_id, user_id, at, asset, amount, usd_price, btc_usd_price, kind, external_id)
    SELECT id, user_id, '2026-01-01T12:00Z', 'USDT', 10, 1, 50000, 'deposit', 'd:' || name
    FROM accounts`.execute(db);
}

const POPULATED = {
  accounts: ['a@example.com Gone', 'a@example.com Main', 'b@example.com Other'],
  snapshots: ['Gone', 'Gone', 'Main', 'Main', 'Other', 'Other'].map((account, i) => ({
    account,
    taken: i % 2 === 0 ? '2026-01-01' : '2026-01-02',
    usd: '100.5',
  })),
  assets: ['Gone', 'Main', 'Other'].flatMap((account) =>
    ['2026-01-01', '2026-01-02'].flatMap((taken) =>
      ['BTC', 'USDT'].map((asset) => ({ account, taken, asset, amount: '0.000000000000000001' })),
    ),
  ),
  transfers: ['Gone', 'Main', 'Other'].map((account) => ({
    account,
    external: `d:${account}`,
    amount: '10',
  })),
};

/** Every row, joined the way the application reads them, by names rather than ids. */
async function snapshotOf(db: Kysely<Database>): Promise<typeof POPULATED> {
  const accounts = await sql<{ v: string }>`SELECT u.email || ' ' || a.name AS v
    FROM accounts a JOIN users u ON u.id = a.user_id ORDER BY v`.execute(db);
  const snapshots = await sql<{ account: string; taken: string; usd: string }>`
    SELECT a.name AS account, to_char(s.taken_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS taken,
      s.usd_value::text AS usd
    FROM balance_snapshots s JOIN accounts a ON a.user_id = s.user_id AND a.id = s.account_id
    ORDER BY account, taken`.execute(db);
  const assets = await sql<{ account: string; taken: string; asset: string; amount: string }>`
    SELECT a.name AS account, to_char(s.taken_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS taken,
      x.asset, x.amount::text AS amount
    FROM snapshot_assets x
    JOIN balance_snapshots s ON s.user_id = x.user_id AND s.id = x.snapshot_id
    JOIN accounts a ON a.user_id = s.user_id AND a.id = s.account_id
    ORDER BY account, taken, asset`.execute(db);
  const transfers = await sql<{ account: string; external: string; amount: string }>`
    SELECT a.name AS account, t.external_id AS external, t.amount::text AS amount
    FROM transfers t JOIN accounts a ON a.user_id = t.user_id AND a.id = t.account_id
    ORDER BY account`.execute(db);
  return {
    accounts: accounts.rows.map((row) => row.v),
    snapshots: snapshots.rows,
    assets: assets.rows,
    transfers: transfers.rows,
  };
}

async function keysOf(db: Kysely<Database>): Promise<Record<string, string>> {
  const keys = await sql<{ name: string; def: string }>`
    SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
    WHERE contype = 'p' AND conrelid::regclass::text IN
      ('accounts', 'balance_snapshots', 'snapshot_assets', 'transfers')`.execute(db);
  return Object.fromEntries(keys.rows.map((row) => [row.name, row.def]));
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/storage/database.ts';
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
});

import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../src/services.ts';
import type { Change } from '../../src/storage/changes.ts';
import { onPostgres } from '../support/database.ts';
import {
  LIST,
  signedGet,
  otherProcess,
  startTestServer,
  userWithKey,
  type Credentials,
  type TestServer,
} from '../support/server.ts';

/**
 * The change feed between processes: announcements travel with the writing transaction, and a
 * process that cannot hear them (its LISTEN connection is down) serves nothing from its caches.
 * On PostgreSQL `other` is a second process on the same database; the embedded database is one
 * process, where the server hears its own announcements.
 */
let server: TestServer;
let other: Services | undefined;
/** The backend of the server's LISTEN connection (PostgreSQL). */
let listenerPid: number | undefined;

beforeAll(async () => {
  server = await startTestServer();
  if (onPostgres) {
    // Before the other process listens too: the only listener on this database is the server's.
    const listeners = await sql<{ pid: number }>`
      SELECT pid FROM pg_stat_activity
      WHERE datname = current_database() AND query LIKE 'LISTEN%'`.execute(
      server.services.storage.db,
    );
    expect(listeners.rows).toHaveLength(1);
    listenerPid = listeners.rows[0]?.pid;
    other = await otherProcess(server);
  }
});
afterAll(async () => {
  await other?.close();
  await server.close();
});

/** Waits (bounded) until `done()`; the caller then asserts what it waited for. */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function usdAmount(credentials: Credentials): Promise<string | undefined> {
  const response = await signedGet(server, LIST, credentials);
  const [account] = (await response.json()) as Array<{ usd_amount: string }>;
  return account?.usd_amount;
}

async function userWithAccount() {
  const { user, credentials } = await userWithKey(server.services);
  const { id } = await server.services.accounts.add({
    user_id: user.id,
    market_code: 'kraken',
    name: 'K',
  });
  return { credentials, accountId: id };
}

describe('announcements', () => {
  it('are part of the writing transaction: a rolled-back write announces nothing, a committed one does', async () => {
    // Another process hears through NOTIFY; on the embedded database the process itself hears.
    const listener = other ?? server.services;
    const heard: Change[] = [];
    listener.changes.subscribe((change) => heard.push(change));
    const failed = server.services.changes.transaction(async (tx, announce) => {
      announce({ userId: 900_001 });
      await tx.selectFrom('users').select('id').execute();
      throw new Error('the write fails after announcing');
    });
    await expect(failed).rejects.toThrow(/write fails/);
    await server.services.changes.transaction(async (tx, announce) => {
      announce({ userId: 900_002 });
      await tx.selectFrom('users').select('id').execute();
    });
    // Notifications arrive in commit order: once the second is heard, the first never will be.
    await until(() => heard.some((c) => c.userId === 900_002));
    expect(heard.filter((c) => c.userId !== undefined && c.userId >= 900_000)).toEqual([
      { userId: 900_002 },
    ]);
  });

  it('a failing import writes and announces nothing; its owners hear of a good one', async () => {
    const listener = other ?? server.services;
    const heard: Change[] = [];
    listener.changes.subscribe((change) => heard.push(change));
    const { user } = await userWithKey(server.services);
    const { id } = await server.services.accounts.add({
      user_id: user.id,
      market_code: 'kraken',
      name: 'I',
    });
    const record = (at: string) => ({
      account_id: id,
      at,
      btc_usd_price: '60000',
      assets: [{ asset: 'USD', amount: '1', usd_price: '1' }],
    });
    await server.services.balances.importSnapshots([record('2026-01-01T00:00:00Z')]);
    // The second record clashes with the stored one: the whole file is refused, inside the
    // transaction, after the first record was written.
    await expect(
      server.services.balances.importSnapshots([
        record('2026-01-02T00:00:00Z'),
        record('2026-01-01T00:00:00Z'),
      ]),
    ).rejects.toThrow();
    await server.services.balances.importSnapshots([record('2026-01-03T00:00:00Z')]);
    await until(() => heard.filter((c) => c.userId === user.id).length >= 3);
    // Heard: the account's creation, the first import, the third — not the refused one.
    expect(heard.filter((c) => c.userId === user.id)).toHaveLength(3);
    const stored = await server.services.storage.db
      .selectFrom('balance_snapshots')
      .select('taken_at')
      .where('account_id', '=', id)
      .execute();
    expect(stored.map((row) => row.taken_at.toISOString()).sort()).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-03T00:00:00.000Z',
    ]);
  });
});

if (onPostgres) {
  describe('while the change feed is down', () => {
    it('a process serves nothing from its caches: a key revoked elsewhere is refused at once, and after the feed is back', async () => {
      const revoked = await userWithAccount();
      const kept = await userWithAccount();
      const { keyStore, lister, changes } = server.services;
      for (const { credentials } of [revoked, kept]) {
        expect(await usdAmount(credentials)).toBe('0.0');
        expect(await usdAmount(credentials)).toBe('0.0'); // now cached: key, signature, page
      }
      expect(keyStore.isCached(revoked.credentials.apiKey)).toBe(true);

      // Hold the outage open (no new connection to this database, superusers included: existing
      // pool connections go on working), then cut the server's LISTEN connection — both from a
      // third connection.
      await other?.storage.db.selectFrom('users').select('id').limit(1).execute(); // pool warm
      const database = new URL(server.databaseUrl ?? '').pathname.slice(1);
      const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await admin.connect();
      try {
        await admin.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS false`);
        const cut = await admin.query('SELECT pg_terminate_backend($1) AS ok', [listenerPid]);
        expect(cut.rows[0]).toEqual({ ok: true });
        await until(() => !changes.connected);
        expect(changes.connected).toBe(false);
        // Everything cached before is gone: keys, unknown keys, verified signatures, pages.
        const sizes = keyStore.sizes();
        expect([
          sizes.keys.entries,
          sizes.unknownKeys.entries,
          sizes.signatures.entries,
          lister.cache.sizes().entries,
        ]).toEqual([0, 0, 0, 0]);

        // Requests go on meanwhile: answered from storage, and nothing of them is cached…
        expect((await signedGet(server, LIST, revoked.credentials)).status).toBe(200);
        expect((await signedGet(server, LIST, revoked.credentials)).status).toBe(200);
        expect(await usdAmount(kept.credentials)).toBe('0.0');
        expect(await usdAmount(kept.credentials)).toBe('0.0');

        // …so what the other process writes while this one cannot hear is seen at once.
        await other?.keys.revoke({ api_key: revoked.credentials.apiKey });
        const refused = await signedGet(server, LIST, revoked.credentials);
        expect(refused.status).toBe(401);
        expect(((await refused.json()) as { error_description: string }).error_description).toMatch(
          /revoked/,
        );
        await other?.balances.importSnapshots([
          {
            account_id: kept.accountId,
            at: new Date(Date.now() - 60_000).toISOString(),
            btc_usd_price: '60000',
            assets: [{ asset: 'USD', amount: '7', usd_price: '1' }],
          },
        ]);
        expect(await usdAmount(kept.credentials)).toBe('7.0');
        expect(await usdAmount(kept.credentials)).toBe('7.0');
        // Nothing was stored meanwhile.
        expect(keyStore.isCached(kept.credentials.apiKey)).toBe(false);
        expect(lister.cache.sizes().entries).toBe(0);

        expect(changes.connected).toBe(false); // all of the above happened during the outage
      } finally {
        await admin.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`);
        await admin.end();
      }

      // The feed comes back by itself; the key stays refused, and caching resumes.
      await until(() => changes.connected);
      expect(changes.connected).toBe(true);
      expect((await signedGet(server, LIST, revoked.credentials)).status).toBe(401);
      expect((await signedGet(server, LIST, revoked.credentials)).status).toBe(401);
      expect(await usdAmount(kept.credentials)).toBe('7.0');
      expect(keyStore.isCached(kept.credentials.apiKey)).toBe(true);
      expect(lister.cache.sizes().entries).toBe(1);
    });
  });
} else {
  describe('the change feed of the embedded database', () => {
    it('is always connected (one process), so caches serve', async () => {
      const { credentials } = await userWithAccount();
      expect(server.services.changes.connected).toBe(true);
      expect(await usdAmount(credentials)).toBe('0.0');
      expect(server.services.keyStore.isCached(credentials.apiKey)).toBe(true);
      expect(server.services.lister.cache.sizes().entries).toBeGreaterThan(0);
    });
  });
}

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../src/services.ts';
import { listenTestAdmin } from '../support/admin.ts';
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
 * A write made elsewhere must reach the server's cached pages. On PostgreSQL "elsewhere" is
 * another process sharing the database (the CLI, a sync worker): it announces the write with
 * NOTIFY. On the embedded PGlite nothing else may open the database, so "elsewhere" is the CLI's
 * way in, the admin API (on its socket).
 */
let server: TestServer;
let credentials: Credentials;
let accountId: number;
let other: Services | undefined;

beforeAll(async () => {
  server = await startTestServer();
  const owner = await userWithKey(server.services);
  credentials = owner.credentials;
  accountId = (
    await server.services.accounts.add({ user_id: owner.user.id, market_code: 'kraken', name: 'K' })
  ).id;
  if (onPostgres) {
    other = await otherProcess(server);
  }
});
afterAll(async () => {
  await other?.close();
  await server.close();
});

const usdAmount = async () => {
  const [account] = (await (await signedGet(server, LIST, credentials)).json()) as Array<{
    usd_amount: string;
  }>;
  return account?.usd_amount;
};

async function writeElsewhere(records: unknown[]): Promise<void> {
  if (other) {
    await other.balances.importSnapshots(records);
    return;
  }
  const admin = await listenTestAdmin(server);
  try {
    expect((await admin.post('balance.import', { records })).status).toBe(200);
  } finally {
    await admin.close();
  }
}

/** Notifications cross processes asynchronously: poll (bounded), don't sleep a fixed time. */
async function eventually<T>(read: () => Promise<T>, expected: T): Promise<void> {
  const deadline = Date.now() + 10_000;
  let value = await read();
  while (value !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  expect(value).toBe(expected);
}

describe(onPostgres ? 'a write from another process' : 'a write through the admin API', () => {
  it('drops the cached page, so the next request shows it', async () => {
    expect(await usdAmount()).toBe('0.0');
    expect(await usdAmount()).toBe('0.0'); // now cached
    const at = new Date(Date.now() - 60_000).toISOString();
    await writeElsewhere([
      {
        account_id: accountId,
        at,
        btc_usd_price: '60000',
        assets: [{ asset: 'USD', amount: '12.5', usd_price: '1' }],
      },
    ]);
    await eventually(usdAmount, '12.5');
  });

  it('revokes a key for every process', async () => {
    const { credentials: key } = await userWithKey(server.services);
    expect((await signedGet(server, LIST, key)).status).toBe(200);
    if (other) await other.keys.revoke({ api_key: key.apiKey });
    else await server.services.keys.revoke({ api_key: key.apiKey });
    await eventually(async () => (await signedGet(server, LIST, key)).status, 401);
  });
});

// Only PostgreSQL has a listening connection that can be lost; the embedded database has none,
// so this case exists in the PostgreSQL run only.
if (onPostgres) {
  describe('the listening connection', () => {
    it('is re-made after PostgreSQL kills it, and caches filled meanwhile are dropped', async () => {
      const { user, credentials: key } = await userWithKey(server.services);
      const { id } = await server.services.accounts.add({
        user_id: user.id,
        market_code: 'kraken',
        name: 'L',
      });
      const amount = async () => {
        const [account] = (await (await signedGet(server, LIST, key)).json()) as Array<{
          usd_amount: string;
        }>;
        return account?.usd_amount;
      };
      expect(await amount()).toBe('0.0'); // cached from here on
      const killed = await sql<{ ok: boolean }>`
        SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
        WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`.execute(
        server.services.storage.db,
      );
      expect(killed.rows.length).toBeGreaterThan(0);
      // Written while the server cannot hear: its notification is lost for good.
      const at = new Date(Date.now() - 60_000).toISOString();
      await other?.balances.importSnapshots([
        {
          account_id: id,
          at,
          btc_usd_price: '60000',
          assets: [{ asset: 'USD', amount: '7', usd_price: '1' }],
        },
      ]);
      await eventually(amount, '7.0');
    });
  });
}

// One writer per embedded data directory, and imports while the server runs, as real processes:
// a CLI command run while the server is still starting waits for it and then goes through its
// admin socket (never opening the directory itself); a second server is refused, naming the
// first; an import far over the public body limit goes through the running server; and a
// `kill -9` in the middle of an import leaves it all there or not at all, with the next start
// taking over the dead server's lock. On PostgreSQL there is no lock and no admin socket: the
// CLI imports directly, and a `kill -9` of the CLI mid-import leaves nothing half-written.
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/server.ts';
import { lockHolder, tryLockDataDir } from '../../src/storage/data-dir-lock.ts';
import type { CliStorage, ServerProcess } from '../support/cli.ts';
import { createCliStorage, jsonOut, runCli, spawnServer } from '../support/cli.ts';
import { onPostgres } from '../support/database.ts';

const DAY = 86_400_000;
const WELCOME_DONE = /Manage users, keys and accounts: .*\n/;

let storage: CliStorage;
let env: Record<string, string>;
let accountIds: number[];
const started: ServerProcess[] = [];

function spawn(args?: string[]): ServerProcess {
  const child = spawnServer({ ...env, PORT: '0' }, args);
  started.push(child);
  return child;
}

/**
 * Waits for the welcome, then for one answer: the server has gone back to its event loop, so its
 * signal handlers (installed right after the welcome) are in place before a test sends SIGTERM.
 */
async function upAndAnswering(server: ServerProcess): Promise<void> {
  const stdout = await server.waitForStdout(WELCOME_DONE);
  const url = /^opencommas listening on (\S+)/m.exec(stdout)?.[1] ?? '';
  expect((await fetch(`${url}/public/api/ver1/ping`)).status).toBe(200);
}

/** Polls (bounded) until `ready` holds: processes move at their own pace. */
async function until(what: string, ready: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Snapshots every `stepHours` over 30 days from `from`, for every account. */
function snapshotFile(
  name: string,
  from: number,
  stepHours: number,
): { file: string; count: number } {
  const records = accountIds.flatMap((account_id) =>
    Array.from({ length: (30 * 24) / stepHours }, (_, i) => ({
      account_id,
      at: new Date(from + i * stepHours * 3_600_000).toISOString(),
      btc_usd_price: '60000',
      assets: [
        { asset: 'BTC', amount: '0.5', usd_price: '60000' },
        { asset: 'ETH', amount: '2', usd_price: '3000' },
        { asset: 'USDT', amount: '100', usd_price: '1' },
      ],
    })),
  );
  const file = path.join(storage.dataDir, name);
  writeFileSync(file, JSON.stringify(records));
  return { file, count: records.length };
}

/**
 * Snapshots stored in [from, from + 30 days), read once no other process holds the storage (by a
 * server whose worker does not thin the imported history first).
 */
async function storedBetween(from: number): Promise<number> {
  const server = await storage.startServer({ OPENCOMMAS_PRUNE_INTERVAL: 'off' });
  try {
    const row = await server.services.storage.db
      .selectFrom('balance_snapshots')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('taken_at', '>=', new Date(from))
      .where('taken_at', '<', new Date(from + 30 * DAY))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  } finally {
    await server.stop();
  }
}

const RECENT = Date.UTC(2026, 0, 1);
const EARLIER = Date.UTC(2025, 10, 1);

beforeAll(async () => {
  storage = await createCliStorage();
  // Imported history is counted row by row below: the worker's snapshot retention stays off.
  env = {
    ...storage.env,
    OPENCOMMAS_DEMO: 'off',
    OPENCOMMAS_METRICS_PORT: 'off',
    OPENCOMMAS_PRUNE_INTERVAL: 'off',
  };
  // 100 accounts, made in this process before any server runs.
  const server = await storage.startServer();
  try {
    const user = await server.services.users.create({ email: 'importer@example.com' });
    accountIds = [];
    for (let i = 0; i < 100; i += 1) {
      const account = await server.services.accounts.add({
        user_id: user.id,
        market_code: 'kraken',
        name: `Manual ${i}`,
      });
      accountIds.push(account.id);
    }
  } finally {
    await server.stop();
  }
}, 120_000);
afterAll(async () => {
  for (const child of started) child.kill();
  await Promise.all(started.map((child) => child.exited));
  await storage.cleanup();
});

if (!onPostgres) {
  describe('one writer per embedded data directory', { timeout: 300_000 }, () => {
    it('a CLI command while the server starts waits, then goes through it; a second server is refused', async () => {
      const server = spawn();
      const pid = server.child.pid;
      // The server has taken the lock but is not listening yet: freeze it there.
      await until('the server takes the lock', () => lockHolder(storage.dataDir)?.pid === pid);
      server.child.kill('SIGSTOP');
      expect(lockHolder(storage.dataDir)?.socket).toBeUndefined();

      const cli = spawn(['--json', 'user', 'create', '--email', 'early@x.io']);
      await cli.waitForStderr(
        new RegExp(`waiting for the opencommas server \\(pid ${pid}\\) to finish starting`),
      );

      const second = spawn();
      expect((await second.exited).code).toBe(1);
      expect(second.stderr()).toContain(
        `another opencommas server (pid ${pid}, starting) is using ${storage.dataDir}`,
      );

      server.child.kill('SIGCONT');
      expect(await cli.exited).toEqual({ code: 0, signal: null });
      expect(JSON.parse(cli.stdout())).toMatchObject({ email: 'early@x.io' });
      // It went through the server (whose log names the operation), not around it.
      await server.waitForStdout(/"operation":"user.create"/);

      server.child.kill('SIGTERM');
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(lockHolder(storage.dataDir)).toBeUndefined();
    });

    it('a server starting while a CLI command holds the directory waits for it', async () => {
      // This process plays the CLI command: it holds the lock as one does while importing.
      const attempt = await tryLockDataDir(storage.dataDir, 'cli');
      if (!('lock' in attempt)) throw new Error(`held by ${attempt.holder.pid}`);
      const server = spawn();
      await server.waitForStderr(
        new RegExp(`waiting for an opencommas command \\(pid ${process.pid}\\) to finish`),
      );
      expect(server.stdout()).not.toContain('listening');
      attempt.lock.release();
      await upAndAnswering(server);
      expect(lockHolder(storage.dataDir)?.pid).toBe(server.child.pid);
      server.child.kill('SIGTERM');
      expect(await server.exited).toEqual({ code: 0, signal: null });
    });

    it('a start that fails (port taken) lets go of the lock; the next start works', async () => {
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const { port } = taken.address() as AddressInfo;
      try {
        const config = loadConfig({ ...env, PORT: String(port), LOG_LEVEL: 'silent' });
        await expect(startServer(config)).rejects.toThrow(/EADDRINUSE/);
        expect(lockHolder(storage.dataDir)).toBeUndefined();
      } finally {
        taken.close();
      }
      expect(await storedBetween(RECENT)).toBe(0);
    });

    it('a big import goes through the running server; kill -9 mid-import leaves all or nothing', async () => {
      const server = spawn();
      await upAndAnswering(server);

      // 12,000 snapshots (~3 MB): over the public listener's 1 MiB body limit.
      const recent = snapshotFile('recent.json', RECENT, 6);
      expect(statSync(recent.file).size).toBeGreaterThan(1024 * 1024);
      const imported = jsonOut<{ imported: number }>(
        await runCli(env, ['--json', 'balance', 'import', '--file', recent.file]),
        'import while serving',
      );
      expect(imported.imported).toBe(recent.count);

      // A bigger one, killed with the server once it is writing (its WAL moves).
      const earlier = snapshotFile('earlier.json', EARLIER, 2);
      const wal = path.join(storage.dataDir, 'pglite', 'pg_wal');
      const walState = () =>
        readdirSync(wal)
          .map((name) => `${name}:${statSync(path.join(wal, name)).mtimeMs}`)
          .join();
      const cli = spawn(['balance', 'import', '--file', earlier.file]);
      await server.waitForStdout(/"operation":"balance.import".*\n.*"operation":"balance.import"/s);
      const before = walState();
      await until('the import writes', () => walState() !== before);
      server.child.kill('SIGKILL');
      expect((await server.exited).signal).toBe('SIGKILL');
      expect((await cli.exited).code).not.toBe(0);
      expect(cli.stderr()).toMatch(/went away before answering balance.import|stopped before/);

      // The next start takes over the dead server's lock and opens the database.
      const next = spawn();
      await upAndAnswering(next);
      expect(lockHolder(storage.dataDir)?.pid).toBe(next.child.pid);
      next.child.kill('SIGTERM');
      expect(await next.exited).toEqual({ code: 0, signal: null });

      expect([0, earlier.count]).toContain(await storedBetween(EARLIER));
      expect(await storedBetween(RECENT)).toBe(recent.count);
    });
  });
}

if (onPostgres) {
  describe('imports on PostgreSQL (the CLI writes directly)', { timeout: 300_000 }, () => {
    it('a big import succeeds; kill -9 of the CLI mid-import leaves all or nothing', async () => {
      const recent = snapshotFile('recent.json', RECENT, 6);
      const imported = jsonOut<{ imported: number }>(
        await runCli(env, ['--json', 'balance', 'import', '--file', recent.file]),
        'import',
      );
      expect(imported.imported).toBe(recent.count);

      const earlier = snapshotFile('earlier.json', EARLIER, 2);
      const cli = spawn(['balance', 'import', '--file', earlier.file]);
      const watcher = new pg.Client({ connectionString: storage.databaseUrl });
      await watcher.connect();
      try {
        const database = new URL(storage.databaseUrl ?? '').pathname.slice(1);
        // Mid-transaction: PostgreSQL shows the import's INSERT running in our database.
        const deadline = Date.now() + 120_000;
        for (;;) {
          const { rows } = await watcher.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity
             WHERE datname = $1 AND query ILIKE 'insert into "snapshot_assets"%'`,
            [database],
          );
          if (Number(rows[0]?.n) > 0) break;
          if (Date.now() > deadline) throw new Error('the import never started writing');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      } finally {
        await watcher.end();
      }
      cli.child.kill('SIGKILL');
      expect((await cli.exited).signal).toBe('SIGKILL');

      expect([0, earlier.count]).toContain(await storedBetween(EARLIER));
      expect(await storedBetween(RECENT)).toBe(recent.count);
    });
  });
}

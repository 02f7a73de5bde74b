// `opencommas snapshots prune` as a real child process: on its own storage (no server), then
// while the server runs (through its admin socket on PGlite, the database itself on PostgreSQL).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliResult, CliStorage } from '../support/cli.ts';
import { createCliStorage, jsonOut, runCli } from '../support/cli.ts';

let storage: CliStorage;
const cli = (...args: string[]): Promise<CliResult> => runCli(storage.env, args);

beforeAll(async () => {
  storage = await createCliStorage();
  // The server's own worker would prune first: the command is what this file tests.
  storage.env.OPENCOMMAS_PRUNE_INTERVAL = 'off';
});
afterAll(() => storage.cleanup());

/** 2020-01-01 at 01:00, 05:00, 09:00 and 2020-01-02 at 03:00, 07:00, years ago. */
function history(accountId: number) {
  return ['01T01', '01T05', '01T09', '02T03', '02T07'].map((time) => ({
    account_id: accountId,
    at: `2020-01-${time}:00:00Z`,
    btc_usd_price: '7200',
    assets: [{ asset: 'USDT', amount: '100', usd_price: '1' }],
  }));
}

async function accountWithHistory(userId: number, name: string): Promise<number> {
  const account = jsonOut<{ id: number }>(
    await cli(
      '--json',
      'account',
      'add',
      '--user',
      String(userId),
      '--market',
      'binance',
      '--name',
      name,
      '--no-sync',
    ),
    'account add',
  );
  const file = path.join(storage.dataDir, `${name}.json`);
  writeFileSync(file, JSON.stringify(history(account.id)));
  jsonOut(await cli('--json', 'balance', 'import', '--file', file), 'balance import');
  return account.id;
}

describe('opencommas snapshots prune', { timeout: 90_000 }, () => {
  it('removes what retention does not keep and says how many, once', async () => {
    const user = jsonOut<{ id: number }>(
      await cli('--json', 'user', 'create', '--email', 'prune@example.com'),
      'user create',
    );
    await accountWithHistory(user.id, 'first');
    // All in the daily tier: kept are the first (01-01 01:00), 01-01's latest (09:00) and the
    // latest (01-02 07:00, also both window starts); 05:00 and 01-02 03:00 go.
    const pruned = await cli('snapshots', 'prune');
    expect(pruned).toMatchObject({ code: 0, stderr: '' });
    expect(pruned.stdout).toBe('removed 2 snapshots from 1 account\n');
    expect(jsonOut(await cli('--json', 'snapshots', 'prune'), 'second prune')).toEqual({
      removed: 0,
      accounts: 0,
    });

    // With the server running, the command runs where the server's storage is.
    await accountWithHistory(user.id, 'second');
    const server = await storage.startServer();
    try {
      expect(jsonOut(await cli('--json', 'snapshots', 'prune'), 'prune beside the server')).toEqual(
        { removed: 2, accounts: 1 },
      );
      const left = await server.services.storage.db
        .selectFrom('balance_snapshots')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(left.n)).toBe(6); // 3 kept of 5, for each account
    } finally {
      await server.stop();
    }
  });
});

// `opencommas prices prune` as a real child process, beside a running server (through its admin
// socket on PGlite, the database itself on PostgreSQL).
import { sql } from 'kysely';
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

describe('opencommas prices prune', { timeout: 90_000 }, () => {
  it('removes the rounds no figure reads and says how many, once', async () => {
    const server = await storage.startServer();
    try {
      // Three rounds 200 days old (no account, so nothing reads them) and one of today.
      await sql`INSERT INTO display_prices (source, fetched_at, usd_prices)
        SELECT 'binance', now() - make_interval(days => d), '{"EUR":"1.08"}'::jsonb
        FROM unnest(ARRAY[200, 201, 202, 0]) d`.execute(server.services.storage.db);
      const pruned = await cli('prices', 'prune');
      expect(pruned).toMatchObject({ code: 0, stderr: '' });
      expect(pruned.stdout).toBe('removed 3 rounds of display prices\n');
      expect(jsonOut(await cli('--json', 'prices', 'prune'), 'second prune')).toEqual({
        removed: 0,
      });
      const left = await server.services.storage.db
        .selectFrom('display_prices')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(left.n)).toBe(1);
    } finally {
      await server.stop();
    }
  });
});

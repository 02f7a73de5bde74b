// CLI commands as a user runs them (`opencommas ...` = `node bin/opencommas.mjs ...`), wall clock
// from spawn to exit: through a running embedded server, with no database, and on PostgreSQL.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDatabase } from './postgres.ts';
import {
  BIN,
  PING,
  freePort,
  spawnGroup,
  stopGroup,
  timeCommand,
  waitForAnswer,
} from './processes.ts';
import type { Figure } from './table.ts';

/** The three writes a person provisioning users, keys and accounts runs, one of each a round. */
function writes(round: number, secretFile: string): Array<[string, string[]]> {
  return [
    ['key create', ['key', 'create', '--user', '1', '--permissions', 'ACCOUNTS_READ']],
    [
      'account add --no-sync',
      [
        'account',
        'add',
        '--user',
        '1',
        '--market',
        'binance',
        '--name',
        `CLI ${round}`,
        '--api-key',
        `bench-cli-${round}`,
        '--secret-file',
        secretFile,
        '--no-sync',
      ],
    ],
    ['user create', ['user', 'create', '--email', `cli-${round}@bench.opencommas.local`]],
  ];
}

/** Rounds of the three writes, interleaved so a noisy moment spreads over all three. */
async function timeWrites(
  label: (command: string) => string,
  env: Record<string, string>,
  runs: number,
  limit: number,
  secretFile: string,
): Promise<Figure[]> {
  const figures = new Map<string, Figure>();
  for (let round = 0; round < runs; round++) {
    for (const [command, args] of writes(round, secretFile)) {
      const figure = figures.get(command) ?? { what: label(command), unit: 's', values: [], limit };
      figures.set(command, figure);
      figure.values.push((await timeCommand(args, env)).seconds);
    }
  }
  return [...figures.values()];
}

export async function measureCli(runs: number): Promise<Figure[]> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'opencommas-bench-cli-'));
  const secretFile = path.join(scratch, 'secret.txt');
  writeFileSync(secretFile, 'bench-secret\n', { mode: 0o600 });
  const figures: Figure[] = [];
  try {
    // 1. Through a running embedded server, on a data dir as a new user has it (demo seeded:
    //    user 1 exists), the server started as `opencommas serve` is.
    const dataDir = path.join(scratch, 'data');
    const port = await freePort();
    const serverEnv = {
      OPENCOMMAS_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: String(port),
      OPENCOMMAS_METRICS_PORT: 'off',
    };
    const server = spawnGroup(process.execPath, [...BIN, 'serve'], serverEnv);
    try {
      await waitForAnswer(`http://127.0.0.1:${port}${PING}`, server);
      figures.push(
        ...(await timeWrites(
          (command) => `\`${command}\` through the running embedded server`,
          { OPENCOMMAS_DATA_DIR: dataDir },
          runs,
          0.5,
          secretFile,
        )),
      );
    } finally {
      await stopGroup(server);
    }

    // 2. No database at all.
    for (const args of [['markets'], ['--help']]) {
      const figure: Figure = {
        what: `\`${args.join(' ')}\` (no database)`,
        unit: 's',
        values: [],
        limit: 0.3,
      };
      for (let run = 0; run < runs; run++) {
        figure.values.push((await timeCommand(args, { OPENCOMMAS_DATA_DIR: scratch })).seconds);
      }
      figures.push(figure);
    }

    // 3. Straight to PostgreSQL, on a database already migrated (as it is once a server or a
    //    first command has run on it): one untimed command migrates and creates user 1.
    const database = await createDatabase();
    try {
      const env = {
        DATABASE_URL: database.url,
        OPENCOMMAS_MASTER_KEY: database.masterKey,
        OPENCOMMAS_DATA_DIR: path.join(scratch, 'unused'),
      };
      await timeCommand(['user', 'create', '--email', 'first@bench.opencommas.local'], env);
      figures.push(
        ...(await timeWrites(
          (command) => `\`${command}\` on PostgreSQL directly`,
          env,
          runs,
          0.6,
          secretFile,
        )),
      );
    } finally {
      await database.drop();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return figures;
}

// `npm start`, literally, timed from spawn to the first answered request: on a fresh data
// directory (create, migrate, seed the demo) and on an existing one (a restart).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PING, freePort, spawnGroup, stopGroup, waitForAnswer } from './processes.ts';
import type { Figure } from './table.ts';
import { freshBuild } from '../../bin/build.mjs';

async function timeNpmStart(dataDir: string): Promise<number> {
  freshBuild({ quiet: true });
  const port = await freePort();
  const started = process.hrtime.bigint();
  // The demo setting left at its default, as a new user runs it.
  const child = spawnGroup('npm', ['start'], {
    OPENCOMMAS_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    OPENCOMMAS_METRICS_PORT: 'off',
  });
  try {
    await waitForAnswer(`http://127.0.0.1:${port}${PING}`, child);
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    await stopGroup(child);
  }
}

export async function measureNpmStart(runs: number): Promise<Figure[]> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'opencommas-bench-start-'));
  const fresh: Figure = {
    what: '`npm start` on a fresh data directory, to the first answer',
    unit: 's',
    values: [],
    limit: 8,
  };
  const existing: Figure = {
    what: '`npm start` on an existing data directory, to the first answer',
    unit: 's',
    values: [],
    limit: 3,
  };
  try {
    // Alternated, so neither kind gets the quieter moments; the first fresh directory is then
    // the existing one of every restart.
    const kept = path.join(scratch, 'run-0');
    for (let run = 0; run < runs; run++) {
      fresh.values.push(await timeNpmStart(run === 0 ? kept : path.join(scratch, `run-${run}`)));
      existing.values.push(await timeNpmStart(kept));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return [existing, fresh];
}

import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * A PostgreSQL cluster of the test's own, started and stopped by the test (a restart, an
 * outage), unlike the shared server behind DATABASE_URL. Uses the PostgreSQL 15 binaries; as
 * root (CI), initdb refuses to run, so the cluster runs as the `postgres` OS user.
 */
export const POSTGRES_BIN = process.env.POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

export interface OwnPostgres {
  /** Connection string for the `postgres` database as the `postgres` superuser (trust). */
  url: string;
  port: number;
  start(): Promise<void>;
  /** `pg_ctl stop -m fast`: sessions are ended, as in a restart. */
  stop(): Promise<void>;
  /** Stops it (if running) and removes its files. */
  destroy(): Promise<void>;
}

const run = promisify(execFile);
const asRoot = userInfo().uid === 0;

/** Runs a PostgreSQL binary, as the `postgres` OS user when we are root. */
function pgCommand(binary: string, args: string[]): Promise<unknown> {
  const file = path.join(POSTGRES_BIN, binary);
  return asRoot ? run('runuser', ['-u', 'postgres', '--', file, ...args]) : run(file, args);
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  if (!existsSync(path.join(POSTGRES_BIN, 'initdb'))) {
    throw new Error(`PostgreSQL binaries not found in ${POSTGRES_BIN} (set POSTGRES_BIN)`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'opencommas-pg-'));
  if (asRoot) chownSync(dir, ...postgresIds());
  const data = path.join(dir, 'data');
  const port = await freePort();
  await pgCommand('initdb', [
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  let running = false;
  const cluster: OwnPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      await pgCommand('pg_ctl', [
        '-D',
        data,
        '-o',
        options,
        '-l',
        path.join(dir, 'log'),
        '-w',
        'start',
      ]);
      running = true;
    },
    async stop() {
      await pgCommand('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      running = false;
    },
    async destroy() {
      if (running) await cluster.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await cluster.start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return cluster;
}

/** The `postgres` OS user's ids (only at setup, before anything runs concurrently). */
function postgresIds(): [number, number] {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  return [id('-u'), id('-g')];
}

/** A port nothing listens on right now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

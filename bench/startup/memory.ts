// Resident memory of a server process (the node process itself, spawned as `opencommas serve`
// is): idle a few seconds after it answers, and its peak under the reliability load.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { resolveMasterKey } from '../../src/auth/master-key.ts';
import { signHmac } from '../../src/auth/signature.ts';
import { loadConfig } from '../../src/config.ts';
import { pgliteDir } from '../../src/server.ts';
import { openStorage } from '../../src/storage/database.ts';
import {
  balanceRequests,
  closeStandIns,
  seedExchangeAccounts,
  standInEnv,
  startStandIns,
  type StandIns,
} from '../exchange-accounts.ts';
import { measure, type LoadResult, type LoadSettings } from '../load.ts';
import { seedDataDir, type BenchUser } from '../seed.ts';
import { createDatabase } from './postgres.ts';
import {
  BIN,
  PING,
  freePort,
  memoryOf,
  spawnGroup,
  stopGroup,
  waitForAnswer,
} from './processes.ts';
import type { Figure } from './table.ts';

/** `npm run bench`'s load: its largest page (100 accounts), its connections and duration. */
const LOAD: LoadSettings = { connections: 10, pipelining: 1, durationS: 10, warmupS: 2 };
const TARGET = '/public/api/ver1/accounts?page=1&per_page=100';
/** Users of the listed accounts, as `npm run bench` seeds them (30 days, every 8 h). */
const LISTED = [10, 100];
const HISTORY_DAYS = 30;
/** Exchange accounts the embedded worker syncs during the load (on the local stand-ins). */
export const SYNCED_ACCOUNTS = Number(process.env.BENCH_SYNCED_ACCOUNTS ?? 500);
/** From seeding their due time to the round: time to start and be read idle first. */
const DUE_AFTER_MS = 9_000;
const IDLE_WAIT_MS = 3_000;
/** The peak is read once the worker's round is over too, waiting for it at most this long. */
const ROUND_WAIT_MS = 30_000;
/** Beyond reach, as in `npm run bench`: the limiter works on every request, refusing none. */
const RATE_LIMIT = '100000000/1m';

export function describeLoad(): string {
  return (
    `the reliability load: autocannon, ${LOAD.connections} connections, ${LOAD.warmupS} s warm-up + ` +
    `${LOAD.durationS} s, on the signed GET ${TARGET} of a user with ${LISTED.at(-1)} accounts ` +
    `(${HISTORY_DAYS} days of 8-hourly history; ${LISTED.join(' + ')} accounts seeded), request limiter ` +
    `on (${RATE_LIMIT}); on the embedded server its worker meanwhile syncs ${SYNCED_ACCOUNTS} ` +
    `exchange accounts (local Binance/OKX stand-ins), all due as the load starts; the peak is read once both are over`
  );
}

interface Run {
  idle: number;
  /** Peak resident memory when read idle: what starting cost. */
  startPeak: number;
  peak: number;
  load: LoadResult;
  /** Syncs the stand-ins saw while the server was supposed to be idle. */
  syncsWhileIdle: number;
  /** Accounts synced by the end of the load. */
  syncedDuringLoad: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One server process: ready, idle, then loaded; its memory read from /proc. */
async function runServer(
  args: string[],
  env: Record<string, string>,
  user: BenchUser,
  options: { standIns?: StandIns; dueAt?: number } = {},
): Promise<Run> {
  const port = await freePort();
  const server = spawnGroup(process.execPath, [...BIN, ...args], {
    ...env,
    HOST: '127.0.0.1',
    PORT: String(port),
    OPENCOMMAS_METRICS_PORT: 'off',
    OPENCOMMAS_DEMO: 'off',
    OPENCOMMAS_RATE_LIMIT: RATE_LIMIT,
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitForAnswer(url + PING, server);
    const pid = server.pid ?? 0;
    await sleep(IDLE_WAIT_MS);
    const { rss: idle, hwm: startPeak } = memoryOf(pid);
    const { standIns, dueAt } = options;
    const syncsWhileIdle = standIns ? balanceRequests(standIns) : 0;
    if (dueAt !== undefined) await sleep(Math.max(0, dueAt - Date.now()));
    const headers = { Apikey: user.apiKey, Signature: signHmac(user.secret, TARGET) };
    const load = await measure(url + TARGET, headers, LOAD);
    const roundOver = Date.now() + ROUND_WAIT_MS;
    while (standIns && balanceRequests(standIns) < SYNCED_ACCOUNTS && Date.now() < roundOver) {
      await sleep(100);
    }
    const peak = memoryOf(pid).hwm;
    return {
      idle,
      startPeak,
      peak,
      load,
      syncsWhileIdle,
      syncedDuringLoad: standIns ? balanceRequests(standIns) - syncsWhileIdle : 0,
    };
  } finally {
    await stopGroup(server);
  }
}

function describeRuns(label: string, runs: Run[], synced: boolean): string {
  const rates = runs.map((run) => Math.round(run.load.rps)).join(', ');
  const failures = runs.reduce(
    (sum, r) => sum + r.load.non2xx + r.load.errors + r.load.timeouts,
    0,
  );
  const mb = (values: number[]) => values.map((v) => (v / 1e6).toFixed(0)).join(', ');
  let text =
    `${label}: ${rates} req/s, ${failures} non-2xx/errors; idle ${mb(runs.map((r) => r.idle))} MB, ` +
    `peak while starting ${mb(runs.map((r) => r.startPeak))} MB, under load ${mb(runs.map((r) => r.peak))} MB`;
  if (synced) {
    text += `; accounts synced by the peak reading ${runs.map((r) => r.syncedDuringLoad).join(', ')} of ${SYNCED_ACCOUNTS}`;
    const early = runs.reduce((sum, r) => sum + r.syncsWhileIdle, 0);
    if (early > 0) text += ` (WARNING: ${early} syncs before the idle reading)`;
  }
  return text;
}

export interface MemoryResult {
  figures: Figure[];
  notes: string[];
}

/** The embedded server (`opencommas serve`: API, PGlite and worker in one process). */
export async function measureEmbedded(runs: number): Promise<MemoryResult> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'opencommas-bench-memory-'));
  const standIns = await startStandIns(5);
  try {
    const config = loadConfig({ OPENCOMMAS_DATA_DIR: dataDir, OPENCOMMAS_DEMO: 'off' });
    const users = await seedDataDir(config, LISTED, HISTORY_DAYS);
    const user = users.at(-1);
    if (!user) throw new Error('seeding failed');
    const masterKey = resolveMasterKey(config);
    const later = new Date(Date.now() + 86_400_000);
    await withEmbedded(dataDir, (storage) =>
      seedExchangeAccounts(storage, masterKey, standIns, SYNCED_ACCOUNTS, later),
    );
    const env = { OPENCOMMAS_DATA_DIR: dataDir, ...standInEnv(standIns) };
    const results: Run[] = [];
    for (let run = 0; run < runs; run++) {
      // Every account due as the load starts (the server holds the directory once it runs).
      const dueAt = Date.now() + DUE_AFTER_MS;
      await withEmbedded(dataDir, (storage) =>
        sql`UPDATE accounts SET next_sync_at = ${new Date(dueAt)}
            WHERE exchange_api_key LIKE 'bench-key-%'`.execute(storage.db),
      );
      standIns.binance.resetStats();
      standIns.okx.resetStats();
      results.push(await runServer(['serve'], env, user, { standIns, dueAt }));
    }
    return {
      figures: idleAndPeak(results, {
        idle: ['embedded server (`serve`), resident memory idle after start', 300e6],
        peak: ['embedded server, peak resident memory under the reliability load', 400e6],
      }),
      notes: [describeRuns('embedded server under load', results, true)],
    };
  } finally {
    await closeStandIns(standIns);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The idle and peak figures of a process's runs, each with its label and limit in bytes. */
function idleAndPeak(
  results: Run[],
  labels: { idle: [string, number]; peak: [string, number] },
): Figure[] {
  return (['idle', 'peak'] as const).map((which) => ({
    what: labels[which][0],
    unit: 'MB',
    values: results.map((r) => r[which]),
    limit: labels[which][1],
  }));
}

async function withEmbedded<T>(
  dataDir: string,
  work: (storage: Awaited<ReturnType<typeof openStorage>>) => Promise<T>,
): Promise<T> {
  const config = loadConfig({ OPENCOMMAS_DATA_DIR: dataDir });
  const storage = await openStorage({ dataDir: pgliteDir(config) });
  try {
    return await work(storage);
  } finally {
    await storage.close();
  }
}

/** An API process on PostgreSQL (`serve --no-worker`), the worker being elsewhere. */
export async function measurePostgresApi(runs: number): Promise<MemoryResult> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'opencommas-bench-memory-pg-'));
  const database = await createDatabase();
  try {
    const env = {
      OPENCOMMAS_DATA_DIR: scratch,
      DATABASE_URL: database.url,
      OPENCOMMAS_MASTER_KEY: database.masterKey,
    };
    const users = await seedDataDir(
      loadConfig({ ...env, OPENCOMMAS_DEMO: 'off' }),
      LISTED,
      HISTORY_DAYS,
    );
    const user = users.at(-1);
    if (!user) throw new Error('seeding failed');
    const results: Run[] = [];
    for (let run = 0; run < runs; run++) {
      results.push(await runServer(['serve', '--no-worker'], env, user));
    }
    return {
      figures: idleAndPeak(results, {
        idle: ['API process on PostgreSQL (`serve --no-worker`), resident memory idle', 120e6],
        peak: ['API process on PostgreSQL, peak resident memory under the same load', 250e6],
      }),
      notes: [describeRuns('API process on PostgreSQL under load', results, false)],
    };
  } finally {
    await database.drop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

// The workers' half of `npm run bench:scale` (issue 14, §3): on a copy of a scale template, a
// sample of accounts due and the rest not, synced by real `opencommas worker` processes (1, then
// 2 on the same sample re-armed) against local stand-ins of every market in the mix. Reports,
// per synced account, the requests to the stand-ins, the statements, transactions, rows and WAL
// the database took, the workers' CPU and the database's busy time; the throughput; and from
// them a full round's time and how many accounts a worker core and a PostgreSQL carry at a
// 5-minute interval. Checks that no account of the sample was synced twice in a round.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { startWorker, stopWorker } from '../exchange-accounts.ts';
import type { Row } from './report.ts';
import { armSample, pickSample, prepareSample, scheduleAllLater } from './sample.ts';
import { startStandIns, type StandIns } from './stand-ins.ts';
import { startStatementCounter, type StatementCounter } from './statement-counter.ts';
import { BENCH_MASTER_KEY } from './template.ts';

export interface WorkerRoundOptions {
  /** Accounts made due (default BENCH_SCALE_SYNC_ACCOUNTS, else 20,000; at most all). */
  accounts?: number;
  /** Worker processes per run, in order (default 1 then 2). */
  processes?: number[];
  /** Accounts each worker reads at once (default BENCH_SCALE_SYNC_CONCURRENCY, else 64). */
  concurrency?: number;
  /** The key the copy's secrets are sealed with (the templates' by default). */
  masterKey?: Buffer;
  /** The sync interval the sizing is for, in seconds (default 300). */
  intervalSeconds?: number;
  progress?: (line: string) => void;
}

/** Per synced account, averaged over a run. */
export interface PerAccount {
  /** HTTP requests answered by the stand-ins (exchanges, Esplora, the Ethereum node). */
  requests: number;
  /** Statements the workers sent (Query and Execute messages, BEGIN/COMMIT included). */
  statements: number;
  /** Transactions committed or rolled back in the database (pg_stat_database). */
  transactions: number;
  /** Rows inserted, updated and deleted (pg_stat_database tup_*). */
  rowsWritten: number;
  /**
   * WAL written for this database over the run: the records touching its relations and the
   * commit records of their transactions (pg_walinspect). The server's whole WAL over the run
   * (`serverWalBytes`) also counts every other session on it.
   */
  walBytes: number;
  /** Of `walBytes`, full-page images (a page's first change after a checkpoint). */
  walFullPageBytes: number;
  serverWalBytes: number;
  /** User + system CPU of the worker processes (/proc/<pid>/stat), start-up included. */
  workerCpuMs: number;
  /**
   * Time the database's backends spent running statements (pg_stat_database.active_time): wall
   * time, so it also counts waiting for a core on a busy machine.
   */
  databaseMs: number;
  /** User + system CPU of the PostgreSQL backends serving the workers (/proc/<pid>/stat). */
  databaseCpuMs: number;
}

export interface WorkerRun {
  processes: number;
  /** Sampled accounts synced in the run (read and written without error). */
  synced: number;
  failed: number;
  /** The first failure's error, if any. */
  firstError: string | null;
  /** Sampled accounts with no snapshot, and with more than one, written in the run. */
  notSynced: number;
  syncedTwice: number;
  /** From the workers' start until the last sampled account was written. */
  seconds: number;
  perSecond: number;
  perAccount: PerAccount;
}

export interface WorkerRoundResult {
  templateAccounts: number;
  sample: number;
  /** Sampled accounts per market code. */
  byMarket: Record<string, number>;
  runs: WorkerRun[];
  /** A round over every account of the template at each run's throughput, seconds. */
  fullRoundSeconds: number[];
  intervalSeconds: number;
  /** Accounts one worker core keeps synced at the interval: interval ÷ worker CPU per account. */
  accountsPerWorkerCore: number;
  /** Accounts one PostgreSQL core keeps synced: interval ÷ backend CPU per account. */
  accountsPerDatabaseCore: number;
  /** WAL a second at that rate for a million accounts, bytes. */
  walPerSecondAtMillion: number;
  rows: Row[];
}

const envNumber = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

export async function measureWorkerRound(
  databaseUrl: string,
  options: WorkerRoundOptions = {},
): Promise<WorkerRoundResult> {
  const progress = options.progress ?? (() => undefined);
  const masterKey = options.masterKey ?? BENCH_MASTER_KEY;
  const intervalSeconds = options.intervalSeconds ?? 300;
  const wanted = options.accounts ?? envNumber('BENCH_SCALE_SYNC_ACCOUNTS', 20_000);
  let standIns: StandIns | undefined;
  let counter: StatementCounter | undefined;
  try {
    const { total, ids, sampled } = await prepare(databaseUrl, wanted, masterKey, progress);
    const byMarket: Record<string, number> = {};
    for (const account of sampled) byMarket[account.market] = (byMarket[account.market] ?? 0) + 1;
    progress(`stand-ins for ${Object.keys(byMarket).length} markets…`);
    standIns = await startStandIns(Object.keys(byMarket));
    for (const account of sampled) await standIns.register(account);
    counter = await startStatementCounter(databaseUrl);
    const env = {
      DATABASE_URL: counter.url,
      OPENCOMMAS_MASTER_KEY: masterKey.toString('base64'),
      ...standIns.env,
      // Synced accounts are not due again within the run; retention's pruning is not measured.
      OPENCOMMAS_SYNC_INTERVAL: '1h',
      OPENCOMMAS_PRUNE_INTERVAL: 'off',
      OPENCOMMAS_EXCHANGE_TIMEOUT: '30s',
      OPENCOMMAS_SYNC_CONCURRENCY: String(
        options.concurrency ?? envNumber('BENCH_SCALE_SYNC_CONCURRENCY', 64),
      ),
      LOG_LEVEL: 'warn',
    };
    const runs: WorkerRun[] = [];
    for (const processes of options.processes ?? [1, 2]) {
      progress(`${processes} worker process${processes === 1 ? '' : 'es'}…`);
      const done = await run({ databaseUrl, ids, env, standIns, counter, progress }, processes);
      progress(`  ${JSON.stringify(done)}`);
      runs.push(done);
    }
    return summarize(total, sampled.length, byMarket, runs, intervalSeconds);
  } finally {
    await counter?.close();
    await standIns?.close();
  }
}

/**
 * The sample chosen and given keys, everything else scheduled later, on a connection closed
 * before any run (its statistics flushed, not counted in the first run).
 */
async function prepare(
  databaseUrl: string,
  wanted: number,
  masterKey: Buffer,
  progress: (line: string) => void,
) {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const total = Number(
      (await db.query<{ n: string }>('SELECT count(*) AS n FROM accounts')).rows[0]?.n,
    );
    progress(`sampling ${Math.min(wanted, total)} of ${total} accounts…`);
    const ids = await pickSample(db, wanted);
    const sampled = await prepareSample(db, ids, masterKey);
    await scheduleAllLater(db);
    // Reads the WAL a run wrote, by database (a contrib extension, in the copy only).
    await db.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
    return { total, ids, sampled };
  } finally {
    await db.end();
  }
}

interface DatabaseCounters {
  transactions: number;
  rows: number;
  activeMs: number;
  lsn: string;
}

/** The copy's counters, read from the maintenance database (so the reading is not counted). */
async function databaseCounters(databaseUrl: string): Promise<DatabaseCounters> {
  const url = new URL(databaseUrl);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const result = await client.query<Record<string, string>>(
      `SELECT xact_commit + xact_rollback AS transactions,
         tup_inserted + tup_updated + tup_deleted AS rows, active_time AS active_ms,
         pg_current_wal_flush_lsn()::text AS lsn
       FROM pg_stat_database WHERE datname = $1`,
      [name],
    );
    const row = result.rows[0] ?? {};
    return {
      transactions: Number(row.transactions),
      rows: Number(row.rows),
      activeMs: Number(row.active_ms),
      lsn: row.lsn ?? '0/0',
    };
  } finally {
    await client.end();
  }
}

/**
 * Holds the server's WAL from now on (a physical slot reserving it) until `release`: a checkpoint
 * during the run must not recycle the segments the run's figure is read from.
 */
async function holdWal(databaseUrl: string): Promise<{ release(): Promise<void> }> {
  const slot = `opencommas_bench_workers_${process.pid}`;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('SELECT pg_create_physical_replication_slot($1, true)', [slot]);
  return {
    release: async () => {
      try {
        await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * WAL of this database's relations and transactions between two positions, bytes; NaN when the
 * WAL cannot be read (the run's other figures stand).
 */
async function walOfDatabase(
  databaseUrl: string,
  from: string,
  to: string,
): Promise<{ bytes: number; fullPages: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ bytes: string; full_pages: string }>(
      `WITH r AS (SELECT xid, resource_manager, record_length, fpi_length,
           block_ref ~ (' rel [0-9]+/' || (SELECT oid FROM pg_database
             WHERE datname = current_database()) || '/') AS ours
         FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn))
       SELECT coalesce(sum(record_length), 0) AS bytes,
         coalesce(sum(fpi_length), 0) AS full_pages FROM r
       WHERE ours OR (resource_manager = 'Transaction'
         AND xid IN (SELECT xid FROM r WHERE ours AND xid <> '0'))`,
      [from, to],
    );
    const row = result.rows[0];
    return { bytes: Number(row?.bytes ?? 0), fullPages: Number(row?.full_pages ?? 0) };
  } catch (error) {
    process.stderr.write(`WAL of the run not read: ${String(error)}\n`);
    return { bytes: NaN, fullPages: NaN };
  } finally {
    await client.end();
  }
}

async function walBetween(databaseUrl: string, from: string, to: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ bytes: string }>(
      'SELECT pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn) AS bytes',
      [from, to],
    );
    return Number(result.rows[0]?.bytes ?? 0);
  } finally {
    await client.end();
  }
}

/** Clock ticks per second of /proc/<pid>/stat's times. */
const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/**
 * CPU of the backends connected to the copy but the watcher's own: the workers' connections,
 * opened at their start (their pools keep them while busy), read before the workers stop.
 */
async function backendsCpuMs(watcher: pg.Client): Promise<number> {
  const result = await watcher.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
  );
  return result.rows.reduce((sum, row) => sum + cpuMs(row.pid), 0);
}

/** User + system CPU of a live process so far, ms (0 once it is gone). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0; // gone in the meantime
  }
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Arms the sample in a connection of its own, closed (its statistics flushed) before the run. */
async function arm(databaseUrl: string, ids: number[]): Promise<Date> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const armedAt = await armSample(client, ids);
    // Every run starts just after a checkpoint, so each pays the same full-page images: a
    // page's first change after a checkpoint is written whole, as in a round of a server
    // whose checkpoints come as often as its rounds (checkpoint_timeout 5min, the default).
    await client.query('CHECKPOINT');
    return armedAt;
  } finally {
    await client.end();
    await sleep(500);
  }
}

/** What every run of a round shares. */
interface RoundContext {
  databaseUrl: string;
  ids: number[];
  /** The workers' environment. */
  env: Record<string, string>;
  standIns: StandIns;
  counter: StatementCounter;
  progress: (line: string) => void;
}

async function run(round: RoundContext, processes: number): Promise<WorkerRun> {
  const armedAt = await arm(round.databaseUrl, round.ids);
  const wal = await holdWal(round.databaseUrl);
  try {
    return await measured(round, processes, armedAt);
  } finally {
    await wal.release();
  }
}

async function measured(
  { databaseUrl, ids, env, standIns, counter, progress }: RoundContext,
  processes: number,
  armedAt: Date,
): Promise<WorkerRun> {
  standIns.resetStats();
  counter.reset();
  const before = await databaseCounters(databaseUrl);
  const started = Date.now();
  const children: ChildProcess[] = Array.from({ length: processes }, () =>
    startWorker(env, ['ignore', 'ignore', 'inherit']),
  );
  const killAll = () => children.forEach((child) => child.kill('SIGKILL'));
  process.once('exit', killAll);
  let cpu: number;
  let databaseCpu: number;
  let polls = 0;
  let seconds: number;
  const watcher = new pg.Client({ connectionString: databaseUrl });
  await watcher.connect();
  try {
    // Left due: through the schedule index, a range that shrinks to nothing as the round ends
    // (a failed sync is rescheduled later too, and counted below).
    let left = ids.length;
    while (left > 0) {
      await sleep(250);
      const exited = children.find((child) => child.exitCode !== null);
      if (exited) throw new Error(`a worker exited early (code ${exited.exitCode})`);
      polls += 1;
      const result = await watcher.query<{ n: string }>(
        'SELECT count(*) AS n FROM accounts WHERE next_sync_at <= $1',
        [armedAt],
      );
      const now = Number(result.rows[0]?.n ?? 0);
      if (now !== left) progress(`  ${ids.length - now}/${ids.length}`);
      left = now;
    }
    seconds = (Date.now() - started) / 1000;
    cpu = children.reduce((sum, child) => sum + cpuMs(child.pid), 0);
    databaseCpu = await backendsCpuMs(watcher);
  } finally {
    await Promise.all(children.map(stopWorker));
    process.removeListener('exit', killAll);
    await watcher.end();
  }
  // Exiting backends flush their statistics; give the last of them a moment.
  await sleep(1000);
  const after = await databaseCounters(databaseUrl);
  const outcome = await outcomes(databaseUrl, ids, armedAt);
  const wal = await walOfDatabase(databaseUrl, before.lsn, after.lsn);
  const per = (value: number) => value / Math.max(1, outcome.synced);
  return {
    processes,
    ...outcome,
    seconds,
    perSecond: outcome.synced / seconds,
    perAccount: {
      requests: per(standIns.requests()),
      statements: per(counter.statements()),
      // The watcher's polls are transactions of this database too; they are not the workers'.
      transactions: per(after.transactions - before.transactions - polls),
      rowsWritten: per(after.rows - before.rows),
      walBytes: per(wal.bytes),
      walFullPageBytes: per(wal.fullPages),
      serverWalBytes: per(await walBetween(databaseUrl, before.lsn, after.lsn)),
      workerCpuMs: per(cpu),
      databaseMs: per(after.activeMs - before.activeMs),
      databaseCpuMs: per(databaseCpu),
    },
  };
}

/** What the run did to each sampled account: synced once, failed, missed or synced twice. */
async function outcomes(databaseUrl: string, ids: number[], armedAt: Date) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query<Record<string, string | null>>(
      `WITH written AS (
         SELECT a.id, a.last_sync_at, a.last_sync_error,
           (SELECT count(*) FROM balance_snapshots s
             WHERE s.user_id = a.user_id AND s.account_id = a.id AND s.taken_at >= $2) AS snapshots
         FROM accounts a WHERE a.id = ANY($1))
       SELECT count(*) FILTER (WHERE last_sync_at >= $2 AND last_sync_error IS NULL) AS synced,
         count(*) FILTER (WHERE last_sync_error IS NOT NULL) AS failed,
         count(*) FILTER (WHERE snapshots = 0) AS not_synced,
         count(*) FILTER (WHERE snapshots > 1) AS synced_twice,
         min(last_sync_error) AS first_error
       FROM written`,
      [ids, armedAt],
    );
    const row = result.rows[0] ?? {};
    return {
      synced: Number(row.synced),
      failed: Number(row.failed),
      firstError: row.first_error ?? null,
      notSynced: Number(row.not_synced),
      syncedTwice: Number(row.synced_twice),
    };
  } finally {
    await client.end();
  }
}

function summarize(
  templateAccounts: number,
  sample: number,
  byMarket: Record<string, number>,
  runs: WorkerRun[],
  intervalSeconds: number,
): WorkerRoundResult {
  // The per-account costs of the last run (the most processes); they hardly differ between runs.
  const costs = runs.at(-1)?.perAccount;
  const accountsPerWorkerCore = costs ? (intervalSeconds * 1000) / costs.workerCpuMs : 0;
  const accountsPerDatabaseCore = costs ? (intervalSeconds * 1000) / costs.databaseCpuMs : 0;
  const walPerSecondAtMillion = costs ? (costs.walBytes * 1_000_000) / intervalSeconds : 0;
  const fullRoundSeconds = runs.map((r) => templateAccounts / r.perSecond);
  return {
    templateAccounts,
    sample,
    byMarket,
    runs,
    fullRoundSeconds,
    intervalSeconds,
    accountsPerWorkerCore,
    accountsPerDatabaseCore,
    walPerSecondAtMillion,
    rows: workerRows(templateAccounts, runs, fullRoundSeconds, intervalSeconds, {
      accountsPerWorkerCore,
      accountsPerDatabaseCore,
      walPerSecondAtMillion,
    }),
  };
}

const count = (value: number) => Math.round(value).toLocaleString('en-US');
const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const duration = (seconds: number) =>
  seconds >= 120 ? `${(seconds / 60).toFixed(1)} min` : `${seconds.toFixed(1)} s`;

/**
 * The table rows: `small` is the first run (1 process), `large` the last (2), `ratio` the last
 * against the first, `target` what a row is checked against.
 */
function workerRows(
  templateAccounts: number,
  runs: WorkerRun[],
  fullRoundSeconds: number[],
  intervalSeconds: number,
  sizing: Pick<
    WorkerRoundResult,
    'accountsPerWorkerCore' | 'accountsPerDatabaseCore' | 'walPerSecondAtMillion'
  >,
): Row[] {
  const [first, last] = [runs[0], runs.at(-1)];
  if (!first || !last) return [];
  const side = (what: string, value: (r: WorkerRun) => string, target = ''): Row => ({
    what,
    small: value(first),
    large: value(last),
    ratio: '',
    target,
    verdict: '',
  });
  const ratio = last.perSecond / first.perSecond;
  return [
    side('accounts synced (sample)', (r) => `${count(r.synced)} (${r.failed} failed)`),
    {
      ...side('throughput, accounts/s', (r) => fixed(r.perSecond)),
      ratio: `${fixed(ratio, 2)}×`,
    },
    side('requests to the stand-ins / account', (r) => fixed(r.perAccount.requests, 2)),
    side('statements / account', (r) => fixed(r.perAccount.statements, 1)),
    side('transactions / account', (r) => fixed(r.perAccount.transactions, 2)),
    side('rows written / account', (r) => fixed(r.perAccount.rowsWritten, 1)),
    side(
      'WAL / account (this database; full pages)',
      (r) => `${kb(r.perAccount.walBytes)} (${kb(r.perAccount.walFullPageBytes)})`,
    ),
    side('WAL / account (whole server, others too)', (r) => kb(r.perAccount.serverWalBytes)),
    side('worker CPU / account', (r) => `${fixed(r.perAccount.workerCpuMs, 2)} ms`),
    side('database CPU / account', (r) => `${fixed(r.perAccount.databaseCpuMs, 2)} ms`),
    side('database busy time / account', (r) => `${fixed(r.perAccount.databaseMs, 2)} ms`),
    {
      ...side(
        'synced twice in the round',
        (r) => `${r.syncedTwice} (${r.notSynced} not synced)`,
        '0',
      ),
      verdict: runs.every((r) => r.syncedTwice === 0 && r.notSynced === 0 && r.failed === 0)
        ? 'PASS'
        : 'FAIL',
    },
    {
      what: `full round, ${count(templateAccounts)} accounts`,
      small: duration(fullRoundSeconds[0] ?? NaN),
      large: duration(fullRoundSeconds.at(-1) ?? NaN),
      ratio: '',
      target: '',
      verdict: '',
    },
    {
      what: `accounts per worker core at ${duration(intervalSeconds)}`,
      small: '',
      large: count(sizing.accountsPerWorkerCore),
      ratio: '',
      target: '',
      verdict: '',
    },
    {
      what: `accounts per PostgreSQL core at ${duration(intervalSeconds)}`,
      small: '',
      large: count(sizing.accountsPerDatabaseCore),
      ratio: '',
      target: '',
      verdict: '',
    },
    {
      what: `WAL at a million accounts every ${duration(intervalSeconds)}`,
      small: '',
      large: `${(sizing.walPerSecondAtMillion / 1e6).toFixed(1)} MB/s`,
      ratio: '',
      target: '',
      verdict: '',
    },
  ];
}

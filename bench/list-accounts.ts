// `npm run bench`: signed GET /public/api/ver1/accounts on the embedded default (PGlite in a temp
// data dir) against a bare node:http server answering the same bytes, under the same autocannon
// load. A measurement, not a test: it prints PASS/FAIL against the targets and exits 0 either way
// (non-zero only when the benchmark itself could not run).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signHmac } from '../src/auth/signature.ts';
import { loadConfig } from '../src/config.ts';
import { freshBuild } from '../bin/build.mjs';
import { startChild, stopAllChildren, type ServerChild } from './children.ts';
import { measure, type LoadResult, type LoadSettings } from './load.ts';
import { seedDataDir, type BenchUser } from './seed.ts';
import { admin } from './startup/postgres.ts';

const envInt = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};

const settings: LoadSettings = {
  connections: envInt('BENCH_CONNECTIONS', 10),
  pipelining: 1,
  durationS: envInt('BENCH_DURATION', 10),
  warmupS: 2,
};
const HISTORY_DAYS = envInt('BENCH_DAYS', 30);
const ROUNDS = envInt('BENCH_ROUNDS', 3);
/** Accounts per scenario, and the minimum ours/baseline req/s ratio aimed at. */
const SCENARIOS = [
  { accounts: 10, target: 0.6 },
  { accounts: 100, target: 0.5 },
];
// A fixed query: the request is signed once and the same signature is valid for every request.
const TARGET = '/public/api/ver1/accounts?page=1&per_page=100';
/** The PostgreSQL server of the two-process row; the bench creates and drops its own database. */
const POSTGRES_URL =
  process.env.BENCH_POSTGRES_URL ??
  process.env.DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432';
/** Accounts of the two-process row. */
const POSTGRES_ACCOUNTS = 10;

interface Row {
  label: string;
  server: string;
  accounts: number;
  bodyBytes: number;
  /** The ratio aimed at; undefined for a row measured for information. */
  target: number | undefined;
  ours: LoadResult;
  baseline: LoadResult;
  roundRatios: number[];
  /** Non-2xx answers, errors and timeouts of our server over every round. */
  oursFailures: number;
  /** Peak resident memory of each server process over its runs, in bytes. */
  oursMaxRss: number;
  baselineMaxRss: number;
}

/** Our answer before any load: must be 200 with every account; its bytes feed the baseline. */
async function reference(url: string, headers: Record<string, string>, accounts: number) {
  const response = await fetch(url + TARGET, { headers });
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200) {
    throw new Error(`expected 200, got ${response.status}: ${body.toString().slice(0, 200)}`);
  }
  const listed = (JSON.parse(body.toString()) as unknown[]).length;
  if (listed !== accounts) throw new Error(`expected ${accounts} accounts, got ${listed}`);
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body };
}

/** Our server processes must run with their request limiter on: say what it enforces. */
function checkLimiter(label: string, children: ServerChild[]): void {
  for (const child of children) {
    if (!child.limits || child.limits === 'off') {
      if (process.env.BENCH_RATE_LIMIT !== 'off') {
        throw new Error(`${label}: the server runs without its request limiter`);
      }
      console.log(`${label}: limiter OFF (BENCH_RATE_LIMIT=off: a comparison, not the benchmark)`);
      return;
    }
  }
  console.log(`${label}: limiter ${children[0]?.limits ?? ''}`);
}

/**
 * Load on several processes of ours at once: the connections are split between them and run
 * side by side; req/s add up, latencies are the worst of them.
 */
async function measureAll(
  children: ServerChild[],
  headers: Record<string, string>,
): Promise<LoadResult> {
  const share = Math.max(1, Math.round(settings.connections / children.length));
  const results = await Promise.all(
    children.map((child) =>
      measure(child.url + TARGET, headers, { ...settings, connections: share }),
    ),
  );
  return results.reduce((sum, r) => ({
    rps: sum.rps + r.rps,
    p50: Math.max(sum.p50, r.p50),
    p99: Math.max(sum.p99, r.p99),
    total: sum.total + r.total,
    non2xx: sum.non2xx + r.non2xx,
    errors: sum.errors + r.errors,
    timeouts: sum.timeouts + r.timeouts,
  }));
}

interface Scenario {
  label: string;
  server: string;
  user: BenchUser;
  target: number | undefined;
  /** Starts our server process(es) for this scenario. */
  start(): Promise<ServerChild[]>;
}

/**
 * Both servers stay up; they are measured in alternating order over several rounds and each is
 * represented by its median round, so neither a noisy moment nor going first decides the ratio.
 */
async function runScenario(scenario: Scenario): Promise<Row> {
  const { user } = scenario;
  const headers = { Apikey: user.apiKey, Signature: signHmac(user.secret, TARGET) };
  const ours = await scenario.start();
  checkLimiter(scenario.label, ours);
  const answers = await Promise.all(
    ours.map((child) => reference(child.url, headers, user.accounts)),
  );
  const answer = answers[0];
  if (!answer) throw new Error('no server started');
  const baseline = await startChild({ kind: 'baseline', ...answer });
  const oursRuns: LoadResult[] = [];
  const baselineRuns: LoadResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['ours', 'baseline'] : ['baseline', 'ours'];
    for (const which of order) {
      if (which === 'ours') oursRuns.push(await measureAll(ours, headers));
      else baselineRuns.push(await measure(baseline.url + TARGET, headers, settings));
    }
  }
  const oursMaxRss = Math.max(...(await Promise.all(ours.map((child) => child.maxRss()))));
  const baselineMaxRss = await baseline.maxRss();
  await Promise.all(ours.map((child) => child.stop()));
  await baseline.stop();
  return {
    label: scenario.label,
    server: scenario.server,
    oursMaxRss,
    baselineMaxRss,
    accounts: user.accounts,
    bodyBytes: answer.body.length,
    target: scenario.target,
    ours: median(oursRuns),
    baseline: median(baselineRuns),
    roundRatios: oursRuns.map((run, i) => run.rps / (baselineRuns[i]?.rps ?? Number.NaN)),
    oursFailures: oursRuns.reduce((sum, run) => sum + run.non2xx + run.errors + run.timeouts, 0),
  };
}

const median = (runs: LoadResult[]): LoadResult => {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (!middle) throw new Error('no measurement');
  return middle;
};

function printTable(rows: Row[]): void {
  const lines = [
    ['scenario', 'server', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx+err', 'peak RSS', 'ours/baseline'],
  ];
  for (const row of rows) {
    const ratio = row.ours.rps / row.baseline.rps;
    for (const [server, r, rss] of [
      [row.server, row.ours, row.oursMaxRss],
      ['node:http', row.baseline, row.baselineMaxRss],
    ] as const) {
      lines.push([
        `${row.label} (${(row.bodyBytes / 1024).toFixed(1)} KiB)`,
        server,
        r.rps.toFixed(0),
        String(r.p50),
        String(r.p99),
        String(r.non2xx + r.errors + r.timeouts),
        `${(rss / 2 ** 20).toFixed(0)} MiB`,
        server === 'node:http' ? '' : `${ratio.toFixed(2)}x`,
      ]);
    }
  }
  const widths = lines[0]?.map((_, i) => Math.max(...lines.map((line) => line[i]?.length ?? 0)));
  for (const line of lines) {
    console.log(line.map((cell, i) => cell.padEnd(widths?.[i] ?? 0)).join('  '));
  }
  console.log();
  for (const row of rows) {
    const ratio = row.ours.rps / row.baseline.rps;
    const clean = row.oursFailures === 0;
    const rounds = row.roundRatios.map((r) => `${r.toFixed(2)}x`).join(', ');
    const verdict =
      row.target === undefined ? 'INFO' : ratio >= row.target && clean ? 'PASS' : 'FAIL';
    const aim = row.target === undefined ? 'no target' : `target >= ${row.target}x`;
    console.log(
      `${verdict}  ${row.label}: ${ratio.toFixed(2)}x baseline (${aim}; rounds ${rounds})` +
        (clean ? '' : ', with non-2xx/errors during the run'),
    );
  }
}

async function main(): Promise<void> {
  // The servers run the compiled build, as `npm start` does.
  freshBuild();
  const cpus = os.cpus();
  console.log(
    `machine: ${cpus[0]?.model ?? 'unknown cpu'} x ${cpus.length}, node ${process.version}`,
  );
  console.log(
    `autocannon: ${settings.connections} connections, pipelining ${settings.pipelining}, ` +
      `${settings.durationS} s after a ${settings.warmupS} s warm-up, ${ROUNDS} alternating rounds (median); ` +
      `history ${HISTORY_DAYS} days, every 8 h`,
  );
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'opencommas-bench-'));
  const cleanup = async () => {
    await stopAllChildren();
    rmSync(dataDir, { recursive: true, force: true });
  };
  // Ctrl-C or kill: the children and the temp dir must not outlive us.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanup().finally(() => process.exit(130)));
  }
  try {
    const started = Date.now();
    const config = loadConfig({ OPENCOMMAS_DATA_DIR: dataDir, OPENCOMMAS_DEMO: 'off' });
    const counts = SCENARIOS.map((s) => s.accounts);
    const users = await seedDataDir(config, counts, HISTORY_DAYS);
    console.log(`setup: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    const rows: Row[] = [];
    for (const [i, user] of users.entries()) {
      rows.push(
        await runScenario({
          label: `${user.accounts} accounts`,
          server: 'opencommas',
          user,
          target: SCENARIOS[i]?.target,
          start: async () => [await startChild({ kind: 'ours', dataDir })],
        }),
      );
    }
    rows.push(await runPostgresPair(dataDir));
    printTable(rows);
  } finally {
    await cleanup();
  }
}

/**
 * Two API processes on one PostgreSQL database, sharing one limit (every request also counts
 * against the key in PostgreSQL), in a database of the bench's own, dropped afterwards.
 */
async function runPostgresPair(dataDir: string): Promise<Row> {
  const name = `opencommas_bench_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`, POSTGRES_URL);
  try {
    const url = new URL(POSTGRES_URL);
    url.pathname = `/${name}`;
    const postgres = { url: url.toString(), masterKey: randomBytes(32).toString('base64') };
    const started = Date.now();
    const config = loadConfig({
      OPENCOMMAS_DATA_DIR: dataDir,
      DATABASE_URL: postgres.url,
      OPENCOMMAS_MASTER_KEY: postgres.masterKey,
      OPENCOMMAS_DEMO: 'off',
    });
    const [user] = await seedDataDir(config, [POSTGRES_ACCOUNTS], HISTORY_DAYS);
    if (!user) throw new Error('seeding PostgreSQL failed');
    console.log(`setup (PostgreSQL): ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const start = () => startChild({ kind: 'ours', dataDir, postgres });
    return await runScenario({
      label: `${POSTGRES_ACCOUNTS} accounts, PostgreSQL`,
      server: 'opencommas x2',
      user,
      target: undefined,
      start: async () => [await start(), await start()],
    });
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, POSTGRES_URL);
  }
}

main().catch((error: unknown) => {
  console.error('bench failed:', error);
  process.exitCode = 1;
});

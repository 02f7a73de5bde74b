// `npm run bench:scale` (issue 14): the same signed request mix, spread over 10,000 distinct users
// and keys (each far under its 100-a-minute limit), against a database of about 1,000 accounts
// and one of about a million (BENCH_SCALE_USERS users, 100,000 by default), side by side: p99 of
// first renders and of cached pages, the mix's throughput, the API process's memory with its
// caches full, its cold start on the large copy, and 2 processes against 1. A measurement, not a
// test: it exits 0 whatever the verdicts (non-zero only when the bench itself could not run).
import os from 'node:os';
import { freshBuild } from '../bin/build.mjs';
import { PAGE_CACHE_BOUNDS } from '../src/accounts/page-cache.ts';
import { stopAll } from './startup/processes.ts';
import { median } from './startup/table.ts';
import { LEAN_HISTORY, RETENTION_HISTORY, type ScaleSize } from './scale/build.ts';
import { prepareClients, type Client } from './scale/clients.ts';
import {
  CLASSES,
  mixThroughput,
  percentile,
  runMix,
  type MixResult,
  type RequestClass,
} from './scale/mix.ts';
import { formatRows, judge, ms, spread, times, type Row } from './scale/report.ts';
import { fillCaches, FILL_PATHS_PER_KEY } from './scale/fill.ts';
import { startServer, type CacheFill } from './scale/server.ts';
import { measureWorkerRound, type WorkerRoundResult } from './scale/workers.ts';
import { benchApiKey } from './scale/build.ts';
import {
  copyTemplate,
  ensureTemplate,
  withDatabase,
  type Copy,
  type Template,
} from './scale/template.ts';

const positive = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};

/**
 * ~1,000 accounts (1,001): the builder's first 170 users, whose shares of its 1–30 accounts a user
 * are fixed by id. Check the printed count when the builder's mix changes.
 */
const SMALL_USERS = positive('BENCH_SCALE_SMALL_USERS', 170);
const LARGE_USERS = positive('BENCH_SCALE_USERS', 100_000);
/**
 * Every n-th user of the large size (1 in 100 by default; `off`: none) holds retention's full
 * history — 5-minute snapshots for 2 days, hourly to 31, daily for a year — and the others a
 * lean one (an hour, a day, 30 days): the full shape for all, ~630 KB an account, would take
 * ~630 GB for the million.
 */
const DEEP_EVERY =
  process.env.BENCH_SCALE_DEEP_EVERY === 'off'
    ? undefined
    : positive('BENCH_SCALE_DEEP_EVERY', 100);
const CLIENTS = positive('BENCH_SCALE_CLIENTS', 10_000);
const CONNECTIONS = positive('BENCH_SCALE_CONNECTIONS', 16);
/** Runs per size (each on a freshly started server, so every run has its first renders). */
const RUNS = positive('BENCH_SCALE_RUNS', 3);
const PROCESS_RUNS = positive('BENCH_SCALE_PROCESS_RUNS', 2);
/**
 * The warm-up before each measurement: this many keys, one session each (4 requests), all of one
 * user. Spread over keys so that none nears 100 a minute over all the starts of a bench.
 */
const WARMUP_KEYS = positive('BENCH_SCALE_WARMUP_KEYS', 100);
/**
 * Keys the mix does not use, of the large database's other users, that fill the key and
 * signature caches to their budgets after each large run, before its memory is read.
 */
const FILL_KEYS = positive('BENCH_SCALE_FILL_KEYS', 8_000);
/** Accounts of the large copy synced in the worker round (each run: 1, then 2 processes). */
const SYNC_ACCOUNTS = positive('BENCH_SCALE_SYNC_ACCOUNTS', 5_000);
const RATIO_TARGET = 1.5;
const RSS_TARGET = 300e6;
const COLD_START_TARGET_S = 2;

interface Size {
  label: string;
  template: Template;
  copy: Copy;
  clients: Client[];
  /** Asked for at every start (not a measured client where the database has room). */
  probe: Client;
  /** Keys of the probe's user that warm the server up (JIT, pools) before each measurement. */
  warmups: Client[];
  runs: MixResult[];
  startSeconds: number[];
  /** Largest resident memory of an API process after each run, bytes. */
  rss: number[];
  /** Largest peak (VmHWM) of an API process over each run, bytes. */
  peak: number[];
  /** Keys that fill the caches after each run (none where every user is a client). */
  fillKeys: string[];
  /** Each cache's bytes and budget after each run. */
  caches: CacheFill[][];
}

const phases: string[] = [];
async function phase<T>(what: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  process.stderr.write(`${what}…\n`);
  const result = await work();
  const seconds = (Date.now() - started) / 1000;
  phases.push(`${what}: ${seconds.toFixed(1)} s`);
  process.stderr.write(`${what}: ${seconds.toFixed(1)} s\n`);
  return result;
}

const copies: Copy[] = [];

async function prepare(label: string, scale: ScaleSize): Promise<Size> {
  const template = await phase(`template ${label} (${scale.users} users)`, () =>
    ensureTemplate(scale, (line) => process.stderr.write(`  ${line}\n`)),
  );
  console.log(
    `${label}: ${template.name}: ${template.users} users, ${template.accounts} accounts, ` +
      `~${template.snapshots} snapshots, ${(template.bytes / 1e9).toFixed(2)} GB` +
      (template.builtSeconds === null
        ? ' (reused)'
        : `, built in ${template.builtSeconds.toFixed(0)} s`),
  );
  const copy = await phase(`copy ${label}`, () => copyTemplate(template.name, String(process.pid)));
  copies.push(copy);
  const { clients, warmups } = await withDatabase(copy.name, (db) =>
    prepareClients(db, CLIENTS, WARMUP_KEYS),
  );
  const probe: Client = {
    userId: template.users,
    apiKey: benchApiKey(template.users),
    accountId: 0,
  };
  const taken = new Set([...clients.map((client) => client.userId), probe.userId]);
  const fillKeys: string[] = [];
  for (let user = 1; user <= template.users && fillKeys.length < FILL_KEYS; user++) {
    if (!taken.has(user)) fillKeys.push(benchApiKey(user));
  }
  return {
    label,
    template,
    copy,
    clients,
    probe,
    warmups,
    runs: [],
    startSeconds: [],
    rss: [],
    peak: [],
    fillKeys,
    caches: [],
  };
}

async function measureOnce(size: Size): Promise<void> {
  const server = await startServer(size.copy.url, size.probe);
  try {
    size.startSeconds.push(server.startSeconds);
    await runMix(server.url, size.warmups, CONNECTIONS);
    const result = await runMix(server.url, size.clients, CONNECTIONS, [size.probe.userId]);
    size.runs.push(result);
    if (size.fillKeys.length > 0) {
      const fill = await fillCaches(server.url, size.fillKeys, CONNECTIONS);
      if (fill.unexpected.size > 0) {
        throw new Error(`cache fill: answers other than 404: ${[...fill.unexpected].join('; ')}`);
      }
    }
    size.caches.push(await server.caches());
    const memory = server.memory();
    size.rss.push(Math.max(...memory.map((each) => each.rss)));
    size.peak.push(Math.max(...memory.map((each) => each.hwm)));
    const failed = [...result.failures].map(([status, n]) => `${n}× ${status}`).join(', ');
    process.stderr.write(
      `  ${size.label}: ${(result.requests / result.seconds).toFixed(0)} req/s in ` +
        `${result.seconds.toFixed(1)} s, start ${server.startSeconds.toFixed(2)} s` +
        `${failed ? `, NOT 200: ${failed}` : ''}\n`,
    );
  } finally {
    await server.stop();
  }
}

const reqs = (value: number) => `${value.toFixed(0)} req/s`;
const seconds = (value: number) => `${value.toFixed(2)} s`;
const mbOf = (size: Size) => (medianOf(size, (run) => run.renderedBytes) / 1e6).toFixed(1);
const rps = (result: MixResult) => result.requests / result.seconds;
const medianOf = (size: Size, f: (run: MixResult) => number) => median(size.runs.map(f));
const p = (what: RequestClass, q: number) => (run: MixResult) => percentile(run.latencies[what], q);

async function main(): Promise<void> {
  freshBuild();
  const started = Date.now();
  const small = await prepare('small', { users: SMALL_USERS, history: LEAN_HISTORY });
  const large = await prepare('large', {
    users: LARGE_USERS,
    history: LEAN_HISTORY,
    ...(DEEP_EVERY ? { deep: { every: DEEP_EVERY, history: RETENTION_HISTORY } } : {}),
  });
  // Alternated, so neither size gets the quieter moments.
  for (let run = 0; run < RUNS; run++) {
    await phase(`mix run ${run + 1} of ${RUNS}, small then large`, async () => {
      await measureOnce(small);
      await measureOnce(large);
    });
  }
  const multi: number[] = [];
  const single: number[] = [];
  await phase(`serve --processes 2 against 1 on the large copy, ${PROCESS_RUNS} runs`, async () => {
    for (let run = 0; run < PROCESS_RUNS; run++) {
      for (const processes of [1, 2]) {
        const server = await startServer(large.copy.url, large.probe, processes);
        try {
          await runMix(server.url, large.warmups, CONNECTIONS);
          const result = await runMix(server.url, large.clients, CONNECTIONS, [large.probe.userId]);
          (processes === 1 ? single : multi).push(rps(result));
          if (processes === 2) {
            const memory = server.memory();
            large.rss.push(Math.max(...memory.map((each) => each.rss)));
            large.peak.push(Math.max(...memory.map((each) => each.hwm)));
          }
          process.stderr.write(`  ${processes} process(es): ${rps(result).toFixed(0)} req/s\n`);
        } finally {
          await server.stop();
        }
      }
    }
  });

  const workers: WorkerRoundResult = await phase(
    `worker round: ${SYNC_ACCOUNTS} accounts of the large copy, 1 then 2 worker processes`,
    () =>
      measureWorkerRound(large.copy.url, {
        accounts: SYNC_ACCOUNTS,
        progress: (line) => process.stderr.write(`  ${line}\n`),
      }),
  );

  const rows: Row[] = [];
  const latencyRow = (what: RequestClass, q: number, target: boolean) => {
    const a = medianOf(small, p(what, q));
    const b = medianOf(large, p(what, q));
    const smallText = spread(small.runs.map(p(what, q)), ms);
    if (Number.isNaN(b)) {
      // A class only the small database has (its users' repeated summaries).
      rows.push({
        what: `${what} p${q}`,
        small: smallText,
        large: '—',
        ratio: '',
        target: '',
        verdict: '',
      });
      return;
    }
    rows.push({
      what: `${what} p${q}`,
      small: smallText,
      large: spread(large.runs.map(p(what, q)), ms),
      ratio: times(b / a),
      target: target ? `≤ ${RATIO_TARGET}×` : '',
      verdict: target ? judge(b / a <= RATIO_TARGET) : '',
    });
  };
  for (const what of CLASSES) {
    latencyRow(what, 50, false);
    latencyRow(what, 99, what === 'first render' || what === 'cached page');
  }
  const smallRps = medianOf(small, rps);
  const largeRps = medianOf(large, rps);
  rows.push({
    what: `mix throughput as run (${CONNECTIONS} connections)`,
    small: spread(small.runs.map(rps), reqs, 0),
    large: spread(large.runs.map(rps), reqs, 0),
    ratio: times(smallRps / largeRps),
    target: '',
    verdict: '',
  });
  // One mix for both: the large database's shares of each class (no summary from the cache).
  const firstLarge = large.runs[0];
  const shares = Object.fromEntries(
    CLASSES.map((what) => [what, firstLarge?.latencies[what].length ?? 0]),
  ) as Record<RequestClass, number>;
  const smallSame = medianOf(small, (run) => mixThroughput(run, shares, CONNECTIONS));
  const largeSame = medianOf(large, (run) => mixThroughput(run, shares, CONNECTIONS));
  rows.push({
    what: `mix throughput, the large one's mix on both`,
    small: spread(
      small.runs.map((run) => mixThroughput(run, shares, CONNECTIONS)),
      reqs,
      0,
    ),
    large: spread(
      large.runs.map((run) => mixThroughput(run, shares, CONNECTIONS)),
      reqs,
      0,
    ),
    ratio: times(smallSame / largeSame),
    target: `≤ ${RATIO_TARGET}×`,
    verdict: judge(smallSame / largeSame <= RATIO_TARGET),
  });
  const largestRss = Math.max(...large.rss);
  const mb = (size: Size) =>
    `${(Math.max(...size.rss) / 1e6).toFixed(0)} MB (peak ${(Math.max(...size.peak) / 1e6).toFixed(0)})`;
  rows.push({
    what: 'API process RSS after the mix (largest)',
    small: mb(small),
    large: mb(large),
    ratio: '',
    target: `≤ ${RSS_TARGET / 1e6} MB`,
    verdict: judge(largestRss <= RSS_TARGET),
  });
  const fillOf = (size: Size) =>
    ['pages', 'keys', 'signatures']
      .map((cache) => {
        const fills = size.caches.flat().filter((fill) => fill.cache === cache);
        const bytes = Math.max(...fills.map((fill) => fill.bytes));
        const budget = fills[0]?.budget ?? NaN;
        return `${cache} ${(bytes / 2 ** 20).toFixed(0)}/${(budget / 2 ** 20).toFixed(0)}`;
      })
      .join(', ');
  rows.push({
    what: 'caches at the memory reading (MiB held/budget)',
    small: fillOf(small),
    large: fillOf(large),
    ratio: '',
    target: '',
    verdict: '',
  });
  const coldStart = median(large.startSeconds);
  rows.push({
    what: 'cold start: spawn to first signed answer (median)',
    small: spread(small.startSeconds, seconds, 2),
    large: spread(large.startSeconds, seconds, 2),
    ratio: '',
    target: `≤ ${COLD_START_TARGET_S} s`,
    verdict: judge(coldStart <= COLD_START_TARGET_S),
  });
  rows.push({
    what: 'mix throughput, 2 processes against 1',
    small: '',
    large: `${spread(multi, reqs, 0)} against ${spread(single, reqs, 0)}`,
    ratio: times(median(multi) / median(single)),
    target: '',
    verdict: '',
  });

  const cpus = os.cpus();
  console.log(
    `\nmachine: ${cpus[0]?.model.trim() ?? 'unknown cpu'} x ${cpus.length}, node ${process.version}; ` +
      `load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  console.log(`bench: ${((Date.now() - started) / 1000).toFixed(0)} s (${phases.join('; ')})\n`);
  console.log(
    formatRows(
      {
        what: 'figure',
        small: `${small.template.accounts} accounts`,
        large: `${large.template.accounts} accounts`,
        ratio: 'large/small',
        target: 'target',
      },
      rows,
    ),
  );
  const failures = [...small.runs, ...large.runs].reduce((n, run) => {
    return n + [...run.failures.values()].reduce((a, b) => a + b, 0);
  }, 0);
  console.log(
    `\nEach run: a freshly started \`serve --no-worker\` (request limiter at its default), then ` +
      `${CLIENTS} clients (distinct keys; users spread over the id range) each asking for its ` +
      `accounts page twice, the summary and a 30-day balance chart, ${CONNECTIONS} at a time; ` +
      `medians of ${RUNS} runs per size (lowest–highest in brackets). A first render is a page not rendered since the start ` +
      `(a user's first; where users repeat, another page size, and a chart ending a second ` +
      `earlier; a repeated summary is a 'cached summary', outside the large one's mix that the ` +
      `throughput target compares: bench/scale/mix.ts): ` +
      `${median(small.runs.map((run) => run.latencies['first render'].length))} per run on the ` +
      `small database, ${median(large.runs.map((run) => run.latencies['first render'].length))} ` +
      `on the large one, whose pages came to ${mbOf(small)} and ${mbOf(large)} MB (the page ` +
      `cache keeps ${PAGE_CACHE_BOUNDS.maxEntries} users, ` +
      `${(PAGE_CACHE_BOUNDS.maxBytes / 2 ** 20).toFixed(0)} MiB). After each large run, ` +
      `${large.fillKeys.length} keys the mix did not use ask for ${FILL_PATHS_PER_KEY} pages each ` +
      `(404s), filling the key and signature caches before the memory reading. ` +
      `Answers other than 200: ${failures}.`,
  );
  console.log(
    '\n' +
      formatRows(
        {
          what: `worker round (${workers.sample} of ${workers.templateAccounts} accounts)`,
          small: '1 process',
          large: '2 processes',
          ratio: '2 vs 1',
          target: '',
        },
        workers.rows,
      ),
  );
  for (const run of workers.runs) {
    if (run.firstError) console.log(`${run.processes} process(es), first error: ${run.firstError}`);
  }
  const verdicts = rows.filter((row) => row.verdict !== '');
  const passed = verdicts.filter((row) => row.verdict === 'PASS').length;
  console.log(`${passed} of ${verdicts.length} figures within target.`);
}

// Ctrl-C or kill: no server may outlive the bench, and no copy outlive the run.
const cleanUp = async () => {
  await stopAll();
  await Promise.all(copies.map((copy) => copy.drop().catch(() => undefined)));
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
}

main()
  .catch((error: unknown) => {
    console.error('bench failed:', error);
    process.exitCode = 1;
  })
  .finally(() => cleanUp());

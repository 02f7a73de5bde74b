// `npm run bench:startup`: how fast the CLI answers and the server starts, and how much memory
// the processes hold (issue 10's targets), each figure the median of several runs with its
// spread, beside its target with PASS or FAIL. A measurement, not a test: it exits 0 whatever
// the verdicts (non-zero only when the benchmark itself could not run).
import os from 'node:os';
import { freshBuild } from '../bin/build.mjs';
import { measureCli } from './startup/cli.ts';
import { describeLoad, measureEmbedded, measurePostgresApi } from './startup/memory.ts';
import { stopAll } from './startup/processes.ts';
import { measureNpmStart } from './startup/start.ts';
import { formatTable, verdict, type Figure } from './startup/table.ts';
import { measureWorker } from './startup/worker.ts';

const runs = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};

/** Every part, in the order printed; BENCH_ONLY=cli,start,... runs some of them. */
const PARTS: Record<string, () => Promise<{ figures: Figure[]; notes?: string[] }>> = {
  cli: async () => ({ figures: await measureCli(runs('BENCH_CLI_RUNS', 5)) }),
  start: async () => ({ figures: await measureNpmStart(runs('BENCH_START_RUNS', 3)) }),
  embedded: () => measureEmbedded(runs('BENCH_MEMORY_RUNS', 3)),
  postgres: () => measurePostgresApi(runs('BENCH_MEMORY_RUNS', 3)),
  worker: () => measureWorker(runs('BENCH_WORKER_RUNS', 2)),
};

async function main(): Promise<void> {
  freshBuild();
  const only = process.env.BENCH_ONLY?.split(',').filter(Boolean) ?? Object.keys(PARTS);
  const cpus = os.cpus();
  const machine = `${cpus[0]?.model.trim() ?? 'unknown cpu'} x ${cpus.length}, node ${process.version}`;
  const figures: Figure[] = [];
  const notes: string[] = [];
  const started = Date.now();
  for (const name of only) {
    const part = PARTS[name];
    if (!part) throw new Error(`BENCH_ONLY: no part "${name}" (${Object.keys(PARTS).join(', ')})`);
    const partStarted = Date.now();
    process.stderr.write(`${name}…`);
    const result = await part();
    process.stderr.write(` ${((Date.now() - partStarted) / 1000).toFixed(0)} s\n`);
    figures.push(...result.figures);
    notes.push(...(result.notes ?? []));
  }
  console.log(
    `\nmachine: ${machine}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(`bench: ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  console.log(formatTable(figures));
  console.log();
  if (only.includes('embedded') || only.includes('postgres'))
    console.log(`Under load: ${describeLoad()}.`);
  for (const note of notes) console.log(note);
  const failed = figures.filter((figure) => verdict(figure) === 'FAIL').length;
  console.log(`\n${figures.length - failed} of ${figures.length} figures within target.`);
}

// Ctrl-C or kill: no server may outlive the bench.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void stopAll().finally(() => process.exit(130)));
}

main()
  .catch((error: unknown) => {
    console.error('bench failed:', error);
    process.exitCode = 1;
  })
  .finally(() => stopAll());

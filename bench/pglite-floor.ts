// `node --import tsx bench/pglite-floor.ts`: what opening the embedded database costs (time to
// open, resident memory after the open and after a few queries, peak), PGlite alone (its floor)
// with its default settings and with ours, and our storage layer (PGlite + migrations) on top,
// on an existing data directory and on a new one (initdb, or a copy of the template). Each
// figure is the median of BENCH_RUNS runs (default 5) with its spread, each run a fresh process.
// BENCH_SETTINGS='work_mem=1MB,…' adds settings to ours, to try one before making it the default.
// BENCH_BEFORE=<another checkout, built> adds rows for its dist/storage/database.js.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { DIST, ROOT, freshBuild } from '../bin/build.mjs';
import { median } from './startup/table.ts';
import { pgliteStartParams } from '../src/storage/pglite-settings.ts';
import type * as TemplateModule from '../src/storage/pglite-template.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const EXTRA = (process.env.BENCH_SETTINGS ?? '')
  .split(',')
  .filter(Boolean)
  .flatMap((setting) => ['-c', setting]);

/** What one child process opens, and how. */
interface Order {
  /** PGlite alone with these start parameters (undefined: PGlite's defaults), or our storage. */
  open: { kind: 'pglite'; startParams: string[] | undefined } | { kind: 'ours'; module: string };
  dataDir: string;
  /** Create the new `dataDir` from the template in this root first (PGlite alone)… */
  template?: string;
  /** …with `createFromTemplate` of this module. */
  templateModule?: string;
  /** Our storage's template root: an empty one makes it run initdb. */
  templateRoot?: string;
}

interface Sample {
  openMs: number;
  rssOpen: number;
  rssQueries: number;
  maxRss: number;
}

// Plain JavaScript, so the measured process holds no TypeScript loader: PGlite's floor is PGlite
// and node. The same queries run through PGlite, or through our Kysely.
const CHILD = `
import { pathToFileURL } from 'node:url';
const order = JSON.parse(process.env.PGLITE_FLOOR_ORDER);
const started = performance.now();
let run, close;
if (order.open.kind === 'pglite') {
  if (order.template) {
    const { createFromTemplate } = await import(pathToFileURL(order.templateModule).href);
    if (!(await createFromTemplate(order.dataDir, order.template))) throw new Error('no template');
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = await PGlite.create(order.dataDir, { startParams: order.open.startParams });
  run = (text, params) => pglite.query(text, params);
  close = () => pglite.close();
} else {
  const { openStorage } = await import(pathToFileURL(order.open.module).href);
  const { CompiledQuery } = await import('kysely');
  const storage = await openStorage({ dataDir: order.dataDir, pgliteTemplateRoot: order.templateRoot });
  run = (text, params) => storage.db.executeQuery(CompiledQuery.raw(text, params ?? []));
  close = () => storage.close();
}
const openMs = performance.now() - started;
const rssOpen = process.memoryUsage().rss;
await run('CREATE TABLE IF NOT EXISTS bench_rows (id serial PRIMARY KEY, v text, n numeric)');
for (let i = 0; i < 1000; i++)
  await run('INSERT INTO bench_rows (v, n) VALUES ($1, $2)', ['row ' + i + ' '.repeat(i % 100), i / 7]);
await run('SELECT count(*), sum(n) FROM bench_rows');
await run('SELECT * FROM bench_rows ORDER BY v DESC LIMIT 10');
await run('SELECT v, count(*) FROM bench_rows GROUP BY v ORDER BY 2 DESC LIMIT 10');
const rssQueries = process.memoryUsage().rss;
await close();
// VmHWM, not resourceUsage().maxRSS: the latter keeps the parent's peak across fork and exec.
const { readFileSync } = await import('node:fs');
const hwm = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
const maxRss = Number(hwm?.[1]) * 1024;
console.log(JSON.stringify({ openMs, rssOpen, rssQueries, maxRss }));
`;

/** Our storage layer and template as the build ships them (dist/, built first if stale). */
function compiledStorage(): { database: string; template: string } {
  freshBuild();
  return {
    database: path.join(DIST, 'storage', 'database.js'),
    template: path.join(DIST, 'storage', 'pglite-template.js'),
  };
}

function runChild(order: Order): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      cwd: ROOT,
      env: { ...process.env, PGLITE_FLOOR_ORDER: JSON.stringify(order) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as Sample);
      else reject(new Error(`child exited ${code}: ${out}`));
    });
  });
}

interface Row {
  what: string;
  /** A new data directory per run; otherwise one prepared once and opened again each run. */
  fresh: boolean;
  order: (dataDir: string) => Order;
  samples: Sample[];
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'opencommas-pglite-floor-'));
  const templateRoot = path.join(scratch, 'templates');
  const noTemplates = path.join(scratch, 'no-templates');
  const bundle = compiledStorage();
  const { ensurePgliteTemplate } = (await import(
    pathToFileURL(bundle.template).href
  )) as typeof TemplateModule;
  const template = await ensurePgliteTemplate(templateRoot);
  const ours = [...pgliteStartParams(), ...EXTRA];
  const pglite = (startParams: string[] | undefined) => ({ kind: 'pglite' as const, startParams });
  const before = process.env.BENCH_BEFORE;
  const rows: Row[] = [
    ...[false, true].flatMap((fresh): Row[] => [
      {
        what: `PGlite alone, its defaults, ${fresh ? 'new (initdb)' : 'existing'}`,
        fresh,
        order: (dataDir) => ({ open: pglite(undefined), dataDir }),
        samples: [],
      },
      {
        what: `PGlite alone, our settings, ${fresh ? 'new (initdb)' : 'existing'}`,
        fresh,
        order: (dataDir) => ({ open: pglite(ours), dataDir }),
        samples: [],
      },
    ]),
    {
      what: 'PGlite alone, our settings, new (template copy)',
      fresh: true,
      order: (dataDir) => ({
        open: pglite(ours),
        dataDir,
        template: templateRoot,
        templateModule: bundle.template,
      }),
      samples: [],
    },
    ...(before
      ? [false, true].map((fresh): Row => ({
          what: `our storage before (${path.basename(before)}), ${fresh ? 'new (initdb)' : 'existing'}`,
          fresh,
          order: (dataDir) => ({
            open: { kind: 'ours', module: path.join(before, 'dist', 'storage', 'database.js') },
            dataDir,
          }),
          samples: [],
        }))
      : []),
    {
      what: 'our storage (PGlite + migrations), existing',
      fresh: false,
      order: (dataDir) => ({
        open: { kind: 'ours', module: bundle.database },
        dataDir,
        templateRoot,
      }),
      samples: [],
    },
    {
      what: 'our storage, new (template copy)',
      fresh: true,
      order: (dataDir) => ({
        open: { kind: 'ours', module: bundle.database },
        dataDir,
        templateRoot,
      }),
      samples: [],
    },
    {
      what: 'our storage, new (no template: initdb)',
      fresh: true,
      order: (dataDir) => ({
        open: { kind: 'ours', module: bundle.database },
        dataDir,
        templateRoot: noTemplates,
      }),
      samples: [],
    },
  ];
  try {
    // Existing directories made once, by the same kind of open.
    const existing = rows.map((row, i) => path.join(scratch, `existing-${i}`));
    for (const [i, row] of rows.entries()) {
      if (!row.fresh) await runChild(row.order(existing[i] ?? ''));
    }
    // Rows interleaved run by run, so none gets only the quiet (or noisy) moments.
    for (let run = 0; run < RUNS; run++) {
      for (const [i, row] of rows.entries()) {
        const dataDir = row.fresh ? path.join(scratch, `fresh-${i}-${run}`) : (existing[i] ?? '');
        row.samples.push(await runChild(row.order(dataDir)));
        if (row.fresh) rmSync(dataDir, { recursive: true, force: true });
        process.stderr.write('.');
      }
    }
    process.stderr.write('\n');
    print(rows, template, ours);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function figure(values: number[], show: (value: number) => string): string {
  return `${show(median(values))} (${show(Math.min(...values))}–${show(Math.max(...values))})`;
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const megabytes = (bytes: number) => (bytes / 1e6).toFixed(0);

function print(rows: Row[], template: string, ours: string[]): void {
  const cpus = os.cpus();
  console.log(
    `\n${cpus[0]?.model.trim() ?? 'cpu'} x ${cpus.length}, node ${process.version}, ` +
      `load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}; ${RUNS} runs each, median (min–max)`,
  );
  console.log(`our settings: ${ours.slice(PGlite.defaultStartParams.length).join(' ')}`);
  console.log(`template: ${template}\n`);
  const table = [['what', 'open (s)', 'RSS open (MB)', 'RSS after queries (MB)', 'peak RSS (MB)']];
  for (const row of rows) {
    const of = (key: keyof Sample) => row.samples.map((sample) => sample[key]);
    table.push([
      row.what,
      figure(of('openMs'), seconds),
      figure(of('rssOpen'), megabytes),
      figure(of('rssQueries'), megabytes),
      figure(of('maxRss'), megabytes),
    ]);
  }
  const widths = table[0]?.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length))) ?? [];
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const [head, ...body] = table;
  console.log(line(head ?? []));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of body) console.log(line(row));
  console.log('\nRSS is the process (node + PGlite); MB = 10^6 bytes.');
}

await main();

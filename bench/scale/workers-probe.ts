// Worker-round probe for the scale bench: a small template (built or reused), a copy of it, one
// worker round measured with 1 and then 2 `opencommas worker` processes, the table, the copy
// dropped. BENCH_SCALE_USERS (default 2,000) sizes the template, BENCH_SCALE_SYNC_ACCOUNTS the
// sample (default: every account of it).
import { LEAN_HISTORY } from './build.ts';
import { formatRows } from './report.ts';
import { copyTemplate, ensureTemplate } from './template.ts';
import { measureWorkerRound } from './workers.ts';

const users = Number(process.env.BENCH_SCALE_USERS ?? 2000);
const log = (line: string) => process.stderr.write(`${line}\n`);
const template = await ensureTemplate({ users, history: LEAN_HISTORY }, log);
log(`template ${template.name}: ${template.accounts} accounts`);
const copy = await copyTemplate(template.name, `workers_${process.pid}`);
try {
  const result = await measureWorkerRound(copy.url, {
    accounts: Number(process.env.BENCH_SCALE_SYNC_ACCOUNTS ?? template.accounts),
    progress: log,
  });
  console.log(`sample by market: ${JSON.stringify(result.byMarket)}`);
  for (const run of result.runs) {
    if (run.firstError) console.log(`${run.processes} process(es), first error: ${run.firstError}`);
  }
  console.log(
    formatRows(
      {
        what: `worker round (${result.sample} of ${result.templateAccounts} accounts)`,
        small: '1 process',
        large: '2 processes',
        ratio: '2 vs 1',
        target: 'target',
      },
      result.rows,
    ),
  );
  console.log(JSON.stringify({ ...result, rows: undefined }, null, 2));
} finally {
  await copy.drop();
}

// One `opencommas worker` on PostgreSQL syncing 10,000 accounts (bench:sync's accounts on the
// local Binance/OKX stand-ins), its peak resident memory read from /proc as the round ends.
import { sql } from 'kysely';
import { openStorage } from '../../src/storage/database.ts';
import {
  balanceRequests,
  closeStandIns,
  seedExchangeAccounts,
  standInEnv,
  startStandIns,
  startWorker,
  stopWorker,
  waitUntilSynced,
} from '../exchange-accounts.ts';
import { createDatabase } from './postgres.ts';
import { memoryOf } from './processes.ts';
import type { Figure } from './table.ts';

export const WORKER_ACCOUNTS = Number(process.env.BENCH_WORKER_ACCOUNTS ?? 10_000);

export async function measureWorker(runs: number): Promise<{ figures: Figure[]; notes: string[] }> {
  const database = await createDatabase();
  const standIns = await startStandIns(5);
  const storage = await openStorage({ databaseUrl: database.url });
  const figure: Figure = {
    what: `worker process on PostgreSQL syncing ${WORKER_ACCOUNTS.toLocaleString('en-US')} accounts, peak resident memory`,
    unit: 'MB',
    values: [],
    limit: 300e6,
  };
  const seconds: number[] = [];
  try {
    const masterKey = Buffer.from(database.masterKey, 'base64');
    const later = new Date(Date.now() + 86_400_000);
    await seedExchangeAccounts(storage, masterKey, standIns, WORKER_ACCOUNTS, later);
    // The worker's defaults (concurrency included), as `opencommas worker` runs.
    const env = {
      DATABASE_URL: database.url,
      OPENCOMMAS_MASTER_KEY: database.masterKey,
      ...standInEnv(standIns),
      OPENCOMMAS_SYNC_INTERVAL: '1h',
    };
    for (let run = 0; run < runs; run++) {
      // A new round: every account due, tickers not yet read.
      await sql`UPDATE accounts SET next_sync_at = now(), last_sync_at = NULL`.execute(storage.db);
      await sql`DELETE FROM price_rounds`.execute(storage.db);
      standIns.binance.resetStats();
      standIns.okx.resetStats();
      const started = Date.now();
      const worker = startWorker(env, ['ignore', 'ignore', 'inherit']);
      try {
        await waitUntilSynced(storage, WORKER_ACCOUNTS);
        figure.values.push(memoryOf(worker.pid ?? 0).hwm);
        seconds.push((Date.now() - started) / 1000);
        if (balanceRequests(standIns) < WORKER_ACCOUNTS) throw new Error('accounts not read');
      } finally {
        await stopWorker(worker);
      }
    }
  } finally {
    await storage.close();
    await closeStandIns(standIns);
    await database.drop();
  }
  return {
    figures: [figure],
    notes: [
      `worker: ${WORKER_ACCOUNTS} accounts synced in ${seconds.map((s) => s.toFixed(1)).join(', ')} s ` +
        '(from spawn, default concurrency)',
    ],
  };
}

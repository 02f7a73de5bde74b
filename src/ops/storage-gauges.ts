import { Gauge } from 'prom-client';
import type { Storage } from '../storage/database.ts';
import { dueBacklog, type DueBacklog } from '../sync/claims.ts';
import { registry } from './metrics.ts';
import { withTimeout } from './readiness.ts';

/**
 * Gauges read from storage when Prometheus scrapes, not kept up to date by the code paths: the
 * pool's connections, and how far the sync schedule is behind. A scrape must answer even while
 * the database is away, so every read is bounded and a failure reports `opencommas_database_up 0`
 * and NaN for what could not be read, never an error.
 */

/** The storages of the services running in this process (one, outside tests). */
const watched = new Set<Storage>();

/** Report on `storage` at each scrape, until the returned function is called. */
export function watchStorage(storage: Storage): () => void {
  watched.add(storage);
  return () => watched.delete(storage);
}

const SCRAPE_QUERY_TIMEOUT_MS = 2000;
/**
 * A scrape collects every gauge at once: the read in flight serves all three that need it, and
 * the next scrape reads afresh.
 */
let pendingBacklog: Promise<DueBacklog | undefined> | undefined;

/** Summed over the watched storages; undefined when one could not be read. */
function backlog(): Promise<DueBacklog | undefined> {
  if (pendingBacklog) return pendingBacklog;
  const now = Date.now();
  const result = Promise.all(
    [...watched].map((storage) =>
      withTimeout(() => dueBacklog(storage, new Date(now)), SCRAPE_QUERY_TIMEOUT_MS),
    ),
  ).then(
    (parts) => ({
      due: parts.reduce((sum, part) => sum + part.due, 0),
      oldestDueAt: parts.reduce<Date | null>(
        (oldest, part) =>
          part.oldestDueAt && (!oldest || part.oldestDueAt < oldest) ? part.oldestDueAt : oldest,
        null,
      ),
    }),
    () => undefined,
  );
  pendingBacklog = result;
  void result.finally(() => {
    pendingBacklog = undefined;
  });
  return result;
}

export const storageGauges = {
  // First: sampled before this scrape's own query takes a connection.
  poolConnections: new Gauge({
    name: 'opencommas_db_pool_connections',
    help: 'PostgreSQL pool connections of this process by state: total (open), idle, waiting (callers queued for one); absent on the embedded database',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const storage of watched) {
        const stats = storage.poolStats();
        if (!stats) continue;
        this.inc({ state: 'total' }, stats.total);
        this.inc({ state: 'idle' }, stats.idle);
        this.inc({ state: 'waiting' }, stats.waiting);
      }
    },
  }),
  databaseUp: new Gauge({
    name: 'opencommas_database_up',
    help: 'Whether the scrape could query the database (1) or not (0); when 0, the sync gauges are NaN',
    registers: [registry],
    async collect() {
      this.set((await backlog()) ? 1 : 0);
    },
  }),
  syncDue: new Gauge({
    name: 'opencommas_sync_accounts_due',
    help: 'Accounts whose next scheduled sync time has passed and that no worker holds yet',
    registers: [registry],
    async collect() {
      const read = await backlog();
      this.set(read ? read.due : Number.NaN);
    },
  }),
  syncLag: new Gauge({
    name: 'opencommas_sync_lag_seconds',
    help: 'How late the most overdue waiting account is (now minus its scheduled sync time); 0 when none is due',
    registers: [registry],
    async collect() {
      const read = await backlog();
      if (!read) return this.set(Number.NaN);
      const late = read.oldestDueAt ? (Date.now() - read.oldestDueAt.getTime()) / 1000 : 0;
      this.set(Math.max(0, late));
    },
  }),
};

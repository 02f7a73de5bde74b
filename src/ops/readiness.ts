import { Migrator } from 'kysely/migration';
import { sql } from 'kysely';
import type { ChangeBus } from '../storage/changes.ts';
import type { Storage } from '../storage/database.ts';
import { migrationProvider } from '../storage/migrations/index.ts';

export type CheckState = 'ok' | 'failed';

/** What `/readyz` reports, one entry per condition for serving. */
export interface ReadinessChecks {
  /** A trivial query answered within the timeout. */
  storage: CheckState;
  /** Every migration this build knows has been applied to the database. */
  migrations: CheckState;
  /** This process hears other processes' changes, so its caches can be trusted. */
  change_feed: CheckState;
}

export interface ReadinessReport {
  ready: boolean;
  checks: ReadinessChecks;
}

/** Long enough for a healthy database under load, short enough for a probe's own timeout. */
const DEFAULT_TIMEOUT_MS = 1000;

/**
 * Whether this process can serve requests. Cheap enough to probe every second: one `SELECT 1`,
 * and the migration check only until it has once succeeded (a running process's migrations are
 * not undone; a newer build's are applied by that build at its start).
 */
export class Readiness {
  private migrated = false;

  constructor(
    private readonly storage: Storage,
    private readonly changes: ChangeBus,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  async check(): Promise<ReadinessReport> {
    const storage = await this.passes(() => sql`SELECT 1`.execute(this.storage.db));
    const migrations = storage && (this.migrated || (await this.passes(() => this.allApplied())));
    const checks: ReadinessChecks = {
      storage: storage ? 'ok' : 'failed',
      migrations: migrations ? 'ok' : 'failed',
      change_feed: this.changes.connected ? 'ok' : 'failed',
    };
    return { ready: Object.values(checks).every((state) => state === 'ok'), checks };
  }

  private async allApplied(): Promise<boolean> {
    const migrator = new Migrator({ db: this.storage.db, provider: migrationProvider });
    const migrations = await migrator.getMigrations();
    this.migrated = migrations.every((migration) => migration.executedAt !== undefined);
    return this.migrated;
  }

  /** Whether `work` settles successfully (and truthy) within the timeout; never throws. */
  private passes(work: () => Promise<unknown>): Promise<boolean> {
    return withTimeout(work, this.timeoutMs).then(
      (value) => value !== false,
      () => false,
    );
  }
}

/**
 * `work()`'s result, or a rejection after `ms`. The abandoned promise's own failure is swallowed:
 * a query left behind by a probe must not become an unhandled rejection.
 */
export function withTimeout<T>(work: () => Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    let running: Promise<T>;
    try {
      running = work();
    } catch (error) {
      clearTimeout(timer);
      reject(error as Error);
      return;
    }
    running.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error as Error);
      },
    );
  });
}

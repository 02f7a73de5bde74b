import type { Kysely, LogConfig } from 'kysely';
import type { Database } from './schema.ts';

export type StorageKind = 'pglite' | 'postgres';

/** The channel on which every process announces writes, so other processes drop their caches. */
export const CHANGES_CHANNEL = 'opencommas_changes';

export interface ChangeListener {
  /** The payload of a change notification, from any process. */
  onNotification(payload: string): void;
  /** The listening connection was lost: until `onReconnect`, notifications are being missed. */
  onDisconnect(): void;
  /** The listening connection was lost and re-made: notifications may have been missed. */
  onReconnect(): void;
}

/** Connections of a PostgreSQL pool, for metrics (PGlite has one connection and no pool). */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export interface Storage {
  kind: StorageKind;
  db: Kysely<Database>;
  listen(listener: ChangeListener): Promise<void>;
  /** The pool's connections now; undefined on PGlite. */
  poolStats(): PoolStats | undefined;
  close(): Promise<void>;
}

export interface StorageOptions {
  /** PostgreSQL connection string; when absent, the embedded PGlite is used. */
  databaseUrl?: string | undefined;
  /** PGlite data directory; absent means in memory (tests). */
  dataDir?: string | undefined;
  /** Where a new PGlite data directory's template is looked for (`src/storage/pglite-template.ts`). */
  pgliteTemplateRoot?: string | undefined;
  /** Told of connection losses that no query is waiting on (PostgreSQL restarts, admin kills). */
  onBackgroundError?: ((error: Error) => void) | undefined;
  /** Pool hygiene towards PostgreSQL (`config.database`); defaults as in `src/config.ts`. */
  pool?: PoolSettings | undefined;
  /**
   * Told of every statement the storage runs, after it ran (tests check their plans). Absent in
   * the service: Kysely then builds no log event at all.
   */
  onQuery?: QueryListener | undefined;
}

/** A statement as sent: its SQL text and its parameters. */
export type QueryListener = (sql: string, parameters: readonly unknown[]) => void;

/** Kysely's `log` option for `onQuery`: both outcomes, so failed statements are told too. */
export function queryLog(onQuery: QueryListener | undefined): { log?: LogConfig } {
  return onQuery ? { log: (event) => onQuery(event.query.sql, event.query.parameters) } : {};
}

export interface PoolSettings {
  /** Giving up on opening a connection, or on waiting for a free one. */
  connectTimeoutMs: number;
  /** PostgreSQL cancels longer statements, and ends sessions idle this long inside a transaction. */
  statementTimeoutMs: number;
  poolSize: number;
}

export const DEFAULT_POOL: PoolSettings = {
  connectTimeoutMs: 5000,
  statementTimeoutMs: 15_000,
  poolSize: 10,
};

export const INT8 = 20;
export const NUMERIC = 1700;
// Ids are bigint in SQL but stay far below 2^53; numerics stay exact strings.
export const parseInt8 = (text: string) => Number(text);
export const keepText = (text: string) => text;

/**
 * Opens (and migrates) PostgreSQL or the embedded PGlite. Each driver is loaded only in its own
 * mode: pg costs a PGlite process nothing, and PGlite (~10 MB of code) a PostgreSQL one nothing.
 */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  if (options.databaseUrl) {
    const { openPostgres } = await import('./postgres.ts');
    return openPostgres(
      options.databaseUrl,
      options.pool ?? DEFAULT_POOL,
      options.onBackgroundError ?? (() => undefined),
      options.onQuery,
    );
  }
  const { openPGlite } = await import('./pglite.ts');
  return openPGlite(options.dataDir, options.pgliteTemplateRoot, options.onQuery);
}

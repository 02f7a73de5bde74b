// Counters on PostgreSQL, in a module of their own: an embedded server never loads pg.
import pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres } from 'rate-limiter-flexible';
import { limiterOptions, type CounterStore } from './counters.ts';

/**
 * The counters' table. UNLOGGED: a limit's state is worth no WAL write and fsync per request,
 * and after a PostgreSQL crash an empty table only means counts start again. Created here, not
 * by a migration: it is the library's layout (key, points, expire in epoch ms), not our data.
 */
export const COUNTERS_TABLE = 'opencommas_rate_limits';

export interface PostgresCounterOptions {
  connectTimeoutMs?: number | undefined;
  /** Told when the pool loses a connection in the background (PostgreSQL restart). */
  onError?: (error: Error) => void;
}

/**
 * Counters shared by every process on one PostgreSQL database, so that two API processes
 * together allow a key its limit once. Each query is one atomic upsert (`INSERT … ON CONFLICT
 * … RETURNING`) on its own small pool. Should PostgreSQL be unreachable, each counter falls back
 * to an in-memory one (the library's insurance limiter): limits then hold per process instead
 * of failing the request.
 */
export async function postgresCounters(
  url: string,
  settings: PostgresCounterOptions = {},
): Promise<CounterStore> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 4,
    // A refused connection fails at once; an unreachable host costs a request at most this
    // long before the in-memory insurance answers.
    connectionTimeoutMillis: settings.connectTimeoutMs ?? 1000,
    // Upserts of one row: anything slower is a sick server; the insurance limiter takes over.
    statement_timeout: 1000,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection dropped by the server must not become an unhandled 'error' event.
  pool.on('error', (error) => settings.onError?.(error));
  try {
    await createTable(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  let cleaner = true;
  return {
    kind: 'postgres',
    counter(spec) {
      const limiter = new RateLimiterPostgres({
        ...limiterOptions(spec),
        storeClient: pool,
        storeType: 'pool',
        tableName: COUNTERS_TABLE,
        tableCreated: true,
        // One family deletes long-expired rows (every 5 minutes) for all of them: same table.
        clearExpiredByTimeout: cleaner,
        insuranceLimiter: new RateLimiterMemory(limiterOptions(spec)),
      });
      cleaner = false;
      return limiter;
    },
    close: () => pool.end(),
  };
}

async function createTable(pool: pg.Pool): Promise<void> {
  try {
    await pool.query(`CREATE UNLOGGED TABLE IF NOT EXISTS ${COUNTERS_TABLE} (
      key varchar(255) PRIMARY KEY,
      points integer NOT NULL DEFAULT 0,
      expire bigint
    )`);
  } catch (error) {
    // Two processes creating it at once: PostgreSQL reports the loser as a duplicate type.
    if ((error as { code?: string }).code !== '23505') throw error;
  }
}

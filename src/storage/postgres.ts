import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import {
  CHANGES_CHANNEL,
  INT8,
  NUMERIC,
  keepText,
  parseInt8,
  queryLog,
  type ChangeListener,
  type PoolSettings,
  type QueryListener,
  type Storage,
} from './database.ts';
import { migrate } from './migrate.ts';
import type { Database } from './schema.ts';

/** PostgreSQL, migrated, behind a pool with the hygiene of `PoolSettings`; see `openStorage`. */
export async function openPostgres(
  connectionString: string,
  settings: PoolSettings,
  onBackgroundError: (error: Error) => void,
  onQuery?: QueryListener,
): Promise<Storage> {
  await migratePostgres(connectionString, settings);
  return openPool(connectionString, settings, onBackgroundError, onQuery);
}

/**
 * Migrations on a connection of their own, without the pool's statement timeout: one that
 * rewrites a large table (or waits for another process's migration) must not be cancelled, and
 * the start with it.
 */
async function migratePostgres(connectionString: string, settings: PoolSettings): Promise<void> {
  const pool = new pg.Pool({
    connectionString,
    max: 1,
    connectionTimeoutMillis: settings.connectTimeoutMs,
  });
  pool.on('error', () => undefined); // the migration's own query reports the failure
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrate(db);
  } finally {
    await db.destroy();
  }
}

function openPool(
  connectionString: string,
  settings: PoolSettings,
  onBackgroundError: (error: Error) => void,
  onQuery: QueryListener | undefined,
): Storage {
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') =>
      oid === INT8 ? parseInt8 : oid === NUMERIC ? keepText : pg.types.getTypeParser(oid, format),
  };
  const pool = new pg.Pool({
    connectionString,
    types,
    max: settings.poolSize,
    // Also bounds the wait for a free connection: while PostgreSQL is away, requests fail fast
    // (503) instead of queueing without end.
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    // A transaction left open (a bug, a stalled process) must not hold its row locks for ever.
    idle_in_transaction_session_timeout: settings.statementTimeoutMs,
    // When packets vanish (a host gone, not a refused port) the server cannot cancel anything;
    // the client gives up a little after the server would have.
    query_timeout: settings.statementTimeoutMs + settings.connectTimeoutMs,
    keepAlive: true,
  });
  // An idle client whose connection dies is replaced on next use; without a handler the
  // pool's 'error' event would crash the process.
  pool.on('error', onBackgroundError);
  // A checked-out client has no pool listener: a connection dying between two statements of a
  // transaction would emit an unhandled 'error' and end the process. The statement in flight
  // (or the next one) fails instead, and the pool drops the broken client on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    ...queryLog(onQuery),
  });
  const notifications = new NotificationConnection(
    { connectionString, connectionTimeoutMillis: settings.connectTimeoutMs, keepAlive: true },
    onBackgroundError,
  );
  return {
    kind: 'postgres',
    db,
    listen: (listener) => notifications.start(listener),
    poolStats: () => ({
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
    }),
    async close() {
      await notifications.stop();
      await db.destroy();
    },
  };
}

// Quick retries, capped low: the service is back within a few seconds of PostgreSQL's return,
// and one connection attempt every 2 s costs the database nothing.
const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 2000;

/**
 * The one connection that LISTENs for other processes' changes. If it drops, it is re-made with
 * backoff, and the listener is told: notifications sent meanwhile are lost, so caches must go.
 */
class NotificationConnection {
  private client: pg.Client | undefined;
  private listener: ChangeListener | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly clientConfig: pg.ClientConfig,
    private readonly onBackgroundError: (error: Error) => void,
  ) {}

  async start(listener: ChangeListener): Promise<void> {
    this.listener = listener;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.clientConfig);
    client.on('notification', (message) => this.listener?.onNotification(message.payload ?? ''));
    client.on('error', (error) => this.onBackgroundError(error));
    client.on('end', () => {
      if (client !== this.client) return; // a failed attempt, or stop()
      this.client = undefined;
      this.listener?.onDisconnect();
      this.reconnectAfter(RECONNECT_FIRST_MS);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  private reconnectAfter(delayMs: number): void {
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.connect().then(
        () => {
          if (!this.stopped) this.listener?.onReconnect();
        },
        (error: Error) => {
          this.onBackgroundError(error);
          this.reconnectAfter(Math.min(delayMs * 2, RECONNECT_MAX_MS));
        },
      );
    }, delayMs).unref();
  }
}

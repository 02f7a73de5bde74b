import { sql, type Transaction } from 'kysely';
import { CHANGES_CHANNEL, type Storage } from './database.ts';
import type { Database } from './schema.ts';

/** What a write touched: a user's accounts/figures, and/or one API key — or, when changes may
 * have been missed, everything. */
export interface Change {
  userId?: number;
  apiKey?: string;
  everything?: true;
}

export type ChangeHandler = (change: Change) => void;

/**
 * Announces committed writes so caches can drop exactly what changed. Delivery to this process
 * is synchronous (a request after the write never sees stale data); other processes sharing a
 * PostgreSQL database hear it through LISTEN/NOTIFY.
 */
export class ChangeBus {
  private readonly handlers = new Set<ChangeHandler>();
  private feedUp = true;

  constructor(private readonly storage: Storage) {}

  subscribe(handler: ChangeHandler): void {
    this.handlers.add(handler);
  }

  /**
   * Whether this process hears every other process's changes (always on PGlite, which is one
   * process). While false, caches must not be trusted.
   */
  get connected(): boolean {
    return this.feedUp;
  }

  /** Listen for other processes' changes (PostgreSQL only: PGlite is one process). */
  async start(): Promise<void> {
    if (this.storage.kind !== 'postgres') return;
    await this.storage.listen({
      onNotification: (payload) => this.deliver(parseChange(payload)),
      onDisconnect: () => {
        this.feedUp = false;
        this.deliver({ everything: true });
      },
      onReconnect: () => {
        this.feedUp = true;
        this.deliver({ everything: true });
      },
    });
  }

  /**
   * Runs `work` in one transaction; what it `announce`s is part of that transaction. On
   * PostgreSQL the NOTIFY is sent inside it, and PostgreSQL delivers it at commit, so other
   * processes hear of every committed write — no crash between commit and announcement can
   * leave them stale — and of no rolled-back one. This process's caches are told after commit
   * (told before, a request could cache what is about to be overwritten).
   */
  async transaction<T>(
    work: (tx: Transaction<Database>, announce: (change: Change) => void) => Promise<T>,
  ): Promise<T> {
    const announced: Change[] = [];
    const announce = (change: Change) => void announced.push(change);
    const result = await this.storage.db.transaction().execute(async (tx) => {
      const value = await work(tx, announce);
      if (this.storage.kind === 'postgres' && announced.length > 0) {
        const payloads = [...new Set(announced.map((change) => JSON.stringify(change)))];
        await sql`SELECT pg_notify(${CHANGES_CHANNEL}, payload)
          FROM unnest(${payloads}::text[]) AS payload`.execute(tx);
      }
      return value;
    });
    for (const change of announced) this.deliver(change);
    return result;
  }

  private deliver(change: Change): void {
    for (const handler of this.handlers) handler(change);
  }
}

function parseChange(payload: string): Change {
  try {
    const value = JSON.parse(payload) as Change;
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    return {};
  }
}

import { sql } from 'kysely';
import { CHANGES_CHANNEL, type Storage } from './database.ts';

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

  /** Call after the write has committed. */
  async publish(change: Change): Promise<void> {
    this.deliver(change);
    if (this.storage.kind === 'postgres') {
      await sql`SELECT pg_notify(${CHANGES_CHANNEL}, ${JSON.stringify(change)})`.execute(
        this.storage.db,
      );
    }
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

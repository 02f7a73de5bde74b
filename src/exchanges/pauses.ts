import { sql } from 'kysely';
import type { Storage } from '../storage/database.ts';

/** How long a stored pause is trusted before it is read again: other processes may extend it. */
const REREAD_MS = 1000;

export interface Pause {
  /** Epoch ms; 0 when the exchange is not paused. */
  until: number;
  reason: string;
}

const NONE: Pause = { until: 0, reason: '' };

/**
 * Exchanges that asked this IP to stop, stored in `exchange_pauses` so every process on the
 * database (and this one after a restart) holds back until then. A pause only ever extends: two
 * processes hit by the same ban write it in either order and keep the later end.
 */
export class ExchangePauses {
  private readonly known = new Map<string, { pause: Pause; readAt: number }>();
  private readonly reading = new Map<string, Promise<Pause>>();

  constructor(private readonly storage: Storage) {}

  /** The market's pause as last read (at most a second old); NONE when it has none. */
  async current(marketCode: string): Promise<Pause> {
    const known = this.known.get(marketCode);
    if (known && Date.now() - known.readAt < REREAD_MS) return known.pause;
    let read = this.reading.get(marketCode);
    if (!read) {
      read = this.read(marketCode, known?.pause).finally(() => this.reading.delete(marketCode));
      this.reading.set(marketCode, read);
    }
    return read;
  }

  /** Holds back every request to the market until `until` (never shortens a longer pause). */
  async extend(marketCode: string, until: number, reason: string): Promise<void> {
    const at = new Date(until);
    await sql`
      INSERT INTO exchange_pauses (market_code, until, reason) VALUES (${marketCode}, ${at}, ${reason})
      ON CONFLICT (market_code) DO UPDATE SET until = EXCLUDED.until, reason = EXCLUDED.reason
      WHERE exchange_pauses.until < EXCLUDED.until`.execute(this.storage.db);
    const known = this.known.get(marketCode)?.pause ?? NONE;
    if (until > known.until) this.known.set(marketCode, { pause: { until, reason }, readAt: 0 });
  }

  /** Ends a market's pause now (an operator's decision; other processes follow within a second). */
  async lift(marketCode: string): Promise<void> {
    await sql`DELETE FROM exchange_pauses WHERE market_code = ${marketCode}`.execute(
      this.storage.db,
    );
    this.known.delete(marketCode);
  }

  private async read(marketCode: string, last: Pause | undefined): Promise<Pause> {
    try {
      const row = await sql<{ until: Date; reason: string }>`
        SELECT until, reason FROM exchange_pauses WHERE market_code = ${marketCode}`.execute(
        this.storage.db,
      );
      const first = row.rows[0];
      const pause = first ? { until: new Date(first.until).getTime(), reason: first.reason } : NONE;
      this.known.set(marketCode, { pause, readAt: Date.now() });
      return pause;
    } catch {
      // The database away: keep what we knew; the next request reads again.
      return last ?? NONE;
    }
  }
}

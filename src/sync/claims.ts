import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Storage } from '../storage/database.ts';
import type { AccountRow } from '../storage/schema.ts';

/** A worker's hold on an account: written into `claimed_by`, checked again before writing. */
export type ClaimToken = string;

export const newClaimToken = (workerId: string): ClaimToken => `${workerId}/${randomUUID()}`;

/**
 * Claims up to `limit` due accounts for one worker. `FOR UPDATE SKIP LOCKED` lets any number of
 * workers claim at once without waiting on or taking each other's rows; the lease
 * (`claimed_until`) hands an account back if its worker dies mid-sync. Accounts of an exchange
 * paused for this IP (`exchange_pauses`) stay due, unclaimed, until the pause ends.
 */
export async function claimDue(
  storage: Storage,
  token: ClaimToken,
  limit: number,
  leaseMs: number,
  now = new Date(),
): Promise<AccountRow[]> {
  const until = new Date(now.getTime() + leaseMs);
  const claimed = await sql<AccountRow>`
    UPDATE accounts SET claimed_by = ${token}, claimed_until = ${until}
    WHERE id IN (
      SELECT id FROM accounts
      WHERE next_sync_at <= ${now} AND (claimed_until IS NULL OR claimed_until < ${now})
        AND market_code NOT IN (
          SELECT market_code FROM exchange_pauses WHERE until > ${now})
      ORDER BY next_sync_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)
    RETURNING *`.execute(storage.db);
  return claimed.rows;
}

/** Claims one account on demand; undefined while another worker holds it. */
export async function claimOne(
  storage: Storage,
  accountId: number,
  token: ClaimToken,
  leaseMs: number,
  now = new Date(),
): Promise<AccountRow | undefined> {
  return storage.db
    .updateTable('accounts')
    .set({ claimed_by: token, claimed_until: new Date(now.getTime() + leaseMs) })
    .where('id', '=', accountId)
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
    .returningAll()
    .executeTakeFirst();
}

/**
 * When the next account falls due or its claim lapses, or its exchange's pause ends (null: none
 * scheduled). Three bounded probes, never a walk over every scheduled account (issue 14): the
 * first claimable account in schedule order (`accounts_due`; one due now would have been
 * claimed), the accounts held right now (`accounts_claimed`: free when their lease ends, not
 * before their schedule or their exchange's pause), and the end of each pause (its accounts are
 * claimable then at the earliest; waking then is at worst early, never late).
 */
export async function nextDueAt(storage: Storage, now = new Date()): Promise<Date | null> {
  const row = await sql<{ next: Date | null }>`
    SELECT least(
      (SELECT a.next_sync_at FROM accounts a
        WHERE a.next_sync_at IS NOT NULL
          AND (a.claimed_until IS NULL OR a.claimed_until < ${now})
          AND a.market_code NOT IN (SELECT market_code FROM exchange_pauses WHERE until > ${now})
        ORDER BY a.next_sync_at LIMIT 1),
      (SELECT min(GREATEST(a.next_sync_at, a.claimed_until, p.until))
        FROM accounts a LEFT JOIN exchange_pauses p ON p.market_code = a.market_code
        WHERE a.claimed_until >= ${now} AND a.next_sync_at IS NOT NULL),
      (SELECT min(until) FROM exchange_pauses WHERE until > ${now})) AS next`.execute(storage.db);
  return row.rows[0]?.next ?? null;
}

export interface DueBacklog {
  /** Accounts whose sync time has passed and that no worker holds. */
  due: number;
  /** The earliest scheduled time among them; null when none is due. */
  oldestDueAt: Date | null;
}

/** The waiting backlog, for metrics: one query over the `accounts_due` index. */
export async function dueBacklog(storage: Storage, now = new Date()): Promise<DueBacklog> {
  const row = await sql<{ due: number | string; oldest: Date | null }>`
    SELECT count(*) AS due, min(next_sync_at) AS oldest FROM accounts
    WHERE next_sync_at <= ${now} AND (claimed_until IS NULL OR claimed_until < ${now})`.execute(
    storage.db,
  );
  const first = row.rows[0];
  return { due: Number(first?.due ?? 0), oldestDueAt: first?.oldest ?? null };
}

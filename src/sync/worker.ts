import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { SnapshotRetention } from '../balances/retention.ts';
import type { DisplayPriceRetention } from '../prices/display-retention.ts';
import { metrics } from '../ops/metrics.ts';
import type { Storage } from '../storage/database.ts';
import { isDatabaseUnavailable } from '../storage/unavailable.ts';
import type { AccountSync, SyncOutcome } from './account-sync.ts';
import { claimDue, newClaimToken, nextDueAt } from './claims.ts';

export interface WorkerSettings {
  /** Accounts read at once by this process. */
  concurrency: number;
  leaseMs: number;
  /** Longest sleep between looks for due accounts (new accounts are due at once). */
  idlePollMs: number;
}

export interface WorkerStats {
  synced: number;
  failed: number;
  lost: number;
  /** Claims that took at least one account: each one statement, however many it took. */
  batches: number;
}

/**
 * Claims due accounts and syncs them, keeping up to `concurrency` in flight. Any number of
 * workers, in this process or others, can run against one PostgreSQL database.
 */
export class SyncWorker {
  readonly id = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  readonly stats: WorkerStats = { synced: 0, failed: 0, lost: 0, batches: 0 };
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly inflight = new Set<Promise<void>>();
  private wake: (() => void) | undefined;
  /** The pass under way, and when the next is due (the first right after the first round). */
  private pruning: Promise<void> | undefined;
  private nextPruneAt = 0;
  /** Fired by stop(): syncs still reading give their accounts back untouched. */
  private aborter = new AbortController();

  constructor(
    private readonly storage: Storage,
    private readonly sync: AccountSync,
    private readonly settings: WorkerSettings,
    private readonly logger: Logger,
    private readonly retention?: SnapshotRetention,
    /** Pruned right after the snapshots, on the same interval (it reads what they keep). */
    private readonly displayPrices?: DisplayPriceRetention,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.aborter = new AbortController();
    // Every sync in flight listens on this one signal (and removes its listener when done): more
    // than Node's default of 10 is the design, not a leak, so the warning must not fire.
    setMaxListeners(this.settings.concurrency + 1, this.aborter.signal);
    this.loop = this.run();
  }

  /**
   * Stops claiming, aborts the syncs still reading (their accounts are released untouched, due
   * for the next worker), and waits for those already writing to commit.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.aborter.abort();
    this.wake?.();
    await this.loop;
    await Promise.all([...this.inflight, this.pruning]);
  }

  /** Look for due accounts now (e.g. one was just connected). */
  poke(): void {
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const claimStarted = performance.now();
        const room = this.settings.concurrency - this.inflight.size;
        if (!this.worthClaiming(room)) {
          // Woken by each sync that ends, until a batch's worth of slots is free.
          await this.sleep(this.settings.idlePollMs);
          continue;
        }
        const claimed = await claimDue(
          this.storage,
          newClaimToken(this.id),
          room,
          this.settings.leaseMs,
        );
        if (claimed.length > 0) this.stats.batches += 1;
        const round = startRound(claimed.length, claimStarted);
        for (const account of claimed) {
          const token = account.claimed_by ?? '';
          const task = this.sync
            .run(account, token, false, this.aborter.signal)
            .then((outcome) => this.count(outcome))
            .catch((error: unknown) => {
              this.stats.failed += 1;
              metrics.syncs.inc({ outcome: 'failed', trigger: 'scheduled' });
              this.logger.error({ err: error, accountId: account.id }, 'sync crashed');
            })
            .finally(() => {
              round.done();
              this.inflight.delete(task);
              this.wake?.();
            });
          this.inflight.add(task);
        }
        this.pruneWhenDue();
        if (claimed.length === 0 || this.inflight.size >= this.settings.concurrency) {
          await this.idle();
        }
      } catch (error) {
        // The database away (a restart): the loop waits and tries again, nothing is lost.
        const level = isDatabaseUnavailable(error) ? 'warn' : 'error';
        this.logger[level]({ err: error }, 'claiming due accounts failed');
        await this.sleep(this.settings.idlePollMs);
      }
    }
  }

  /**
   * Snapshot retention, then display-price retention, once their interval has passed: beside
   * the syncs (which they never delay), one pass at a time. Several workers may prune at once:
   * each range of accounts is pruned by whichever takes its lock; a display price removed twice
   * is removed once.
   */
  private pruneWhenDue(): void {
    const every = this.retention?.intervalMs;
    if (!this.retention || !every || this.pruning || Date.now() < this.nextPruneAt) return;
    const retention = this.retention;
    this.pruning = this.housekeep('snapshots', () =>
      retention.prune(new Date(), this.aborter.signal),
    )
      .then(() =>
        this.housekeep('display prices', async () =>
          this.displayPrices && !this.aborter.signal.aborted
            ? this.displayPrices.prune(new Date(), this.aborter.signal)
            : null,
        ),
      )
      .finally(() => {
        this.nextPruneAt = Date.now() + every;
        this.pruning = undefined;
      });
  }

  /** One retention pass, logged with what it removed; a failure is logged, never thrown. */
  private async housekeep(
    what: string,
    pass: () => Promise<{ removed: number } | null>,
  ): Promise<void> {
    const started = performance.now();
    try {
      const result = await pass();
      if (!result) return;
      const ms = Math.round(performance.now() - started);
      this.logger.info({ ...result, ms }, `${what} pruned: ${result.removed} removed`);
    } catch (error) {
      const level = isDatabaseUnavailable(error) ? 'warn' : 'error';
      this.logger[level]({ err: error }, `pruning ${what} failed`);
    }
  }

  /**
   * Claims are made in batches of at least an eighth of the slots (or whatever is free when
   * nothing is in flight), not one per slot that frees up: a statement per batch rather than per
   * account, and a batch big enough for its choice to be fair across users and exchanges. (A
   * quarter cost a single worker ~18% of its throughput in bench:scale's round, slots standing
   * idle; an eighth costs ~5%.)
   */
  private worthClaiming(room: number): boolean {
    if (room <= 0) return false;
    return (
      this.inflight.size === 0 || room >= Math.max(1, Math.floor(this.settings.concurrency / 8))
    );
  }

  private count(outcome: SyncOutcome): void {
    metrics.syncs.inc({ outcome: outcome.status, trigger: 'scheduled' });
    if (outcome.status === 'synced') this.stats.synced += 1;
    else if (outcome.status === 'failed') this.stats.failed += 1;
    else if (outcome.status === 'lost') this.stats.lost += 1;
  }

  /** Until a slot frees up, the next account falls due, or the poll interval passes. */
  private async idle(): Promise<void> {
    if (this.inflight.size >= this.settings.concurrency)
      return this.sleep(this.settings.idlePollMs);
    const due = await nextDueAt(this.storage);
    const untilDue = due ? due.getTime() - Date.now() : this.settings.idlePollMs;
    return this.sleep(Math.max(5, Math.min(this.settings.idlePollMs, untilDue)));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/**
 * A round is one claimed batch, from the claim until its last account is done; its duration is
 * the `opencommas_sync_last_round_duration_seconds` gauge.
 */
function startRound(size: number, started: number): { done(): void } {
  let left = size;
  return {
    done() {
      left -= 1;
      if (left === 0) metrics.syncRoundSeconds.set((performance.now() - started) / 1000);
    },
  };
}

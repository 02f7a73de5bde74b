import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Sealer } from '../auth/sealing.ts';
import { ExchangePaused } from '../exchanges/clients.ts';
import { SourceError, type FailureKind } from '../exchanges/failures.ts';
import { findMarket } from '../markets/index.ts';
import type { BalanceSources, SourceTarget } from '../sources/sources.ts';
import type { SourceTransfer } from '../sources/types.ts';
import type { ChangeBus } from '../storage/changes.ts';
import type { Storage } from '../storage/database.ts';
import type { AccountRow, Database } from '../storage/schema.ts';
import type { ClaimToken } from './claims.ts';
import { readAccount, type Reading } from './reading.ts';
import { recordReading } from './recording.ts';

/** Scheduled rounds read deposits and withdrawals at most this often; on-demand syncs always. */
export const TRANSFERS_EVERY_MS = 60 * 60 * 1000;

export const INVALID_API_KEY = 'invalid_api_key';

export type SyncOutcome =
  | { status: 'synced'; at: Date }
  | { status: 'failed'; kind: FailureKind; error: string }
  /** The claim was lost (lease expired and another worker took over): nothing written. */
  | { status: 'lost' }
  /** Stopped while reading (shutdown): nothing written, the claim released for the next one. */
  | { status: 'aborted' };

export interface SyncSettings {
  intervalMs: number;
}

/** Whether an account is read live: exchange keys or a wallet address, and a known market. */
export function isLive(
  account: Pick<AccountRow, 'market_code' | 'exchange_api_key' | 'wallet_address'>,
): boolean {
  const market = findMarket(account.market_code);
  if (!market) return false;
  return market.kind === 'wallet'
    ? Boolean(account.wallet_address)
    : Boolean(account.exchange_api_key);
}

/**
 * One account's sync: read everything (network only), then write the snapshot, its prices,
 * transfers and the account's sync state in one transaction — or, on failure, only the state.
 */
export class AccountSync {
  constructor(
    private readonly storage: Storage,
    private readonly sealer: Sealer,
    private readonly changes: ChangeBus,
    readonly sources: BalanceSources,
    private readonly settings: SyncSettings,
    private readonly logger: Logger,
  ) {}

  target(account: AccountRow): SourceTarget {
    const market = findMarket(account.market_code);
    if (!market) throw new SourceError('error', `unknown market ${account.market_code}`);
    if (market.kind === 'wallet') {
      return { market, kind: 'wallet', address: account.wallet_address ?? '' };
    }
    return {
      market,
      kind: 'exchange',
      credentials: {
        apiKey: account.exchange_api_key ?? '',
        secret: account.exchange_secret_sealed
          ? this.sealer.open(account.exchange_secret_sealed)
          : '',
        passphrase: account.exchange_passphrase_sealed
          ? this.sealer.open(account.exchange_passphrase_sealed)
          : undefined,
      },
    };
  }

  /**
   * Reads a claimed account and records the result. Never throws for a source's failure.
   * `signal` stops a read still on the network (shutdown): then nothing is written and the claim
   * is released; a sync already writing finishes its transaction.
   */
  async run(
    account: AccountRow,
    token: ClaimToken,
    onDemand: boolean,
    signal?: AbortSignal,
  ): Promise<SyncOutcome> {
    const now = Date.now();
    const transfersDue =
      onDemand ||
      !account.transfers_synced_at ||
      now - account.transfers_synced_at.getTime() >= TRANSFERS_EVERY_MS;
    let reading: Reading;
    try {
      const target = this.target(account);
      const read = readAccount(this.sources, target, {
        transfers: transfersDue,
        cursors: {
          deposits: account.deposits_since ?? undefined,
          withdrawals: account.withdrawals_since ?? undefined,
        },
        // Scheduled rounds share one price read; a sync someone asked for is priced for itself.
        roundPrices: !onDemand,
        alsoPriced: onDemand && target.kind === 'wallet' ? await this.heldBefore(account) : [],
        worthPricing: (transfers) => this.worthPricing(account, transfers),
        heldBefore: () => this.heldBefore(account),
      });
      reading = signal ? await unlessAborted(read, signal) : await read;
    } catch (thrown) {
      if (thrown === ABORTED) return this.release(account, token);
      // Its exchange is paused for this IP: the account stays due and is read after the pause
      // (claims skip it meanwhile). Someone who asked for it now is told why it was not read.
      const paused = thrown instanceof ExchangePaused && thrown.marketCode === account.market_code;
      if (paused && !onDemand) return this.release(account, token);
      const error =
        thrown instanceof SourceError ? thrown : new SourceError('error', String(thrown));
      return this.recordFailure(account, token, error);
    }
    return this.recordSuccess(account, token, reading);
  }

  /**
   * Writes the first reading of an account (read when it was connected or its keys changed) in
   * the caller's transaction, the one that stores the account or its keys: one write, so no
   * account is ever stored without the snapshot that checked its keys.
   */
  async recordFirstIn(tx: Transaction<Database>, account: AccountRow, reading: Reading) {
    await this.writeReading(tx, account, reading);
  }

  /**
   * The transfers a candle read may price: not stored yet (priced when they were), and after
   * the account's first snapshot (one before it is part of it, and counts in no window).
   */
  private async worthPricing(account: AccountRow, transfers: readonly SourceTransfer[]) {
    const db = this.storage.db;
    const [stored, first] = await Promise.all([
      db
        .selectFrom('transfers')
        .select('external_id')
        .where('user_id', '=', account.user_id)
        .where('account_id', '=', account.id)
        .where(
          'external_id',
          'in',
          transfers.map((t) => t.id),
        )
        .execute(),
      db
        .selectFrom('balance_snapshots')
        .select('taken_at')
        .where('user_id', '=', account.user_id)
        .where('account_id', '=', account.id)
        .orderBy('taken_at')
        .limit(1)
        .executeTakeFirst(),
    ]);
    if (!first) return [];
    const known = new Set(stored.map((row) => row.external_id));
    return transfers.filter((t) => !known.has(t.id) && t.at > first.taken_at);
  }

  /** The assets of the account's latest snapshot: a wallet's movements out of them are priced. */
  private async heldBefore(account: AccountRow): Promise<string[]> {
    const rows = await this.storage.db
      .selectFrom('snapshot_assets')
      .select('asset')
      .where('user_id', '=', account.user_id)
      .where(
        'snapshot_id',
        '=',
        this.storage.db
          .selectFrom('balance_snapshots')
          .select('id')
          .where('user_id', '=', account.user_id)
          .where('account_id', '=', account.id)
          .orderBy('taken_at', 'desc')
          .limit(1),
      )
      .execute();
    return rows.map((row) => row.asset);
  }

  /** Gives a claimed account back untouched: due as before, for whichever worker comes next. */
  private async release(account: AccountRow, token: ClaimToken): Promise<SyncOutcome> {
    await this.storage.db
      .updateTable('accounts')
      .set({ claimed_by: null, claimed_until: null })
      .where('user_id', '=', account.user_id)
      .where('id', '=', account.id)
      .where('claimed_by', '=', token)
      .execute();
    return { status: 'aborted' };
  }

  private async recordSuccess(
    account: AccountRow,
    token: ClaimToken,
    reading: Reading,
  ): Promise<SyncOutcome> {
    const written = await this.changes.transaction(async (tx, announce) => {
      const held = await tx
        .selectFrom('accounts')
        .select('claimed_by')
        .where('user_id', '=', account.user_id)
        .where('id', '=', account.id)
        .forUpdate()
        .executeTakeFirst();
      if (held?.claimed_by !== token) return false;
      await this.writeReading(tx, account, reading);
      announce({ userId: account.user_id });
      return true;
    });
    if (!written) return { status: 'lost' };
    return { status: 'synced', at: reading.takenAt };
  }

  /** The snapshot, its prices and transfers, and the account's sync state after a reading. */
  private async writeReading(
    tx: Transaction<Database>,
    account: AccountRow,
    reading: Reading,
  ): Promise<void> {
    await recordReading(
      tx,
      {
        accountId: account.id,
        userId: account.user_id,
        isWallet: findMarket(account.market_code)?.kind === 'wallet',
      },
      reading,
    );
    const clearsLock = account.lock_reason === INVALID_API_KEY;
    await tx
      .updateTable('accounts')
      .set({
        next_sync_at: new Date(reading.takenAt.getTime() + this.settings.intervalMs),
        claimed_by: null,
        claimed_until: null,
        last_sync_at: reading.takenAt,
        // The balances are in; a transfer history that could not be read is said, and retried.
        last_sync_error: reading.transfersError ?? null,
        ...(reading.transfersError === undefined ? {} : { last_error_at: reading.takenAt }),
        sync_failures: 0,
        api_key_invalid: false,
        ...(clearsLock ? { is_locked: false, lock_reason: null } : {}),
        ...(reading.cursors
          ? {
              transfers_synced_at: reading.takenAt,
              deposits_since: reading.cursors.deposits,
              withdrawals_since: reading.cursors.withdrawals,
            }
          : reading.transfersError !== undefined
            ? { transfers_synced_at: null } // due again next round, not in an hour
            : {}),
        updated_at: reading.takenAt,
      })
      .where('user_id', '=', account.user_id)
      .where('id', '=', account.id)
      .execute();
  }

  private async recordFailure(
    account: AccountRow,
    token: ClaimToken,
    error: SourceError,
  ): Promise<SyncOutcome> {
    const now = new Date();
    const credentials = error.kind === 'credentials';
    const wait =
      error.kind === 'rate_limited' && error.retryAfterMs !== undefined
        ? Math.max(error.retryAfterMs, this.settings.intervalMs)
        : this.settings.intervalMs;
    const result = await this.changes.transaction(async (tx, announce) => {
      const updated = await tx
        .updateTable('accounts')
        .set((eb) => ({
          // A refused key stops the schedule until the keys are updated (or a manual sync works).
          next_sync_at: credentials ? null : new Date(now.getTime() + wait),
          claimed_by: null,
          claimed_until: null,
          last_sync_error: error.message,
          last_error_at: now,
          sync_failures: eb('sync_failures', '+', 1),
          ...(credentials
            ? { api_key_invalid: true, is_locked: true, lock_reason: INVALID_API_KEY }
            : {}),
          updated_at: now,
        }))
        .where('user_id', '=', account.user_id)
        .where('id', '=', account.id)
        .where('claimed_by', '=', token)
        .executeTakeFirst();
      // A refused key locks the account: its page shows it.
      if (credentials && updated.numUpdatedRows > 0n) announce({ userId: account.user_id });
      return updated;
    });
    if (result.numUpdatedRows === 0n) return { status: 'lost' };
    this.logger.warn(
      { accountId: account.id, market: account.market_code, kind: error.kind, err: error.message },
      'account sync failed',
    );
    return { status: 'failed', kind: error.kind, error: error.message };
  }
}

const ABORTED = Symbol('aborted');

/**
 * The read, unless `signal` fires first. Requests already sent cannot be taken back (ccxt has
 * no abort); their answers, or failures, are ignored.
 */
function unlessAborted<T>(read: Promise<T>, signal: AbortSignal): Promise<T> {
  void read.catch(() => undefined); // a failure after the abort must not go unhandled
  if (signal.aborted) return Promise.reject(ABORTED);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    void read.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

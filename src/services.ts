import { createHmac } from 'node:crypto';
import { AccountService } from './accounts/accounts.ts';
import { AccountLister } from './accounts/list.ts';
import { ApiKeyService } from './auth/keys.ts';
import { KeyStore } from './auth/key-store.ts';
import { createSealer } from './auth/sealing.ts';
import { BalanceImporter } from './balances/import.ts';
import { SnapshotRetention } from './balances/retention.ts';
import {
  loadSessionConfig,
  type LimitsConfig,
  type SessionConfig,
  type SyncConfig,
} from './config.ts';
import { NO_LIMITS, openLimits, type Limits } from './limits/limits.ts';
import { silentLogger, type Logger } from './logger.ts';
import { DisplayPriceRetention } from './prices/display-retention.ts';
import { SessionService } from './sessions/sessions.ts';
import { BalanceSources } from './sources/sources.ts';
import { ChangeBus } from './storage/changes.ts';
import type { Storage } from './storage/database.ts';
import { AccountSync } from './sync/account-sync.ts';
import { OnDemandSync } from './sync/on-demand.ts';
import { SyncWorker } from './sync/worker.ts';
import { UserService } from './users/users.ts';

/** Every domain service, wired once. HTTP and CLI receive this and call into it. */
export interface Services {
  storage: Storage;
  changes: ChangeBus;
  users: UserService;
  keys: ApiKeyService;
  keyStore: KeyStore;
  accounts: AccountService;
  lister: AccountLister;
  balances: BalanceImporter;
  /** Thins old balance snapshots (`config.sync.retention`); the worker runs it on its interval. */
  retention: SnapshotRetention;
  /** Removes display-price rounds no figure reads; the worker runs it after snapshot retention. */
  displayPrices: DisplayPriceRetention;
  sync: AccountSync;
  onDemand: OnDemandSync;
  /** Runs scheduled syncs in this process once started (`npm start` does; `--no-worker` not). */
  worker: SyncWorker;
  /** Request limits, bans and on-demand cooldowns (off unless `options.limits` turns them on). */
  limits: Limits;
  /** Dashboard sign-in: one-time links, passwords, sessions. */
  sessions: SessionService;
  close(): Promise<void>;
}

export interface ServiceOptions {
  sync: SyncConfig;
  logger?: Logger;
  /** `config.limits`; absent (the CLI, workers, tests): no limits. */
  limits?: LimitsConfig | undefined;
  /** Where the limits count: shared on this PostgreSQL database; in memory when absent. */
  limitsDatabaseUrl?: string | undefined;
  /** `config.sessions`; absent (tests, the CLI): the defaults (7 days, links 15 minutes). */
  sessions?: SessionConfig | undefined;
}

export async function createServices(
  storage: Storage,
  masterKey: Buffer,
  options: ServiceOptions,
): Promise<Services> {
  const logger = options.logger ?? silentLogger;
  const sealer = createSealer(masterKey);
  const changes = new ChangeBus(storage);
  // Both serve nothing from their caches while the change feed is down.
  const keyStore = new KeyStore(storage, sealer, changes);
  const lister = new AccountLister(storage, changes);
  // Every cache (keys, unknown keys, verified signatures, pages) hears every change; on
  // `everything` (the feed went down or came back) all four are emptied.
  changes.subscribe((change) => {
    keyStore.onChange(change);
    if (change.everything) lister.cache.invalidateAll();
    else if (change.userId !== undefined) lister.cache.invalidate(change.userId);
  });
  await changes.start();
  const limits = options.limits
    ? await openLimits(options.limits, { databaseUrl: options.limitsDatabaseUrl, logger })
    : NO_LIMITS;
  const sources = new BalanceSources(storage, options.sync);
  const sync = new AccountSync(storage, sealer, changes, sources, options.sync, logger);
  const retention = new SnapshotRetention(storage, options.sync.retention);
  const displayPrices = new DisplayPriceRetention(storage);
  const worker = new SyncWorker(
    storage,
    sync,
    { ...options.sync, idlePollMs: 1000 },
    logger,
    retention,
    displayPrices,
  );
  return {
    storage,
    changes,
    users: new UserService(storage, changes),
    keys: new ApiKeyService(storage, sealer, changes),
    keyStore,
    accounts: new AccountService(storage, sealer, changes, sync, () => worker.poke()),
    lister,
    balances: new BalanceImporter(storage, changes),
    retention,
    displayPrices,
    sync,
    onDemand: new OnDemandSync(storage, sync, options.sync.leaseMs),
    worker,
    limits,
    // Keyed from the master key: every process on one database derives the same CSRF tokens.
    sessions: new SessionService(
      storage,
      options.sessions ?? loadSessionConfig({}),
      createHmac('sha256', masterKey).update('opencommas csrf v1').digest(),
    ),
    async close() {
      await worker.stop();
      await limits.close();
      await keyStore.flushLastUsed();
      await storage.close();
    },
  };
}

import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/**
 * Table types, declared once. Money and prices are `numeric` in SQL and decimal strings here:
 * they never pass through a JavaScript number. Every table that grows with users carries
 * `user_id`, in its keys and in every query that joins or looks up its rows, so the data can be
 * distributed by user without changing queries (`distribution.ts` places each table).
 */
type CreatedAt = ColumnType<Date, Date | undefined, never>;
type Timestamp = ColumnType<Date, Date, Date>;
type NullableTimestamp = ColumnType<Date | null, Date | null | undefined, Date | null>;

export interface UsersTable {
  id: Generated<number>;
  email: string;
  display_currency: ColumnType<string, string | undefined, string>;
  /** scrypt, self-describing (`src/sessions/passwords.ts`); null: no password, links only. */
  password_hash: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
}

export interface ApiKeysTable {
  id: Generated<number>;
  user_id: number;
  api_key: string;
  /** AES-256-GCM sealed HMAC secret; null for RSA keys. */
  secret_sealed: string | null;
  /** PEM of the user's RSA public key; null for HMAC keys. */
  rsa_public_key: string | null;
  permissions: string[];
  /** Normalised IP/CIDR entries; null = any address. */
  ip_whitelist: string[] | null;
  expires_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
  created_at: CreatedAt;
}

export interface AccountsTable {
  id: Generated<number>;
  user_id: number;
  market_code: string;
  name: string;
  exchange_api_key: string | null;
  exchange_secret_sealed: string | null;
  exchange_passphrase_sealed: string | null;
  wallet_address: string | null;
  /** Per-account overrides of the market's capability flags (usually empty). */
  capability_overrides: ColumnType<Record<string, boolean>, string | undefined, string>;
  include_in_summary: ColumnType<boolean, boolean | undefined, boolean>;
  is_locked: ColumnType<boolean, boolean | undefined, boolean>;
  lock_reason: string | null;
  api_key_invalid: ColumnType<boolean, boolean | undefined, boolean>;
  /** When the exchange credentials expire, if the exchange told us (drives api_keys_state). */
  api_keys_expire_at: NullableTimestamp;
  auto_balance_period: ColumnType<number, number | undefined, number>;
  autobalance_enabled: ColumnType<boolean, boolean | undefined, boolean>;
  hedge_mode_enabled: ColumnType<boolean, boolean | undefined, boolean>;
  customer_id: string | null;
  subaccount_name: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
  /** When a worker should next read the account; null = never (manual, or locked). */
  next_sync_at: NullableTimestamp;
  /** The worker holding the account, and until when: a lease, so a dead worker lets go. */
  claimed_by: string | null;
  claimed_until: NullableTimestamp;
  last_sync_at: NullableTimestamp;
  last_sync_error: string | null;
  last_error_at: NullableTimestamp;
  sync_failures: ColumnType<number, number | undefined, number>;
  /** When deposits and withdrawals were last read (at most hourly in scheduled rounds). */
  transfers_synced_at: NullableTimestamp;
  /** Read deposits / withdrawals from here on the next round (exchange time). */
  deposits_since: NullableTimestamp;
  withdrawals_since: NullableTimestamp;
}

export interface BalanceSnapshotsTable {
  id: Generated<number>;
  account_id: number;
  user_id: number;
  taken_at: Date;
  btc_usd_price: string;
  /** Σ amount × usd_price over the priced assets, computed exactly by PostgreSQL on insert. */
  usd_value: string;
  created_at: CreatedAt;
}

export interface SnapshotAssetsTable {
  snapshot_id: number;
  user_id: number;
  asset: string;
  amount: string;
  /** Null when the asset had no price route: left out of the value, never valued at 0. */
  usd_price: string | null;
  /**
   * Which wallets held it, in the catalog's order, when not all in the account's main wallet;
   * null otherwise (and for every snapshot older than wallet reads).
   */
  wallets: ColumnType<WalletShare[] | null, string | null | undefined, never>;
}

/** One wallet's part of a snapshot asset: `{ wallet: 'funding', amount: '0.25' }`. */
export interface WalletShare {
  wallet: string;
  amount: string;
}

export type TransferPricedFrom = 'candles' | 'snapshots' | 'round';

export interface TransfersTable {
  id: Generated<number>;
  account_id: number;
  user_id: number;
  at: Date;
  asset: string;
  amount: string;
  /** Null when the asset had no price route: like the snapshot, it is left out of the value. */
  usd_price: string | null;
  btc_usd_price: string;
  kind: 'deposit' | 'withdrawal';
  /** The exchange's transaction id, for idempotent sync; null for imports. */
  external_id: string | null;
  /**
   * Where a synced transfer's prices come from: the exchange's candles at its time, the account's
   * snapshot nearest it, or the round that saw it. Null for imports.
   */
  priced_from: Generated<TransferPricedFrom | null>;
  created_at: CreatedAt;
}

/** The prices one round read from a source (an exchange's tickers), shared by all workers. */
export interface PriceRoundsTable {
  source: string;
  fetched_at: Date;
  btc_usd_price: string | null;
  /** Asset → USD price as decimal strings. */
  usd_prices: ColumnType<Record<string, string>, string, string>;
}

/** One round's display-currency prices from one source (see migration 0006). */
export interface DisplayPricesTable {
  source: string;
  fetched_at: Date;
  /** Currency → USD price of one unit, as decimal strings. */
  usd_prices: ColumnType<Record<string, string>, string, string>;
}

/** A one-time sign-in link (see migration 0007); the token itself is never stored. */
export interface LoginLinksTable {
  /** SHA-256 (hex) of the link's token. */
  token_hash: string;
  user_id: number;
  expires_at: Date;
  used_at: NullableTimestamp;
  created_at: CreatedAt;
}

/** A dashboard session; expires `expires_at` whatever its use (absolute lifetime). */
export interface SessionsTable {
  /** SHA-256 (hex) of the session cookie's token. */
  token_hash: string;
  user_id: number;
  created_at: CreatedAt;
  expires_at: Date;
  last_seen_at: Timestamp;
}

export interface Database {
  users: UsersTable;
  api_keys: ApiKeysTable;
  accounts: AccountsTable;
  balance_snapshots: BalanceSnapshotsTable;
  snapshot_assets: SnapshotAssetsTable;
  transfers: TransfersTable;
  price_rounds: PriceRoundsTable;
  display_prices: DisplayPricesTable;
  login_links: LoginLinksTable;
  sessions: SessionsTable;
}

export type UserRow = Selectable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type AccountRow = Selectable<AccountsTable>;
export type NewAccountRow = Insertable<AccountsTable>;

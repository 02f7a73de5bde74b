/**
 * How the schema spreads over a Citus cluster (docs/scaling.md, "Past one database"). Nothing
 * runs Citus today: the schema keeps its rules (migration 0009, checked from the catalog by
 * test/storage/citus-ready.test.ts) so that distributing is a matter of calling
 * `create_distributed_table` / `create_reference_table`, not of changing queries. A new table
 * goes in exactly one list, or that test fails naming it.
 */

/** The column every distributed table is sharded on; its rows of one user share one node. */
export const DISTRIBUTION_COLUMN = 'user_id';

/**
 * What grows with users and time, sharded by `user_id` and co-located (a user's accounts,
 * snapshots, assets and transfers on the same node, so joins between them stay on it). Every
 * key and unique holds `user_id`, and every foreign key between them holds it on both sides.
 */
export const DISTRIBUTED_TABLES = [
  'accounts',
  'balance_snapshots',
  'snapshot_assets',
  'transfers',
] as const;

/**
 * Copied whole to every node: small, or read before the user is known (a request's key, session
 * or sign-in link is looked up by its token; a user by email), or the same for every user (prices,
 * exchange pauses). Distributed tables may hold foreign keys to them, never the reverse.
 */
export const REFERENCE_TABLES = [
  'users',
  'api_keys',
  'sessions',
  'login_links',
  'display_prices',
  'price_rounds',
  'exchange_pauses',
] as const;

/**
 * Left on the coordinator alone: Kysely's migration bookkeeping (read by the migrator only) and
 * the rate limiter's counters (created at run time by `limits/postgres-counters.ts`: hot
 * single-row upserts of no lasting worth, with per-process counting as their fallback anyway).
 */
export const LOCAL_TABLES = [
  'kysely_migration',
  'kysely_migration_lock',
  'opencommas_rate_limits',
] as const;

export type DistributedTable = (typeof DISTRIBUTED_TABLES)[number];
export type ReferenceTable = (typeof REFERENCE_TABLES)[number];

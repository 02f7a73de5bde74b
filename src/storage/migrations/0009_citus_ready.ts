import type { Kysely } from 'kysely';
import { runEach } from './run-each.ts';

// Ready to distribute by user (Citus; see src/storage/distribution.ts): a distributed table's
// keys and uniques can only be enforced on one shard when they hold the distribution column,
// and a foreign key between two distributed tables only when both sides hold it. So accounts,
// snapshots, their assets and transfers are keyed by (user_id, …), and the keys between them
// carry user_id. Ids stay identity-generated, so still unique alone; `accounts_id` keeps account
// lookups by id alone (a worker's claim) without a unique index Citus could not enforce.
// The old (user_id, id) account index is the new primary key; the transfers' (account_id, at)
// index gains user_id in front, like every other lookup of a user's rows.
export async function up(db: Kysely<unknown>): Promise<void> {
  await runEach(
    db,
    `
    ALTER TABLE snapshot_assets DROP CONSTRAINT snapshot_assets_snapshot_id_fkey,
      DROP CONSTRAINT snapshot_assets_pkey;
    ALTER TABLE transfers DROP CONSTRAINT transfers_account_id_fkey,
      DROP CONSTRAINT transfers_pkey, DROP CONSTRAINT transfers_account_id_external_id_key;
    DROP INDEX transfers_account_at;
    ALTER TABLE balance_snapshots DROP CONSTRAINT balance_snapshots_account_id_fkey,
      DROP CONSTRAINT balance_snapshots_pkey,
      DROP CONSTRAINT balance_snapshots_account_id_taken_at_key;

    DROP INDEX accounts_user;
    ALTER TABLE accounts DROP CONSTRAINT accounts_pkey,
      ADD CONSTRAINT accounts_pkey PRIMARY KEY (user_id, id);
    CREATE INDEX accounts_id ON accounts (id);

    ALTER TABLE balance_snapshots ADD CONSTRAINT balance_snapshots_pkey PRIMARY KEY (user_id, id),
      ADD CONSTRAINT balance_snapshots_user_account_taken_at_key
        UNIQUE (user_id, account_id, taken_at),
      ADD CONSTRAINT balance_snapshots_account_fkey FOREIGN KEY (user_id, account_id)
        REFERENCES accounts (user_id, id) ON DELETE CASCADE;
    ALTER TABLE snapshot_assets
      ADD CONSTRAINT snapshot_assets_pkey PRIMARY KEY (user_id, snapshot_id, asset),
      ADD CONSTRAINT snapshot_assets_snapshot_fkey FOREIGN KEY (user_id, snapshot_id)
        REFERENCES balance_snapshots (user_id, id) ON DELETE CASCADE;
    ALTER TABLE transfers ADD CONSTRAINT transfers_pkey PRIMARY KEY (user_id, id),
      ADD CONSTRAINT transfers_user_account_external_id_key
        UNIQUE (user_id, account_id, external_id),
      ADD CONSTRAINT transfers_account_fkey FOREIGN KEY (user_id, account_id)
        REFERENCES accounts (user_id, id) ON DELETE CASCADE;
    CREATE INDEX transfers_user_account_at ON transfers (user_id, account_id, at)
  `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runEach(
    db,
    `
    DROP INDEX transfers_user_account_at;
    ALTER TABLE transfers DROP CONSTRAINT transfers_account_fkey,
      DROP CONSTRAINT transfers_user_account_external_id_key, DROP CONSTRAINT transfers_pkey;
    ALTER TABLE snapshot_assets DROP CONSTRAINT snapshot_assets_snapshot_fkey,
      DROP CONSTRAINT snapshot_assets_pkey;
    ALTER TABLE balance_snapshots DROP CONSTRAINT balance_snapshots_account_fkey,
      DROP CONSTRAINT balance_snapshots_user_account_taken_at_key,
      DROP CONSTRAINT balance_snapshots_pkey;

    DROP INDEX accounts_id;
    ALTER TABLE accounts DROP CONSTRAINT accounts_pkey, ADD PRIMARY KEY (id);
    CREATE INDEX accounts_user ON accounts (user_id, id);

    ALTER TABLE balance_snapshots ADD PRIMARY KEY (id), ADD UNIQUE (account_id, taken_at),
      ADD FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
    ALTER TABLE snapshot_assets ADD PRIMARY KEY (snapshot_id, asset),
      ADD FOREIGN KEY (snapshot_id) REFERENCES balance_snapshots (id) ON DELETE CASCADE;
    ALTER TABLE transfers ADD PRIMARY KEY (id), ADD UNIQUE (account_id, external_id),
      ADD FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;
    CREATE INDEX transfers_account_at ON transfers (account_id, at)
  `,
  );
}

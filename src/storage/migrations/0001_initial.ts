import type { Kysely } from 'kysely';
import { runEach } from './run-each.ts';

// Migrations take Kysely<unknown>: they describe the schema as it was then, not as it is now.
export async function up(db: Kysely<unknown>): Promise<void> {
  await runEach(
    db,
    `
    CREATE TABLE users (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      email text NOT NULL UNIQUE,
      display_currency text NOT NULL DEFAULT 'USD',
      created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE api_keys (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      user_id bigint NOT NULL REFERENCES users(id),
      api_key text NOT NULL UNIQUE,
      secret_sealed text,
      rsa_public_key text,
      permissions text[] NOT NULL,
      ip_whitelist text[],
      expires_at timestamptz,
      revoked_at timestamptz,
      last_used_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((secret_sealed IS NULL) <> (rsa_public_key IS NULL))
    );
    CREATE INDEX api_keys_user ON api_keys (user_id);

    CREATE TABLE accounts (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      user_id bigint NOT NULL REFERENCES users(id),
      market_code text NOT NULL,
      name text NOT NULL,
      exchange_api_key text,
      exchange_secret_sealed text,
      exchange_passphrase_sealed text,
      wallet_address text,
      capability_overrides jsonb NOT NULL DEFAULT '{}',
      include_in_summary boolean NOT NULL DEFAULT true,
      is_locked boolean NOT NULL DEFAULT false,
      lock_reason text,
      api_key_invalid boolean NOT NULL DEFAULT false,
      api_keys_expire_at timestamptz,
      auto_balance_period integer NOT NULL DEFAULT 12,
      autobalance_enabled boolean NOT NULL DEFAULT false,
      hedge_mode_enabled boolean NOT NULL DEFAULT false,
      customer_id text,
      subaccount_name text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX accounts_user ON accounts (user_id, id);
    CREATE INDEX accounts_user_exchange_key ON accounts (user_id, exchange_api_key, id);

    CREATE TABLE balance_snapshots (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      user_id bigint NOT NULL REFERENCES users(id),
      taken_at timestamptz NOT NULL,
      btc_usd_price numeric NOT NULL CHECK (btc_usd_price > 0),
      usd_value numeric NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (account_id, taken_at)
    );

    CREATE TABLE snapshot_assets (
      snapshot_id bigint NOT NULL REFERENCES balance_snapshots(id) ON DELETE CASCADE,
      user_id bigint NOT NULL REFERENCES users(id),
      asset text NOT NULL,
      amount numeric NOT NULL CHECK (amount >= 0),
      usd_price numeric CHECK (usd_price >= 0),
      PRIMARY KEY (snapshot_id, asset)
    );

    CREATE TABLE transfers (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      user_id bigint NOT NULL REFERENCES users(id),
      at timestamptz NOT NULL,
      asset text NOT NULL,
      amount numeric NOT NULL CHECK (amount > 0),
      usd_price numeric NOT NULL CHECK (usd_price >= 0),
      btc_usd_price numeric NOT NULL CHECK (btc_usd_price > 0),
      kind text NOT NULL CHECK (kind IN ('deposit', 'withdrawal')),
      external_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (account_id, external_id)
    );
    CREATE INDEX transfers_account_at ON transfers (account_id, at);
  `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runEach(
    db,
    `
    DROP TABLE transfers; DROP TABLE snapshot_assets; DROP TABLE balance_snapshots;
    DROP TABLE accounts; DROP TABLE api_keys; DROP TABLE users;
  `,
  );
}

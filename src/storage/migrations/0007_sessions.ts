import type { Kysely } from 'kysely';
import { runEach } from './run-each.ts';

// Sign-in for the web dashboard: an optional password per user, one-time sign-in links and
// sessions. Tokens never reach the database: only their SHA-256 (hex) is stored, so a leaked
// table opens no session. Rows go with their user.
export async function up(db: Kysely<unknown>): Promise<void> {
  await runEach(
    db,
    `
    ALTER TABLE users ADD COLUMN password_hash text;

    CREATE TABLE login_links (
      token_hash text PRIMARY KEY,
      user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX login_links_user ON login_links (user_id);

    CREATE TABLE sessions (
      token_hash text PRIMARY KEY,
      user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      last_seen_at timestamptz NOT NULL
    );
    CREATE INDEX sessions_user ON sessions (user_id)
  `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runEach(
    db,
    `
    DROP TABLE sessions;
    DROP TABLE login_links;
    ALTER TABLE users DROP COLUMN password_hash
  `,
  );
}

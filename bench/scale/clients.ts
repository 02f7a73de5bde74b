// The bench's 10,000 clients: each a distinct API key, of a user spread over the database's
// whole id range, with one of that user's accounts for its balance chart. A database with fewer
// users than clients (the small one) gets the missing keys in its copy, several per user, so both
// sizes see the same number of distinct keys and each key stays far under its rate limit.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { benchApiKey } from './build.ts';

export interface Client {
  userId: number;
  apiKey: string;
  /** An account of the user (the first), for balance_chart_data. */
  accountId: number;
}

/** Extra keys' api_key, distinct from every built key (64 hex characters). */
const extraApiKey = (client: number) =>
  createHash('sha256').update(`bench-scale-extra-${client}`).digest('hex');

/**
 * `count` clients on the copy behind `db` (which has users 1..n). Client i's user is spread over
 * the id range; it uses the user's own key the first time the user comes up, an extra key (the
 * same sealed secret, inserted here) after that. `warmups` more keys, of the last user, serve
 * the warm-up before each measurement.
 */
export async function prepareClients(
  db: pg.Client,
  count: number,
  warmups: number,
): Promise<{ clients: Client[]; warmups: Client[] }> {
  const bounds = await db.query<{ max: string }>('SELECT max(id) AS max FROM users');
  const users = Number(bounds.rows[0]?.max ?? 0);
  if (users < 1) throw new Error('the database has no users');
  const userOf = (i: number) =>
    users >= count ? 1 + Math.floor((i * users) / count) : 1 + (i % users);
  const userIds = Array.from({ length: count }, (_, i) => userOf(i));
  const firsts = await db.query<{ user_id: string; id: string }>(
    `SELECT DISTINCT ON (user_id) user_id, id FROM accounts WHERE user_id = ANY($1::bigint[])
     ORDER BY user_id, id`,
    [[...new Set([...userIds, users])]],
  );
  const accountOf = new Map(firsts.rows.map((row) => [Number(row.user_id), Number(row.id)]));
  const seen = new Set<number>();
  const extras: Array<{ userId: number; apiKey: string }> = [];
  const clients = userIds.map((userId, i) => {
    const own = !seen.has(userId);
    seen.add(userId);
    const apiKey = own ? benchApiKey(userId) : extraApiKey(i);
    if (!own) extras.push({ userId, apiKey });
    const accountId = accountOf.get(userId);
    if (accountId === undefined) throw new Error(`user ${userId} has no account`);
    return { userId, apiKey, accountId };
  });
  // The warm-up's keys: all of the last user, whose page the readiness probe renders anyway.
  const last = accountOf.get(users);
  if (last === undefined) throw new Error(`user ${users} has no account`);
  const warmupClients = Array.from({ length: warmups }, (_, i) => {
    const apiKey = extraApiKey(count + i);
    extras.push({ userId: users, apiKey });
    return { userId: users, apiKey, accountId: last };
  });
  if (extras.length > 0) {
    await db.query(
      `INSERT INTO api_keys (user_id, api_key, secret_sealed, permissions)
       SELECT x.user_id, x.api_key, k.secret_sealed, k.permissions
       FROM unnest($1::bigint[], $2::text[]) x(user_id, api_key)
       JOIN api_keys k ON k.user_id = x.user_id
         AND k.api_key = md5('k' || x.user_id) || md5('K' || x.user_id)`,
      [extras.map((extra) => extra.userId), extras.map((extra) => extra.apiKey)],
    );
  }
  return { clients, warmups: warmupClients };
}

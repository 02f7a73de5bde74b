// The accounts a worker round of the scale bench syncs: a sample of the copy's accounts, spread
// over its users and over every market in the mix, given keys the stand-ins accept (the builder
// seals one HMAC secret for all; OKX and KuCoin also need a passphrase, Kraken a Base64 secret,
// Coinbase a CDP key of its own, Bitcoin wallets a real address). Only the copy is changed.
import type pg from 'pg';
import { createSealer } from '../../src/auth/sealing.ts';
import { newCoinbaseKey } from '../../test/support/exchanges/coinbase-server.ts';
import { BENCH_SECRET } from './build.ts';
import { bitcoinAddress, type SampledAccount } from './stand-ins.ts';

const PASSPHRASE = 'bench-pass';
const KRAKEN_SECRET = Buffer.from(BENCH_SECRET).toString('base64');

/**
 * Up to `count` account ids, each market's share as in the whole database; within a market,
 * every user's first account before anyone's second, users in hashed order (not by id).
 */
export async function pickSample(db: pg.Client, count: number): Promise<number[]> {
  const result = await db.query<{ id: number }>(
    `WITH ranked AS (
       SELECT id, market_code,
         row_number() OVER (PARTITION BY market_code
           ORDER BY turn, hashint4(user_id::int), id) AS rank,
         count(*) OVER (PARTITION BY market_code) AS of_market,
         count(*) OVER () AS total
       FROM (SELECT id, user_id, market_code,
               row_number() OVER (PARTITION BY user_id, market_code ORDER BY id) AS turn
             FROM accounts) a)
     SELECT id FROM ranked WHERE rank <= ceil($1::numeric * of_market / total) ORDER BY id`,
    [count],
  );
  return result.rows.map((row) => row.id).slice(0, count);
}

/** Gives the sampled rows keys and addresses the stand-ins accept; returns them in clear. */
export async function prepareSample(
  db: pg.Client,
  ids: number[],
  masterKey: Buffer,
): Promise<SampledAccount[]> {
  const sealer = createSealer(masterKey);
  const rows = await db.query<{
    id: number;
    market_code: string;
    exchange_api_key: string | null;
    wallet_address: string | null;
  }>(`SELECT id, market_code, exchange_api_key, wallet_address FROM accounts WHERE id = ANY($1)`, [
    ids,
  ]);
  const sampled = rows.rows.map((row): SampledAccount => {
    const base = { id: row.id, market: row.market_code, passphrase: null };
    switch (row.market_code) {
      case 'ethereumwallet':
        return { ...base, apiKey: null, secret: null, address: row.wallet_address };
      case 'bitcoinwallet':
        return { ...base, apiKey: null, secret: null, address: bitcoinAddress(`btc-${row.id}`) };
      case 'coinbase': {
        const key = newCoinbaseKey(`scale-${row.id}`);
        return { ...base, apiKey: key.name, secret: key.privateKey, address: null };
      }
      case 'kraken':
        return { ...base, apiKey: row.exchange_api_key, secret: KRAKEN_SECRET, address: null };
      case 'okex':
      case 'kucoin':
        return {
          ...base,
          apiKey: row.exchange_api_key,
          secret: BENCH_SECRET,
          passphrase: PASSPHRASE,
          address: null,
        };
      default:
        return { ...base, apiKey: row.exchange_api_key, secret: BENCH_SECRET, address: null };
    }
  });
  await db.query(
    `UPDATE accounts a SET exchange_api_key = s.api_key, exchange_secret_sealed = s.secret,
       exchange_passphrase_sealed = s.passphrase, wallet_address = s.address,
       -- Deposits and withdrawals are read hourly: a 5-minute round reads balances only.
       transfers_synced_at = now(), is_locked = false, lock_reason = NULL
     FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[])
       AS s(id, api_key, secret, passphrase, address)
     WHERE a.id = s.id`,
    [
      sampled.map((a) => a.id),
      sampled.map((a) => a.apiKey),
      sampled.map((a) => (a.secret === null ? null : sealer.seal(a.secret))),
      sampled.map((a) => (a.passphrase === null ? null : sealer.seal(a.passphrase))),
      sampled.map((a) => a.address),
    ],
  );
  return sampled;
}

/**
 * Every account scheduled a day ahead, none held: the rest of a round is not due while the
 * sample is (and the schedule index holds every account, as in production).
 */
export async function scheduleAllLater(db: pg.Client): Promise<void> {
  await db.query(
    `UPDATE accounts SET next_sync_at = now() + interval '1 day', claimed_by = NULL,
       claimed_until = NULL`,
  );
  await db.query('VACUUM (ANALYZE) accounts');
}

/** The sample due now, as never synced: a new round. */
export async function armSample(db: pg.Client, ids: number[]): Promise<Date> {
  const result = await db.query<{ at: Date }>(
    `UPDATE accounts SET next_sync_at = now() - interval '1 second', last_sync_at = NULL,
       last_sync_error = NULL, claimed_by = NULL, claimed_until = NULL
     WHERE id = ANY($1) RETURNING now() AS at`,
    [ids],
  );
  // Each round reads each exchange's tickers afresh, as a round five minutes later would.
  await db.query('DELETE FROM price_rounds');
  return result.rows[0]?.at ?? new Date();
}

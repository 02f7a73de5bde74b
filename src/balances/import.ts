import { sql, type Transaction } from 'kysely';
import { Type, type Static } from 'typebox';
import { AppError, type ErrorAttributes } from '../errors.ts';
import type { Change, ChangeBus } from '../storage/changes.ts';
import type { Storage } from '../storage/database.ts';
import type { Database, WalletShare } from '../storage/schema.ts';
import { DECIMAL_PATTERN, validate } from '../validation.ts';

const Decimal = Type.String({ pattern: DECIMAL_PATTERN, maxLength: 80 });
const Asset = Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9._-]+$' });
const AccountId = Type.Integer({ minimum: 1 });
const Instant = Type.String({ minLength: 10, maxLength: 40 });

export const SnapshotRecord = Type.Object({
  account_id: AccountId,
  at: Instant,
  btc_usd_price: Decimal,
  assets: Type.Array(
    Type.Object({
      asset: Asset,
      amount: Decimal,
      /** null: the asset had no price route; it is kept but left out of the value. */
      usd_price: Type.Union([Decimal, Type.Null()]),
    }),
  ),
});
export const SnapshotFile = Type.Array(SnapshotRecord);
export type SnapshotRecord = Static<typeof SnapshotRecord>;

export const TransferRecord = Type.Object({
  account_id: AccountId,
  at: Instant,
  asset: Asset,
  amount: Decimal,
  usd_price: Decimal,
  btc_usd_price: Decimal,
  kind: Type.Union([Type.Literal('deposit'), Type.Literal('withdrawal')]),
  external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
});
export const TransferFile = Type.Array(TransferRecord);
export type TransferRecord = Static<typeof TransferRecord>;

export interface ImportResult {
  imported: number;
  accounts: number[];
  /** Transfers already stored under the same exchange transaction id. */
  skipped?: number;
}

/**
 * Balance history and transfers from files: all records are checked first and written in one
 * transaction, so a bad file writes nothing.
 */
export class BalanceImporter {
  constructor(
    private readonly storage: Storage,
    private readonly changes: ChangeBus,
  ) {}

  async importSnapshots(records: unknown): Promise<ImportResult> {
    const valid = validate(SnapshotFile, records, 'Invalid balance file');
    checkSemantics(valid, (record, problems) => {
      if (!isPositive(record.btc_usd_price))
        problems.push(['btc_usd_price', 'must be greater than 0']);
      const seen = new Set<string>();
      record.assets.forEach((asset, i) => {
        if (seen.has(asset.asset)) problems.push([`assets.${i}.asset`, 'appears twice']);
        seen.add(asset.asset);
      });
    });
    rejectRepeatedTimes(valid);
    const owners = await this.owners(valid.map((r) => r.account_id));
    await this.changes.transaction(async (tx, announce) => {
      for (let i = 0; i < valid.length; i += CHUNK) {
        await insertSnapshots(tx, valid.slice(i, i + CHUNK), owners);
      }
      announceOwners(owners, announce);
    });
    return { imported: valid.length, accounts: [...owners.keys()] };
  }

  async importTransfers(records: unknown): Promise<ImportResult> {
    const valid = validate(TransferFile, records, 'Invalid transfer file');
    checkSemantics(valid, (record, problems) => {
      if (!isPositive(record.amount)) problems.push(['amount', 'must be greater than 0']);
      if (!isPositive(record.btc_usd_price))
        problems.push(['btc_usd_price', 'must be greater than 0']);
    });
    const owners = await this.owners(valid.map((r) => r.account_id));
    const rows = valid.map((r) => ({
      account_id: r.account_id,
      user_id: owners.get(r.account_id) ?? 0,
      at: new Date(r.at),
      asset: r.asset,
      amount: r.amount,
      usd_price: r.usd_price,
      btc_usd_price: r.btc_usd_price,
      kind: r.kind,
      external_id: r.external_id ?? null,
    }));
    // A transfer with an exchange transaction id is stored once: importing it again is a no-op.
    const inserted = await this.changes.transaction(async (tx, announce) => {
      announceOwners(owners, announce);
      let count = 0;
      for (let i = 0; i < rows.length; i += CHUNK) {
        const written = await tx
          .insertInto('transfers')
          .values(rows.slice(i, i + CHUNK))
          .onConflict((conflict) =>
            conflict.columns(['user_id', 'account_id', 'external_id']).doNothing(),
          )
          .returning('id')
          .execute();
        count += written.length;
      }
      return count;
    });
    return { imported: inserted, accounts: [...owners.keys()], skipped: rows.length - inserted };
  }

  /** Every referenced account must exist; returns account → user. */
  private async owners(accountIds: number[]): Promise<Map<number, number>> {
    const unique = [...new Set(accountIds)];
    const rows =
      unique.length === 0
        ? []
        : await this.storage.db
            .selectFrom('accounts')
            .select(['id', 'user_id'])
            .where('id', 'in', unique)
            .execute();
    const owners = new Map(rows.map((row) => [row.id, row.user_id]));
    const missing = unique.filter((id) => !owners.has(id));
    if (missing.length > 0) {
      throw new AppError('record_invalid', 'Unknown account', {
        account_id: missing.map((id) => `account ${id} does not exist`),
      });
    }
    return owners;
  }
}

/** Every owner's pages change with the import: announced in the import's own transaction. */
function announceOwners(owners: Map<number, number>, announce: (change: Change) => void): void {
  for (const userId of new Set(owners.values())) announce({ userId });
}

const isPositive = (text: string) => /[1-9]/.test(text);

/** Date and value checks a schema cannot express, reported per record like schema errors. */
function checkSemantics<R extends { at: string }>(
  records: R[],
  check: (record: R, problems: Array<[string, string]>) => void,
): void {
  const attributes: ErrorAttributes = {};
  records.forEach((record, index) => {
    const problems: Array<[string, string]> = [];
    if (!isInstant(record.at))
      problems.push(['at', 'must be an ISO 8601 date-time with a time zone']);
    check(record, problems);
    for (const [field, problem] of problems) (attributes[`${index}.${field}`] ??= []).push(problem);
  });
  if (Object.keys(attributes).length > 0) {
    throw new AppError('record_invalid', 'Invalid records', attributes);
  }
}

function isInstant(text: string): boolean {
  const zoned = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
  return zoned.test(text) && !Number.isNaN(new Date(text).getTime());
}

/** Records per statement: keeps every INSERT well under PostgreSQL's 65,535 parameters. */
const CHUNK = 500;

/** Writes snapshots and their assets set-wise (three statements per chunk, not per record); shared
 * by imports and live sync. Refuses a second snapshot of an account at the same moment. */
/**
 * A snapshot to write: an imported record, or a synced reading whose assets may say which
 * wallets held them (null or absent: all in the account's main wallet).
 */
export type SnapshotToInsert = Omit<SnapshotRecord, 'assets'> & {
  assets: Array<SnapshotRecord['assets'][number] & { wallets?: WalletShare[] | null }>;
};

export async function insertSnapshots(
  tx: Transaction<Database>,
  records: SnapshotToInsert[],
  owners: Map<number, number>,
): Promise<void> {
  const snapshots = await tx
    .insertInto('balance_snapshots')
    .values(
      records.map((r) => ({
        account_id: r.account_id,
        user_id: owners.get(r.account_id) ?? 0,
        taken_at: new Date(r.at),
        btc_usd_price: r.btc_usd_price,
        usd_value: '0',
      })),
    )
    .onConflict((conflict) => conflict.columns(['user_id', 'account_id', 'taken_at']).doNothing())
    .returning(['id', 'account_id', 'taken_at'])
    .execute();
  const stored = new Map(snapshots.map((s) => [momentOf(s.account_id, s.taken_at), s.id]));
  const clash = records.find((r) => !stored.has(momentOf(r.account_id, r.at)));
  if (clash) {
    throw new AppError('record_invalid', 'Invalid balance file', {
      at: [
        `account ${clash.account_id} already has a snapshot at ${new Date(clash.at).toISOString()}`,
      ],
    });
  }
  const assets = records.flatMap((record) =>
    record.assets.map(({ wallets, ...asset }) => ({
      snapshot_id: stored.get(momentOf(record.account_id, record.at)) ?? 0,
      user_id: owners.get(record.account_id) ?? 0,
      ...asset,
      wallets: wallets ? JSON.stringify(wallets) : null,
    })),
  );
  for (let i = 0; i < assets.length; i += CHUNK) {
    await tx
      .insertInto('snapshot_assets')
      .values(assets.slice(i, i + CHUNK))
      .execute();
  }
  // PostgreSQL's numeric arithmetic is exact: each stored value is Σ amount × price.
  // Keys as two arrays, not a list of (user_id, id) pairs: PGlite's small stack aborts on the
  // OR of hundreds of pairs that PostgreSQL makes of such a list.
  const users = sql.join(snapshots.map((s) => owners.get(s.account_id) ?? 0));
  const ids = sql.join(snapshots.map((s) => s.id));
  await sql`UPDATE balance_snapshots s SET usd_value = v.total
    FROM (SELECT h.user_id, h.snapshot_id, sum(h.amount * h.usd_price) AS total
          FROM unnest(ARRAY[${users}]::bigint[], ARRAY[${ids}]::bigint[]) k(user_id, id)
          JOIN snapshot_assets h ON h.user_id = k.user_id AND h.snapshot_id = k.id
          WHERE h.usd_price IS NOT NULL GROUP BY h.user_id, h.snapshot_id) v
    WHERE s.user_id = v.user_id AND s.id = v.snapshot_id`.execute(tx);
}

/** Two snapshots of one account at the same moment in one file: refuse before writing. */
function rejectRepeatedTimes(records: SnapshotRecord[]): void {
  const seen = new Map<string, number>();
  records.forEach((record, index) => {
    const key = momentOf(record.account_id, record.at);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new AppError('record_invalid', 'Invalid balance file', {
        [`${index}.at`]: [`repeats record ${earlier}: one snapshot per account and moment`],
      });
    }
    seen.set(key, index);
  });
}

const momentOf = (accountId: number, at: Date | string) => `${accountId}@${new Date(at).getTime()}`;

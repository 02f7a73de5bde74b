import { Type, type Static } from 'typebox';
import type { Sealer } from '../auth/sealing.ts';
import { AppError, invalid, notFound } from '../errors.ts';
import { SourceError } from '../exchanges/failures.ts';
import type { AccountSync } from '../sync/account-sync.ts';
import { readAccount, type Reading } from '../sync/reading.ts';
import type { SourceTarget } from '../sources/sources.ts';
import type { AccountRow } from '../storage/schema.ts';
import { findMarket, isValidAddress, type Market } from '../markets/index.ts';
import type { ChangeBus } from '../storage/changes.ts';
import type { Storage } from '../storage/database.ts';
import type { AccountEntity } from './entity-schema.ts';
import { renderAccounts } from './render.ts';
import { accountDetails } from './details.ts';
import {
  DepositInfo,
  type CurrencyNetworks,
  type DepositData,
  type NetworksPurpose,
} from './deposits.ts';
import type { DisplayCurrency } from './view.ts';

export const AddAccountInput = Type.Object({
  user_id: Type.Integer({ minimum: 1 }),
  market_code: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1, maxLength: 100 }),
  api_key: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  secret: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  passphrase: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  address: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  /** When the exchange said the API key expires (drives `api_keys_state`). */
  api_keys_expire_at: Type.Optional(Type.String({ format: 'date-time' })),
  /**
   * false: store the account without contacting the exchange or chain, and never schedule it
   * (the demo, or history backfilled for an account whose source is out of reach).
   */
  sync: Type.Optional(Type.Boolean()),
});
export type AddAccountInput = Static<typeof AddAccountInput>;

export class AccountService {
  private readonly deposits: DepositInfo;

  constructor(
    private readonly storage: Storage,
    private readonly sealer: Sealer,
    private readonly changes: ChangeBus,
    private readonly sync: AccountSync,
    /** Told when an account becomes due at once, so a local worker need not wait for its poll. */
    private readonly onDue: () => void = () => {},
  ) {
    this.deposits = new DepositInfo(sync.sources);
  }

  /**
   * Connects an exchange account (keys), a wallet (address) or a manual account (neither).
   * Exchange keys are checked against the exchange first: refused keys store nothing. The
   * reading that checked them is the account's first snapshot.
   */
  async add(input: AddAccountInput, now = new Date()): Promise<AccountEntity> {
    const market = findMarket(input.market_code);
    if (!market) throw invalid('market_code', `unknown market "${input.market_code}"`);
    checkCredentials(market, input);
    const user = await this.storage.db
      .selectFrom('users')
      .select(['id', 'display_currency'])
      .where('id', '=', input.user_id)
      .executeTakeFirst();
    if (!user) throw notFound(`User ${input.user_id}`);

    const live = input.sync !== false && Boolean(input.api_key ?? input.address);
    const target = live ? toTarget(market, input) : undefined;
    // The network first: no transaction is held open while an exchange answers.
    const reading = target ? await this.firstReading(target) : undefined;
    const seal = (text: string | undefined) => (text ? this.sealer.seal(text) : null);
    const values = {
      user_id: user.id,
      market_code: market.market_code,
      name: input.name.trim(),
      exchange_api_key: input.api_key ?? null,
      exchange_secret_sealed: seal(input.secret),
      exchange_passphrase_sealed: seal(input.passphrase),
      wallet_address: input.address ?? null,
      api_keys_expire_at: input.api_keys_expire_at ? new Date(input.api_keys_expire_at) : null,
      // Due at once if the first reading could not be made here (the reading reschedules).
      next_sync_at: live ? now : null,
      updated_at: now,
    };
    // The account, its first snapshot and the announcement are one write.
    const row = await this.changes.transaction(async (tx, announce) => {
      const inserted = await tx
        .insertInto('accounts')
        .values(values)
        .returningAll()
        .executeTakeFirstOrThrow();
      if (reading) await this.sync.recordFirstIn(tx, inserted, reading);
      announce({ userId: user.id });
      return inserted;
    });
    if (!reading && live) this.onDue();
    // Rendered as of now: the first snapshot was taken after `now`.
    return this.render(row.id, user.display_currency as DisplayCurrency);
  }

  /**
   * Reads the source before anything is stored. An exchange that refuses the keys is a 400;
   * one we cannot reach is a 503, since the keys could not be checked. A wallet's address is
   * already known valid: if its chain is unreachable the account is stored and synced later.
   */
  private async firstReading(target: SourceTarget): Promise<Reading | undefined> {
    try {
      return await readAccount(this.sync.sources, target, { transfers: true, cursors: {} });
    } catch (thrown) {
      const error =
        thrown instanceof SourceError ? thrown : new SourceError('error', String(thrown));
      if (target.kind === 'wallet') return undefined;
      const exchange = target.market.exchange_name;
      if (error.kind === 'credentials') {
        throw invalid(
          'api_key',
          `${exchange} refused the API key: ${error.message}`,
          'Invalid API key',
        );
      }
      throw new AppError(
        'exchange_unavailable',
        `Could not reach ${exchange} to check the API key (${error.message}); nothing was stored`,
      );
    }
  }

  /** One account as the 3Commas entity, in its user's display currency. */
  async render(
    accountId: number,
    currency?: DisplayCurrency,
    now = new Date(),
  ): Promise<AccountEntity> {
    const row = await this.findAny(accountId);
    const display =
      currency ??
      ((
        await this.storage.db
          .selectFrom('users')
          .select('display_currency')
          .where('id', '=', row.user_id)
          .executeTakeFirstOrThrow()
      ).display_currency as DisplayCurrency);
    const [entity] = (await renderAccounts(this.storage, [row], display, now)).entities;
    if (!entity) throw new Error('rendering an account produced nothing');
    return entity;
  }

  /** Any user's account (the CLI acts as the operator), or 404. */
  findAny(accountId: number): Promise<AccountRow> {
    return this.find(accountId, undefined);
  }

  /** The caller's own account, or 404 — never another user's (nor a hint that it exists). */
  findOwned(userId: number, accountId: number): Promise<AccountRow> {
    return this.find(accountId, userId);
  }

  private async find(accountId: number, userId: number | undefined): Promise<AccountRow> {
    let query = this.storage.db.selectFrom('accounts').selectAll().where('id', '=', accountId);
    if (userId !== undefined) query = query.where('user_id', '=', userId);
    const row = await query.executeTakeFirst();
    if (!row) throw notFound(`Account ${accountId}`);
    return row;
  }

  /** New exchange keys for an account: checked first; a locked account is unlocked and due. */
  async updateKeys(input: UpdateKeysInput, now = new Date()): Promise<AccountEntity> {
    const row = await this.findAny(input.account_id);
    const market = findMarket(row.market_code);
    if (market?.kind !== 'exchange') throw invalid('account_id', 'is not an exchange account');
    checkCredentials(market, {
      ...input,
      user_id: row.user_id,
      market_code: row.market_code,
      name: row.name,
    });
    // The network first: no transaction is held open while an exchange answers.
    const reading = await this.firstReading(toTarget(market, input));
    await this.changes.transaction(async (tx, announce) => {
      const updated = await tx
        .updateTable('accounts')
        .set({
          exchange_api_key: input.api_key,
          exchange_secret_sealed: this.sealer.seal(input.secret),
          exchange_passphrase_sealed: input.passphrase ? this.sealer.seal(input.passphrase) : null,
          api_keys_expire_at: input.api_keys_expire_at ? new Date(input.api_keys_expire_at) : null,
          api_key_invalid: false,
          is_locked: false,
          lock_reason: null,
          next_sync_at: now,
          // Taken from any worker syncing with the old keys: its result is then not recorded.
          claimed_by: null,
          claimed_until: null,
          updated_at: now,
        })
        .where('id', '=', row.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      if (reading) await this.sync.recordFirstIn(tx, updated, reading);
      announce({ userId: row.user_id });
    });
    return this.render(row.id);
  }
  /**
   * POST /ver1/accounts/update: a new name, `include_in_summary`, and/or new keys. Keys not given
   * are the stored ones; new keys are checked against the exchange first, as at connect, and a
   * refusal changes nothing. Only the caller's own account (404 otherwise).
   */
  async update(
    userId: number,
    input: UpdateAccountInput,
    now = new Date(),
  ): Promise<AccountEntity> {
    const row = await this.findOwned(userId, input.account_id);
    const newKeys =
      input.api_key !== undefined || input.secret !== undefined || input.passphrase !== undefined;
    const credentials = newKeys ? this.mergedKeys(row, input) : undefined;
    const market = findMarket(row.market_code);
    if (credentials) {
      if (market?.kind !== 'exchange') throw invalid('api_key', 'is not an exchange account');
      checkCredentials(market, {
        ...credentials,
        user_id: userId,
        market_code: row.market_code,
        name: row.name,
      });
    }
    // The network first: no transaction is held open while an exchange answers.
    const reading =
      credentials && market ? await this.firstReading(toTarget(market, credentials)) : undefined;
    await this.changes.transaction(async (tx, announce) => {
      const updated = await tx
        .updateTable('accounts')
        .set({
          ...(input.name !== undefined ? { name: input.name.trim() } : {}),
          ...(input.include_in_summary !== undefined
            ? { include_in_summary: input.include_in_summary }
            : {}),
          ...(credentials ? this.newKeyColumns(credentials, now) : {}),
          updated_at: now,
        })
        .where('id', '=', row.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      if (reading) await this.sync.recordFirstIn(tx, updated, reading);
      announce({ userId: row.user_id });
    });
    // Rendered as of now: a reading of new keys was taken after `now`.
    return this.render(row.id);
  }

  /** The credentials after an update: each part given replaces the stored one. */
  private mergedKeys(row: AccountRow, input: UpdateAccountInput) {
    const stored = this.sync.target(row);
    const old = stored.kind === 'exchange' ? stored.credentials : undefined;
    const passphrase = input.passphrase ?? old?.passphrase;
    return {
      api_key: input.api_key ?? old?.apiKey ?? '',
      secret: input.secret ?? old?.secret ?? '',
      ...(passphrase ? { passphrase } : {}),
    };
  }

  /** Columns for keys that an exchange has just accepted: unlocked, and due at once. */
  private newKeyColumns(keys: { api_key: string; secret: string; passphrase?: string }, now: Date) {
    return {
      exchange_api_key: keys.api_key,
      exchange_secret_sealed: this.sealer.seal(keys.secret),
      exchange_passphrase_sealed: keys.passphrase ? this.sealer.seal(keys.passphrase) : null,
      api_keys_expire_at: null,
      api_key_invalid: false,
      is_locked: false,
      lock_reason: null,
      next_sync_at: now,
      // Taken from any worker syncing with the old keys: its result is then not recorded.
      claimed_by: null,
      claimed_until: null,
    };
  }

  /** POST /ver1/accounts/{id}/rename. */
  async rename(userId: number, accountId: number, name: string, now = new Date()) {
    return this.update(userId, { account_id: accountId, name }, now);
  }

  /**
   * POST /ver1/accounts/{id}/remove: the account and everything keyed by it (its snapshots and
   * their assets, its transfers) go in one transaction — all or nothing.
   */
  async remove(userId: number, accountId: number): Promise<void> {
    const row = await this.findOwned(userId, accountId);
    await this.changes.transaction(async (tx, announce) => {
      await tx
        .deleteFrom('snapshot_assets')
        .where('user_id', '=', row.user_id)
        .where('snapshot_id', 'in', (db) =>
          db
            .selectFrom('balance_snapshots')
            .select('id')
            .where('user_id', '=', row.user_id)
            .where('account_id', '=', row.id),
        )
        .execute();
      for (const table of ['balance_snapshots', 'transfers'] as const) {
        await tx
          .deleteFrom(table)
          .where('user_id', '=', row.user_id)
          .where('account_id', '=', row.id)
          .execute();
      }
      await tx
        .deleteFrom('accounts')
        .where('user_id', '=', row.user_id)
        .where('id', '=', row.id)
        .execute();
      announce({ userId: row.user_id });
    });
  }

  /** GET …/deposit_data: the exchange's address with the account's keys, and what it holds. */
  async depositData(
    userId: number,
    accountId: number,
    currency: string,
    network: string,
  ): Promise<DepositData> {
    const row = await this.findOwned(userId, accountId);
    const holdings = (await accountDetails(this.storage, row.id)).holdings;
    const held = new Map(holdings.map((line) => [line.asset, line.amount]));
    return this.deposits.depositData(this.sync.target(row), held, currency, network);
  }

  /** GET …/networks_info: the exchange's currencies and networks, with the account's keys. */
  async networksInfo(
    userId: number,
    accountId: number,
    purpose?: NetworksPurpose,
  ): Promise<CurrencyNetworks[]> {
    const row = await this.findOwned(userId, accountId);
    return this.deposits.networksInfo(this.sync.target(row), purpose);
  }
}

/** POST /ver1/accounts/update's parameters, as 3Commas names them. */
export const UpdateAccountInput = Type.Object({
  account_id: Type.Integer({ minimum: 1 }),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  api_key: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  secret: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  passphrase: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  include_in_summary: Type.Optional(Type.Boolean()),
});
export type UpdateAccountInput = Static<typeof UpdateAccountInput>;

export const UpdateKeysInput = Type.Object({
  account_id: Type.Integer({ minimum: 1 }),
  api_key: Type.String({ minLength: 1, maxLength: 512 }),
  secret: Type.String({ minLength: 1, maxLength: 4096 }),
  passphrase: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  api_keys_expire_at: Type.Optional(Type.String({ format: 'date-time' })),
});
export type UpdateKeysInput = Static<typeof UpdateKeysInput>;

function toTarget(
  market: Market,
  input: { api_key?: string; secret?: string; passphrase?: string; address?: string },
): SourceTarget {
  if (market.kind === 'wallet') return { market, kind: 'wallet', address: input.address ?? '' };
  return {
    market,
    kind: 'exchange',
    credentials: {
      apiKey: input.api_key ?? '',
      secret: input.secret ?? '',
      passphrase: input.passphrase,
    },
  };
}

function checkCredentials(market: Market, input: AddAccountInput): void {
  if (market.kind === 'wallet') {
    if (input.api_key || input.secret || input.passphrase) {
      throw invalid('api_key', `${market.market_code} is a wallet: give --address, not API keys`);
    }
    if (!input.address) throw invalid('address', `is required for ${market.market_code}`);
    if (!isValidAddress(market, input.address)) {
      throw invalid('address', `is not a valid ${market.exchange_name} address`);
    }
    return;
  }
  if (input.address)
    throw invalid('address', `${market.market_code} is an exchange: give API keys`);
  if (Boolean(input.api_key) !== Boolean(input.secret)) {
    throw invalid(input.api_key ? 'secret' : 'api_key', 'API key and secret go together');
  }
  if (input.passphrase && !input.api_key) {
    throw invalid('passphrase', 'needs an API key and secret');
  }
  if (input.api_key && market.credentials === 'api_key_passphrase' && !input.passphrase) {
    throw invalid('passphrase', `is required for ${market.market_code}`);
  }
}

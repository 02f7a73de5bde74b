import { Type, type Static } from 'typebox';
import type { Sealer } from '../auth/sealing.ts';
import { invalid, notFound } from '../errors.ts';
import { findMarket, isValidAddress, type Market } from '../markets/index.ts';
import type { ChangeBus } from '../storage/changes.ts';
import type { Storage } from '../storage/database.ts';
import type { AccountEntity } from './entity-schema.ts';
import { renderAccounts } from './render.ts';
import type { DisplayCurrency } from './view.ts';

export const AddAccountInput = Type.Object({
  user_id: Type.Integer({ minimum: 1 }),
  market_code: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1, maxLength: 100 }),
  api_key: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  secret: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  passphrase: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  address: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});
export type AddAccountInput = Static<typeof AddAccountInput>;

export class AccountService {
  constructor(
    private readonly storage: Storage,
    private readonly sealer: Sealer,
    private readonly changes: ChangeBus,
  ) {}

  /** Connects an exchange account (keys), a wallet (address) or a manual account (neither). */
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

    const seal = (text: string | undefined) => (text ? this.sealer.seal(text) : null);
    const row = await this.storage.db
      .insertInto('accounts')
      .values({
        user_id: user.id,
        market_code: market.market_code,
        name: input.name.trim(),
        exchange_api_key: input.api_key ?? null,
        exchange_secret_sealed: seal(input.secret),
        exchange_passphrase_sealed: seal(input.passphrase),
        wallet_address: input.address ?? null,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await this.changes.publish({ userId: user.id });
    const currency = user.display_currency as DisplayCurrency;
    const [entity] = (await renderAccounts(this.storage, [row], currency, now)).entities;
    if (!entity) throw new Error('rendering a new account produced nothing');
    return entity;
  }
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
}

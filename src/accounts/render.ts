import build from 'fast-json-stringify';
import { loadHistories } from '../balances/history.ts';
import { findMarket } from '../markets/index.ts';
import type { Storage } from '../storage/database.ts';
import type { AccountRow } from '../storage/schema.ts';
import { valueAccount } from '../valuation/index.ts';
import { AccountList, type AccountEntity } from './entity-schema.ts';
import { apiKeysStateBoundaries, toAccountEntity, type DisplayCurrency } from './view.ts';

// Compiled once from the entity schema: keeps the seed's field order, and is fast.
const serializeList = build(AccountList as object);

export interface Rendered {
  entities: AccountEntity[];
  /** The first moment at which these figures would differ (never, when null). */
  validUntil: number | null;
}

/** Values accounts from their stored history and builds their entities. */
export async function renderAccounts(
  storage: Storage,
  rows: AccountRow[],
  displayCurrency: DisplayCurrency,
  now: Date,
): Promise<Rendered> {
  const histories = await loadHistories(
    storage,
    rows.map((row) => row.id),
    now,
    displayCurrency,
  );
  const boundaries: number[] = [];
  const entities = rows.map((account) => {
    const history = histories.get(account.id);
    if (history?.nextBoundary) boundaries.push(history.nextBoundary);
    boundaries.push(...apiKeysStateBoundaries(account.api_keys_expire_at));
    const market = findMarket(account.market_code);
    if (!market) throw new Error(`account ${account.id} has unknown market ${account.market_code}`);
    const valuation = valueAccount(history?.input ?? emptyHistory);
    return toAccountEntity({ account, market, valuation, displayCurrency, now });
  });
  const future = boundaries.filter((time) => time > now.getTime());
  return { entities, validUntil: future.length > 0 ? Math.min(...future) : null };
}

export const toJsonBytes = (entities: AccountEntity[]) => Buffer.from(serializeList(entities));

/** The history of an account with no snapshot yet: valued as zeros, not an error. */
export const emptyHistory = {
  latest: null,
  dayStart: null,
  periodStart: null,
  first: null,
  transfers: [],
};
